import Foundation

/// What the catalog says of a relation: its columns, its owner, the row security and rules that
/// would hide rows from the purge, the tables a view reads.
extension Catalog {
    /// What would make the purge see or do something else than its SQL says: row-level security that
    /// applies to the connecting role (it hides rows from the purge and its counts), and, with
    /// `rules`, rewrite rules (a `DO INSTEAD` rule turns the `DELETE` into anything). One problem each.
    static func concealments(of oid: String, named name: QualifiedName, rules: Bool,
                             on connection: Connection) throws -> [String] {
        let row = try connection.query("""
            SELECT pg_catalog.row_security_active($1::oid) AS rls,
                   array_to_json(array(SELECT p.polname::text FROM pg_catalog.pg_policy p WHERE p.polrelid = $1::oid
                                       ORDER BY 1))::text AS row_policies,
                   array_to_json(array(SELECT r.rulename::text FROM pg_catalog.pg_rewrite r
                                       WHERE r.ev_class = $1::oid AND r.rulename <> '_RETURN' ORDER BY 1))::text AS rules,
                   current_user::text AS role
            """, [oid]).single()
        var problems: [String] = []
        if try row.bool("rls") {
            let names = try row.strings("row_policies").map(visible).joined(separator: ", ")
            problems.append("row-level security on \(name) applies to role \(visible(try row.string("role"))) "
                            + "(row policies: \(names.isEmpty ? "none, so every row is hidden" : names)): the purge and its "
                            + "counts would not see every row; connect as a role with BYPASSRLS or the table's owner (without "
                            + "FORCE ROW LEVEL SECURITY), or ALTER TABLE \(visible(name.sql)) DISABLE ROW LEVEL SECURITY")
        }
        if rules {
            for rule in try row.strings("rules") {
                problems.append("rule \(visible(rule)) on \(name) rewrites what is done to the table: a purge could do "
                                + "something else than it records; DROP RULE \(visible(quoteIdentifier(rule))) ON \(visible(name.sql)), or leave the "
                                + "table to no policy")
            }
        }
        return problems
    }

    /// Row-level security that applies to this role on the tables a purge reads for its foreign
    /// keys (the tables that point into a policy's table, declared cascades): a row hidden there
    /// would make a row that a hold keeps, through a cascade, look unreferenced, and the cascade
    /// (which no row security stops) would delete it. One problem each.
    static func concealedReaches(_ resolved: [ResolvedPolicy], on connection: Connection) throws -> [String] {
        var seen: Set<String> = [], problems: [String] = []
        for policy in resolved {
            let tables = policy.references.map { ($0.referencingOID, $0.referencing) }
                + policy.cascades.flatMap { cascade in cascade.leafOIDs.map { ($0, cascade.table) } }
            for (oid, name) in tables where oid != policy.tableOID && seen.insert(oid).inserted {
                problems += try concealments(of: oid, named: name, rules: false, on: connection)
                    .map { "policy \(policy.policy.name) reads \(name) for its foreign keys, and \($0)" }
            }
        }
        return problems
    }

    /// Refuses (78) an anonymize policy whose `set` changes a column of the table's partition key
    /// (at any level): each updated row would move to another partition, a delete and an insert
    /// that the batch's count proof rightly refuses every night.
    static func requireSetOutsidePartitionKey(_ resolved: [ResolvedPolicy], on connection: Connection) throws {
        for policy in resolved where policy.policy.action == .anonymize {
            let keys = try connection.query("""
                SELECT DISTINCT a.attname::text AS name FROM pg_catalog.pg_partitioned_table p
                JOIN pg_catalog.pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = ANY (p.partattrs::int2[])
                WHERE p.partrelid IN (SELECT $1::oid UNION SELECT r.relid FROM pg_catalog.pg_partition_tree($1::oid) r)
                ORDER BY 1
                """, [policy.tableOID]).rows.map { try $0.string("name") }
            let moved = policy.policy.set.map(\.column).filter(keys.contains)
            guard moved.isEmpty else {
                throw UsageError("policy \(policy.policy.name): set changes \(moved.map(visible).joined(separator: ", ")), part of "
                                 + "\(policy.policy.table)'s partition key, so every anonymized row would move to another partition; "
                                 + "anonymize other columns, or partition the table by another", exitCode: .config)
            }
        }
    }

    /// The tables with row-level security enabled that a view reads, through other views too.
    static func rowSecuredTables(under view: String, on connection: Connection) throws -> [String] {
        try connection.query("""
            WITH RECURSIVE reads(oid) AS (
                SELECT $1::oid
                UNION
                SELECT d.refobjid FROM reads
                JOIN pg_catalog.pg_rewrite r ON r.ev_class = reads.oid
                JOIN pg_catalog.pg_depend d ON d.objid = r.oid AND d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                                           AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                WHERE d.refobjid <> reads.oid
            )
            SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name
            FROM reads JOIN pg_catalog.pg_class c ON c.oid = reads.oid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relrowsecurity
            ORDER BY 1
            """, [view]).rows.map { try $0.string("name") }
    }

    /// The relation's oid, kind and columns, or `nil` when there is no such relation.
    static func relation(_ name: QualifiedName, on connection: Connection) throws -> Relation? {
        let rows = try connection.query("""
            SELECT c.oid::text AS oid, c.relkind::text AS kind, a.attname::text AS name, a.atttypid::int8 AS type_oid,
                   pg_catalog.format_type(a.atttypid, NULL) AS type_name, a.attnotnull AS not_null,
                   pg_catalog.format_type(a.atttypid, a.atttypmod) AS full_type_name
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = $1 AND c.relname = $2
            """, [name.schema, name.name]).rows
        guard let first = rows.first else { return nil }
        var columns: [String: Column] = [:]
        for row in rows {
            guard let name = try row.optional("name") else { continue }
            columns[name] = Column(name: name, typeOID: UInt32(try row.int64("type_oid")), typeName: try row.string("type_name"),
                                   fullTypeName: try row.string("full_type_name"), notNull: try row.bool("not_null"))
        }
        return Relation(oid: try first.string("oid"), kind: try first.string("kind"), columns: columns)
    }

    /// A hint for a table name that exists only in another case: a policy names tables exactly (as
    /// quoted SQL does), so `lib.Loans` is not `lib.loans`. Empty when there is no such table.
    static func caseHint(_ name: QualifiedName, on connection: Connection) throws -> String {
        let found = try connection.query("""
            SELECT n.nspname::text AS schema, c.relname::text AS name FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE pg_catalog.lower(n.nspname) = pg_catalog.lower($1) AND pg_catalog.lower(c.relname) = pg_catalog.lower($2)
              AND c.relkind IN ('r', 'p')
            ORDER BY 1, 2 LIMIT 1
            """, [name.schema, name.name]).rows.first
        guard let found else { return "" }
        let other = QualifiedName(schema: try found.string("schema"), name: try found.string("name"))
        return "; names are exact, not folded to lower case as in SQL: did you mean \(other)?"
    }

    /// The collations of two columns that PostgreSQL could not choose between when comparing them
    /// (each the column's own, and they differ), or `nil` when they agree or either has none.
    static func collationConflict(_ table: String, _ column: String, _ other: String, _ otherColumn: String,
                                  on connection: Connection) throws -> (String, String)? {
        let row = try connection.query("""
            SELECT a.attcollation <> 0 AND b.attcollation <> 0 AND a.attcollation <> b.attcollation AS conflict,
                   a.attcollation::pg_catalog.regcollation::text AS mine, b.attcollation::pg_catalog.regcollation::text AS theirs
            FROM pg_catalog.pg_attribute a, pg_catalog.pg_attribute b
            WHERE a.attrelid = $1::oid AND a.attname = $2 AND b.attrelid = $3::oid AND b.attname = $4
            """, [table, column, other, otherColumn]).rows.first
        guard let row, try row.bool("conflict") else { return nil }
        return (try row.string("mine"), try row.string("theirs"))
    }

    /// The leaf tables of the folder's other policies that hold none of this policy's rows: all of
    /// them (`ResolvedPolicy.otherPolicies`), and those outside its declared cascades, by table
    /// (`ResolvedPolicy.watched`).
    static func watchedTables(of resolved: ResolvedPolicy, on connection: Connection) throws -> (watched: [CascadeTable], all: [String]) {
        let cascades = Set(resolved.cascades.flatMap(\.leafOIDs))
        // A partition of this policy's own table holds its rows: its own counters prove them.
        let own = Set(try ForeignKeys.leaves(of: resolved.tableOID, on: connection) + [resolved.tableOID])
        var watched: [CascadeTable] = []
        var all: [String] = []
        let tables = Set(resolved.policy.companions.map(\.table)).subtracting([resolved.policy.table])
        for table in tables.sorted(by: { $0.description < $1.description }) {
            guard let oid = try connection.query("SELECT pg_catalog.to_regclass($1)::oid::text AS oid", [table.sql])
                .single().optional("oid") else { continue }
            let leaves = try ForeignKeys.leaves(of: oid, on: connection).filter { !own.contains($0) }
            all += leaves
            let outside = leaves.filter { !cascades.contains($0) }
            if !outside.isEmpty { watched.append(CascadeTable(table: table, leafOIDs: outside)) }
        }
        return (watched, all)
    }

    /// Whether the table `oid` is a partition of a partitioned table.
    static func isPartition(_ oid: String, on connection: Connection) throws -> Bool {
        try connection.query("SELECT c.relispartition AS partition FROM pg_catalog.pg_class c WHERE c.oid = $1::oid", [oid])
            .rows.first?.bool("partition") ?? false
    }

    /// Whether the current user has the table owner's role (what VACUUM and VACUUM FULL require).
    static func ownsTable(_ oid: String, on connection: Connection) throws -> Bool {
        try connection.query("SELECT pg_has_role(c.relowner, 'USAGE') AS owns FROM pg_catalog.pg_class c WHERE c.oid = $1::oid",
                             [oid]).rows.first?.bool("owns") ?? false
    }
}

extension Catalog {
    /// One line per policy whose library column holds values the policy does not name, with how many
    /// rows carry them (never a value): those rows are counted as `Policy.Libraries.otherLabel`.
    public static func unnamedLibraryWarnings(for policies: [ResolvedPolicy], on connection: Connection) throws -> [String] {
        var lines: [String] = []
        for resolved in policies {
            guard let libraries = resolved.policy.libraries else { continue }
            let value: SQL = "t.\(name: libraries.column)"
            // The names are the catalog-checked policy's, quoted; the named values are bound.
            let rows = try connection.query(SQL("""
                SELECT count(*) AS rows FROM \(resolved.policy.table) AS t
                WHERE \(value) IS NOT NULL AND NOT (\(value)::text = ANY (\(bind: libraries.named)))
                """).statement).single().int64("rows")
            guard rows > 0 else { continue }
            lines.append("policy \(resolved.policy.name): \(rows) rows of \(resolved.policy.table) have a value of "
                         + "\(visible(libraries.column)) that the policy does not name; they take the policy's own period and "
                         + "are counted as \(Policy.Libraries.otherLabel) (name each member library under libraries.names "
                         + "or libraries.retain to count it by name)")
        }
        return lines
    }
}
