import Logging

/// Installs and checks the tool's own schema (`retention`: runs, batch ledger, legal holds).
public enum Setup {
    /// The schema version this build writes and expects.
    public static let schemaVersion = 2

    /// The schema script, `sql/retention-schema.sql`, compiled into the program.
    static var script: String { String(decoding: PackageResources.retention_schema_sql, as: UTF8.self) }

    /// Creates or upgrades the `retention` schema; running it again changes nothing.
    public static func install(on connection: Connection, logger: Logger) throws {
        try connection.transaction {
            // Two setups at once would race on CREATE ... IF NOT EXISTS; one waits for the other.
            try connection.query("SELECT pg_advisory_xact_lock($1::int4, $2::int4)",
                                 [String(RunLock.classID), String(RunLock.setupID)])
            try connection.execute(unsafeSQL: script)
        }
        logger.info("retention schema installed", metadata: ["schema.version": "\(schemaVersion)"])
    }

    /// Throws a configuration error (78) unless `retention setup` has installed this schema version.
    public static func requireInstalled(on connection: Connection) throws {
        let exists = try connection.query("SELECT to_regclass('retention.schema_version') IS NOT NULL").rows[0][0] == "t"
        let installed = exists
            ? try connection.query("SELECT max(version) FROM retention.schema_version").rows[0][0].flatMap { Int($0) }
            : nil
        guard let installed else {
            throw UsageError("the retention schema is not installed in database \(visible(connection.databaseName)); "
                             + "run `retention setup` first", exitCode: .config)
        }
        guard installed >= schemaVersion else {
            throw UsageError("the retention schema in database \(visible(connection.databaseName)) is version \(installed), "
                             + "this program needs \(schemaVersion); run `retention setup` to upgrade it", exitCode: .config)
        }
    }
}

/// The advisory lock that lets one run at a time work on a database.
enum RunLock {
    // "RETN" as a 32-bit number; advisory locks are per database, so runs on other databases don't collide.
    static let classID: Int32 = 0x5245_544E
    static let runID: Int32 = 1
    static let setupID: Int32 = 2

    /// Takes the run lock for this session, or throws `RunLockBusy` (75) naming the holder's process.
    static func acquire(on connection: Connection) throws {
        let ids = [String(classID), String(runID)]
        guard try connection.query("SELECT pg_try_advisory_lock($1::int4, $2::int4)", ids).rows[0][0] == "t" else {
            let holder = try? connection.query("""
                SELECT pid::text FROM pg_catalog.pg_locks
                WHERE locktype = 'advisory' AND classid = $1::int4::oid AND objid = $2::int4::oid AND granted
                  AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
                """, ids).rows.first?[0]
            throw RunLockBusy(holderPID: holder ?? nil)
        }
    }

    /// Runs `body` holding the run lock, or throws `RunLockBusy` (75) when a run holds it.
    static func withLock<T>(on connection: Connection, _ body: () throws -> T) throws -> T {
        try acquire(on: connection)
        defer {
            _ = try? connection.query("SELECT pg_advisory_unlock($1::int4, $2::int4)", [String(classID), String(runID)])
        }
        return try body()
    }
}
