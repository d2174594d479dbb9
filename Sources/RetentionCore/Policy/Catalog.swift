import Foundation

/// A policy checked against the live catalog, with the facts its SQL needs.
public struct ResolvedPolicy: Sendable {
    public let policy: Policy
    /// The table's oid, as text.
    public let tableOID: String
    /// The key column's type as `format_type` writes it (`bigint`, `uuid`, `character varying(20)`).
    public let keyType: String
    /// The SQL type the cutoff is computed in: the age column's own type.
    public let ageType: AgeType
    /// Whether the table is range-partitioned on the age column alone: whole partitions past the
    /// cutoff may then be emptied at once, and the walk reads only the partitions that can hold rows
    /// older than the latest cutoff.
    public var partitionedByAge = false
    /// The patron column's type as `format_type` writes it, when the policy has one.
    public var patronType: String?
    /// How a hold's patron is read to compare with the column by the column type's own equality,
    /// for a text-like column (`public.citext`, `pg_catalog.bpchar`: a hold on `LIB0042X` keeps the
    /// rows of `lib0042x` in a citext column) or a numeric one (`4711` holds `4711.0`); `nil` for
    /// other types (compared as text; integers have their own path).
    public var patronTextType: ValueReading?
    /// How library keys and holds' libraries are compared with the library column when its type has
    /// an equality of its own (citext, a domain over it: `Bangor` is BANGOR; numeric: `4.0` is 4);
    /// `nil` for plain text types and others, compared as text.
    public var libraryReading: ValueReading?

    /// A type, schema-qualified and without a modifier (a domain's base type, whose cast cannot fail
    /// on the domain's checks), and the pattern a hold's text must match before it is cast to it
    /// (`nil`: every text casts).
    public struct ValueReading: Sendable, Equatable {
        public let type: String
        public let guardPattern: String?
    }
    /// Whether an index of the consent table leads with the consent key (whole, or partial on the
    /// `keep_if` column alone): a patron's consent can then be looked up per row instead of hashing
    /// every consenting patron.
    public var consentIndexed = false
    /// The foreign keys that point into the table.
    public var references: [ForeignKeyRef] = []
    /// The tables a declared cascade changes (delete policies), whose changed rows each batch counts.
    public var cascades: [CascadeTable] = []
    /// Declared cascades whose rows a legal hold of another policy may cover: while such a hold is
    /// active, a due row that one of their rows points to stays (`referenced`), since deleting it
    /// would delete or change the held row.
    public var heldCascades: [HeldCascade] = []

    /// A declared `ON DELETE CASCADE`/`SET NULL`/`SET DEFAULT` foreign key into the table, from a
    /// table other policies purge (`policies`) or that no policy of this set names (`policies` nil:
    /// a hold on any policy outside the set may cover it).
    public struct HeldCascade: Sendable, Equatable {
        public let reference: ForeignKeyRef
        public let policies: [String]?
        /// The names of the policies resolved together, for `policies == nil`.
        public let resolvedTogether: [String]
    }

    public enum AgeType: String, Sendable {
        case date
        case timestamp = "timestamp without time zone"
        case timestamptz = "timestamp with time zone"

        /// How a cutoff of this type is written: ISO 8601, UTC with `Z` for timestamptz, so manifests
        /// read the same whatever the session's time zone. The text is bound back as the cutoff.
        var format: String {
            switch self {
            case .date: return "::date, 'YYYY-MM-DD'"
            case .timestamp: return "::timestamp, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'"
            case .timestamptz: return " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'"
            }
        }

        /// The type name used in casts; one of three fixed words, never text from a policy.
        var sql: String {
            switch self {
            case .date: return "date"
            case .timestamp: return "timestamp"
            case .timestamptz: return "timestamptz"
            }
        }
    }
}

/// Checks policies against the database's catalog (SPEC §3): tables, columns, key, types and literals.
///
/// Problems are collected per policy and thrown together as `PolicyErrors` with exit status 78.
public enum Catalog {
    struct Column {
        let name: String
        let typeOID: UInt32
        let typeName: String
        /// The type with its modifier (`character varying(20)`), for casts.
        let fullTypeName: String
        let notNull: Bool
    }

    struct Relation {
        let oid: String
        let kind: String
        let columns: [String: Column]
    }

    /// Resolves every policy, or throws all catalog problems at once, each with its file position.
    public static func resolve(_ policies: [Policy], on connection: Connection) throws -> [ResolvedPolicy] {
        // Holds hidden from the purging role would protect nothing.
        let holds = try connection.query("SELECT 'retention.holds'::regclass::oid::text AS oid").single().string("oid")
        if let problem = try concealments(of: holds, named: QualifiedName(schema: "retention", name: "holds"), rules: false,
                                          on: connection).first {
            throw UsageError(problem, exitCode: .config)
        }
        var problems: [PolicyProblem] = []
        var resolved: [ResolvedPolicy] = []
        for policy in policies {
            var check = PolicyCheck(policy: policy)
            if let item = try resolve(policy, on: connection, check: &check) { resolved.append(item) }
            problems += check.problems
        }
        if !problems.isEmpty { throw PolicyErrors(problems: problems, exitCode: .config) }
        // A cascade must not delete what a hold on another policy keeps.
        let names = resolved.map(\.policy.name)
        for index in resolved.indices where resolved[index].policy.action == .delete {
            let declared = Set(resolved[index].cascades.map(\.table))
            for ref in resolved[index].references where !ref.isSelf && ref.onDelete.changesReferencingRows && declared.contains(ref.referencing) {
                let purgers = resolved.filter { $0.policy.table == ref.referencing }.map(\.policy.name)
                resolved[index].heldCascades.append(ResolvedPolicy.HeldCascade(reference: ref, policies: purgers.isEmpty ? nil : purgers,
                                                                               resolvedTogether: names))
            }
        }
        return resolved
    }

    /// The problems found in one policy, each placed at the key it is about.
    struct PolicyCheck {
        let policy: Policy
        var problems: [PolicyProblem] = []

        mutating func fail(_ message: String, at key: String) {
            let position = policy.position(key)
            problems.append(PolicyProblem(file: policy.file, line: position?.line, column: position?.column, message: message))
        }
    }

    private static func resolve(_ policy: Policy, on connection: Connection, check: inout PolicyCheck) throws -> ResolvedPolicy? {
        guard let table = try relation(policy.table, on: connection) else {
            check.fail("table \(policy.table) does not exist (policy \(policy.name))", at: "table")
            return nil
        }
        guard table.kind == "r" || table.kind == "p" else {
            check.fail("\(policy.table) is not a table (policy \(policy.name)); a policy purges a table or a partitioned table",
                       at: "table")
            return nil
        }
        for problem in try concealments(of: table.oid, named: policy.table, rules: true, on: connection) {
            check.fail(problem + " (policy \(policy.name))", at: "table")
        }
        if table.kind == "r" {
            // Old-style inheritance: a DELETE or UPDATE of the parent reaches the children's rows too.
            let children = try connection.query("""
                SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name FROM pg_catalog.pg_inherits i
                JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE i.inhparent = $1::oid ORDER BY 1
                """, [table.oid]).rows.map { visible(try $0.string("name")) }
            if !children.isEmpty {
                check.fail("\(policy.table) has inheritance children (\(children.joined(separator: ", "))): purging it would also "
                           + "purge their rows, which its counts do not prove; give each child a policy of its own and the parent "
                           + "none, or make it a partitioned table (policy \(policy.name))", at: "table")
            }
        }
        func column(_ name: String, _ role: String, at key: String) -> Column? {
            guard let column = table.columns[name] else {
                check.fail("column \(visible(name)) (\(role)) does not exist in \(policy.table)", at: key)
                return nil
            }
            return column
        }

        let keyColumn = column(policy.key, "key", at: "key")
        var partitionedByAge = false
        if keyColumn != nil {
            let primaryKey = try connection.query("""
                SELECT a.attname::text AS name
                FROM pg_catalog.pg_index i
                CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
                JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                WHERE i.indrelid = $1::oid AND i.indisprimary
                ORDER BY k.position
                """, [table.oid]).rows.map { try $0.string("name") }
            let found = primaryKey.isEmpty ? "it has none" : "it is (\(primaryKey.map(visible).joined(separator: ", ")))"
            if table.kind == "p" {
                partitionedByAge = try connection.query("""
                    SELECT pt.partstrat = 'r' AND pt.partnatts = 1 AND a.attname = $2 AS by_age
                    FROM pg_catalog.pg_partitioned_table pt
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
                    WHERE pt.partrelid = $1::oid
                    """, [table.oid, policy.age]).rows.first?.bool("by_age") ?? false
                // A partitioned table's primary key must hold the partition key, so a table partitioned
                // by age cannot have a one-column key; its leading column orders the walk as well.
                if primaryKey.first != policy.key {
                    check.fail("key \(visible(policy.key)) does not lead the primary key of \(policy.table); \(found); key must be the first column of a partitioned table's primary key", at: "key")
                }
            } else if primaryKey != [policy.key] {
                check.fail("key \(visible(policy.key)) is not the primary key of \(policy.table); \(found); key must be its one-column primary key", at: "key")
            }
        }

        var ageType: ResolvedPolicy.AgeType?
        if let age = column(policy.age, "age", at: "age") {
            ageType = ResolvedPolicy.AgeType(rawValue: age.typeName)
            if ageType == nil {
                check.fail("age column \(visible(policy.age)) of \(policy.table) is \(age.typeName); expected date, timestamp or timestamptz",
                           at: "age")
            }
        }

        var settable: [(Assignment, Column)] = []
        for assignment in policy.set {
            let key = "set.\(assignment.column)"
            guard let target = column(assignment.column, "set", at: key) else { continue }
            if assignment.column == policy.key || assignment.column == policy.libraries?.column {
                check.fail("set may not change \(visible(assignment.column)): it is the policy's key or library column", at: key)
                continue
            }
            if assignment.value == nil && target.notNull {
                check.fail("set \(visible(assignment.column)): null does not fit, the column is NOT NULL in \(policy.table)", at: key)
                continue
            }
            let shown = assignment.value.map { "'\(visible($0))'" } ?? "null"
            if let problem = try castProblem(assignment.value, to: target, on: connection) {
                check.fail("set \(visible(assignment.column)): \(shown) does not fit \(target.fullTypeName) (\(problem))", at: key)
                continue
            }
            settable.append((assignment, target))
        }
        if !settable.isEmpty, check.problems.isEmpty {
            for problem in try checkConstraintProblems(settable, table: table, on: connection) { check.fail(problem, at: "set") }
        }

        let patronColumn = policy.patron.flatMap { column($0, "patron", at: "patron") }
        if let patronColumn, patronColumn.fullTypeName.hasSuffix("]") {
            check.fail("patron column \(visible(patronColumn.name)) of \(policy.table) is an array (\(patronColumn.fullTypeName)): a hold "
                       + "names one patron, and could not keep a row that lists several; name a column of one patron each",
                       at: "patron")
        } else if let patronColumn, let problem = try holdComparisonProblem(patronColumn, on: connection) {
            check.fail("patron column \(visible(patronColumn.name)) of \(policy.table): \(problem)", at: "patron")
        }
        let patronTextType = try patronColumn.flatMap { try textType($0, on: connection) }

        for (index, condition) in policy.keepWhen.enumerated() {
            guard let target = column(condition.column, "keep_when", at: "keep_when.\(index)") else { continue }
            for value in condition.values {
                if let problem = try literalProblem(value, for: target, on: connection) {
                    check.fail("keep_when \(visible(condition.column)) \(condition.op.rawValue): '\(visible(value))' does not fit its type \(target.typeName) (\(problem))",
                               at: "keep_when.\(index)")
                }
            }
        }

        // Library keys are values of the column: read as its type (`"04"` is 4 in a smallint column)
        // and written back as the column writes them, so the run compares them as the column does.
        var libraries = policy.libraries
        var libraryReading: ResolvedPolicy.ValueReading?
        if let named = policy.libraries, let target = column(named.column, "libraries.column", at: "libraries.column") {
            if let problem = try holdComparisonProblem(target, on: connection) {
                check.fail("library column \(visible(named.column)) of \(policy.table): \(problem)", at: "libraries.column")
            }
            var canonical: [String: String] = [:]
            var meaning: [String: String] = [:]
            for library in named.named {
                let key = named.retain.contains { $0.library == library } ? "libraries.retain.\(library)" : "libraries.names.\(library)"
                switch try fitting(library, to: target, on: connection) {
                case .refused(let problem):
                    check.fail("library '\(visible(library))' does not fit the type \(target.fullTypeName) of "
                               + "\(visible(named.column)) (\(problem))", at: key)
                case .fits(let value):
                    let value = value ?? library
                    if let other = meaning[value] {
                        check.fail("libraries '\(visible(other))' and '\(visible(library))' are the same value "
                                   + "'\(visible(value))' of \(visible(named.column)); name each library once", at: key)
                    }
                    meaning[value] = library
                    canonical[library] = value
                }
            }
            libraries = named.canonicalized(canonical)
            libraryReading = try textType(target, on: connection).flatMap { reading in
                Self.plainTextTypes.contains(reading.type) ? nil : reading
            }
        }

        var consentIndexed = false
        if let consent = policy.consent {
            if let consentTable = try relation(consent.table, on: connection) {
                // A partial index must be one the lookup `key = $1 AND keep_if` can use.
                consentIndexed = try connection.query("""
                    SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                                   JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                                   WHERE i.indrelid = $1::oid AND a.attname = $2 AND i.indisvalid AND i.indisready
                                     AND (i.indpred IS NULL OR pg_catalog.pg_get_expr(i.indpred, i.indrelid) = quote_ident($3)))
                           AS indexed
                    """, [consentTable.oid, consent.key, consent.keepIf]).single().bool("indexed")
                if !["r", "p", "v", "m", "f"].contains(consentTable.kind) {
                    check.fail("consent table \(consent.table) is not a table or view", at: "consent.table")
                }
                // Hidden consents would purge what a patron chose to keep.
                for problem in try concealments(of: consentTable.oid, named: consent.table, rules: false, on: connection) {
                    check.fail(problem + " (policy \(policy.name), its consent table)", at: "consent.table")
                }
                if ["v", "m"].contains(consentTable.kind) {
                    for secured in try rowSecuredTables(under: consentTable.oid, on: connection) {
                        check.fail("consent view \(consent.table) reads \(visible(secured)), which has row-level security: the "
                                   + "view may hide consents from the purge (as its owner, or as the purging role), and patrons "
                                   + "who chose to keep their history would lose it; point consent at a table or a view over "
                                   + "tables without row-level security (policy \(policy.name))", at: "consent.table")
                    }
                }
                if consentTable.columns[consent.key] == nil {
                    check.fail("consent key column \(visible(consent.key)) does not exist in \(consent.table)", at: "consent.key")
                }
                if let keepIf = consentTable.columns[consent.keepIf] {
                    if keepIf.typeName != "boolean" {
                        check.fail("consent keep_if column \(visible(consent.keepIf)) of \(consent.table) is \(keepIf.typeName); expected boolean",
                                   at: "consent.keep_if")
                    }
                } else {
                    check.fail("consent keep_if column \(visible(consent.keepIf)) does not exist in \(consent.table)", at: "consent.keep_if")
                }
            } else {
                check.fail("consent table \(consent.table) does not exist (policy \(policy.name))", at: "consent.table")
            }
        }

        guard check.problems.isEmpty, let ageType, let keyColumn else { return nil }
        // Every period as the run will use it: its cutoff on the database clock, in the age column's
        // type (`7000 years` ago is before the first date PostgreSQL can hold).
        var periods = [("retain", "retain", policy.retain)]
        periods += policy.libraries?.retain.map { ("library '\(visible($0.library))'", "libraries.retain.\($0.library)", $0.period) } ?? []
        for (what, key, period) in periods {
            do {
                // The type is one of three fixed words (`AgeType.sql`).
                try connection.query(unsafeSQL: "SELECT (now() - $1::interval)::\(ageType.sql)", [period.interval])
            } catch let error as DatabaseError where error.kind == .server && error.sqlState?.hasPrefix("22") == true {
                check.fail("the period of \(what), \(period), reaches before the earliest \(ageType.sql) PostgreSQL can hold "
                           + "(\(error.message)); policy \(policy.name)", at: key)
            }
        }
        let references = try ForeignKeys.into(table.oid, on: connection)
        let cascades = try checkReferences(policy, references, check: &check, on: connection)
        guard check.problems.isEmpty else { return nil }
        var policy = policy
        policy.libraries = libraries
        return ResolvedPolicy(policy: policy, tableOID: table.oid, keyType: keyColumn.fullTypeName, ageType: ageType,
                              partitionedByAge: partitionedByAge,
                              patronType: patronColumn?.fullTypeName, patronTextType: patronTextType, libraryReading: libraryReading,
                              consentIndexed: consentIndexed,
                              references: references, cascades: cascades)
    }

    /// The foreign keys into a policy's table against what the policy may change: an anonymizing
    /// update may not change a column one points to; a delete may change another table through
    /// `CASCADE`, `SET NULL` or `SET DEFAULT` only when the policy lists it under `cascade`.
    /// Returns the declared tables with their leaf tables, for the batches' counts.
    private static func checkReferences(_ policy: Policy, _ references: [ForeignKeyRef], check: inout PolicyCheck,
                                        on connection: Connection) throws -> [CascadeTable] {
        if policy.action == .anonymize {
            for assignment in policy.set {
                if let ref = references.first(where: { $0.referencedColumns.contains(assignment.column) }) {
                    check.fail("set may not change \(visible(assignment.column)): foreign key \(visible(ref.name)) of "
                               + "\(ref.referencing) points to it", at: "set.\(assignment.column)")
                }
            }
            return []
        }
        let targets = try ForeignKeys.cascadeTargets(of: references, on: connection)
        for target in targets where !policy.cascade.contains(target.table) {
            let ref = target.constraint
            check.fail("foreign key \(visible(ref.name)) of \(ref.referencing) is ON DELETE \(ref.onDelete.words): deleting rows of "
                       + "\(policy.table) would change \(target.table), which the ledger would not count; list \(target.table) "
                       + "under cascade: to let the run change and count those rows, or change the constraint", at: "table")
        }
        for declared in policy.cascade where !targets.contains(where: { $0.table == declared }) {
            check.fail("cascade lists \(declared), but no foreign key ON DELETE CASCADE, SET NULL or SET DEFAULT from it "
                       + "reaches \(policy.table)", at: "cascade.\(declared.schema).\(declared.name)")
        }
        return try targets.filter { policy.cascade.contains($0.table) }
            .map { CascadeTable(table: $0.table, leafOIDs: try ForeignKeys.leaves(of: $0.oid, on: connection)) }
    }

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

    /// The text types whose equality is text's (with the column's collation): library columns of
    /// these compare as text, which keeps the count's `= ANY` a hashed lookup.
    static let plainTextTypes: Set<String> = ["pg_catalog.text", "pg_catalog.\"varchar\"", "pg_catalog.bpchar", "pg_catalog.name"]

    /// Why a hold could miss rows of this patron or library column, or `nil` for the types whose
    /// values a hold can name: integers, numeric, uuid, bytea (a hashed card token, read in one
    /// output form) and the string types (through domains).
    ///
    /// A hold stores a value's text and compares it by the column type's equality where the text
    /// alone would miss: of other types, equal values are written differently (float `-0` and `0`,
    /// interval `1 day` and `24 hours`) or by the session (timestamptz by its time zone, money by
    /// its locale).
    static func holdComparisonProblem(_ column: Column, on connection: Connection) throws -> String? {
        let row = try connection.query("""
            WITH RECURSIVE chain(oid, typtype, typbasetype, typcategory) AS (
                SELECT t.oid, t.typtype, t.typbasetype, t.typcategory FROM pg_catalog.pg_type t WHERE t.oid = $1::oid
                UNION ALL
                SELECT t.oid, t.typtype, t.typbasetype, t.typcategory FROM pg_catalog.pg_type t
                JOIN chain c ON t.oid = c.typbasetype WHERE c.typtype = 'd')
            SELECT c.typcategory::text AS category,
                   c.oid IN ('pg_catalog.int2'::pg_catalog.regtype, 'pg_catalog.int4'::pg_catalog.regtype,
                             'pg_catalog.int8'::pg_catalog.regtype, 'pg_catalog.numeric'::pg_catalog.regtype,
                             'pg_catalog.uuid'::pg_catalog.regtype, 'pg_catalog.bytea'::pg_catalog.regtype) AS named
            FROM chain c WHERE c.typtype <> 'd'
            """, [String(column.typeOID)]).single()
        if try row.string("category") == "S" || row.bool("named") { return nil }
        return "its type \(column.fullTypeName) writes equal values in different ways (float -0 and 0, interval '1 day' and "
            + "'24 hours', timestamps by the session's time zone), so a hold could miss rows; name a column of an integer, "
            + "numeric, uuid, bytea or text type"
    }

    /// How holds read a patron to compare with this column by its type's equality: text-like types
    /// (the string category) and numeric, by the base type of a domain; else `nil`.
    static func textType(_ column: Column, on connection: Connection) throws -> ResolvedPolicy.ValueReading? {
        let row = try connection.query("""
            SELECT pg_catalog.format('%I.%I', n.nspname, b.typname) AS name, b.typcategory::text AS category,
                   b.oid = 'pg_catalog.numeric'::pg_catalog.regtype AS is_numeric
            FROM pg_catalog.pg_type t
            JOIN pg_catalog.pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
            JOIN pg_catalog.pg_namespace n ON n.oid = b.typnamespace
            WHERE t.oid = $1::oid
            """, [String(column.typeOID)]).single()
        if try row.string("category") == "S" { return .init(type: try row.string("name"), guardPattern: nil) }
        if try row.bool("is_numeric") {
            return .init(type: "pg_catalog.numeric", guardPattern: #"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,4})?\s*$"#)
        }
        return nil
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

    /// Whether the current user has the table owner's role (what VACUUM and VACUUM FULL require).
    static func ownsTable(_ oid: String, on connection: Connection) throws -> Bool {
        try connection.query("SELECT pg_has_role(c.relowner, 'USAGE') AS owns FROM pg_catalog.pg_class c WHERE c.oid = $1::oid",
                             [oid]).rows.first?.bool("owns") ?? false
    }

    /// Asks the server to cast `value` to the column's full type (with its modifier, like
    /// `numeric(8,2)`, and a domain's constraints), as an `UPDATE` assigning it would; returns its
    /// complaint, or `nil` when it fits.
    static func castProblem(_ value: String?, to column: Column, on connection: Connection) throws -> String? {
        if case .refused(let problem) = try cast(value, to: column.fullTypeName, on: connection) { return problem }
        return nil
    }

    /// What the server makes of a value cast to a type: its text in that type, or its complaint.
    enum CastOutcome {
        case fits(String?)
        case refused(String)
    }

    /// Casts `value` to `fullTypeName` (the server's own `format_type` text, with modifier) on the
    /// server, as an assignment or a comparison with a column of that type would read it.
    static func cast(_ value: String?, to fullTypeName: String, on connection: Connection) throws -> CastOutcome {
        do {
            // The type's name is the server's own `format_type` text (quoted where needed), not a person's.
            return .fits(try connection.query(unsafeSQL: "SELECT CAST($1::text AS \(fullTypeName))::text AS value", [value])
                .single().optional("value"))
        } catch let error as DatabaseError where error.kind == .server
                    && (error.sqlState?.hasPrefix("22") == true || error.sqlState?.hasPrefix("23") == true) {
            return .refused(error.message)
        }
    }

    /// Reads `value` as a value of the column, as assigning it would: its text as the column
    /// writes it, or the server's complaint. Unlike a cast, which cuts a `varchar(5)` value to five
    /// characters and rounds a `numeric(8,2)`, a value the column's modifier would change is refused.
    static func fitting(_ value: String, to column: Column, on connection: Connection) throws -> CastOutcome {
        let cast = try self.cast(value, to: column.fullTypeName, on: connection)
        guard case .fits(let text) = cast else { return cast }
        // The value read by the type's input alone, without the modifier's cut (a parameter of the
        // column's type oid: `format_type` without a modifier writes `character`, which is char(1)).
        let whole = try connection.query("SELECT $1::text AS value", [value], types: [column.typeOID]).single().optional("value")
        // A numeric column's scale writes 4711 as 4711.0, the same number: only a rounding changes it.
        var same = whole == text
        if !same, try textType(column, on: connection)?.type == "pg_catalog.numeric" {
            same = try connection.query("SELECT $1::numeric = $2::numeric AS same", [whole, text]).single().bool("same")
        }
        guard same else {
            return .refused("it does not fit \(column.fullTypeName) without being cut or rounded")
        }
        return cast
    }

    /// Evaluates each CHECK constraint of the table whose columns are all among `set` on the `set`
    /// values, in a read-only transaction (so the expression can change nothing); returns a problem
    /// per constraint the values break. (A constraint that also reads other columns depends on each row, so it cannot
    /// be proven here; the run's batch would fail on it.)
    static func checkConstraintProblems(_ settable: [(Assignment, Column)], table: Relation,
                                        on connection: Connection) throws -> [String] {
        let names = Set(settable.map(\.0.column))
        let constraints = try connection.query("""
            SELECT c.conname::text AS name, pg_catalog.pg_get_expr(c.conbin, c.conrelid) AS expression,
                   array_to_json(array(SELECT a.attname FROM pg_catalog.pg_attribute a
                                       WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
                                       ORDER BY a.attname))::text AS columns
            FROM pg_catalog.pg_constraint c
            WHERE c.conrelid = $1::oid AND c.contype = 'c'
            ORDER BY c.conname
            """, [table.oid]).rows
        var problems: [String] = []
        for constraint in constraints {
            let (name, expression, used) = (try constraint.string("name"), try constraint.string("expression"),
                                            try constraint.strings("columns"))
            guard !used.isEmpty, used.allSatisfy({ names.contains($0) }) else { continue }
            // The type names are the server's own `format_type` text.
            let values = settable.map { assignment, column -> SQL in
                "CAST(\(bind: assignment.value)::text AS \(unsafe: column.fullTypeName)) AS \(name: assignment.column)"
            }
            // The expression is the server's own text of a constraint on this table; it reads the
            // columns by name, which the subquery provides with the `set` values.
            let check = SQL("SELECT ((\(unsafe: expression)) IS NOT FALSE)::text AS holds FROM (SELECT \(values.joined(separator: ", "))) AS t")
            let holds: String?
            do {
                holds = try connection.transaction(readOnly: true) {
                    try connection.query(check.statement).single().optional("holds")
                }
            } catch let error as DatabaseError where error.kind == .server {
                problems.append("set values cannot be checked against constraint \(visible(name)) (\(error.message))")
                continue
            }
            if holds == "false" {
                problems.append("set \(used.map(visible).joined(separator: ", ")): the values break the check constraint "
                                + "\(visible(name)) of the table")
            }
        }
        return problems
    }

    /// Asks the server to read `value` as the column's type; returns its complaint, or `nil` when it fits.
    static func literalProblem(_ value: String, for column: Column, on connection: Connection) throws -> String? {
        do {
            try connection.query("SELECT $1", [value], types: [column.typeOID])
            return nil
        } catch let error as DatabaseError where error.kind == .server && (error.sqlState?.hasPrefix("22") ?? false) {
            return error.message
        }
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
