import Foundation

/// What pg_partman, when the database has it, does to the tables the policies and the audit look at.
///
/// pg_partman keeps its configuration in `part_config` in the schema it was installed in; its
/// columns are read through `to_jsonb` so that versions 4 and 5 read alike.
public enum Partman {
    /// One row of `part_config`.
    struct Config: RowDecodable {
        let parentTable: String
        let retention: String?
        let keepTable: Bool
        let templateOID: String?

        init(row: Row) throws {
            parentTable = try row.string("parent_table")
            retention = try row.optional("retention")
            keepTable = try row.optional("keep_table") == "true"
            templateOID = try row.optional("template_oid")
        }
    }

    /// pg_partman's configuration, or none when the extension is not installed.
    static func configs(on connection: Connection) throws -> [Config] {
        guard let schema: String = try connection.query("""
            SELECT n.nspname::text AS schema FROM pg_catalog.pg_extension e
            JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_partman'
            """).rows.first?.optional("schema") else { return [] }
        // The schema name comes from the catalog and is quoted; nothing else is spliced in.
        return try connection.query(unsafeSQL: """
            SELECT p.parent_table, to_jsonb(p) ->> 'retention' AS retention,
                   to_jsonb(p) ->> 'retention_keep_table' AS keep_table,
                   to_regclass(to_jsonb(p) ->> 'template_table')::oid::text AS template_oid
            FROM \(quoteIdentifier(schema)).part_config p
            """).decode(Config.self)
    }

    /// The template tables pg_partman copies properties from (table oids): empty by design, never data.
    static func templateTables(on connection: Connection) throws -> Set<String> {
        Set(try configs(on: connection).compactMap(\.templateOID))
    }

    /// A warning for each policy whose table pg_partman also purges by its own `retention`: two
    /// purgers on one table, and pg_partman's takes whole partitions whatever holds, consent or
    /// `keep_when` keep.
    public static func warnings(for policies: [ResolvedPolicy], on connection: Connection) throws -> [String] {
        let configs = try configs(on: connection).filter { $0.retention != nil }
        guard !configs.isEmpty else { return [] }
        var warnings: [String] = []
        for resolved in policies {
            let policy = resolved.policy
            guard let config = configs.first(where: { $0.parentTable == policy.table.schema + "." + policy.table.name }),
                  let retention = config.retention else { continue }
            let periods = [policy.retain.description] + (policy.libraries?.retain.map { $0.1.description } ?? [])
            // Which purger reaches a row first: the shorter period.
            let sooner = try connection.query("""
                SELECT bool_or($1::interval < p::interval) AS sooner FROM unnest($2::text[]) p
                """, [retention, "{" + periods.map { "\"\($0)\"" }.joined(separator: ",") + "}"]).single().bool("sooner")
            let fix = "remove pg_partman's retention (UPDATE part_config SET retention = NULL WHERE parent_table = "
                + "'\(config.parentTable)') and let this policy purge"
            let detached = config.keepTable ? " (retention_keep_table is set: it detaches them, and their rows leave this policy's reach)" : ""
            if sooner {
                warnings.append("policy \(policy.name): pg_partman's own retention (\(retention)) is also set on \(policy.table): "
                                + "two purgers on one table, and pg_partman acts first: it drops whole partitions older than "
                                + "\(retention)\(detached), whatever legal holds, consent or keep_when keep, before this "
                                + "policy's period makes their rows due; \(fix)")
            } else {
                warnings.append("policy \(policy.name): pg_partman's own retention (\(retention)) is also set on \(policy.table): "
                                + "two purgers on one table; this policy acts first, and pg_partman then drops whole partitions "
                                + "older than \(retention)\(detached), with the rows this policy keeps for legal holds, consent or "
                                + "keep_when; \(fix)")
            }
        }
        return warnings
    }
}
