import Foundation
import Logging

/// Installs and checks the tool's own schema (`retention`: runs, batch ledger, legal holds).
public enum RetentionSchema {
    /// The schema version this build writes and expects.
    public static let schemaVersion = 8

    /// The schema script, `sql/retention-schema.sql`, compiled into the program.
    static var script: String { String(decoding: PackageResources.retention_schema_sql, as: UTF8.self) }

    /// Creates or upgrades the `retention` schema; running it again changes nothing.
    public static func install(on connection: Connection, logger: Logger) throws {
        try connection.transaction {
            // Two setups at once would race on CREATE ... IF NOT EXISTS; one waits for the other.
            try connection.query("SELECT pg_advisory_xact_lock($1::int4, $2::int4)",
                                 [String(RunLock.classID), String(RunLock.setupID)])
            // Its ALTER TABLEs lock the ledger's tables whole, even when they change nothing: a run
            // going on would deadlock with them.
            guard try connection.query("SELECT pg_try_advisory_xact_lock($1::int4, $2::int4) AS free",
                                       [String(RunLock.classID), String(RunLock.runID)]).single().bool("free") else {
                throw UsageError("a run is going on database \(visible(connection.databaseName)); run setup again when it has "
                                 + "finished (nothing was changed)", exitCode: .tempFail)
            }
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
        // A table or column dropped by hand would fail the run after its purge, when it records it.
        let present = Set(try connection.query("""
            SELECT c.relname::text || '.' || a.attname::text AS name
            FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'retention' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
            """).rows.map { try $0.string("name") })
        let missing = expectedColumns.filter { !present.contains($0) }
        guard missing.isEmpty else {
            let more = missing.count > 1 ? " (and \(missing.count - 1) more)" : ""
            throw UsageError("the retention schema in database \(visible(connection.databaseName)) lacks retention.\(missing[0])"
                             + "\(more); run `retention setup` to repair it (nothing was changed)", exitCode: .config)
        }
        // Code on the ledger's own tables would run inside every batch, after its checks.
        let added = try connection.query("""
            SELECT pg_catalog.format('%s %I on retention.%I', 'trigger', t.tgname, c.relname) AS what
            FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'retention' AND NOT t.tgisinternal
            UNION ALL
            SELECT pg_catalog.format('%s %I on retention.%I', 'rule', r.rulename, c.relname)
            FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'retention' AND r.rulename <> '_RETURN'
            ORDER BY 1
            """).rows.map { try $0.string("what") }
        if let first = added.first {
            throw UsageError("the retention schema in database \(visible(connection.databaseName)) has a \(first) that the tool did "
                             + "not make: it would run inside every batch, after the batch's checks; drop it (nothing was changed)",
                             exitCode: .config)
        }
    }

    /// Every `table.column` the schema script creates, read from the script itself (its `CREATE
    /// TABLE` blocks, one column a line, and its `ADD COLUMN`s), so the check cannot drift from it.
    static let expectedColumns: [String] = {
        var columns: [String] = []
        let text = script
        let tables = try! NSRegularExpression(pattern: #"CREATE TABLE IF NOT EXISTS retention\.(\w+) \((.*?)\n\);"#,
                                              options: [.dotMatchesLineSeparators])
        let column = try! NSRegularExpression(pattern: #"(?m)^    ([a-z_]+) +[a-z]"#)
        let added = try! NSRegularExpression(pattern: #"ALTER TABLE retention\.(\w+) ADD COLUMN IF NOT EXISTS (\w+)"#)
        func group(_ match: NSTextCheckingResult, _ index: Int, in text: String) -> String {
            String(text[Range(match.range(at: index), in: text)!])
        }
        for table in tables.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let name = group(table, 1, in: text), body = group(table, 2, in: text)
            for match in column.matches(in: body, range: NSRange(body.startIndex..., in: body)) {
                columns.append("\(name).\(group(match, 1, in: body))")
            }
        }
        for match in added.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            columns.append("\(group(match, 1, in: text)).\(group(match, 2, in: text))")
        }
        return columns
    }()
}
