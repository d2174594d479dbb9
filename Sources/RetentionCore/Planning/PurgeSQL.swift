/// A policy's cutoffs for one run, computed once on the database clock and bound into every batch.
public struct Cutoffs: Sendable, Equatable {
    /// The cutoff of the policy's own `retain` period (every library without its own period).
    public let standard: String
    /// Library value and its cutoff, for each library with its own period, in file order.
    public let libraries: [(library: String, cutoff: String)]

    public static func == (lhs: Cutoffs, rhs: Cutoffs) -> Bool {
        lhs.standard == rhs.standard && lhs.libraries.map(\.library) == rhs.libraries.map(\.library)
            && lhs.libraries.map(\.cutoff) == rhs.libraries.map(\.cutoff)
    }

    /// The cutoff for rows of `library` (`nil`: a policy without libraries).
    public func cutoff(for library: String?) -> String {
        guard let library else { return standard }
        return libraries.first { $0.library == library }?.cutoff ?? standard
    }

    /// Stand-in values, for checking a statement's text on the server without running it.
    static func placeholder(for policy: Policy) -> Cutoffs {
        Cutoffs(standard: "2000-01-01", libraries: policy.libraries?.retain.map { ($0.library, "2000-01-01") } ?? [])
    }
}

/// Which active holds apply to a policy, which decides how a count tests them.
public enum HoldShape: Sendable {
    /// No active hold applies: nothing to test.
    case none
    /// Only holds that name a patron and nothing else: a join with the held patrons, safe in parallel.
    case patronsOnly
    /// Some hold has a library, a window or no patron: each row is tested against each such hold.
    case scoped
}

/// Turns a resolved policy into SQL: the one place where a policy's predicate is written.
///
/// A row is due when its age is older than its library's cutoff (NULL never is), no `keep_when`
/// condition matches, its patron has not consented, no active hold covers it and, for anonymize,
/// it is not anonymized already. Kept rows are counted by the first reason that keeps them:
/// hold, then consent, then `keep_when`. Every value is a bound parameter; names are quoted.
struct PurgeSQL {
    let resolved: ResolvedPolicy
    var policy: Policy { resolved.policy }

    init(_ resolved: ResolvedPolicy) { self.resolved = resolved }

    private func column(_ name: String) -> String { "t." + quoteIdentifier(name) }

    /// `SELECT` of every cutoff: the standard one (`cutoff`), then one per library with its own
    /// period (`cutoff_0`, `cutoff_1`, ... in file order).
    func cutoffQuery() -> Statement {
        var params = Parameters()
        let periods = [policy.retain] + (policy.libraries?.retain.map(\.period) ?? [])
        let format = resolved.ageType.format
        let columns = periods.enumerated().map { index, period in
            "to_char((now() - \(params.bind(period.interval))::interval)\(format)) AS cutoff\(index == 0 ? "" : "_\(index - 1)")"
        }
        return Statement(unsafeSQL: "SELECT " + columns.joined(separator: ", "), params.values)
    }

    /// The library of a row as text, or NULL for a policy without libraries: what periods and holds compare.
    private var libraryValue: String {
        policy.libraries.map { column($0.column) + "::text" } ?? "NULL::text"
    }

    /// The library a row is counted under: its value when the policy names it, NULL when it has
    /// none, otherwise `Policy.Libraries.otherLabel`, so no other value of the column (free text
    /// typed there) leaves the database. `NULL::text` for a policy without libraries.
    private func library(_ params: inout Parameters) -> String {
        guard let libraries = policy.libraries else { return "NULL::text" }
        if let reading = resolved.libraryReading {
            // By the column type's equality (citext: `Bangor` is BANGOR), counted under the name the policy gives.
            let named = libraries.named.map { name -> String in
                let value = params.bind(name)
                return "WHEN \(column(libraries.column)) = \(value)::\(reading.type) THEN \(value)::text"
            }
            return "CASE WHEN \(column(libraries.column)) IS NULL THEN NULL::text \(named.joined(separator: " ")) "
                + "ELSE \(params.bind(Policy.Libraries.otherLabel))::text END"
        }
        return "CASE WHEN \(libraryValue) IS NULL THEN NULL::text "
            + "WHEN \(libraryValue) = ANY (\(params.bind(array: libraries.named))) THEN \(libraryValue) "
            + "ELSE \(params.bind(Policy.Libraries.otherLabel))::text END"
    }

    /// `age < cutoff`, with the cutoff chosen by the row's library.
    private func older(_ cutoffs: Cutoffs, _ params: inout Parameters) -> String {
        let type = resolved.ageType.sql
        let age = column(policy.age)
        guard !cutoffs.libraries.isEmpty else { return "\(age) < \(params.bind(cutoffs.standard))::\(type)" }
        var sql = "\(age) < CASE"
        for (library, cutoff) in cutoffs.libraries {
            // By the column type's equality where it has one of its own (citext), else as text.
            let test = resolved.libraryReading.map { "\(column(policy.libraries!.column)) = \(params.bind(library))::\($0.type)" }
                ?? "\(libraryValue) = \(params.bind(library))"
            sql += " WHEN \(test) THEN \(params.bind(cutoff))::\(type)"
        }
        return sql + " ELSE \(params.bind(cutoffs.standard))::\(type) END"
    }

    /// Holds `h` that are active and name this policy or none: the ones that may keep its rows.
    private func policyHolds(_ params: inout Parameters) -> String {
        "h.released_at IS NULL AND (h.policy IS NULL OR h.policy = \(params.bind(policy.name)))"
    }

    /// The conditions a hold's library and window put on a row.
    ///
    /// A window's bounds are midnights of the hold's time zone: a timestamptz column compares with
    /// the instants, a timestamp column with that zone's wall time, a date column with the days
    /// themselves, so neither the clerk's nor the run's session time zone moves a day. (A hold
    /// placed before zones were recorded reads in the run's zone, as it did then.)
    private func holdScope(_ params: inout Parameters) -> String {
        let age = column(policy.age)
        func bound(_ name: String) -> String {
            let local = "(h.\(name) AT TIME ZONE coalesce(h.time_zone, pg_catalog.current_setting('TimeZone')))"
            switch resolved.ageType {
            case .timestamptz: return "h.\(name)"
            case .timestamp: return local
            case .date: return local + "::date"
            }
        }
        let library = policy.libraries.map { libraries in
            let matches = heldAs(resolved.libraryReading, &params, field: "h.library").map { "\($0) = \(column(libraries.column))" }
                ?? "h.library = \(column(libraries.column))::text"
            return " AND (h.library IS NULL OR \(matches))"
        } ?? ""
        return "(h.held_from IS NULL OR \(age) >= \(bound("held_from"))) AND (h.held_until IS NULL OR \(age) < \(bound("held_until")))"
            + library
    }

    /// Active holds without a patron (policy, library, window, global) that cover the row.
    ///
    /// For a policy without a patron column every hold counts: a hold field the policy cannot test
    /// matches, because a court order to preserve wins over a purge when the tool cannot tell the
    /// rows apart.
    private func sharedHolds(_ params: inout Parameters) -> String {
        let patronFree = policy.patron == nil ? "" : " AND h.patron IS NULL"
        return "SELECT 1 FROM retention.holds h WHERE \(policyHolds(&params))\(patronFree) AND \(holdScope(&params))"
    }

    /// Active holds naming the row's patron that cover the row (found by `holds_active_patron`).
    private func patronHolds(_ patron: String, _ params: inout Parameters) -> String {
        let matches = heldAs(resolved.patronTextType, &params).map { "\($0) = \(column(patron))" } ?? "h.patron = \(column(patron))::text"
        return "SELECT 1 FROM retention.holds h WHERE \(policyHolds(&params)) AND \(matches) AND \(holdScope(&params))"
    }

    /// The patrons of the policy's active holds, in the patron column's type where that is an
    /// integer, so rows are looked up without turning each patron into text. Only a hold's text that
    /// is a value's own text (no sign, no leading zero, in range) can equal a row's patron as text,
    /// which is how holds match, so the others (`007`, `+7`, `x`, out of range) are left out.
    /// Column: `p`.
    private func heldPatrons(_ params: inout Parameters) -> String {
        let holds = "FROM retention.holds h WHERE \(policyHolds(&params)) AND h.patron IS NOT NULL"
        guard let type = resolved.patronType, let (digits, range) = Self.integerTypes[type] else {
            // A text-like or numeric column compares by its own type's equality (citext, 4711.0).
            guard let held = heldAs(resolved.patronTextType, &params) else { return "SELECT h.patron AS p \(holds)" }
            return "SELECT v.p FROM (SELECT \(held) AS p \(holds)) v WHERE v.p IS NOT NULL"
        }
        // Shorter numbers always fit; only those of the longest length need the range check.
        return "SELECT v.p FROM (SELECT CASE WHEN h.patron ~ '^(0|-?[1-9][0-9]{0,\(digits - 1)})$' THEN h.patron::\(type)"
            + " WHEN h.patron ~ '^-?[1-9][0-9]{\(digits)}$' AND h.patron::numeric BETWEEN \(range) THEN h.patron::\(type)"
            + " END AS p \(holds)) v WHERE v.p IS NOT NULL"
    }

    /// The integer types a held patron's text is read back as: digits that always fit, and range.
    private static let integerTypes = ["smallint": (4, "-32768 AND 32767"), "integer": (9, "-2147483648 AND 2147483647"),
                                       "bigint": (18, "-9223372036854775808 AND 9223372036854775807")]

    /// A hold's patron read as `reading`'s type, NULL where it does not match its pattern (a hold
    /// for another policy's column must not fail the statement); `nil` without a reading.
    private func heldAs(_ reading: ResolvedPolicy.ValueReading?, _ params: inout Parameters, field: String = "h.patron") -> String? {
        guard let reading else { return nil }
        guard let pattern = reading.guardPattern else { return "\(field)::\(reading.type)" }
        return "CASE WHEN \(field) ~ \(params.bind(pattern)) THEN \(field)::\(reading.type) END"
    }

    /// The patron column as `heldPatrons` compares it: itself for an integer or text-like type (then
    /// with the type's own equality: case-insensitive for citext), else as text.
    private func patronKey(_ patron: String) -> String {
        Self.integerTypes[resolved.patronType ?? ""] != nil || resolved.patronTextType != nil ? column(patron) : column(patron) + "::text"
    }

    /// True when an active legal hold covers the row, as cheap as the holds allow.
    ///
    /// With no hold, nothing is tested. Otherwise each probe runs only behind guards: ones the server
    /// evaluates once per statement (are there any holds, any without a patron?) and one per row
    /// from a hash (is this patron held at all?). (`countQuery` joins the held patrons instead when
    /// only plain patron holds apply.)
    private func held(_ shape: HoldShape, _ params: inout Parameters) -> String {
        guard shape != .none else { return "false" }
        guard let patron = policy.patron else {
            // Every hold counts here, patron holds included (`sharedHolds`).
            return "CASE WHEN (SELECT EXISTS (SELECT 1 FROM retention.holds h WHERE \(policyHolds(&params))))"
                + " THEN EXISTS (\(sharedHolds(&params))) ELSE false END"
        }
        return "CASE WHEN (SELECT EXISTS (SELECT 1 FROM retention.holds h WHERE \(policyHolds(&params)))) THEN"
            + " CASE WHEN (SELECT EXISTS (SELECT 1 FROM retention.holds h WHERE \(policyHolds(&params)) AND h.patron IS NULL))"
            + " THEN EXISTS (\(sharedHolds(&params))) ELSE false END"
            + " OR CASE WHEN \(patronKey(patron)) IN (\(heldPatrons(&params)))"
            + " THEN EXISTS (\(patronHolds(patron, &params))) ELSE false END"
            + " ELSE false END"
    }

    /// Which active holds apply to the policy: run in the same snapshot as the count it shapes.
    /// Columns: `holds`, and `patron_holds` that name only a patron.
    func holdShapeQuery() -> Statement {
        var params = Parameters()
        return Statement(unsafeSQL: """
            SELECT count(*) AS holds, count(*) FILTER (WHERE h.patron IS NOT NULL AND h.library IS NULL
                                                  AND h.held_from IS NULL AND h.held_until IS NULL) AS patron_holds
            FROM retention.holds h WHERE \(policyHolds(&params))
            """, params.values)
    }

    /// True when the row's patron chose to keep their history.
    ///
    /// The server hashes the consenting patrons once per statement instead of probing per row (read
    /// straight from the table or a partial index: a `WITH` entry would first copy them, and keep the
    /// server from counting in parallel).
    private var consented: String {
        guard let consent = policy.consent, let patron = policy.patron else { return "false" }
        // The bare boolean (not `IS TRUE`, same rows) lets a partial index `WHERE keep_if` serve it.
        return "COALESCE(\(column(patron)) IN (SELECT c.\(quoteIdentifier(consent.key)) FROM \(consent.table.sql) c"
            + " WHERE c.\(quoteIdentifier(consent.keepIf))), false)"
    }

    /// True when the row's patron chose to keep their history, looked up in the consent table's
    /// index row by row where it has one (`ResolvedPolicy.consentIndexed`), else `consented`.
    ///
    /// For a statement that tests few rows: hashing every consenting patron costs about 0.2 µs
    /// each (20 ms per statement for 99,500 of them), a lookup about 1.1 µs per row tested. A scalar
    /// subquery, because the server turns an `IN` or `EXISTS` into that hash again.
    private var consentedPerRow: String {
        guard resolved.consentIndexed, let consent = policy.consent, let patron = policy.patron else { return consented }
        return "COALESCE((SELECT true FROM \(consent.table.sql) c WHERE c.\(quoteIdentifier(consent.key)) = \(column(patron))"
            + " AND c.\(quoteIdentifier(consent.keepIf)) LIMIT 1), false)"
    }

    /// Counts the consenting patrons, once per run, for `looksUpConsent`; nil when the consent
    /// table has no index a lookup could use (`ResolvedPolicy.consentIndexed`). Column: `patrons`.
    func consentingCountQuery() -> Statement? {
        guard resolved.consentIndexed, let consent = policy.consent, policy.patron != nil else { return nil }
        return Statement(unsafeSQL: "SELECT count(*) AS patrons FROM \(consent.table.sql) c WHERE c.\(quoteIdentifier(consent.keepIf))", [])
    }

    /// Whether a batch spanning `keys` keys tests consent faster by looking each row's patron up
    /// than by hashing all `consenting` patrons: the hash costs about 0.2 µs per patron, a lookup
    /// about 1.1 µs per row (measured at 20M loans, a batch of 17,000 keys and 14,800 candidate
    /// rows: 20 ms to hash 99,500 patrons, 17 ms to look the rows up), so past four patrons per key
    /// the lookups win.
    static func looksUpConsent(consenting: Int64?, keys: Int64) -> Bool {
        consenting.map { $0 > 4 * keys } ?? false
    }

    /// Why a row older than the cutoff stays: 1 hold, 2 consent, 3 `keep_when`, 0 none (it is due).
    ///
    /// One `CASE` gives each row its first reason, so every test runs at most once per row.
    /// `fewRows`: the statement tests few rows, so consent is looked up per row (`consentedPerRow`).
    private func reason(_ params: inout Parameters, fewRows: Bool = false) -> String {
        "CASE WHEN \(held(.scoped, &params)) THEN 1 WHEN \(fewRows ? consentedPerRow : consented) THEN 2"
            + " WHEN \(keptByRule(&params)) THEN 3 ELSE 0 END"
    }


    /// True when any `keep_when` condition matches (a condition on NULL does not match).
    private func keptByRule(_ params: inout Parameters) -> String {
        guard !policy.keepWhen.isEmpty else { return "false" }
        var conditions: [String] = []
        for condition in policy.keepWhen {
            let target = column(condition.column)
            switch condition.op {
            case .isNull: conditions.append("\(target) IS NULL")
            case .isNotNull: conditions.append("\(target) IS NOT NULL")
            case .in, .notIn:
                let list = condition.values.map { params.bind($0) }.joined(separator: ", ")
                conditions.append("\(target) \(condition.op == .in ? "IN" : "NOT IN") (\(list))")
            default:
                let op = condition.op == .notEqual ? "<>" : condition.op.rawValue
                conditions.append("\(target) \(op) \(params.bind(condition.values[0]))")
            }
        }
        return "COALESCE((" + conditions.joined(separator: ") OR (") + "), false)"
    }

    /// For anonymize: true while the row does not yet carry the `set` values of its marker columns.
    ///
    /// Testing a column's value needs SELECT on it, and the purger role has none on note or name
    /// columns. So when `set` clears the policy's patron column (which the purger reads anyway, for
    /// consent and holds), that column alone tells whether a row was anonymized; otherwise all `set`
    /// columns do, and the purger needs SELECT on them (`check --catalog` says so).
    private func pending(_ params: inout Parameters) -> String? {
        guard policy.action == .anonymize else { return nil }
        let done = policy.markerColumns.map { assignment in
            let target = column(assignment.column)
            guard let value = assignment.value else { return "\(target) IS NULL" }
            return "\(target) IS NOT DISTINCT FROM \(params.bind(value))"
        }
        return "NOT (" + done.joined(separator: " AND ") + ")"
    }

    /// For anonymize, in a `RETURNING` list (which reads the rows as updated): true when a row still
    /// lacks the `set` values, because something (a `BEFORE UPDATE` trigger) undid the change; the
    /// batch then fails rather than count it as anonymized. `false` for delete.
    private func undone(_ params: inout Parameters) -> String {
        pending(&params) ?? "false"
    }

    /// The rows the policy looks at: older than the cutoff and, for anonymize, not yet anonymized.
    private func candidates(_ cutoffs: Cutoffs, _ params: inout Parameters) -> String {
        [older(cutoffs, &params), pending(&params)].compactMap { $0 }.joined(separator: " AND ")
    }

    // MARK: - Foreign keys into the table (delete policies)

    /// Foreign keys from other tables whose rows keep the rows they point to (`NO ACTION`, `RESTRICT`).
    private var blockingReferences: [ForeignKeyRef] {
        policy.action == .delete ? resolved.references.filter { !$0.isSelf && !$0.onDelete.changesReferencingRows } : []
    }

    /// Foreign keys from the table into itself (renewal chains), whatever their action: a row's
    /// links are purged with it when every one is due, or all of them stay.
    private var selfReferences: [ForeignKeyRef] {
        policy.action == .delete ? resolved.references.filter(\.isSelf) : []
    }

    /// Whether a foreign key can keep a due row.
    var hasReferences: Bool { !blockingReferences.isEmpty || !selfReferences.isEmpty || !heldCascades.isEmpty }

    /// Declared cascades from tables a hold of another policy may cover (`ResolvedPolicy.heldCascades`).
    private var heldCascades: [ResolvedPolicy.HeldCascade] {
        policy.action == .delete ? resolved.heldCascades : []
    }

    /// The condition that row `from` points to row `to` (table aliases) through foreign key `ref`.
    private func points(_ ref: ForeignKeyRef, from: String, to: String) -> String {
        zip(ref.columns, ref.referencedColumns)
            .map { "\(from).\(quoteIdentifier($0)) = \(to).\(quoteIdentifier($1))" }.joined(separator: " AND ")
    }

    /// A candidate that no hold, consent or `keep_when` keeps, with the hold and consent tests given
    /// (a count joins them where a purge tests them per row).
    private func due(_ cutoffs: Cutoffs, held: String, consented: String, _ params: inout Parameters) -> String {
        "\(candidates(cutoffs, &params)) AND NOT \(held) AND NOT \(consented) AND NOT \(keptByRule(&params))"
    }

    /// Due by the policy's own tests (age, anonymized or not, hold, consent, `keep_when`), before
    /// foreign keys are considered: the row `t` is a candidate with no reason to stay.
    private func dueByTests(_ cutoffs: Cutoffs, _ params: inout Parameters) -> String {
        "\(candidates(cutoffs, &params)) AND \(reason(&params)) = 0"
    }

    /// True when a row of another table still points to the row `t` (found by that table's index
    /// on its pointing columns, which `check --catalog` asks for).
    ///
    /// A row a declared cascade would reach counts too while a hold that may cover the cascade's
    /// table is active (one of the policies that purge that table, or none; for a table no policy of
    /// the run names, any policy outside the run): deleting the row would delete the held one. The
    /// hold test runs once per statement; without such a hold the cascade goes on as declared.
    private func pointedToFromOutside(_ params: inout Parameters) -> String {
        guard !blockingReferences.isEmpty || !heldCascades.isEmpty else { return "false" }
        var tests = blockingReferences.map { ref in
            "EXISTS (SELECT 1 FROM \(ref.referencing.sql) r WHERE \(points(ref, from: "r", to: "t")))"
        }
        for cascade in heldCascades {
            // A table no policy of the run purges may cascade further, into any policy's table: every
            // hold but one on this policy alone may cover what it reaches.
            let scope = cascade.policies.map { "h.policy = ANY (\(params.bind(array: $0)))" }
                ?? "h.policy <> \(params.bind(policy.name))"
            tests.append("((SELECT EXISTS (SELECT 1 FROM retention.holds h WHERE h.released_at IS NULL AND (h.policy IS NULL OR \(scope))))"
                         + " AND EXISTS (SELECT 1 FROM \(cascade.reference.referencing.sql) r WHERE \(points(cascade.reference, from: "r", to: "t"))))")
        }
        return "(" + tests.joined(separator: " OR ") + ")"
    }

    /// The keys (`k`) of the rows of the table that point to the row whose key is `key` (an SQL
    /// expression), through any self-reference; a subquery for a lateral join, one index probe each.
    private func children(of key: String) -> String {
        let table = policy.table.sql, own = quoteIdentifier(policy.key)
        return selfReferences.map { ref in
            if ref.referencedColumns == [policy.key], ref.columns.count == 1 {
                return "SELECT x.\(own) AS k FROM \(table) x WHERE x.\(quoteIdentifier(ref.columns[0])) = \(key)"
            }
            return "SELECT x.\(own) AS k FROM \(table) x JOIN \(table) p ON \(points(ref, from: "x", to: "p")) WHERE p.\(own) = \(key)"
        }.joined(separator: " UNION ALL ") + " OFFSET 0"
    }

    /// A recursive query of the keys that must stay because a row that stays points to them: rows
    /// another table points to, rows a staying row of the table points to, and, upwards, every row
    /// a row that must stay points to. (The batches find the same rows downwards from their due rows.)
    private func stayingReferenced(_ cutoffs: Cutoffs, _ params: inout Parameters) -> String {
        let table = policy.table.sql, own = quoteIdentifier(policy.key)
        var parts = ["SELECT t.\(own) FROM \(table) AS t WHERE \(pointedToFromOutside(&params))"]
        for ref in selfReferences {
            let staysTest = "NOT coalesce(\(dueByTests(cutoffs, &params)), false)"
            parts.append("SELECT p.\(own) FROM \(table) AS t JOIN \(table) p ON \(points(ref, from: "t", to: "p")) WHERE \(staysTest)")
        }
        var sql = parts.joined(separator: " UNION ")
        if !selfReferences.isEmpty {
            let up = selfReferences.map { "(" + points($0, from: "x", to: "p") + ")" }.joined(separator: " OR ")
            sql += " UNION SELECT p.\(own) FROM staying s JOIN \(table) x ON x.\(own) = s.k JOIN \(table) p ON \(up)"
        }
        return sql
    }

    /// Counts the rows a declared cascade would change, per foreign key that points directly from a
    /// declared table: the rows pointing to a row the purge would delete. (Rows a cascade reaches
    /// further are counted by the run only.) Columns: `table_name`, `rows`; `nil` without cascades.
    func cascadeCountQuery(cutoffs: Cutoffs) -> Statement? {
        let declared = Set(resolved.cascades.map(\.table))
        let direct = resolved.references.filter { !$0.isSelf && $0.onDelete.changesReferencingRows && declared.contains($0.referencing) }
        guard policy.action == .delete, !direct.isEmpty else { return nil }
        var params = Parameters()
        let staying = hasReferences ? stayingReferenced(cutoffs, &params) : nil
        let purged = dueByTests(cutoffs, &params)
            + (staying == nil ? "" : " AND NOT EXISTS (SELECT 1 FROM staying s WHERE s.k = \(column(policy.key)))")
        let counts = direct.map { ref in
            let pointing = ref.columns.map { "r.\(quoteIdentifier($0))" }.joined(separator: ", ")
            let pointed = ref.referencedColumns.map(column).joined(separator: ", ")
            return "SELECT \(params.bind(ref.referencing.description))::text AS table_name, count(*) AS rows "
                + "FROM \(ref.referencing.sql) r WHERE (\(pointing)) IN (SELECT \(pointed) FROM \(policy.table.sql) AS t WHERE \(purged))"
        }
        return Statement(unsafeSQL: (staying.map { "WITH RECURSIVE staying(k) AS (\($0))\n" } ?? "")
                         + counts.joined(separator: "\nUNION ALL\n"), params.values)
    }

    /// The hold test of the partitions' count and the join it needs: with only plain patron holds, a
    /// join with the held patrons keeps the test out of the aggregate's filter (one hash probe per
    /// row, and the server may count in parallel); otherwise `held`.
    private func heldTest(_ holds: HoldShape, _ params: inout Parameters) -> (test: String, join: String) {
        guard holds == .patronsOnly, let patron = policy.patron else { return (held(holds, &params), "") }
        return ("hp.p IS NOT NULL",
                "LEFT JOIN (SELECT DISTINCT p FROM (\(heldPatrons(&params))) held) hp ON hp.p = \(patronKey(patron))")
    }

    /// The consent test of the partitions' count and the join it needs: the consenting patrons
    /// hashed once and joined (`DISTINCT`, so a consent table with repeated keys adds no row).
    private var consentTest: (test: String, join: String) {
        guard let consent = policy.consent, let patron = policy.patron else { return ("false", "") }
        return ("cp.k IS NOT NULL",
                "LEFT JOIN (SELECT DISTINCT c.\(quoteIdentifier(consent.key)) AS k FROM \(consent.table.sql) c"
                    + " WHERE c.\(quoteIdentifier(consent.keepIf))) cp ON cp.k = \(column(patron))")
    }

    /// Counts, per library, the rows due and the rows kept by hold, consent, `keep_when` and reference.
    ///
    /// Each test is a grouping key, so the server evaluates it once per row (hold and consent as
    /// hashed lookups, built once per process) and counts in parallel; at most a few dozen groups
    /// per library, which the outer query sorts into first reasons: hold, then consent, then
    /// `keep_when`, then reference. (At 20M loans with holds and consents: 1.27x the raw `count(*)`,
    /// where joining the held and consenting patrons took 1.37x: a join's per-row cost outgrew the
    /// lookups'.) Columns: `library`, `rows` (due), one per `KeptReason`, `oldest_due_days`.
    func countQuery(cutoffs: Cutoffs, holds: HoldShape = .scoped) -> Statement {
        var params = Parameters()
        let held: String
        if holds == .patronsOnly, let patron = policy.patron {
            held = "COALESCE(\(patronKey(patron)) IN (\(heldPatrons(&params))), false)"
        } else {
            held = self.held(holds, &params)
        }
        // With foreign keys into the table, the rows that must stay because a row that stays points
        // to them (`staying`); otherwise nothing is referenced and the count stays as cheap as it was.
        let staying = hasReferences ? stayingReferenced(cutoffs, &params) : nil
        // A join, not `IN (SELECT ...)`: the recursive query's row estimate is far too high for the
        // server to hash it as a subplan, and an unhashed one is scanned again for every row.
        let joinStaying = staying == nil ? "" : "LEFT JOIN (SELECT DISTINCT k FROM staying) st ON st.k = \(column(policy.key))"
        let referenced = staying == nil ? "false" : "st.k IS NOT NULL"
        let due = "NOT g.h AND NOT g.c AND NOT g.rule AND NOT g.r"
        let keys = [library(&params), held, consented, keptByRule(&params), referenced]
        // A test that cannot keep a row of this policy (no holds, no consent, ...) is the constant
        // `false`, and a policy without libraries has the constant NULL: no grouping key, as every
        // key costs the aggregate for every row (at 5M loans without holds, 0.87x the raw count
        // against 1.04x, by hand). With no key at all, `HAVING` keeps an empty table's count empty.
        let grouped = keys.indices.filter { keys[$0] != "false" && keys[$0] != "NULL::text" }.map { String($0 + 1) }
        let sql = (staying.map { "WITH RECURSIVE staying(k) AS (\($0))\n" } ?? "") + """
            SELECT g.lib AS library,
                   coalesce(sum(g.n) FILTER (WHERE \(due)), 0)::int8 AS rows,
                   coalesce(sum(g.n) FILTER (WHERE g.h), 0)::int8 AS kept_by_hold,
                   coalesce(sum(g.n) FILTER (WHERE NOT g.h AND g.c), 0)::int8 AS kept_by_consent,
                   coalesce(sum(g.n) FILTER (WHERE NOT g.h AND NOT g.c AND g.rule), 0)::int8 AS kept_by_keep_when,
                   coalesce(sum(g.n) FILTER (WHERE NOT g.h AND NOT g.c AND NOT g.rule AND g.r), 0)::int8 AS kept_by_reference,
                   floor(extract(epoch FROM now() - min(g.oldest) FILTER (WHERE \(due))) / 86400)::int8 AS oldest_due_days
            FROM (SELECT \(keys[0]) AS lib, \(keys[1]) AS h, \(keys[2]) AS c, \(keys[3]) AS rule,
                         \(keys[4]) AS r, count(*) AS n, min(\(column(policy.age))::timestamptz) AS oldest
                  FROM \(policy.table.sql) AS t \(joinStaying)
                  WHERE \(candidates(cutoffs, &params))
                  \(grouped.isEmpty ? "HAVING count(*) > 0" : "GROUP BY " + grouped.joined(separator: ", "))) g
            GROUP BY g.lib
            ORDER BY g.lib
            """
        return Statement(unsafeSQL: sql, params.values)
    }

    /// The partitions a delete policy may empty whole, for a table range-partitioned on the age
    /// column alone (`ResolvedPolicy.partitionedByAge`): leaf partitions whose upper bound is at or
    /// before every cutoff, so each row they can hold is older than its cutoff. Left out: partitions
    /// the role may not read or truncate, and tables with triggers or referenced by a foreign key (a
    /// truncate fires neither).
    /// Columns: `oid`, `schema`, `name`, `upper` (the upper bound, as text of the age column's type),
    /// `estimate` (the planner's row estimate, 0 when unknown); oldest first.
    func wholePartitionsQuery(cutoffs: Cutoffs) -> Statement {
        var params = Parameters()
        let type = resolved.ageType.sql
        let table = params.bind(resolved.tableOID)
        let earliest = everyCutoff(cutoffs, &params)
        // The bound as the server writes it (`FOR VALUES FROM ('a') TO ('b')`), read back as the age
        // column's type (the default partition has none).
        let sql = """
            SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, b.upper::text AS upper,
                   greatest(c.reltuples, 0)::int8 AS estimate
            FROM pg_catalog.pg_inherits i
            JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            CROSS JOIN LATERAL (SELECT replace(substring(pg_catalog.pg_get_expr(c.relpartbound, c.oid)
                                                         FROM ' TO \\(''(.*)''\\)$'), '''''', '''')::\(type) AS upper) b
            WHERE i.inhparent = \(table)::oid AND c.relkind = 'r'
              AND b.upper <= least(\(earliest))
              AND has_table_privilege(c.oid, 'SELECT') AND has_table_privilege(c.oid, 'TRUNCATE')
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint f WHERE f.contype = 'f' AND f.confrelid IN (i.inhparent, c.oid))
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid IN (i.inhparent, c.oid) AND NOT g.tgisinternal)
            ORDER BY b.upper
            """
        return Statement(unsafeSQL: sql, params.values)
    }

    /// Every cutoff of the policy (the standard one and each library's), bound, in the age column's
    /// type and separated by commas: for `least(...)` or `greatest(...)`.
    private func everyCutoff(_ cutoffs: Cutoffs, _ params: inout Parameters) -> String {
        ([cutoffs.standard] + cutoffs.libraries.map(\.cutoff)).map { "\(params.bind($0))::\(resolved.ageType.sql)" }
            .joined(separator: ", ")
    }

    /// Counts the rows of every partition with ages from `lower` (an age, `nil`: from the first)
    /// up to `upper` per library, all of them and the due ones, in one statement over the
    /// partitioned table: the server reads only the partitions that can hold such rows (and the
    /// default partition), and with the holds' shape known it counts them in parallel, as
    /// `countQuery` does. A partition may be emptied whole only when it holds rows and all are due.
    /// Columns: `partition` (its oid), `library`, `rows`, `due`.
    func partitionsCountQuery(from lower: String?, below upper: String, cutoffs: Cutoffs, holds: HoldShape) -> Statement {
        var params = Parameters()
        let (held, joinHeld) = heldTest(holds, &params)
        let (consented, joinConsent) = consentTest
        let type = resolved.ageType.sql
        let age = column(policy.age)
        // From the previous group's end, so no group reads again what an earlier one read.
        let from = lower.map { " AND \(age) >= \(params.bind($0))::\(type)" } ?? ""
        let sql = """
            SELECT t.tableoid::int8 AS partition, \(library(&params)) AS library, count(*) AS rows,
                   count(*) FILTER (WHERE \(due(cutoffs, held: held, consented: consented, &params))) AS due
            FROM \(policy.table.sql) AS t \(joinHeld) \(joinConsent)
            WHERE \(age) < \(params.bind(upper))::\(type)\(from)
            GROUP BY 1, 2
            """
        return Statement(unsafeSQL: sql, params.values)
    }

    /// The key's type as the catalog names it, for casting the cursor back (never text from a policy).
    private var keyType: String { resolved.keyType }

    /// The batch's key range, between its first and last key.
    ///
    /// Both ends live in the session (`retention.first`, `retention.last`), set by `boundStatement`,
    /// so the program walks the key space without ever receiving a key. Two bounds let the server
    /// plan an index range scan for every batch, the first one included.
    private var keyRange: String {
        let key = column(policy.key)
        // A stable expression, not a scalar subquery: the server makes it the index scan's runtime key.
        // (As InitPlans inside the statement's CTEs, the bounds would cost a walk of the index from its start.)
        return "\(key) >= current_setting('retention.first')::\(keyType) "
            + "AND \(key) <= current_setting('retention.last')::\(keyType)"
    }

    /// Finds the next batch's first and last key (`size` keys after the previous batch) and keeps them
    /// in the session; returns only how many keys the batch spans (0: the walk is over).
    ///
    /// Three index probes: the first key, the key `size - 1` places on (or else the slice's last),
    /// and a count only for the short batch at the end. A parallel worker's walk stays within its
    /// slice: from `retention.lower` (included) to `retention.upper` (excluded), set in its session
    /// by `sliceStatement`.
    ///
    /// On a table range-partitioned by age, the walk keeps to rows older than the latest cutoff, so
    /// the server reads only the partitions that can hold them (with the primary key, which holds
    /// the age column, and no row of the newer ones): after whole partitions were emptied, that is
    /// the month that straddles the cutoff, not the whole table.
    func boundStatement(size: Int, first: Bool, slice: Slice = .whole, cutoffs: Cutoffs) -> Statement {
        let key = column(policy.key)
        var params = Parameters()
        let size = params.bind(String(size))
        var conditions: [String] = []
        if resolved.partitionedByAge {
            conditions.append("\(column(policy.age)) < greatest(\(everyCutoff(cutoffs, &params)))")
        }
        if !first {
            conditions.append("\(key) > current_setting('retention.after')::\(keyType)")
        } else if slice.lower {
            conditions.append("\(key) >= current_setting('retention.lower')::\(keyType)")
        }
        if slice.upper { conditions.append("\(key) < current_setting('retention.upper')::\(keyType)") }
        let keys = "FROM \(policy.table.sql) AS t" + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
        return Statement(unsafeSQL: """
            WITH o AS MATERIALIZED (SELECT \(key) AS k \(keys) ORDER BY \(key) OFFSET \(size)::int8 - 1 LIMIT 1),
            b AS MATERIALIZED (SELECT (SELECT \(key) \(keys) ORDER BY \(key) LIMIT 1) AS lo,
                                      coalesce((SELECT k FROM o), (SELECT \(key) \(keys) ORDER BY \(key) DESC LIMIT 1)) AS hi,
                                      EXISTS (SELECT 1 FROM o) AS full)
            SELECT CASE WHEN b.full THEN \(size)::int8 ELSE (SELECT count(*) \(keys)) END AS keys
            FROM b
            WHERE set_config('retention.first', coalesce(b.lo::text, ''), false) IS NOT NULL
              AND set_config('retention.last', coalesce(b.hi::text, ''), false) IS NOT NULL
            """, params.values)
    }

    /// Which ends of a worker's slice of the key space are bounded (by keys kept in its session).
    struct Slice: Equatable {
        var lower = false
        var upper = false
        static let whole = Slice()
    }

    /// Keeps in the session the bounds of worker `number`'s slice of the key space, one of `workers`
    /// equal parts by the key's histogram in `pg_stats` (`retention.lower`, `retention.upper`).
    /// Returns whether each was found (no row at all: the key has no statistics yet); the program
    /// never sees them. Every worker runs this in the same exported snapshot, so their slices meet
    /// without a gap or an overlap.
    func sliceStatement(number: Int, of workers: Int) -> Statement {
        Statement("""
            SELECT set_config('retention.lower', coalesce(s.h[1 + (cardinality(s.h) - 1) * $4::int / $5::int], ''), false) <> '' AS lower,
                   set_config('retention.upper', coalesce(s.h[1 + (cardinality(s.h) - 1) * ($4::int + 1) / $5::int], ''), false) <> '' AS upper
            FROM (SELECT histogram_bounds::text::text[] AS h FROM pg_catalog.pg_stats
                  WHERE schemaname = $1 AND tablename = $2 AND attname = $3 AND histogram_bounds IS NOT NULL
                  ORDER BY inherited DESC LIMIT 1) s
            """, [policy.table.schema, policy.table.name, policy.key, String(number), String(workers)])
    }

    /// Moves the session's cursor past the batch just done (in the batch's transaction, so a rollback undoes it).
    static let advanceStatement = Statement(
        "SELECT 1 WHERE set_config('retention.after', current_setting('retention.last'), false) IS NOT NULL")

    /// A batch's first statement: purges the due rows of the session's key range.
    ///
    /// Batches walk the primary key in ranges of about `--batch-size` keys (after `boundStatement`),
    /// so a batch never rescans what an earlier one purged and holds its locks briefly. Each row is
    /// tested once; holds behind guards, whatever the holds table's statistics (as an anti-join, a
    /// holds table without statistics can make a batch scan it per row). The program gets back counts
    /// per library only, never a key or any other value. Columns: `library`, `rows`.
    /// `consentPerRow`: look each row's patron up in the consent table's index instead of hashing
    /// every consenting patron (`looksUpConsent`).
    func purgeStatement(cutoffs: Cutoffs, consentPerRow: Bool = false) -> Statement {
        var params = Parameters()
        let purge: String
        switch policy.action {
        case .delete:
            purge = "DELETE FROM \(policy.table.sql) AS t"
        case .anonymize:
            let assignments = policy.set.map { "\(quoteIdentifier($0.column)) = \(params.bind($0.value))" }
            purge = "UPDATE \(policy.table.sql) AS t SET " + assignments.joined(separator: ", ")
        }
        let due = due(cutoffs, held: held(.scoped, &params), consented: consentPerRow ? consentedPerRow : consented, &params)
        guard hasReferences else {
            return Statement(unsafeSQL: """
                WITH purged AS (
                    \(purge)
                    WHERE \(keyRange) AND \(due)
                    RETURNING \(library(&params)) AS lib, \(undone(&params)) AS undone
                )
                SELECT lib AS library, count(*) AS rows, count(*) FILTER (WHERE undone) AS undone FROM purged GROUP BY lib
                """, params.values)
        }
        // With foreign keys into the table: the range's due rows that no other table points to, each
        // with the rows of its own table that point to it (renewal chains), however far they reach
        // and whatever batch or session they fall in; a chain with any link that must stay stays whole.
        let key = quoteIdentifier(policy.key)
        let outside = pointedToFromOutside(&params)
        var sql = """
            WITH RECURSIVE due AS MATERIALIZED (
                SELECT t.\(key) AS k FROM \(policy.table.sql) AS t
                WHERE \(keyRange) AND \(due) AND NOT \(outside)
            )
            """
        if selfReferences.isEmpty {
            sql += ", doomed AS (SELECT k FROM due)\n"
        } else {
            sql += """
                , chain(root, k) AS (
                    SELECT d.k, c.k FROM due d CROSS JOIN LATERAL (\(children(of: "d.k"))) c
                    UNION
                    SELECT ch.root, c.k FROM chain ch CROSS JOIN LATERAL (\(children(of: "ch.k"))) c
                ), blocked AS (
                    SELECT DISTINCT ch.root FROM chain ch JOIN \(policy.table.sql) AS t ON t.\(key) = ch.k
                    WHERE NOT coalesce(\(dueByTests(cutoffs, &params)) AND NOT \(pointedToFromOutside(&params)), false)
                ), doomed AS (
                    SELECT d.k FROM due d WHERE NOT EXISTS (SELECT 1 FROM blocked b WHERE b.root = d.k)
                    UNION
                    SELECT ch.k FROM chain ch WHERE NOT EXISTS (SELECT 1 FROM blocked b WHERE b.root = ch.root)
                )

                """
        }
        sql += """
            , purged AS (
                \(purge)
                -- An array of keys, so the rows are found through the primary key: as a join with
                -- `doomed`, the server can misjudge its size and scan the whole table every batch.
                -- The tests again, so a row changed meanwhile by another session is tested as it is
                -- now (a chain link that stopped being due then fails the batch on its foreign key,
                -- and the batch is tried again).
                WHERE t.\(key) = ANY (ARRAY(SELECT k FROM doomed)) AND \(due)
                RETURNING \(library(&params)) AS lib, \(undone(&params)) AS undone
            )
            SELECT lib AS library, count(*) AS rows, count(*) FILTER (WHERE undone) AS undone FROM purged GROUP BY lib
            """
        return Statement(unsafeSQL: sql, params.values)
    }

    /// A batch's second statement, in the same transaction: writes its ledger rows, the purged
    /// counts (`purged`: library and rows, from `purgeStatement`) and the kept rows by first reason.
    ///
    /// After the purge the range holds only the rows it kept (and rows it never looked at), so
    /// giving each candidate its reason costs a test of the few kept rows, not of every row: their
    /// consent is looked up per row rather than hashing every consenting patron once more.
    /// Columns: `library`, `rows`, one per `KeptReason`. `cascaded`: rows a declared cascade changed
    /// in the batch, per table.
    func ledgerStatement(cutoffs: Cutoffs, runID: Int64, batch: Int, purged: [(library: String?, rows: Int64)],
                         cascaded: [String: Int64] = [:]) -> Statement {
        var params = Parameters()
        let counts = JSONValue.array(purged.map { .array([$0.library.map(JSONValue.string) ?? .null, .int($0.rows)]) })
        // A candidate the purge left with no other reason stays because a row that stays points to it.
        let remaining = hasReferences ? "CASE WHEN s.reason = 0 THEN 4 ELSE s.reason END" : "s.reason"
        // `OFFSET 0` keeps `reason > 0` from being pushed into the scan, where the CASE would run twice per row.
        let sql = """
            WITH purged AS (
                SELECT e->>0 AS lib, (e->>1)::int8 AS n FROM jsonb_array_elements(\(params.bind(counts.canonicalString))::jsonb) e
            ), kept AS (
                SELECT s.lib, \(remaining) AS reason
                FROM (SELECT \(library(&params)) AS lib, \(reason(&params, fewRows: true)) AS reason
                      FROM \(policy.table.sql) AS t
                      WHERE \(keyRange) AND \(candidates(cutoffs, &params))
                      OFFSET 0) s
                WHERE s.reason > 0 OR \(hasReferences ? "true" : "false")
            ), counted AS (
                SELECT lib, n, 0 AS h, 0 AS c, 0 AS r, 0 AS f FROM purged
                UNION ALL
                SELECT lib, 0, (reason = 1)::int, (reason = 2)::int, (reason = 3)::int, (reason = 4)::int FROM kept
            )
            INSERT INTO retention.batches
                (run_id, batch, policy, library, rows, kept_hold, kept_consent, kept_rule, kept_reference, cascaded,
                 started_at, finished_at)
            SELECT \(params.bind(String(runID)))::int8, \(params.bind(String(batch)))::int4, \(params.bind(policy.name)), lib,
                   sum(n), sum(h), sum(c), sum(r), sum(f),
                   -- The cascaded rows are the batch's, not a library's: on the first library's row only.
                   CASE WHEN row_number() OVER (ORDER BY lib NULLS FIRST) = 1
                        THEN \(params.bind(JSONValue.object(cascaded.mapValues { .int($0) }).canonicalString))::jsonb
                        ELSE '{}'::jsonb END,
                   now(), clock_timestamp()
            FROM counted
            GROUP BY lib
            RETURNING \(KeptReason.ledgerReturning)
            """
        return Statement(unsafeSQL: sql, params.values)
    }
}
