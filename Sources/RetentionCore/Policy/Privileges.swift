/// The privileges a command needs are missing; reported before anything runs (exit 77).
public struct MissingPrivileges: RetentionError {
    public let missing: [String]
    public var exitCode: ExitStatus { .noPermission }
    public var description: String {
        missing.map { "permission denied: \($0)" }.joined(separator: "\n")
    }
}

/// Checks, from the catalog, that the current user holds every privilege a command will use.
///
/// A missing privilege is named (privilege, table, column, policy) before a run fails on it
/// halfway, and the purger role of `sql/roles.sql` is checked to be enough and no more than needed.
public enum Privileges {
    /// What the privileges are for: `plan` reads; `run` (and `check --catalog`) also purge and record.
    public enum Purpose: Sendable {
        case plan, run
    }

    /// Throws `MissingPrivileges` naming every privilege the policies need for `purpose` and the user lacks.
    public static func require(_ policies: [ResolvedPolicy], for purpose: Purpose, on connection: Connection) throws {
        var checks: [(statement: Statement, what: String)] = []
        func column(_ table: QualifiedName, _ name: String, _ privilege: String, _ policy: String) {
            checks.append((Statement("SELECT has_column_privilege(to_regclass($1), $2, $3) AS granted", [table.sql, name, privilege]),
                           "\(privilege) on column \(table).\(visible(name)) (policy \(policy))"))
        }
        func table(_ name: String, _ privilege: String, _ what: String) {
            checks.append((Statement("SELECT has_table_privilege(to_regclass($1), $2) AS granted", [name, privilege]), what))
        }
        func schema(_ name: String, _ policy: String) {
            checks.append((Statement("SELECT has_schema_privilege($1, 'USAGE') AS granted", [name]),
                           "USAGE on schema \(visible(name)) (policy \(policy))"))
        }
        table("retention.holds", "SELECT", "SELECT on table retention.holds")
        if purpose == .run {
            for name in ["runs", "run_policies", "batches", "run_remaining"] {
                table("retention.\(name)", "INSERT", "INSERT on table retention.\(name)")
                table("retention.\(name)", "SELECT", "SELECT on table retention.\(name)")
            }
            table("retention.runs", "UPDATE", "UPDATE on table retention.runs")
        }
        for resolved in policies {
            let policy = resolved.policy
            schema(policy.table.schema, policy.name)
            var read = [policy.age] + [policy.patron, policy.libraries?.column].compactMap { $0 }
            read += policy.keepWhen.map(\.column)
            read += [policy.keepNewest?.per, policy.keepNewest?.order].compactMap { $0 } + (policy.consent?.rankBy ?? [])
            if policy.action == .anonymize { read += policy.markerColumns.map(\.column) }
            for name in uniqued(read) { column(policy.table, name, "SELECT", policy.name) }
            if let consent = policy.consent {
                schema(consent.table.schema, policy.name)
                for name in uniqued(consent.columns) { column(consent.table, name, "SELECT", policy.name) }
            }
            if policy.action == .delete {
                // The test whether a row still points to a due row reads only the pointing columns,
                // and the pointed-to columns of the policy's table.
                for ref in resolved.references where ref.isSelf || !ref.onDelete.changesReferencingRows {
                    for name in uniqued(ref.columns) { column(ref.referencing, name, "SELECT", policy.name) }
                    for name in uniqued(ref.referencedColumns) { column(policy.table, name, "SELECT", policy.name) }
                    if !ref.isSelf {
                        schema(ref.referencing.schema, policy.name)
                    }
                }
            }
            guard purpose == .run else { continue }
            switch policy.action {
            case .delete:
                table(policy.table.sql, "DELETE", "DELETE on table \(policy.table) (policy \(policy.name))")
                if PurgeSQL(resolved).recordsPending {
                    // Each batch writes down, in a temporary table, the rows it leaves to its declared triggers.
                    checks.append((Statement("SELECT has_database_privilege(pg_catalog.current_database(), 'TEMPORARY') AS granted"),
                                   "TEMPORARY on the database (policy \(policy.name) declares triggers)"))
                    // ... by their place (the system columns tableoid and ctid), locked (FOR UPDATE, which takes
                    // UPDATE on some column of the table).
                    for name in ["tableoid", "ctid"] { column(policy.table, name, "SELECT", policy.name) }
                    checks.append((Statement("SELECT has_any_column_privilege(to_regclass($1), 'UPDATE') AS granted", [policy.table.sql]),
                                   "UPDATE on some column of \(policy.table), to lock the rows a batch leaves to its declared "
                                   + "triggers (policy \(policy.name); e.g. GRANT UPDATE (\(visible(policy.key))) ON \(visible(policy.table.sql)))"))
                }
            case .anonymize:
                for assignment in policy.set { column(policy.table, assignment.column, "UPDATE", policy.name) }
            }
        }
        var missing: [String] = []
        for check in checks where try connection.query(check.statement).single().optional("granted") != "t" {
            missing.append(check.what)
        }
        if !missing.isEmpty { throw MissingPrivileges(missing: missing) }
    }

    /// Names a missing USAGE on the tool's schema before anything tries to read it.
    static func requireSchemaUsage(on connection: Connection) throws {
        let row = try connection.query("""
            SELECT n.oid IS NOT NULL AS found, coalesce(has_schema_privilege(n.oid, 'USAGE'), false) AS usable
            FROM (SELECT 1) one LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = 'retention'
            """).single()
        if try row.bool("found") && !(try row.bool("usable")) { throw MissingPrivileges(missing: ["USAGE on schema retention"]) }
    }

    private static func uniqued(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
