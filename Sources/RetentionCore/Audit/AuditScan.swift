import Foundation

/// The privacy audit: uncovered patron references, suspicious column names, SSN-shaped values.
///
/// Reads the catalog and, for text columns, server-side counts only: the program never receives a
/// row value. Everything runs in one `READ ONLY` transaction, so the audit cannot change anything.
public enum Audit {
    struct Column {
        let name: String
        /// The type's oid, as text.
        let type: String
        let isText: Bool
        let readable: Bool
    }

    struct Table {
        let oid: String
        let name: AuditReport.TableName
        /// `r` table, `p` partitioned table or `m` materialized view (a copy no policy can purge).
        let kind: String
        var columns: [Column]
    }

    struct ForeignKey {
        let table: String
        let references: AuditReport.TableName
        var columns: [String]
    }

    /// Audits every user table against the policies (their `table`, `patron` and `consent` only).
    ///
    /// - Parameter sampleRows: tables the planner estimates larger than this are scanned with
    ///   `TABLESAMPLE SYSTEM` at a percentage that aims at about this many rows.
    public static func run(policies: [Policy], on connection: Connection, sampleRows: Int) throws -> AuditReport {
        precondition(sampleRows >= 1, "sampleRows must be positive")
        return try connection.transaction(readOnly: true) {
            // A table held by VACUUM FULL or ALTER TABLE is reported as not examined instead of stalling the audit.
            try connection.execute(unsafeSQL: "SET LOCAL lock_timeout = '10s'")
            let at = try connection.query("""
                SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at
                """).single().string("at")
            // pg_partman's template tables are empty by design: its partitions' pattern, not data.
            let templates = try Partman.templateTables(on: connection)
            let tables = try userTables(on: connection).filter { !templates.contains($0.oid) }
            let keys = try foreignKeys(on: connection)

            let patrons = patronTables(policies: policies, tables: tables, keys: keys)
            let uncovered = uncoveredTables(policies: policies, tables: tables, keys: keys, patrons: patrons)
            let copied = try copiedTables(policies: policies, tables: tables, patrons: patrons, on: connection)
            var suspicious: [AuditReport.SuspiciousColumn] = []
            for table in tables {
                for column in table.columns {
                    let categories = AuditRules.categories(ofColumn: column.name)
                    if !categories.isEmpty {
                        suspicious.append(.init(schema: table.name.schema, table: table.name.table,
                                                column: column.name, categories: categories))
                    }
                }
            }

            var ssn: [AuditReport.SSNShapedValues] = []
            var scans: [AuditReport.TableScan] = []
            var notExamined: [AuditReport.NotExamined] = []
            for table in tables {
                let text = table.columns.filter(\.isText)
                let unreadable = text.filter { !$0.readable }.map(\.name)
                if !unreadable.isEmpty {
                    notExamined.append(.init(schema: table.name.schema, table: table.name.table, columns: unreadable,
                                             reason: "no SELECT privilege"))
                }
                let readable = text.filter(\.readable).map(\.name)
                guard !readable.isEmpty else { continue }
                switch try scan(table, columns: readable, sampleRows: sampleRows, on: connection) {
                case .scanned(let scan, let counts):
                    scans.append(scan)
                    for (column, rows) in zip(readable, counts) where rows > 0 {
                        ssn.append(.init(schema: table.name.schema, table: table.name.table, column: column, rows: rows,
                                         rowsExamined: scan.rowsExamined, sampled: scan.sampled))
                    }
                case .skipped(let reason):
                    notExamined.append(.init(schema: table.name.schema, table: table.name.table, columns: readable,
                                             reason: reason))
                }
            }

            return AuditReport(
                at: at, database: connection.databaseName, sampleRows: sampleRows,
                patronTables: tables.map(\.name).filter(patrons.contains),
                uncoveredTables: uncovered, copiedTables: copied, suspiciousColumns: suspicious, ssnShapedValues: ssn,
                scannedTables: scans, notExamined: notExamined)
        }
    }

    /// Ordinary and partitioned tables and materialized views outside the system schemas and the
    /// tool's own, with their columns.
    ///
    /// Partitions are left out (their parent stands for them) and so are tables that belong to an extension
    /// (pg_partman's template tables, which do not, are left out by `run`).
    static func userTables(on connection: Connection) throws -> [Table] {
        let result = try connection.query("""
            SELECT c.oid::text AS oid, n.nspname::text AS schema, c.relname::text AS name, c.relkind::text AS kind,
                   a.attname::text AS column, a.atttypid::text AS type,
                   coalesce(nullif(t.typbasetype, 0), t.oid)
                        IN ('pg_catalog.text'::pg_catalog.regtype, 'pg_catalog.varchar'::pg_catalog.regtype,
                            'pg_catalog.bpchar'::pg_catalog.regtype) AS is_text,
                   pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT') AS readable
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
            WHERE c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition
              AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'retention')
              AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                              WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                AND d.objid = c.oid AND d.deptype = 'e')
            ORDER BY n.nspname, c.relname, a.attnum
            """)
        var tables: [Table] = []
        for row in result.rows {
            let oid = try row.string("oid")
            let entry = Column(name: try row.string("column"), type: try row.string("type"), isText: try row.bool("is_text"), readable: try row.bool("readable"))
            if tables.last?.oid == oid {
                tables[tables.count - 1].columns.append(entry)
            } else {
                tables.append(Table(oid: oid, name: .init(schema: try row.string("schema"), table: try row.string("name")),
                                    kind: try row.string("kind"), columns: [entry]))
            }
        }
        return tables
    }

    /// Every foreign key (not the copies PostgreSQL makes for partitions), with its columns in order.
    static func foreignKeys(on connection: Connection) throws -> [ForeignKey] {
        let result = try connection.query("""
            SELECT con.oid::text AS oid, con.conrelid::text AS table_oid, rn.nspname::text AS schema,
                   rc.relname::text AS name, a.attname::text AS column
            FROM pg_catalog.pg_constraint con
            JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
            JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
            CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
            WHERE con.contype = 'f' AND con.conparentid = 0
            ORDER BY con.conrelid, con.conname, con.oid, k.ord
            """)
        var keys: [ForeignKey] = []
        var lastOID: String?
        for row in result.rows {
            let oid = try row.string("oid"), column = try row.string("column")
            if oid == lastOID {
                keys[keys.count - 1].columns.append(column)
            } else {
                keys.append(ForeignKey(table: try row.string("table_oid"),
                                       references: .init(schema: try row.string("schema"), table: try row.string("name")),
                                       columns: [column]))
                lastOID = oid
            }
        }
        return keys
    }

    /// Consent tables, tables a policy's patron column references, and tables named like patron tables.
    static func patronTables(policies: [Policy], tables: [Table], keys: [ForeignKey]) -> Set<AuditReport.TableName> {
        var patrons = Set(policies.compactMap(\.consent).map { AuditReport.TableName(schema: $0.table.schema, table: $0.table.name) })
        let oids = Dictionary(tables.map { ($0.name, $0.oid) }, uniquingKeysWith: { first, _ in first })
        for policy in policies {
            guard let patron = policy.patron,
                  let oid = oids[.init(schema: policy.table.schema, table: policy.table.name)] else { continue }
            for key in keys where key.table == oid && key.columns.contains(patron) {
                patrons.insert(key.references)
            }
        }
        for table in tables where AuditRules.isPatronTableName(table.name.table) {
            patrons.insert(table.name)
        }
        return patrons
    }

    /// Tables that reference a patron table (by foreign key or recognised column name) and that no policy covers.
    static func uncoveredTables(
        policies: [Policy], tables: [Table], keys: [ForeignKey], patrons: Set<AuditReport.TableName>
    ) -> [AuditReport.UncoveredTable] {
        let covered = Set(policies.map { AuditReport.TableName(schema: $0.table.schema, table: $0.table.name) })
        var uncovered: [AuditReport.UncoveredTable] = []
        for table in tables where !covered.contains(table.name) && !patrons.contains(table.name) {
            let byKey = keys.filter { $0.table == table.oid && patrons.contains($0.references) }
            var references = byKey.map { AuditReport.PatronReference(columns: $0.columns, via: .foreignKey, references: $0.references) }
            let keyColumns = Set(byKey.flatMap(\.columns))
            for column in table.columns where !keyColumns.contains(column.name) && AuditRules.isPatronColumnName(column.name) {
                references.append(.init(columns: [column.name], via: .columnName, references: nil))
            }
            if !references.isEmpty {
                uncovered.append(.init(schema: table.name.schema, table: table.name.table, references: references))
            }
        }
        return uncovered
    }

    enum ScanOutcome {
        /// The scan, and per column the count of examined rows with an SSN-shaped value.
        case scanned(AuditReport.TableScan, [Int64])
        case skipped(String)
    }

    /// Counts, on the server, the rows of each column whose value is shaped like an SSN; samples large tables.
    static func scan(_ table: Table, columns: [String], sampleRows: Int, on connection: Connection) throws -> ScanOutcome {
        // ONLY: an inheritance child is audited as a table of its own. A partitioned table has no rows of
        // its own, so its scan takes its partitions.
        let from = (table.kind == "r" ? "ONLY " : "") + quoteIdentifier(table.name.schema) + "." + quoteIdentifier(table.name.table)
        // A savepoint per table: a lock timeout or a refused privilege skips this table, not the audit.
        try connection.execute(unsafeSQL: "SAVEPOINT retention_audit_table")
        do {
            let estimate = try estimatedRows(from: from, on: connection)
            var percent: Double?
            var sample: SQL = ""
            if estimate > Int64(sampleRows) {
                let value = max(100 * Double(sampleRows) / Double(estimate), 0.000_001)
                percent = value
                sample = " TABLESAMPLE SYSTEM (\(bind: String(value))::pg_catalog.float4)"
            }
            let counts = columns.enumerated().map { index, column -> SQL in
                "count(*) FILTER (WHERE \(name: column) ~* \(bind: AuditRules.ssnPattern)) AS c\(index)"
            }
            // Names are quoted (`from` by `quoteIdentifier`); the pattern and sample size are bound.
            let result = try connection.query(SQL("SELECT count(*) AS examined, \(counts.joined(separator: ", ")) FROM \(unsafe: from)\(sample)")
                .statement).single()
            let examined = try result.int64("examined")
            let matches = try columns.indices.map { try result.int64("c\($0)") }
            try connection.execute(unsafeSQL: "RELEASE SAVEPOINT retention_audit_table")
            let scan = AuditReport.TableScan(schema: table.name.schema, table: table.name.table, estimatedRows: estimate,
                                             rowsExamined: examined, sampled: percent != nil, samplePercent: percent,
                                             textColumns: columns.count)
            return .scanned(scan, matches)
        } catch let error as DatabaseError where error.kind == .server {
            // One table that cannot be read (a row-level security policy or a view's function that
            // raises) is reported, not the end of the audit; its message may quote values, its
            // SQLSTATE does not.
            try connection.execute(unsafeSQL: "ROLLBACK TO SAVEPOINT retention_audit_table")
            if error.isPermissionDenied { return .skipped("no SELECT privilege") }
            if error.sqlState == "55P03" { return .skipped("locked by another session (lock_timeout)") }
            return .skipped("reading it failed with SQLSTATE \(error.sqlState ?? "?") (code in the database, such as a row-level "
                            + "security policy, raised an error)")
        }
    }

    /// The planner's row estimate: `reltuples` scaled to the table's current size, also for tables never
    /// analyzed and for partitioned tables (whose own `reltuples` is unknown).
    static func estimatedRows(from: String, on connection: Connection) throws -> Int64 {
        let plan = try connection.query(unsafeSQL: "EXPLAIN (FORMAT JSON) SELECT FROM \(from)").rows.first?.optional("QUERY PLAN")
        guard let data = plan?.data(using: .utf8),
              let top = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]],
              let node = top.first?["Plan"] as? [String: Any],
              let rows = (node["Plan Rows"] as? NSNumber)?.doubleValue else { return 0 }
        return Int64(rows.rounded())
    }
}
