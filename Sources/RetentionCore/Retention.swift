import Foundation
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

    /// Checks that the tool's schema is installed, resolves the policies against the live catalog, and
    /// checks that the user holds the privileges `purpose` needs.
    public static func resolve(_ policies: [Policy], on connection: Connection,
                               for purpose: Privileges.Purpose = .run) throws -> [ResolvedPolicy] {
        try Privileges.requireSchemaUsage(on: connection)
        try RetentionSchema.requireInstalled(on: connection)
        let resolved = try Catalog.resolve(policies, on: connection)
        try StatementProof.prove(resolved, on: connection)
        try Privileges.require(resolved, for: purpose, on: connection)
        return resolved
    }

    /// Writes manifests for runs that died or lack one, when signing is configured and no run is going.
    public static func finalizeDeadRuns(on connection: Connection, settings: ManifestSettings?, logger: Logger) throws {
        guard let settings else {
            let pending = try connection.query("SELECT count(*) AS pending FROM retention.runs WHERE sequence IS NULL")
                .single().int64("pending")
            if pending > 0 {
                logger.warning("\(pending) runs have no manifest yet; the next `retention run` writes them (or run setup with --manifests and --signing-key)")
            }
            return
        }
        _ = try RunLock.withLock(on: connection) {
            try ManifestStore(connection: connection, settings: settings, logger: logger).finalizePending()
        }
    }
}

/// Reads a manifest file for `show`, verifying its signature when a public key is given.
public enum ManifestReading {
    public static func read(path: String, publicKeyPath: String?) throws -> (manifest: Manifest, signature: ManifestRendering.SignatureState) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UsageError("cannot read manifest \(path)", exitCode: .config)
        }
        let envelope: DSSEEnvelope
        do { envelope = try DSSEEnvelope(fileData: data) } catch {
            throw UsageError("\(path) is not a manifest: \(error)", exitCode: .config)
        }
        guard envelope.payloadType == Manifest.payloadType else {
            throw UsageError("\(path): unknown payloadType \(visible(envelope.payloadType))", exitCode: .config)
        }
        let manifest: Manifest
        do { manifest = try Manifest(payload: envelope.payload) } catch {
            throw UsageError("\(path): \(error)", exitCode: .config)
        }
        guard let publicKeyPath else { return (manifest, .notChecked) }
        let key = try SigningKeys.loadPublicKey(path: publicKeyPath)
        let verdict = Verifier.verifyFile(path, key: key)
        if verdict.problems.isEmpty { return (manifest, .verified(keyID: key.keyID)) }
        return (manifest, .failed(verdict.problems.joined(separator: "; ")))
    }
}
