import Foundation
import Logging

/// The steps every command shares: connect, load policies, check them against the catalog.
public enum Retention {
    /// Connects with libpq's conventions; warns when the conninfo carries a password.
    /// Logs where it connected first, so a run meant for a test server that reached another one says
    /// so; warns when the connection string (`--db`, `RETENTION_DB` or the config file's `db`)
    /// overrides libpq variables set in the environment.
    public static func connect(_ conninfo: String?, logger: Logger,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Connection {
        if let conninfo, Connection.conninfoHasPassword(conninfo) {
            logger.warning("the connection string holds a password; put it in a .pgpass file (PGPASSFILE) instead")
        }
        if let conninfo {
            let overridden = Connection.overriddenEnvironment(by: conninfo, environment: environment)
            if !overridden.isEmpty {
                let verb = overridden.count == 1 ? "is" : "are"
                logger.warning("\(overridden.joined(separator: ", ")) \(verb) set but not used: the connection string (--db, RETENTION_DB or db in the config file) names its own")
            }
        }
        let connection = try Connection(conninfo: conninfo)
        logger.info("connected to \(connection.target)")
        // No command waits for ever behind another session's lock (`run` and `plan` set their own).
        try connection.query("SELECT pg_catalog.set_config('lock_timeout', '10s', false)")
        return connection
    }

    /// Connects as `connect(_:logger:)` does with the settings' connection string, and bounds every
    /// statement by the `statement_timeout` setting (60s by default): no command waits for ever on a
    /// statement the server never finishes (a consent view that sleeps) or on a server that stopped
    /// answering after the login (the connection is then given up, `Connection.patience`).
    public static func connect(_ settings: Settings, logger: Logger) throws -> Connection {
        if let warning = settings.dbOverride { logger.warning("\(warning)") }
        let connection = try connect(settings.db, logger: logger)
        try connection.setStatementTimeout(settings.statementTimeout)
        return connection
    }

    /// Loads the policy folder and keeps the policies named by `only` (all when empty).
    public static func loadPolicies(directory: String, only: [String] = []) throws -> [Policy] {
        try select(only, from: try PolicyLoader.load(directory: directory), directory: directory)
    }

    /// The policies of the folder `directory` named by `only` (all when empty); a usage error (64) names one it lacks.
    public static func select(_ only: [String], from policies: [Policy], directory: String) throws -> [Policy] {
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
    ///
    /// Every statement waits at most `lockTimeout` for a lock (a table another session holds in
    /// `ACCESS EXCLUSIVE` mode would otherwise hold the command before its first batch for ever):
    /// past it, `TablesBusy` (75) names who holds what.
    public static func resolve(_ policies: [Policy], on connection: Connection, for purpose: Privileges.Purpose = .run,
                               lockTimeout: String = SettingKey.lockTimeout.builtIn) throws -> [ResolvedPolicy] {
        do {
            try connection.query("SELECT pg_catalog.set_config('lock_timeout', $1, false)", [lockTimeout])
        } catch let error as DatabaseError where error.sqlState == "22023" {
            throw UsageError("--lock-timeout \(visible(lockTimeout)): \(error.message)", exitCode: .usage)
        }
        do {
            try Privileges.requireSchemaUsage(on: connection)
            try RetentionSchema.requireInstalled(on: connection)
            // With `replica`, foreign keys' cascades and user triggers do not fire: a purge would leave
            // rows pointing nowhere that no ledger counts.
            let role = try connection.query("SELECT pg_catalog.current_setting('session_replication_role') AS role").single()
                .string("role")
            guard role == "origin" else {
                throw UsageError("session_replication_role is \(visible(role)) for this session (set on the role or the database): "
                                 + "foreign keys' cascades and triggers would not fire, and a purge would leave rows the ledger "
                                 + "does not count; reset it (ALTER ROLE ... RESET session_replication_role)", exitCode: .config)
            }
            let resolved = try Catalog.resolve(policies, on: connection)
            let concealed = try Catalog.concealedReaches(resolved, on: connection)
            if !concealed.isEmpty { throw UsageError(concealed.joined(separator: "; "), exitCode: .config) }
            try Catalog.requireSetOutsidePartitionKey(resolved, on: connection)
            let blind = try Holds.blindSpots(resolved, on: connection)
            if !blind.isEmpty { throw UsageError(blind.joined(separator: "; "), exitCode: .config) }
            try Holds.requireReadable(resolved, on: connection)
            try StatementProof.prove(resolved, on: connection)
            try Privileges.require(resolved, for: purpose, on: connection)
            return resolved
        } catch let error as DatabaseError where error.sqlState == "55P03" {
            let tables = policies.map(\.table) + [QualifiedName(schema: "retention", name: "holds")]
            throw TablesBusy(holders: LockWaits.holders(of: tables, on: connection), lockTimeout: lockTimeout)
        }
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
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw UsageError("\(visible(path)) is a folder; give one manifest file of it", exitCode: .config)
        }
        let data: Data
        switch BoundedFile.read(path, atMost: BoundedFile.largestManifest) {
        case .success(let read): data = read
        case .failure(let problem): throw UsageError("manifest \(visible(path)) \(problem)", exitCode: .config)
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
