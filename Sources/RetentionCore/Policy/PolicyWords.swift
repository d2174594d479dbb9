/// A policy in plain words, as each run records it in its manifest for the compliance report.
///
/// The manifest is the report's only source: a register of policy versions must not depend on the
/// policy files of the day the report is made. The words name columns, tables and the policy's own
/// literals, never a value of a row.
public struct PolicyWords: Codable, Sendable, Equatable {
    /// The policy's `description`: the operational need it serves.
    public var description: String
    /// What the policy does and what keeps a row, one sentence each, in a fixed order.
    public var rules: [String]

    /// The manifest version that first records a policy's words (and the holds, `ManifestHold`).
    static let manifestVersion: Int64 = 6

    public init(description: String, rules: [String]) {
        self.description = description
        self.rules = rules
    }

    public init(_ policy: Policy) {
        // A folded YAML scalar (`>`) ends with a line break that is no part of the words.
        description = policy.description.trimmingCharacters(in: .whitespacesAndNewlines)
        var rules: [String] = []
        let rows = "rows of \(policy.table.description)"
        switch policy.action {
        case .delete:
            rules.append("deletes \(rows) whose \(policy.age) is older than \(policy.retain)")
        case .anonymize:
            let columns = policy.set.map { $0.value == nil ? "\($0.column) (emptied)" : "\($0.column) (replaced)" }
            rules.append("anonymizes \(rows) whose \(policy.age) is older than \(policy.retain): "
                         + columns.joined(separator: ", "))
        }
        if let libraries = policy.libraries {
            let own = libraries.retain.map { "\($0.library) \($0.period)" }
            rules.append("library by column \(libraries.column)"
                         + (own.isEmpty ? "" : "; own periods: " + own.joined(separator: ", ")))
        }
        if let patron = policy.patron {
            rules.append("legal holds on a patron match column \(patron); holds by policy, library and dates apply too")
        } else {
            rules.append("legal holds by policy, library and dates apply (no patron column)")
        }
        if let consent = policy.consent {
            var limits: [String] = []
            if let since = consent.since { limits.append("from the date in \(since)") }
            if let keepFor = consent.keepFor { limits.append("for the time in \(keepFor)") }
            if let newest = consent.keepNewest { limits.append("the newest as many as \(newest) says") }
            rules.append("patron chose to keep history: kept while \(consent.table.description).\(consent.keepIf) "
                         + "is true for the patron (\(consent.key))" + (limits.isEmpty ? "" : ", " + limits.joined(separator: ", ")))
        }
        if !policy.keepWhen.isEmpty {
            rules.append("kept by rule while: " + policy.keepWhen.map(Self.words).joined(separator: "; or "))
        }
        if let newest = policy.keepNewest {
            rules.append("keeps the newest \(newest.count) of each \(newest.per) by \(newest.order)")
        }
        if !policy.cascade.isEmpty {
            rules.append("deleting also changes, through foreign keys: " + policy.cascade.map(\.description).joined(separator: ", "))
        }
        if !policy.triggers.isEmpty {
            rules.append("declared triggers that change rows: " + policy.triggers.map(\.description).joined(separator: ", "))
        }
        self.rules = rules
    }

    /// One `keep_when` condition as a reader says it: `status in (LOST, CLAIMED)`.
    static func words(_ condition: Condition) -> String {
        switch condition.op.arity {
        case .none: return "\(condition.column) \(condition.op.rawValue)"
        case .one: return "\(condition.column) \(condition.op.rawValue) \(condition.values.first ?? "")"
        case .list: return "\(condition.column) \(condition.op.rawValue) (\(condition.values.joined(separator: ", ")))"
        }
    }
}
