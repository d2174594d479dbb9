/// A kept row's first reason: the one place where the order of the reasons is written, taken
/// from `KeptReason.allCases` (hold, consent, `keep_when`, newest, reference) by every statement that
/// counts kept rows (the plan's count, the ledger).
///
/// Adding a reason is a case of `KeptReason` (with its ledger column and manifest version) and its
/// test in `tests`; the statements here follow.
extension PurgeSQL {
    /// Each reason's test for a row `t`, in `KeptReason.allCases` order. `held`: the hold test, when
    /// the statement knows the holds' shape (else every kind of hold is tested); `fewRows`: the
    /// statement tests few rows, so consent is looked up per row (`consentedPerRow`); `referenced`:
    /// the test of the reference reason where the statement has one (it needs the walk of the
    /// foreign keys).
    func tests(held: SQL? = nil, fewRows: Bool = false, referenced: SQL?) -> [(reason: KeptReason, test: SQL)] {
        KeptReason.allCases.compactMap { reason in
            switch reason {
            case .hold: return (reason, held ?? self.held(.scoped))
            case .consent: return (reason, fewRows ? consentedPerRow : consented)
            case .keepWhen: return (reason, keptByRule)
            case .newest: return (reason, keptAsNewest)
            case .reference: return referenced.map { (reason, $0) }
            }
        }
    }

    /// The number of the first reason whose test holds (`KeptReason.number`), or 0: the row is due
    /// by these tests. One `CASE`, so every test runs at most once per row.
    static func firstReason(_ tests: [(reason: KeptReason, test: SQL)]) -> SQL {
        "CASE " + tests.map { reason, test -> SQL in "WHEN \(test) THEN \(reason.number) " }.joined(separator: "") + "ELSE 0 END"
    }

    /// Due by the policy's own tests (age, anonymized or not, hold, consent, `keep_when`), before
    /// foreign keys are considered: the row `t` is a candidate with no reason to stay.
    func dueByTests(_ cutoffs: Cutoffs) -> SQL {
        "\(candidates(cutoffs)) AND \(Self.firstReason(tests(referenced: nil))) = 0"
    }

    /// For a count grouped by each reason's test as a boolean column of `alias` named
    /// `KeptReason.ledgerColumn`: the sum of `alias.n` the row is due by (no reason holds) and,
    /// per reason, of the rows it is the first reason for, as `rows` and `kept_by_...`.
    static func countsByFirstReason(_ alias: String) -> (due: SQL, columns: SQL) {
        let reasons = KeptReason.allCases
        let due = reasons.map { reason -> SQL in "NOT \(unsafe: alias).\(unsafe: reason.ledgerColumn)" }.joined(separator: " AND ")
        let columns = reasons.enumerated().map { index, reason -> SQL in
            let earlier = reasons.prefix(index).map { earlier -> SQL in "NOT \(unsafe: alias).\(unsafe: earlier.ledgerColumn) AND " }
            return "coalesce(sum(\(unsafe: alias).n) FILTER (WHERE \(earlier.joined(separator: ""))\(unsafe: alias).\(unsafe: reason.ledgerColumn)), 0)::int8"
                + " AS \(unsafe: reason.rawValue)"
        }
        return (due, "coalesce(sum(\(unsafe: alias).n) FILTER (WHERE \(due)), 0)::int8 AS rows, " + columns.joined(separator: ", "))
    }

    /// The ledger's columns for the kept rows, in `KeptReason.allCases` order: `kept_hold, ...`.
    static var ledgerColumns: SQL {
        KeptReason.allCases.map { reason -> SQL in "\(unsafe: reason.ledgerColumn)" }.joined(separator: ", ")
    }

    /// Per reason, `(reason = n)::int AS kept_...` (or `0 AS kept_...` for rows no reason kept),
    /// to sum into the ledger's columns.
    static func keptFlags(_ reasonColumn: String?) -> SQL {
        KeptReason.allCases.map { reason -> SQL in
            guard let reasonColumn else { return "0 AS \(unsafe: reason.ledgerColumn)" }
            return "(\(unsafe: reasonColumn) = \(reason.number))::int AS \(unsafe: reason.ledgerColumn)"
        }.joined(separator: ", ")
    }
}

extension KeptReason {
    /// The reason's number in a first-reason `CASE`: its place in `allCases`, from 1 (0 is due).
    var number: Int { Self.allCases.firstIndex(of: self)! + 1 }
}
