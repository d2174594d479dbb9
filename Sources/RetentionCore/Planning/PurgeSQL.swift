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
/// condition matches, its patron has not consented, no active hold covers it, no row that stays
/// points to it and, for anonymize, it is not anonymized already. A kept row is counted by the
/// first reason that keeps it, in the order of `KeptReason.allCases`. Every value is a bound
/// parameter (`SQL`'s `\(bind:)`); every name is quoted.
///
/// The parts, each in a file of its own in this folder:
/// - predicates (`PurgeSQL+Predicates.swift`): age and cutoffs, holds, consent, `keep_when`,
///   anonymized or not;
/// - reasons (`PurgeSQL+Reasons.swift`): a kept row's first reason, the one place their order is written;
/// - references (`PurgeSQL+References.swift`): foreign keys into the table, renewal chains, rows
///   that must stay because a row that stays points to them;
/// - counts (`PurgeSQL+Counts.swift`): the plan's count, the partitions', the cascades', the holds' shape;
/// - statements (`PurgeSQL+Statements.swift`): the key walk, the purge, the ledger.
struct PurgeSQL {
    let resolved: ResolvedPolicy
    var policy: Policy { resolved.policy }

    init(_ resolved: ResolvedPolicy) { self.resolved = resolved }

    /// A column of the policy's table (alias `t`).
    func column(_ name: String) -> SQL { "t.\(name: name)" }

    /// The operator `symbol` (`=`, `<`, ...) that compares column `name` of the table by its type:
    /// bare where the session's search path (`pg_catalog` alone) finds it, `OPERATOR(schema.=)`
    /// for a type whose operators live elsewhere (citext), which `pg_catalog` would compare as text.
    func op(_ symbol: String, for name: String) -> SQL {
        SQL.op(symbol, in: resolved.operatorSchemas[name])
    }

    /// `value IN (subquery)` by the equality of column `name`'s type (`= ANY`, which the server
    /// hashes as it does `IN`, where that equality is not `pg_catalog`'s).
    func among(_ value: SQL, _ subquery: SQL, by name: String) -> SQL {
        guard resolved.operatorSchemas[name] != nil else { return "\(value) IN (\(subquery))" }
        return "\(value) \(op("=", for: name)) ANY (\(subquery))"
    }

    /// `SELECT` of every cutoff: the standard one (`cutoff`), then one per library with its own
    /// period (`cutoff_0`, `cutoff_1`, ... in file order).
    func cutoffQuery() -> Statement {
        let periods = [policy.retain] + (policy.libraries?.retain.map(\.period) ?? [])
        let format = resolved.ageType.format
        let columns = periods.enumerated().map { index, period -> SQL in
            "to_char((now() - \(bind: period.interval)::interval)\(unsafe: format)) AS cutoff\(unsafe: index == 0 ? "" : "_\(index - 1)")"
        }
        return ("SELECT " + columns.joined(separator: ", ")).statement
    }

    /// The library of a row as text, or NULL for a policy without libraries: what periods and holds compare.
    var libraryValue: SQL {
        policy.libraries.map { column($0.column) + "::text" } ?? "NULL::text"
    }

    /// The library a row is counted under: its value when the policy names it, NULL when it has
    /// none, otherwise `Policy.Libraries.otherLabel`, so no other value of the column (free text
    /// typed there) leaves the database. `NULL::text` for a policy without libraries.
    var library: SQL {
        guard let libraries = policy.libraries else { return "NULL::text" }
        let other: SQL = "\(bind: Policy.Libraries.otherLabel)::text"
        if let reading = resolved.libraryReading {
            // By the column type's equality (citext: `Bangor` is BANGOR), counted under the name the policy gives.
            let named = libraries.named.map { name -> SQL in
                "WHEN \(column(libraries.column)) \(op("=", for: libraries.column)) \(bind: name)::\(unsafe: reading.type) THEN \(bind: name)::text"
            }
            return "CASE WHEN \(column(libraries.column)) IS NULL THEN NULL::text \(named.joined(separator: " ")) ELSE \(other) END"
        }
        return "CASE WHEN \(libraryValue) IS NULL THEN NULL::text "
            + "WHEN \(libraryValue) = ANY (\(bind: libraries.named)) THEN \(libraryValue) ELSE \(other) END"
    }
}
