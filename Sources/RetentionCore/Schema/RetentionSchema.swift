import Logging

/// Installs and checks the tool's own schema (`retention`: runs, batch ledger, legal holds).
public enum RetentionSchema {
    /// The schema version this build writes and expects.
    public static let schemaVersion = 5

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
        let exists = try connection.query("SELECT to_regclass('retention.schema_version') IS NOT NULL AS found")
            .single().bool("found")
        let installed = exists
            ? try connection.query("SELECT max(version) AS installed FROM retention.schema_version").single().optionalInt64("installed")
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
