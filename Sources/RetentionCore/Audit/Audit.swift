import Foundation

/// What `retention audit` found: schema, table and column names and counts, never a value.
public struct AuditReport: Codable, Sendable, Equatable {
    /// A table by schema and name (raw; text output shows them through `visible`).
    public struct TableName: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
        public let schema: String
        public let table: String

        public init(schema: String, table: String) {
            self.schema = schema
            self.table = table
        }

        public var description: String { visible(schema) + "." + visible(table) }

        public static func < (lhs: TableName, rhs: TableName) -> Bool {
            (lhs.schema, lhs.table) < (rhs.schema, rhs.table)
        }
    }

    /// How an uncovered table points at patrons: a foreign key, or a column name the rules recognise.
    public struct PatronReference: Codable, Sendable, Equatable {
        public enum Via: String, Codable, Sendable {
            case foreignKey = "foreign_key"
            case columnName = "column_name"
        }

        /// The referencing columns (several for a multi-column foreign key).
        public let columns: [String]
        public let via: Via
        /// The patron table a foreign key points to; `nil` for a recognised column name.
        public let references: TableName?
    }

    /// A table with a patron reference that no policy's `table` names.
    public struct UncoveredTable: Codable, Sendable, Equatable {
        public let schema: String
        public let table: String
        public let references: [PatronReference]
    }

    /// A kind of data the privacy policy says not to collect.
    public enum Category: String, Codable, Sendable, CaseIterable {
        case socialSecurityNumber = "social_security_number"
        case race
        case colour
        case religion
        case sex
        case nationalOrigin = "national_origin"
        case disability
        case maritalStatus = "marital_status"
        case politicalAffiliation = "political_affiliation"

        /// The words a report shows for the category.
        public var label: String {
            switch self {
            case .socialSecurityNumber: return "social security number"
            case .race: return "race"
            case .colour: return "colour"
            case .religion: return "religion"
            case .sex: return "sex or gender"
            case .nationalOrigin: return "national origin"
            case .disability: return "disability"
            case .maritalStatus: return "marital status"
            case .politicalAffiliation: return "political affiliation"
            }
        }
    }

    /// A column whose name suggests data the privacy policy says not to collect.
    public struct SuspiciousColumn: Codable, Sendable, Equatable {
        public let schema: String
        public let table: String
        public let column: String
        public let categories: [Category]
    }

    /// A text column in which some examined rows hold a value shaped like a U.S. social security number.
    public struct SSNShapedValues: Codable, Sendable, Equatable {
        public let schema: String
        public let table: String
        public let column: String
        /// Examined rows whose value in the column matches `AuditRules.ssnPattern`.
        public let rows: Int64
        /// Rows of the table examined (all of them, or the sample's).
        public let rowsExamined: Int64
        public let sampled: Bool
    }

    /// One table whose text columns were counted: how many rows were examined and whether it was sampled.
    public struct TableScan: Codable, Sendable, Equatable {
        public let schema: String
        public let table: String
        /// The planner's row estimate that decided the sampling.
        public let estimatedRows: Int64
        public let rowsExamined: Int64
        public let sampled: Bool
        /// The `TABLESAMPLE SYSTEM` percentage, when sampled.
        public let samplePercent: Double?
        public let textColumns: Int
    }

    /// Text columns that could not be examined, and why.
    public struct NotExamined: Codable, Sendable, Equatable {
        public let schema: String
        public let table: String
        public let columns: [String]
        public let reason: String
    }

    /// The database clock when the audit ran.
    public let at: String
    public let database: String
    /// Tables larger than this (planner estimate) were sampled.
    public let sampleRows: Int
    /// The tables the audit took for patron tables (they are never reported as uncovered).
    public let patronTables: [TableName]
    public let uncoveredTables: [UncoveredTable]
    public let suspiciousColumns: [SuspiciousColumn]
    public let ssnShapedValues: [SSNShapedValues]
    public let scannedTables: [TableScan]
    public let notExamined: [NotExamined]

    /// Whether anything was found (tables not examined are not findings; the report lists them).
    public var hasFindings: Bool {
        !uncoveredTables.isEmpty || !suspiciousColumns.isEmpty || !ssnShapedValues.isEmpty
    }
}

/// The privacy audit of SPEC §8: uncovered patron references, suspicious column names, SSN-shaped values.
///
/// Reads the catalog and, for text columns, server-side counts only: the program never receives a
/// row value. Everything runs in one `READ ONLY` transaction, so the audit cannot change anything.
public enum Audit {
    struct Column {
        let name: String
        let isText: Bool
        let readable: Bool
    }

    struct Table {
        let oid: String
        let name: AuditReport.TableName
        /// `r` table or `p` partitioned table.
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
            let at = try connection.query("SELECT \(isoUTC("now()"))").rows[0][0] ?? ""
            let tables = try userTables(on: connection)
            let keys = try foreignKeys(on: connection)

            let patrons = patronTables(policies: policies, tables: tables, keys: keys)
            let uncovered = uncoveredTables(policies: policies, tables: tables, keys: keys, patrons: patrons)
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
                uncoveredTables: uncovered, suspiciousColumns: suspicious, ssnShapedValues: ssn,
                scannedTables: scans, notExamined: notExamined)
        }
    }

    /// Ordinary and partitioned tables outside the system schemas and the tool's own, with their columns.
    ///
    /// Partitions are left out (their parent stands for them) and so are tables that belong to an extension.
    static func userTables(on connection: Connection) throws -> [Table] {
        let result = try connection.query("""
            SELECT c.oid::text, n.nspname, c.relname, c.relkind::text, a.attname,
                   (coalesce(nullif(t.typbasetype, 0), t.oid)
                        IN ('pg_catalog.text'::pg_catalog.regtype, 'pg_catalog.varchar'::pg_catalog.regtype,
                            'pg_catalog.bpchar'::pg_catalog.regtype))::text,
                   pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT')::text
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'retention')
              AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                              WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                AND d.objid = c.oid AND d.deptype = 'e')
            ORDER BY n.nspname, c.relname, a.attnum
            """)
        var tables: [Table] = []
        for row in result.rows {
            guard let oid = row[0], let schema = row[1], let name = row[2], let kind = row[3], let column = row[4] else {
                continue
            }
            let entry = Column(name: column, isText: row[5] == "true", readable: row[6] == "true")
            if tables.last?.oid == oid {
                tables[tables.count - 1].columns.append(entry)
            } else {
                tables.append(Table(oid: oid, name: .init(schema: schema, table: name), kind: kind, columns: [entry]))
            }
        }
        return tables
    }

    /// Every foreign key (not the copies PostgreSQL makes for partitions), with its columns in order.
    static func foreignKeys(on connection: Connection) throws -> [ForeignKey] {
        let result = try connection.query("""
            SELECT con.oid::text, con.conrelid::text, rn.nspname, rc.relname, a.attname
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
            guard let oid = row[0], let table = row[1], let schema = row[2], let name = row[3], let column = row[4] else {
                continue
            }
            if oid == lastOID {
                keys[keys.count - 1].columns.append(column)
            } else {
                keys.append(ForeignKey(table: table, references: .init(schema: schema, table: name), columns: [column]))
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
        let from = (table.kind == "p" ? "" : "ONLY ") + quoteIdentifier(table.name.schema) + "." + quoteIdentifier(table.name.table)
        // A savepoint per table: a lock timeout or a refused privilege skips this table, not the audit.
        try connection.execute(unsafeSQL: "SAVEPOINT retention_audit_table")
        do {
            let estimate = try estimatedRows(from: from, on: connection)
            var params = Parameters()
            let pattern = params.bind(AuditRules.ssnPattern)
            var percent: Double?
            var sample = ""
            if estimate > Int64(sampleRows) {
                let value = max(100 * Double(sampleRows) / Double(estimate), 0.000_001)
                percent = value
                sample = " TABLESAMPLE SYSTEM (\(params.bind(String(value)))::pg_catalog.float4)"
            }
            let counts = columns.map { "(count(*) FILTER (WHERE \(quoteIdentifier($0)) ~* \(pattern)))::text" }
            let row = try connection.query("SELECT count(*)::text, \(counts.joined(separator: ", ")) FROM \(from)\(sample)",
                                           params.values).rows[0].map { Int64($0 ?? "") ?? 0 }
            try connection.execute(unsafeSQL: "RELEASE SAVEPOINT retention_audit_table")
            let scan = AuditReport.TableScan(schema: table.name.schema, table: table.name.table, estimatedRows: estimate,
                                             rowsExamined: row[0], sampled: percent != nil, samplePercent: percent,
                                             textColumns: columns.count)
            return .scanned(scan, Array(row.dropFirst()))
        } catch let error as DatabaseError where error.kind == .server
                                            && (error.isPermissionDenied || error.sqlState == "55P03") {
            try connection.execute(unsafeSQL: "ROLLBACK TO SAVEPOINT retention_audit_table")
            return .skipped(error.isPermissionDenied ? "no SELECT privilege" : "locked by another session (lock_timeout)")
        }
    }

    /// The planner's row estimate: `reltuples` scaled to the table's current size, also for tables never
    /// analyzed and for partitioned tables (whose own `reltuples` is unknown).
    static func estimatedRows(from: String, on connection: Connection) throws -> Int64 {
        let plan = try connection.query("EXPLAIN (FORMAT JSON) SELECT FROM \(from)").rows.first?[0] ?? nil
        guard let data = plan?.data(using: .utf8),
              let top = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]],
              let node = top.first?["Plan"] as? [String: Any],
              let rows = (node["Plan Rows"] as? NSNumber)?.doubleValue else { return 0 }
        return Int64(rows.rounded())
    }
}

/// The name rules and the value pattern of the audit, written down so that a reader can check them.
///
/// Column and table names are compared as words: a name is split at anything that is not a letter
/// (`_`, digits, spaces, punctuation) and at camelCase humps (`dobRace`, `SSNLast4` -> `ssn`, `last`),
/// and the words are lowercased. So `race` matches `dob_race` and `raceCode` but not `trace` or `embraced`.
public enum AuditRules {
    /// Column names (compared with separators removed and lowercased: `Patron_ID` is `patronid`) that the
    /// audit takes for a reference to a patron even without a foreign key.
    ///
    /// A patron noun (patron, borrower, member, membership, cardholder, user, customer, client) followed by
    /// id, no, num, number, key or barcode; bare `patron`, `borrower` and `cardholder`; and the card
    /// numbers `card_number`, `card_no`, `card_num`, `card_barcode`, `library_card`, `library_card_number`,
    /// `library_card_no`. Bare `user`, `member` and `customer` are not taken: too often staff or libraries.
    public static let patronColumnNames: Set<String> = {
        var names: Set<String> = ["patron", "borrower", "cardholder",
                                  "cardnumber", "cardno", "cardnum", "cardbarcode",
                                  "librarycard", "librarycardnumber", "librarycardno"]
        for noun in ["patron", "borrower", "member", "membership", "cardholder", "user", "customer", "client"] {
            for suffix in ["id", "no", "num", "number", "key", "barcode"] { names.insert(noun + suffix) }
        }
        return names
    }()

    /// Table names that make a table a patron table: patron, borrower, member, user, customer, each also plural.
    public static let patronTableNames: Set<String> = ["patron", "patrons", "borrower", "borrowers", "member",
                                                       "members", "user", "users", "customer", "customers"]

    /// Whether a column name is one of `patronColumnNames`.
    public static func isPatronColumnName(_ name: String) -> Bool {
        patronColumnNames.contains(name.lowercased().filter { $0.isLetter || $0.isNumber })
    }

    /// Whether a table name is one of `patronTableNames` (case-insensitive).
    public static func isPatronTableName(_ name: String) -> Bool {
        patronTableNames.contains(name.lowercased())
    }

    /// One category's rules: whole words, words that start with a stem, and pairs of adjacent words.
    struct Rule {
        let category: AuditReport.Category
        let words: Set<String>
        let prefixes: [String]
        let pairs: [(String, Set<String>)]
    }

    /// The suspicious-name rules. A column matches a category when one of its words is in `words`,
    /// starts with one of `prefixes`, or two adjacent words form one of `pairs`.
    ///
    /// - social security number: `ssn`, `ssns`; `soc`/`social` followed by `sec`/`security`
    ///   (`soc_sec_no`, `socialSecurityNumber`); words starting with `socsec` or `socialsecurity`.
    /// - race: `race`, `races`, `racial` (not `trace`, `grace`, `embraced`, `racetrack`).
    /// - colour: `skin` followed by `color`/`colour`/`tone`; `complexion`. A bare `color` is not taken:
    ///   label and cover colours are common in library catalogues.
    /// - religion: words starting with `relig` (`relig`, `religion`, `religious`).
    /// - sex: `sex`, `sexes`, `gndr`; words starting with `gender` or `sexual` (not `sextant`, `essex`).
    /// - national origin: words starting with `ethnic`, `nationalit` or `citizenship`; `national`/`natl`/`nat`
    ///   followed by `origin`.
    /// - disability: `disab`; words starting with `disabilit` or `handicap` (not `disabled`, which is how
    ///   accounts are switched off).
    /// - marital status: words starting with `marital`.
    /// - political affiliation: `polit`; words starting with `politic` (`political`, `politics`; not `polite`).
    ///   `party` alone is not taken (`party_size`), but `polit_party` is, by `polit`.
    static let rules: [Rule] = [
        Rule(category: .socialSecurityNumber, words: ["ssn", "ssns"], prefixes: ["socsec", "socialsecurity"],
             pairs: [("soc", ["sec", "security"]), ("social", ["sec", "security"])]),
        Rule(category: .race, words: ["race", "races", "racial"], prefixes: [], pairs: []),
        Rule(category: .colour, words: ["complexion"], prefixes: ["skincolo", "skintone"],
             pairs: [("skin", ["color", "colour", "colors", "colours", "tone"])]),
        Rule(category: .religion, words: [], prefixes: ["relig"], pairs: []),
        Rule(category: .sex, words: ["sex", "sexes", "gndr"], prefixes: ["gender", "sexual"], pairs: []),
        Rule(category: .nationalOrigin, words: [], prefixes: ["ethnic", "nationalit", "nationalorigin", "citizenship"],
             pairs: [("national", ["origin", "origins"]), ("natl", ["origin", "origins"]), ("nat", ["origin", "origins"])]),
        Rule(category: .disability, words: ["disab"], prefixes: ["disabilit", "handicap"], pairs: []),
        Rule(category: .maritalStatus, words: [], prefixes: ["marital"], pairs: []),
        Rule(category: .politicalAffiliation, words: ["polit"], prefixes: ["politic"], pairs: []),
    ]

    /// The categories a column name suggests, in the order of `AuditReport.Category`; empty for most names.
    public static func categories(ofColumn name: String) -> [AuditReport.Category] {
        let words = self.words(name)
        let adjacent = zip(words, words.dropFirst()).map { ($0, $1) }
        return rules.filter { rule in
            words.contains { word in rule.words.contains(word) || rule.prefixes.contains { word.hasPrefix($0) } }
                || adjacent.contains { first, second in rule.pairs.contains { $0.0 == first && $0.1.contains(second) } }
        }.map(\.category)
    }

    /// Splits a name into lowercased words at non-letters and camelCase humps.
    public static func words(_ name: String) -> [String] {
        var words: [String] = []
        var current: [Character] = []
        let characters = Array(name)
        func flush() {
            if !current.isEmpty { words.append(String(current).lowercased()) }
            current = []
        }
        for (index, character) in characters.enumerated() {
            guard character.isLetter else {
                flush()
                continue
            }
            if let previous = current.last, character.isUppercase {
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                // `dobRace` splits before R; `SSNLast` splits before L (an acronym ends where a word starts).
                if previous.isLowercase || (previous.isUppercase && next?.isLowercase == true) { flush() }
            }
            current.append(character)
        }
        flush()
        return words
    }

    /// The PostgreSQL regular expression (case-insensitive, `~*`) for values shaped like a U.S. social
    /// security number; a row counts once however many it holds.
    ///
    /// - `123-45-6789` as a whole token: no digit or dash right before or after it (so not part of
    ///   `1123-45-6789`, `123-45-67890` or an ISBN), whatever the digits are (`000-`, `9xx-` included: the
    ///   audit looks for the shape, not for numbers the SSA would issue).
    /// - 9 digits, plain or grouped 3-2-4 by spaces or dots, right after a label: `ssn`, `social security`,
    ///   `soc sec` (`SSN: 123456789`, `social security no. 123 45 6789`). Without a label a 9-digit number
    ///   is not taken: phone extensions, barcodes and ids look the same.
    public static let ssnPattern =
        "(^|[^0-9-])[0-9]{3}-[0-9]{2}-[0-9]{4}($|[^0-9-])"
        + "|(ssn|social[^0-9a-z]{0,2}security|soc[^0-9a-z]{0,2}sec)[^0-9]{0,16}[0-9]{3}[ .]?[0-9]{2}[ .]?[0-9]{4}($|[^0-9])"
}

/// Renders an audit report for a person (text) or a program (JSON); names and counts only.
public enum AuditRendering {
    public static func text(_ report: AuditReport) -> String {
        let grouped = PlanRendering.grouped
        var out = "Audit of database \(visible(report.database)) at \(report.at) (database clock); read only, no values shown.\n"
        let patrons = report.patronTables.map(\.description).joined(separator: ", ")
        out += "Patron tables: \(patrons.isEmpty ? "none found" : patrons)\n"

        out += "\nTables that reference patrons but no policy covers: \(report.uncoveredTables.count)\n"
        if !report.uncoveredTables.isEmpty {
            let rows = report.uncoveredTables.flatMap { table in
                table.references.map { reference in
                    ["\(visible(table.schema)).\(visible(table.table))", reference.columns.map(visible).joined(separator: ", "),
                     reference.references.map { "foreign key to \($0)" } ?? "column name"]
                }
            }
            out += PlanRendering.table(header: ["table", "column", "how"], rows: rows, rightAligned: [])
        }

        out += "\nColumns whose names suggest data the privacy policy says not to collect: \(report.suspiciousColumns.count)\n"
        if !report.suspiciousColumns.isEmpty {
            let rows = report.suspiciousColumns.map {
                ["\(visible($0.schema)).\(visible($0.table)).\(visible($0.column))", $0.categories.map(\.label).joined(separator: ", ")]
            }
            out += PlanRendering.table(header: ["column", "suggests"], rows: rows, rightAligned: [])
        }

        out += "\nText columns with values shaped like U.S. social security numbers: \(report.ssnShapedValues.count)\n"
        if !report.ssnShapedValues.isEmpty {
            let rows = report.ssnShapedValues.map {
                ["\(visible($0.schema)).\(visible($0.table)).\(visible($0.column))", grouped($0.rows),
                 grouped($0.rowsExamined), $0.sampled ? "yes" : "no"]
            }
            out += PlanRendering.table(header: ["column", "rows", "examined", "sampled"], rows: rows, rightAligned: [1, 2])
        }

        let scanned = report.scannedTables
        let sampled = scanned.filter(\.sampled)
        out += "\nExamined \(scanned.count) \(scanned.count == 1 ? "table" : "tables") with text columns: "
            + "\(grouped(scanned.reduce(0) { $0 + $1.rowsExamined })) rows; "
            + "tables larger than \(grouped(Int64(report.sampleRows))) rows were sampled (TABLESAMPLE SYSTEM).\n"
        for scan in sampled {
            let percent = scan.samplePercent.map { String(format: "%.4g", $0) } ?? "?"
            out += "  sampled \(visible(scan.schema)).\(visible(scan.table)): \(grouped(scan.rowsExamined)) rows examined "
                + "of about \(grouped(scan.estimatedRows)) (\(percent)% of its pages)\n"
        }
        if !report.notExamined.isEmpty {
            out += "\nNot examined: \(report.notExamined.count)\n"
            for item in report.notExamined {
                out += "  \(visible(item.schema)).\(visible(item.table)) (\(item.columns.map(visible).joined(separator: ", "))): \(item.reason)\n"
            }
        }
        let found = report.uncoveredTables.count + report.suspiciousColumns.count + report.ssnShapedValues.count
        if found > 0 {
            out += "\nFound \(found) \(found == 1 ? "problem" : "problems").\n"
        } else {
            out += report.notExamined.isEmpty ? "\nNothing found.\n" : "\nNothing found in the columns examined.\n"
        }
        return out
    }

    /// The report as JSON with snake_case keys, sorted, ending in a newline.
    public static func json(_ report: AuditReport) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = (try? encoder.encode(report)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
