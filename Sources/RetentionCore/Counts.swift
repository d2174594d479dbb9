/// A reason a row older than its cutoff stays, in first-reason order: a kept row is counted once,
/// by the first reason that keeps it.
///
/// Adding a reason is this case (its name in manifests, plan JSON and SQL result columns, its
/// column in the ledger, its words for people) plus the SQL that tests it in `PurgeSQL`.
public enum KeptReason: String, CaseIterable, Sendable, CodingKey {
    case hold = "kept_by_hold"
    case consent = "kept_by_consent"
    case keepWhen = "kept_by_keep_when"

    /// The column of `retention.batches` that counts it.
    var ledgerColumn: String {
        switch self {
        case .hold: return "kept_hold"
        case .consent: return "kept_consent"
        case .keepWhen: return "kept_rule"
        }
    }

    /// The reason in a table heading (`plan`, `show`).
    public var heading: String {
        switch self {
        case .hold: return "hold"
        case .consent: return "consent"
        case .keepWhen: return "keep_when"
        }
    }

    /// The reason in a sentence: "kept: 3 by legal hold".
    public var phrase: String {
        switch self {
        case .hold: return "by legal hold"
        case .consent: return "by consent"
        case .keepWhen: return "by keep_when"
        }
    }
}

/// Rows purged (or, in a plan, due) and rows kept by each reason: the one set of counts that the
/// plan, the ledger, a run's outcome, the manifest and every renderer share.
///
/// In JSON (manifest, plan, report) the counts sit beside their owner's other fields, under the
/// names of `KeptReason` and `rows` (the plan calls its rows `due`).
public struct Counts: Sendable, Equatable {
    public var rows: Int64 = 0
    private var kept: [KeptReason: Int64] = [:]

    public init(rows: Int64 = 0, kept: [KeptReason: Int64] = [:]) {
        self.rows = rows
        self.kept = kept
    }

    /// The rows kept by `reason`.
    public subscript(reason: KeptReason) -> Int64 {
        get { kept[reason] ?? 0 }
        set { kept[reason] = newValue }
    }

    /// All rows kept, whatever the reason.
    public var keptTotal: Int64 { KeptReason.allCases.reduce(0) { $0 + self[$1] } }

    public static func + (lhs: Counts, rhs: Counts) -> Counts {
        var sum = lhs
        sum += rhs
        return sum
    }

    public static func += (lhs: inout Counts, rhs: Counts) {
        lhs.rows += rhs.rows
        for reason in KeptReason.allCases { lhs[reason] += rhs[reason] }
    }

    /// The counts of a result row: `rowsColumn` and one column per reason, named by the reason.
    init(row: Row, rowsColumn: String = "rows") throws {
        rows = try row.int64(rowsColumn)
        for reason in KeptReason.allCases { self[reason] = try row.int64(reason.rawValue) }
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Writes the counts into the owner's JSON object, the rows under `rowsKey`.
    func encode(to encoder: Encoder, rowsKey: String) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(rows, forKey: Key(stringValue: rowsKey))
        for reason in KeptReason.allCases {
            try container.encode(self[reason], forKey: Key(stringValue: reason.rawValue))
        }
    }

    /// Reads the counts from the owner's JSON object.
    init(from decoder: Decoder, rowsKey: String) throws {
        let container = try decoder.container(keyedBy: Key.self)
        rows = try container.decode(Int64.self, forKey: Key(stringValue: rowsKey))
        for reason in KeptReason.allCases {
            self[reason] = try container.decode(Int64.self, forKey: Key(stringValue: reason.rawValue))
        }
    }
}
