/// SQL that writes a timestamptz expression as ISO 8601 in UTC (`2026-11-30T02:00:00.123456Z`).
func isoUTC(_ expression: String) -> String {
    "to_char((\(expression)) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
}

/// One SQL statement and its bound parameters.
public struct Statement: Sendable {
    public let sql: String
    public let params: [String?]
}

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

    /// `SELECT` of every cutoff: the standard one first, then one per library with its own period.
    func cutoffQuery() -> Statement {
        var params = Parameters()
        let periods = [policy.retain] + (policy.libraries?.retain.map(\.period) ?? [])
        let format = resolved.ageType.format
        let columns = periods.map { "to_char((now() - \(params.bind($0.interval))::interval)\(format))" }
        return Statement(sql: "SELECT " + columns.joined(separator: ", "), params: params.values)
    }

    /// The library of a row as text, or NULL for a policy without libraries.
    private var library: String {
        policy.libraries.map { column($0.column) + "::text" } ?? "NULL::text"
    }

    /// `age < cutoff`, with the cutoff chosen by the row's library.
    private func older(_ cutoffs: Cutoffs, _ params: inout Parameters) -> String {
        let type = resolved.ageType.sql
        let age = column(policy.age)
        guard !cutoffs.libraries.isEmpty else { return "\(age) < \(params.bind(cutoffs.standard))::\(type)" }
        var sql = "\(age) < CASE \(library)"
        for (library, cutoff) in cutoffs.libraries {
            sql += " WHEN \(params.bind(library)) THEN \(params.bind(cutoff))::\(type)"
        }
        return sql + " ELSE \(params.bind(cutoffs.standard))::\(type) END"
    }

    /// True when an active legal hold covers the row.
    ///
    /// Holds naming a patron are found by an index probe on the row's patron (`holds_active_patron`),
    /// the others (policy, library, window, global) by a scan of the few holds without a patron, so
    /// thousands of patron holds cost one probe per row. A hold field the policy cannot test (a patron
    /// hold on a table without a patron column) matches: a court order to preserve wins over a purge
    /// when the tool cannot tell the rows apart.
    private func held(_ params: inout Parameters) -> String {
        let age = column(policy.age)
        var scope = " AND (h.policy IS NULL OR h.policy = \(params.bind(policy.name)))"
        if let libraries = policy.libraries {
            scope += " AND (h.library IS NULL OR h.library = \(column(libraries.column))::text)"
        }
        scope += " AND (h.held_from IS NULL OR \(age) >= h.held_from) AND (h.held_until IS NULL OR \(age) < h.held_until)"
        guard let patron = policy.patron else {
            return "EXISTS (SELECT 1 FROM retention.holds h WHERE h.released_at IS NULL\(scope))"
        }
        return "(EXISTS (SELECT 1 FROM retention.holds h WHERE h.released_at IS NULL AND h.patron IS NULL\(scope))"
            + " OR EXISTS (SELECT 1 FROM retention.holds h WHERE h.released_at IS NULL"
            + " AND h.patron = \(column(patron))::text\(scope)))"
    }

    /// True when the row's patron chose to keep their history.
    ///
    /// The consenting patrons are listed once per statement (`consentList`, a materialized CTE) and
    /// the server hashes that list, instead of probing the consent table per row.
    private var consented: String {
        guard policy.consent != nil, let patron = policy.patron else { return "false" }
        return "COALESCE(\(column(patron)) IN (SELECT k FROM consenting), false)"
    }

    /// The `WITH` entry that lists consenting patrons, or nothing for a policy without consent.
    private var consentList: String {
        guard let consent = policy.consent, policy.patron != nil else { return "" }
        return "consenting AS MATERIALIZED (SELECT c.\(quoteIdentifier(consent.key)) AS k FROM \(consent.table.sql) c "
            + "WHERE c.\(quoteIdentifier(consent.keepIf)) IS TRUE), "
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
    /// columns do, and the purger needs SELECT on them (`check --db` says so).
    private func pending(_ params: inout Parameters) -> String? {
        guard policy.action == .anonymize else { return nil }
        let done = policy.markerColumns.map { assignment in
            let target = column(assignment.column)
            guard let value = assignment.value else { return "\(target) IS NULL" }
            return "\(target) IS NOT DISTINCT FROM \(params.bind(value))"
        }
        return "NOT (" + done.joined(separator: " AND ") + ")"
    }

    /// The rows the policy looks at: older than the cutoff and, for anonymize, not yet anonymized.
    private func candidates(_ cutoffs: Cutoffs, _ params: inout Parameters) -> String {
        [older(cutoffs, &params), pending(&params)].compactMap { $0 }.joined(separator: " AND ")
    }

    /// Counts, per library, the rows due and the rows kept by hold, consent and `keep_when`.
    ///
    /// `OFFSET 0` keeps the inner query from being merged into the outer one, so each row's three
    /// tests run once instead of once per count that uses them.
    /// Columns: library, due, kept_hold, kept_consent, kept_rule, oldest_due_days.
    func countQuery(cutoffs: Cutoffs) -> Statement {
        var params = Parameters()
        let sql = """
            \(consentList.isEmpty ? "" : "WITH " + consentList.dropLast(2))
            SELECT s.lib AS library,
                   count(*) FILTER (WHERE NOT (s.h OR s.c OR s.r)) AS due,
                   count(*) FILTER (WHERE s.h) AS kept_hold,
                   count(*) FILTER (WHERE NOT s.h AND s.c) AS kept_consent,
                   count(*) FILTER (WHERE NOT s.h AND NOT s.c AND s.r) AS kept_rule,
                   floor(extract(epoch FROM now() - min(s.age) FILTER (WHERE NOT (s.h OR s.c OR s.r))) / 86400)::int8
                       AS oldest_due_days
            FROM (SELECT \(library) AS lib, \(column(policy.age))::timestamptz AS age,
                         \(held(&params)) AS h, \(consented) AS c, \(keptByRule(&params)) AS r
                  FROM \(policy.table.sql) AS t
                  WHERE \(candidates(cutoffs, &params))
                  OFFSET 0) s
            GROUP BY s.lib
            ORDER BY s.lib
            """
        return Statement(sql: sql, params: params.values)
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
        // (As InitPlans inside the statement's CTEs, the bounds once cost a walk of the index from its start.)
        return "\(key) >= current_setting('retention.first')::\(keyType) "
            + "AND \(key) <= current_setting('retention.last')::\(keyType)"
    }

    /// Finds the next batch's first and last key (`size` keys after the previous batch) and keeps them
    /// in the session; returns only how many keys the batch spans (0: the walk is over).
    func boundStatement(size: Int, first: Bool) -> Statement {
        let key = column(policy.key)
        let after = first ? "" : "WHERE \(key) > current_setting('retention.after')::\(keyType)"
        return Statement(sql: """
            WITH s AS MATERIALIZED (SELECT \(key) AS k FROM \(policy.table.sql) AS t \(after) ORDER BY \(key) LIMIT $1)
            SELECT b.n FROM (SELECT (SELECT k FROM s ORDER BY k LIMIT 1) AS lo, (SELECT k FROM s ORDER BY k DESC LIMIT 1) AS hi,
                                    (SELECT count(*) FROM s) AS n) b
            WHERE set_config('retention.first', coalesce(b.lo::text, ''), false) IS NOT NULL
              AND set_config('retention.last', coalesce(b.hi::text, ''), false) IS NOT NULL
            """, params: [String(size)])
    }

    /// Moves the session's cursor past the batch just done (in the batch's transaction, so a rollback undoes it).
    static let advanceStatement = Statement(
        sql: "SELECT 1 WHERE set_config('retention.after', current_setting('retention.last'), false) IS NOT NULL",
        params: [])

    /// One batch: purges the due rows of a range of keys and writes its ledger rows, in one statement.
    ///
    /// Batches walk the primary key in ranges of about `--batch-size` keys (after `boundStatement`),
    /// so a batch never rescans what an earlier one purged and holds its locks briefly. The program
    /// gets back counts per library only, never a key or any other value. The ledger rows are
    /// written by the same statement, so a committed purge always has its committed ledger record.
    ///
    /// Columns: library, rows, kept_hold, kept_consent, kept_rule.
    func batchStatement(cutoffs: Cutoffs, runID: Int64, batch: Int) -> Statement {
        var params = Parameters()
        let table = policy.table.sql
        let range = keyRange
        let candidates = candidates(cutoffs, &params)
        let held = held(&params)
        let rule = keptByRule(&params)
        let purge: String
        switch policy.action {
        case .delete:
            purge = "DELETE FROM \(table) AS t"
        case .anonymize:
            let assignments = policy.set.map { "\(quoteIdentifier($0.column)) = \(params.bind($0.value))" }
            purge = "UPDATE \(table) AS t SET " + assignments.joined(separator: ", ")
        }
        let sql = """
            WITH \(consentList)purged AS (
                \(purge)
                WHERE \(range) AND \(candidates) AND NOT (\(held)) AND NOT \(consented) AND NOT \(rule)
                RETURNING \(library) AS lib
            ), kept AS (
                SELECT s.lib, s.h, s.c, s.r
                FROM (SELECT \(library) AS lib, \(held) AS h, \(consented) AS c, \(rule) AS r
                      FROM \(table) AS t
                      WHERE \(range) AND \(candidates)
                      OFFSET 0) s
                WHERE s.h OR s.c OR s.r
            ), counted AS (
                SELECT lib, 1 AS n, 0 AS h, 0 AS c, 0 AS r FROM purged
                UNION ALL
                SELECT lib, 0, s.h::int, (NOT s.h AND s.c)::int, (NOT s.h AND NOT s.c AND s.r)::int FROM kept s
            )
            INSERT INTO retention.batches
                (run_id, batch, policy, library, rows, kept_hold, kept_consent, kept_rule, started_at, finished_at)
            SELECT \(params.bind(String(runID)))::int8, \(params.bind(String(batch)))::int4,
                   \(params.bind(policy.name)), lib, sum(n), sum(h), sum(c), sum(r), now(), clock_timestamp()
            FROM counted
            GROUP BY lib
            RETURNING library, rows, kept_hold, kept_consent, kept_rule
            """
        return Statement(sql: sql, params: params.values)
    }
}
