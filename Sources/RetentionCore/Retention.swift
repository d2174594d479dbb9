import Logging

/// The steps every command shares: connect, load policies, check them against the catalog.
public enum Retention {
    /// Connects with libpq's conventions; warns when the conninfo carries a password.
    public static func connect(_ conninfo: String?, logger: Logger) throws -> Connection {
        if let conninfo, Connection.conninfoHasPassword(conninfo) {
            logger.warning("the connection string holds a password; put it in a .pgpass file (PGPASSFILE) instead")
        }
        return try Connection(conninfo: conninfo)
    }

    /// Loads the policy folder and keeps the policies named by `only` (all when empty).
    public static func loadPolicies(directory: String, only: [String] = []) throws -> [Policy] {
        let policies = try PolicyLoader.load(directory: directory)
        guard !only.isEmpty else { return policies }
        let names = Set(policies.map(\.name))
        if let unknown = only.first(where: { !names.contains($0) }) {
            throw UsageError("--only \(visible(unknown)): no policy of that name in \(directory) "
                             + "(there are: \(policies.map(\.name).joined(separator: ", ")))", exitCode: .usage)
        }
        return policies.filter { only.contains($0.name) }
    }

    /// Checks that the tool's schema is installed and resolves the policies against the live catalog.
    public static func resolve(_ policies: [Policy], on connection: Connection) throws -> [ResolvedPolicy] {
        try Setup.requireInstalled(on: connection)
        return try Catalog.resolve(policies, on: connection)
    }
}
