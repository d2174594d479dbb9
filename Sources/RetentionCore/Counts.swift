import Foundation

/// A reason a row older than its cutoff stays, in first-reason order: a kept row is counted once,
/// by the first reason that keeps it.
///
/// Adding a reason is this case (its name in manifests, plan JSON and SQL result columns, its
/// column in the ledger, its words for people) plus the SQL that tests it in `PurgeSQL`.
public enum KeptReason: String, CaseIterable, Sendable, CodingKey, CodingKeyRepresentable, Codable {
    case hold = "kept_by_hold"
    case consent = "kept_by_consent"
    case keepWhen = "kept_by_keep_when"
    /// Among the newest rows of its group (`keep_newest`).
    case newest = "kept_by_newest"
    /// A due row that a row that stays still points to through a foreign key (delete policies).
    case reference = "kept_by_reference"

    /// The column of `retention.batches` that counts it.
    var ledgerColumn: String {
        switch self {
        case .hold: return "kept_hold"
        case .consent: return "kept_consent"
        case .keepWhen: return "kept_rule"
        case .newest: return "kept_newest"
        case .reference: return "kept_reference"
        }
    }

    /// The manifest version that added the reason: older manifests have no member for it.
    var manifestVersion: Int64 {
        switch self {
        case .hold, .consent, .keepWhen: return 1
        case .reference: return 2
        case .newest: return 5
        }
    }

    /// The reasons a manifest of `version` has members for (every reason in plans and reports).
    static func reasons(inManifestVersion version: Int64?) -> [KeptReason] {
        guard let version else { return allCases }
        return allCases.filter { $0.manifestVersion <= version }
    }

    /// The reason in a table heading (`plan`, `show`).
    public var heading: String {
        switch self {
        case .hold: return "hold"
        case .consent: return "consent"
        case .keepWhen: return "keep_when"
        case .newest: return "newest"
        case .reference: return "referenced"
        }
    }

    /// The reason in a sentence: "kept: 3 by legal hold".
    public var phrase: String {
        switch self {
        case .hold: return "by legal hold"
        case .consent: return "by consent"
        case .keepWhen: return "by keep_when"
        case .newest: return "as the newest of their group"
        case .reference: return "as referenced"
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

    /// Equal when every count is: a reason never counted equals a reason counted zero times.
    public static func == (lhs: Counts, rhs: Counts) -> Bool {
        lhs.rows == rhs.rows && KeptReason.allCases.allSatisfy { lhs[$0] == rhs[$0] }
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

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Writes the counts into the owner's JSON object, the rows under `rowsKey`; in a manifest only
    /// the reasons its version has (`CodingUserInfoKey.manifestVersion`).
    func encode(to encoder: Encoder, rowsKey: String) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(rows, forKey: Key(stringValue: rowsKey))
        for reason in KeptReason.reasons(inManifestVersion: encoder.userInfo[.manifestVersion] as? Int64) {
            try container.encode(self[reason], forKey: Key(stringValue: reason.rawValue))
        }
    }

    /// Reads the counts from the owner's JSON object.
    init(from decoder: Decoder, rowsKey: String) throws {
        let container = try decoder.container(keyedBy: Key.self)
        rows = try container.decode(Int64.self, forKey: Key(stringValue: rowsKey))
        for reason in KeptReason.reasons(inManifestVersion: decoder.userInfo[.manifestVersion] as? Int64) {
            self[reason] = try container.decode(Int64.self, forKey: Key(stringValue: reason.rawValue))
        }
    }
}

/// A library's period and cutoff, as plans and manifests show them beside its counts
/// (`library == nil`: all rows of a policy without libraries, or rows whose library is NULL).
public struct LibraryPeriod: Codable, Sendable, Equatable {
    public var library: String?
    public var retain: String
    public var cutoff: String

    enum CodingKeys: String, CodingKey {
        case library, retain, cutoff
    }

    public init(library: String?, retain: String, cutoff: String) {
        self.library = library
        self.retain = retain
        self.cutoff = cutoff
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        library = try container.decode(String?.self, forKey: .library)
        retain = try container.decode(String.self, forKey: .retain)
        cutoff = try container.decode(String.self, forKey: .cutoff)
    }

    /// A library's entry in JSON: its period, its counts (the rows under `rowsKey`) and one field of
    /// its owner's (`extra`), all in one object.
    static func decode<Extra: Decodable>(from decoder: Decoder, rowsKey: String, extra key: String) throws
        -> (LibraryPeriod, Counts, Extra) {
        let extra = try decoder.container(keyedBy: Counts.Key.self).decode(Extra.self, forKey: Counts.Key(stringValue: key))
        return (try LibraryPeriod(from: decoder), try Counts(from: decoder, rowsKey: rowsKey), extra)
    }

    /// Writes a library's entry: the period, `counts` and `extra` under `key` (`nil` as `null`).
    func encode<Extra: Encodable>(to encoder: Encoder, counts: Counts, rowsKey: String, extra: Extra, key: String) throws {
        try encode(to: encoder)
        try counts.encode(to: encoder, rowsKey: rowsKey)
        var container = encoder.container(keyedBy: Counts.Key.self)
        try container.encode(extra, forKey: Counts.Key(stringValue: key))
    }

    /// Writes the three fields, `library` as `null` when there is none.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(library, forKey: .library)
        try container.encode(retain, forKey: .retain)
        try container.encode(cutoff, forKey: .cutoff)
    }
}

extension CodingUserInfoKey {
    /// The manifest version being written or read, so that members a later version added are left
    /// out of older manifests (which must read back byte for byte).
    static let manifestVersion = CodingUserInfoKey(rawValue: "retention.manifestVersion")!
}

extension KeptReason {
    /// The ledger's columns named as `Counts(row:)` reads them, for a `RETURNING` list:
    /// `library, rows, kept_hold AS kept_by_hold, ...`.
    static var ledgerReturning: String {
        (["library", "rows"] + allCases.map { "\($0.ledgerColumn) AS \($0.rawValue)" }).joined(separator: ", ")
    }

    /// The ledger's sums named as `Counts(row:)` reads them: `sum(rows) AS rows, sum(kept_hold) AS kept_by_hold, ...`.
    static var ledgerSums: String {
        (["sum(rows) AS rows"] + allCases.map { "sum(\($0.ledgerColumn)) AS \($0.rawValue)" }).joined(separator: ", ")
    }
}
