import Foundation

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
        var roots = PartitionRoots(connection: connection)
        try relateSameRows(&resolved, roots: &roots)
        for index in resolved.indices {
            (resolved[index].watched, resolved[index].otherPolicies) = try watchedTables(of: resolved[index], on: connection)
        }
        // A cascade must not delete what a hold on another policy keeps.
        let names = resolved.map(\.policy.name)
        for index in resolved.indices where resolved[index].policy.action == .delete {
            let declared = Set(resolved[index].cascades.map(\.table))
            let declaredRoots = Set(try declared.map { try roots.root(of: $0) })
            let companions = resolved[index].policy.companions
            for ref in resolved[index].references where !ref.isSelf && ref.onDelete.changesReferencingRows && declared.contains(ref.referencing) {
                // The policies of the folder that purge the rows the cascade reaches first (on that
                // table, a partition of it or the table it is a partition of), and, as the cascade may
                // go on from there, those that purge any other table it declares.
                let first = try roots.root(of: ref.referencing)
                let direct = try companions.filter { try roots.root(of: $0.table) == first }.map(\.name)
                let deeper = try companions.filter {
                    let root = try roots.root(of: $0.table)
                    return root != first && declaredRoots.contains(root)
                }.map(\.name)
                let purgers = direct.isEmpty ? [] : direct + deeper
                resolved[index].heldCascades.append(ResolvedPolicy.HeldCascade(reference: ref, policies: purgers.isEmpty ? nil : purgers,
                                                                               resolvedTogether: names))
            }
        }
        return resolved
    }

    /// Tells each policy which others of its folder purge its rows: those on the same table, and
    /// those on a partition of its table or on the table it is a partition of. Two such policies
    /// that read the patron or the library from different columns of a partitioned table are
    /// refused (78), as two on one table are (65): a hold would keep the rows of one and let the
    /// other purge them.
    static func relateSameRows(_ resolved: inout [ResolvedPolicy], roots: inout PartitionRoots) throws {
        func root(of table: QualifiedName) throws -> String? { try roots.root(of: table) }
        var problems: [PolicyProblem] = []
        for index in resolved.indices {
            let policy = resolved[index].policy
            guard let mine = try root(of: policy.table) else { continue }
            var names: [String] = []
            for other in policy.companions {
                if other.table == policy.table {
                    names.append(other.name)
                    continue
                }
                guard try root(of: other.table) == mine else { continue }
                names.append(other.name)
                let purging = "purge rows of one partitioned table (\(other.table), \(policy.table))"
                for (key, message) in policy.columnConflicts(with: other, purging: purging) {
                    let position = policy.position(key)
                    problems.append(PolicyProblem(file: policy.file, line: position?.line, column: position?.column, message: message))
                }
            }
            resolved[index].sameRows = names.sorted()
        }
        if !problems.isEmpty { throw PolicyErrors(problems: problems, exitCode: .config) }
    }

    /// The table each table's rows belong to, as an oid: the root of its partition tree, or itself
    /// (`nil`: no such table), asked once per table.
    struct PartitionRoots {
        let connection: Connection
        private var known: [QualifiedName: String?] = [:]

        init(connection: Connection) { self.connection = connection }

        mutating func root(of table: QualifiedName) throws -> String? {
            if let root = known[table] { return root }
            let found = try connection.query("""
                SELECT (SELECT coalesce(pg_catalog.pg_partition_root(c), c)::oid::text FROM pg_catalog.to_regclass($1) c) AS root
                """, [table.sql]).single().optional("root")
            known[table] = .some(found)
            return found
        }
    }

    /// The problems found in one policy, each placed at the key it is about.
    struct PolicyCheck {
        let policy: Policy
        var problems: [PolicyProblem] = []

        mutating func fail(_ message: String, at key: PolicyKeyPath) {
            let position = policy.position(key)
            problems.append(PolicyProblem(file: policy.file, line: position?.line, column: position?.column, message: message))
        }
    }

    private static func resolve(_ policy: Policy, on connection: Connection, check: inout PolicyCheck) throws -> ResolvedPolicy? {
        guard let table = try relation(policy.table, on: connection) else {
            check.fail("table \(policy.table) does not exist (policy \(policy.name))\(try caseHint(policy.table, on: connection))", at: .table)
            return nil
        }
        guard table.kind == "r" || table.kind == "p" else {
            check.fail("\(policy.table) is not a table (policy \(policy.name)); a policy purges a table or a partitioned table",
                       at: .table)
            return nil
        }
        for problem in try concealments(of: table.oid, named: policy.table, rules: true, on: connection) {
            check.fail(problem + " (policy \(policy.name))", at: .table)
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
                           + "none, or make it a partitioned table (policy \(policy.name))", at: .table)
            }
        }
        func column(_ name: String, _ role: String, at key: PolicyKeyPath) -> Column? {
            guard let column = table.columns[name] else {
                check.fail("column \(visible(name)) (\(role)) does not exist in \(policy.table)", at: key)
                return nil
            }
            return column
        }

        let keyColumn = column(policy.key, "key", at: .key)
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
                    check.fail("key \(visible(policy.key)) does not lead the primary key of \(policy.table); \(found); key must be the first column of a partitioned table's primary key", at: .key)
                }
            } else if primaryKey != [policy.key], try !(primaryKey.first == policy.key && isPartition(table.oid, on: connection)) {
                // A partition's key holds its partitioned table's partition key, as the table's does.
                check.fail("key \(visible(policy.key)) is not the primary key of \(policy.table); \(found); key must be its one-column primary key "
                           + "(of a partition: the first column of its primary key)", at: .key)
            }
        }

        var ageType: ResolvedPolicy.AgeType?
        if let age = column(policy.age, "age", at: .age) {
            ageType = ResolvedPolicy.AgeType(rawValue: age.typeName)
            if ageType == nil {
                check.fail("age column \(visible(policy.age)) of \(policy.table) is \(age.typeName); expected date, timestamp or timestamptz",
                           at: .age)
            }
        }

        var settable: [(Assignment, Column)] = []
        for assignment in policy.set {
            let key = PolicyKeyPath.setColumn(assignment.column)
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
            for problem in try checkConstraintProblems(settable, table: table, on: connection) { check.fail(problem, at: .set) }
        }

        let patronColumn = policy.patron.flatMap { column($0, "patron", at: .patron) }
        if let patronColumn, patronColumn.fullTypeName.hasSuffix("]") {
            check.fail("patron column \(visible(patronColumn.name)) of \(policy.table) is an array (\(patronColumn.fullTypeName)): a hold "
                       + "names one patron, and could not keep a row that lists several; name a column of one patron each",
                       at: .patron)
        } else if let patronColumn, let problem = try holdComparisonProblem(patronColumn, on: connection) {
            check.fail("patron column \(visible(patronColumn.name)) of \(policy.table): \(problem)", at: .patron)
        }
        let patronTextType = try patronColumn.flatMap { try textType($0, on: connection) }

        for (index, condition) in policy.keepWhen.enumerated() {
            guard let target = column(condition.column, "keep_when", at: .keepWhenCondition(index)) else { continue }
            for value in condition.values {
                if let problem = try literalProblem(value, for: target, on: connection) {
                    check.fail("keep_when \(visible(condition.column)) \(condition.op.rawValue): '\(visible(value))' does not fit its type \(target.typeName) (\(problem))",
                               at: .keepWhenCondition(index))
                }
            }
        }

        // Library keys are values of the column: read as its type (`"04"` is 4 in a smallint column)
        // and written back as the column writes them, so the run compares them as the column does.
        var libraries = policy.libraries
        var libraryReading: ResolvedPolicy.ValueReading?
        if let named = policy.libraries, let target = column(named.column, "libraries.column", at: .librariesColumn) {
            if let problem = try holdComparisonProblem(target, on: connection) {
                check.fail("library column \(visible(named.column)) of \(policy.table): \(problem)", at: .librariesColumn)
            }
            var canonical: [String: String] = [:]
            var meaning: [String: String] = [:]
            for library in named.named {
                let key: PolicyKeyPath = named.retain.contains { $0.library == library } ? .libraryRetain(library) : .libraryName(library)
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
            // A plain text column compares as text, unless its collation is nondeterministic (`bangor`
            // is BANGOR): then, as for citext, each library is tested by name, so its rows are
            // counted under the name the policy gives.
            let nondeterministic = try connection.query("""
                SELECT coalesce((SELECT NOT c.collisdeterministic FROM pg_catalog.pg_attribute a
                                 JOIN pg_catalog.pg_collation c ON c.oid = a.attcollation
                                 WHERE a.attrelid = $1::oid AND a.attname = $2), false) AS nondeterministic
                """, [table.oid, named.column]).single().bool("nondeterministic")
            libraryReading = try textType(target, on: connection).flatMap { reading in
                Self.plainTextTypes.contains(reading.type) && !nondeterministic ? nil : reading
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
                    check.fail("consent table \(consent.table) is not a table or view", at: .consentTable)
                }
                // Hidden consents would purge what a patron chose to keep.
                for problem in try concealments(of: consentTable.oid, named: consent.table, rules: false, on: connection) {
                    check.fail(problem + " (policy \(policy.name), its consent table)", at: .consentTable)
                }
                if ["v", "m"].contains(consentTable.kind) {
                    for secured in try rowSecuredTables(under: consentTable.oid, on: connection) {
                        check.fail("consent view \(consent.table) reads \(visible(secured)), which has row-level security: the "
                                   + "view may hide consents from the purge (as its owner, or as the purging role), and patrons "
                                   + "who chose to keep their history would lose it; point consent at a table or a view over "
                                   + "tables without row-level security (policy \(policy.name))", at: .consentTable)
                    }
                }
                if consentTable.columns[consent.key] == nil {
                    check.fail("consent key column \(visible(consent.key)) does not exist in \(consent.table)", at: .consentKey)
                } else if let patronColumn,
                          let (mine, theirs) = try collationConflict(table.oid, patronColumn.name, consentTable.oid, consent.key, on: connection) {
                    check.fail("consent key column \(visible(consent.key)) of \(consent.table) (collation \(visible(theirs))) and patron "
                               + "column \(visible(patronColumn.name)) (collation \(visible(mine))) have different collations, so "
                               + "PostgreSQL cannot compare them; give both the same collation", at: .consentKey)
                }
                if let keepIf = consentTable.columns[consent.keepIf] {
                    if keepIf.typeName != "boolean" {
                        check.fail("consent keep_if column \(visible(consent.keepIf)) of \(consent.table) is \(keepIf.typeName); expected boolean",
                                   at: .consentKeepIf)
                    }
                } else {
                    check.fail("consent keep_if column \(visible(consent.keepIf)) does not exist in \(consent.table)", at: .consentKeepIf)
                }
                checkConsentLimits(policy, table: table, consentTable: consentTable, check: &check)
            } else {
                check.fail("consent table \(consent.table) does not exist (policy \(policy.name))", at: .consentTable)
            }
        }

        checkKeepNewest(policy, table: table, check: &check)
        guard check.problems.isEmpty, let ageType, let keyColumn else { return nil }
        // Every period as the run will use it: its cutoff on the database clock, in the age column's
        // type (`7000 years` ago is before the first date PostgreSQL can hold).
        var periods = [("retain", PolicyKeyPath.retain, policy.retain)]
        periods += policy.libraries?.retain.map { ("library '\(visible($0.library))'", .libraryRetain($0.library), $0.period) } ?? []
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
        let cascades = try checkReferences(policy, tableOID: table.oid, references, check: &check, on: connection)
        let firing = try checkTriggers(policy, tableOID: table.oid, cascades: cascades, check: &check, on: connection)
        guard check.problems.isEmpty else { return nil }
        var policy = policy
        policy.libraries = libraries
        return ResolvedPolicy(policy: policy, tableOID: table.oid, keyType: keyColumn.fullTypeName, ageType: ageType,
                              partitionedByAge: partitionedByAge,
                              patronType: patronColumn?.fullTypeName, patronTextType: patronTextType, libraryReading: libraryReading,
                              operatorSchemas: try operatorSchemas(of: table.oid, on: connection),
                              consentIndexed: consentIndexed,
                              references: references, cascades: cascades, firingTriggers: firing)
    }

    /// The foreign keys into a policy's table against what the policy may change: an anonymizing
    /// update may not change a column one points to; a delete may change another table through
    /// `CASCADE`, `SET NULL` or `SET DEFAULT` only when the policy lists it under `cascade`.
    /// Returns the declared tables with their leaf tables, for the batches' counts.
    private static func checkReferences(_ policy: Policy, tableOID: String, _ references: [ForeignKeyRef],
                                        check: inout PolicyCheck, on connection: Connection) throws -> [CascadeTable] {
        if policy.action == .anonymize {
            for assignment in policy.set {
                if let ref = references.first(where: { $0.referencedColumns.contains(assignment.column) }) {
                    check.fail("set may not change \(visible(assignment.column)): foreign key \(visible(ref.name)) of "
                               + "\(ref.referencing) points to it", at: .setColumn(assignment.column))
                }
            }
            return []
        }
        let targets = try ForeignKeys.cascadeTargets(of: references, on: connection)
        for target in targets where target.oid == tableOID || policy.cascade.contains(target.table) == false {
            let ref = target.constraint
            let action = target.onUpdate ? "ON UPDATE \(ref.onUpdate.words)" : "ON DELETE \(ref.onDelete.words)"
            if target.oid == tableOID {
                // A cycle through another table: it would delete rows the policy keeps (not due, held).
                check.fail("foreign key \(visible(ref.name)) of \(ref.referencing) is \(action): deleting rows of \(policy.table) "
                           + "would come back through it and delete or change rows of \(policy.table) itself that the policy keeps "
                           + "(not due, held); a cascade cannot lead back into the policy's table: change the constraint", at: .table)
                continue
            }
            check.fail("foreign key \(visible(ref.name)) of \(ref.referencing) is \(action): deleting rows of "
                       + "\(policy.table) would change \(target.table), which the ledger would not count; list \(target.table) "
                       + "under cascade: to let the run change and count those rows, or change the constraint", at: .table)
        }
        for declared in policy.cascade where !targets.contains(where: { $0.table == declared }) {
            check.fail("cascade lists \(declared), but no foreign key ON DELETE CASCADE, SET NULL or SET DEFAULT from it "
                       + "reaches \(policy.table)", at: .cascadeTable(declared))
        }
        return try targets.filter { policy.cascade.contains($0.table) }
            .map { CascadeTable(table: $0.table, leafOIDs: try ForeignKeys.leaves(of: $0.oid, on: connection)) }
    }
}
