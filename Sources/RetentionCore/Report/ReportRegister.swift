import Foundation

/// The report's sums per policy, its register of policy versions and its register of holds, all
/// from the signed manifests of the period.
extension ReportBuilder {
    /// Per policy: rows per night and per version, totals, what the latest run kept and left due per library.
    static func summaries(_ manifests: [Manifest], period: [String]) -> [ComplianceReport.PolicySummary] {
        var order: [String] = []
        for manifest in manifests { for policy in manifest.policies where !order.contains(policy.name) { order.append(policy.name) } }
        let index = Dictionary(uniqueKeysWithValues: period.enumerated().map { ($1, $0) })
        return order.map { name in
            var perNight = Array(repeating: Int64(0), count: period.count)
            var rows: Int64 = 0
            var keptMost: [KeptReason: Int64] = [:]
            var libraries: [String?: ComplianceReport.LibrarySummary] = [:]
            var libraryOrder: [String?] = []
            var methods: [String] = []
            var byVersion: [ComplianceReport.VersionTotal] = []
            var last: (manifest: Manifest, policy: ManifestPolicy)?
            // Every figure of "now" (kept, still due) is the latest run's, whatever its status: a stopped
            // night's backlog must not hide behind an earlier completed run's 0.
            var uncountedSince: Manifest?
            for manifest in manifests {
                guard let policy = manifest.policies.first(where: { $0.name == name }) else { continue }
                last = (manifest, policy)
                let date = day(of: manifest)
                if let night = index[date] { perNight[night] += policy.rows }
                rows += policy.rows
                let periods = Self.periods(policy)
                if let previous = byVersion.last, previous.version == policy.version, previous.periods == periods {
                    byVersion[byVersion.count - 1].rows += policy.rows
                    byVersion[byVersion.count - 1].until = date
                } else {
                    byVersion.append(.init(version: policy.version, periods: periods, from: date, until: date, rows: policy.rows))
                }
                for reason in KeptReason.allCases { keptMost[reason] = max(keptMost[reason] ?? 0, policy.counts[reason]) }
                for method in [policy.action] + [policy.maintenance?.method].compactMap({ $0 }) where !methods.contains(method) {
                    methods.append(method)
                }
                uncountedSince = policy.remaining.stillDue == nil ? uncountedSince ?? manifest : nil
                for library in policy.libraries where libraries[library.library] == nil {
                    libraryOrder.append(library.library)
                    libraries[library.library] = .init(library: library.library, rows: 0, kept: [:], keptMost: [:], retain: "",
                                                       lastCutoff: "", stillDue: nil, oldestDueDays: nil)
                }
                for key in libraryOrder {
                    var summary = libraries[key]!
                    let entry = policy.libraries.first { $0.library == key }
                    if let entry {
                        summary.rows += entry.counts.rows
                        if let last = summary.byVersion.last, last.version == policy.version, last.periods == [entry.period.retain] {
                            summary.byVersion[summary.byVersion.count - 1].rows += entry.counts.rows
                            summary.byVersion[summary.byVersion.count - 1].until = date
                        } else {
                            summary.byVersion.append(.init(version: policy.version, periods: [entry.period.retain], from: date, until: date,
                                                           rows: entry.counts.rows))
                        }
                        summary.retain = entry.period.retain
                        summary.lastCutoff = entry.period.cutoff
                        for reason in KeptReason.allCases {
                            summary.keptMost[reason] = max(summary.keptMost[reason] ?? 0, entry.counts[reason])
                        }
                    }
                    for reason in KeptReason.allCases { summary.kept[reason] = entry?.counts[reason] ?? 0 }
                    let counted = policy.remaining.stillDue != nil
                    summary.stillDue = entry?.remaining.stillDue ?? (counted ? 0 : nil)
                    summary.oldestDueDays = entry?.remaining.oldestDueDays
                    summary.unknownSince = uncountedSince.map(reference)
                    libraries[key] = summary
                }
            }
            let lastKept = last?.policy.counts ?? Counts()
            return .init(name: name, action: last?.policy.action ?? "", table: last?.policy.table ?? "", perNight: perNight, rows: rows,
                         kept: Dictionary(uniqueKeysWithValues: KeptReason.allCases.map { ($0, lastKept[$0]) }),
                         keptMost: keptMost, latestRun: last.map { reference($0.manifest) },
                         libraries: libraryOrder.compactMap { libraries[$0] }, methods: methods, byVersion: byVersion)
        }
    }

    /// Each policy's versions as the runs recorded them: from the first run that used each to the
    /// last, its words from the manifest (or, for older manifests, the policy file of the same digest),
    /// and what changed from the version before.
    static func register(_ manifests: [Manifest], policies: [Policy]) -> [ComplianceReport.PolicyVersion] {
        var register: [ComplianceReport.PolicyVersion] = []
        for manifest in manifests {
            for policy in manifest.policies {
                let latest = register.lastIndex { $0.name == policy.name }
                if let latest, register[latest].version == policy.version && register[latest].fileSHA256 == policy.fileSHA256 {
                    register[latest].until = day(of: manifest)
                    continue
                }
                // A description is shown only as the run recorded it, or from the file of the recorded digest: never guessed.
                let file = policies.first { $0.name == policy.name && $0.sha256 == policy.fileSHA256 }
                let words = policy.words ?? file.map(PolicyWords.init)
                var entry = ComplianceReport.PolicyVersion(
                    name: policy.name, version: policy.version, fileSHA256: policy.fileSHA256, action: policy.action,
                    periods: periods(policy), description: words?.description, rules: words?.rules,
                    since: day(of: manifest), sinceSequence: manifest.sequence, until: day(of: manifest), changes: [])
                if let latest { entry.changes = changes(from: register[latest], to: entry) }
                register.append(entry)
            }
        }
        return register.sorted { ($0.name, $0.sinceSequence) < ($1.name, $1.sinceSequence) }
    }

    /// What changed between two versions of a policy, in words: `period 60 days -> 45 days`.
    static func changes(from old: ComplianceReport.PolicyVersion, to new: ComplianceReport.PolicyVersion) -> [String] {
        var changes: [String] = []
        if old.version != new.version { changes.append("version \(old.version) -> \(new.version)") }
        if old.action != new.action { changes.append("action \(old.action) -> \(new.action)") }
        func split(_ periods: [String]) -> [String: String] {
            Dictionary(periods.enumerated().map { index, text in
                guard index > 0, let colon = text.range(of: ": ") else { return ("", text) }
                return (String(text[..<colon.lowerBound]), String(text[colon.upperBound...]))
            }) { first, _ in first }
        }
        let before = split(old.periods), after = split(new.periods)
        for library in Set(before.keys).union(after.keys).sorted() where before[library] != after[library] {
            let what = library.isEmpty ? "period" : "period of library \(library)"
            changes.append("\(what) \(before[library] ?? "the policy's") -> \(after[library] ?? "the policy's")")
        }
        if let a = old.description, let b = new.description, a != b { changes.append("description rewritten") }
        if let a = old.rules, let b = new.rules {
            changes += b.filter { !a.contains($0) && !$0.hasPrefix("deletes ") && !$0.hasPrefix("anonymizes ") }.map { "rule added: \($0)" }
            changes += a.filter { !b.contains($0) && !$0.hasPrefix("deletes ") && !$0.hasPrefix("anonymizes ") }.map { "rule removed: \($0)" }
        }
        if changes.isEmpty || (changes.count == 1 && old.version != new.version) {
            changes.append("policy file changed (SHA-256 \(old.fileSHA256.prefix(12))… -> \(new.fileSHA256.prefix(12))…)"
                           + (old.rules == nil || new.rules == nil ? "" : "; nothing the manifests record in words"))
        }
        return changes
    }

    /// The policy's period, then each library's own where it differs: `30 days`, `SOUTH: 45 days`.
    static func periods(_ policy: ManifestPolicy) -> [String] {
        [policy.retain] + policy.libraries.filter { $0.library != nil && $0.period.retain != policy.retain }
            .map { "\($0.library!): \($0.period.retain)" }
    }

    /// The holds the period's manifests record, each as its newest record says; `nil` when no
    /// manifest of the period records holds (all written before manifest version 6).
    static func holds(_ manifests: [Manifest]) -> [ComplianceReport.Hold]? {
        guard manifests.contains(where: { $0.holds != nil }) else { return nil }
        var holds: [Int64: ComplianceReport.Hold] = [:]
        for manifest in manifests {
            for hold in manifest.holds ?? [] {
                var scope: [String] = []
                if hold.kind == "patron" { scope.append("one patron") }
                if let policy = hold.policy { scope.append("policy \(policy)") }
                if let library = hold.library { scope.append("library \(library)") }
                if let from = hold.from { scope.append("from \(from)") }
                if let until = hold.until { scope.append("until \(until) (not included)") }
                if let zone = hold.timeZone { scope.append("days in \(zone)") }
                func who(_ role: String?, _ user: String?) -> String? {
                    guard let role else { return nil }
                    return user.map { "\($0) (database role \(role))" } ?? "database role \(role) (the person was not recorded)"
                }
                holds[hold.id] = .init(id: hold.id, reference: hold.reference, reason: hold.reason,
                                       scope: hold.kind == "everything" ? "everything (all purging frozen)" : scope.joined(separator: ", "),
                                       placedBy: who(hold.placedBy, hold.placedByUser) ?? "", placedAt: hold.placedAt,
                                       releasedBy: who(hold.releasedBy, hold.releasedByUser), releasedAt: hold.releasedAt,
                                       firstRecorded: holds[hold.id]?.firstRecorded ?? manifest.sequence, lastRecorded: manifest.sequence)
            }
        }
        return holds.values.sorted { $0.id < $1.id }
    }
    /// Holds in force at some time of the period from the database (`--ledger`, for manifests older than
    /// version 6, which do not record them), without patron values: a patron hold reads "one patron".
    static func holds(on connection: Connection, since: String, until: String) throws -> [ComplianceReport.Hold] {
        try connection.query("""
            SELECT id, reference, reason, placed_by, patron IS NOT NULL AS one_patron, policy, library,
                   to_char(held_from AT TIME ZONE coalesce(time_zone, 'UTC'), 'YYYY-MM-DD') AS held_from,
                   to_char(held_until AT TIME ZONE coalesce(time_zone, 'UTC'), 'YYYY-MM-DD') AS held_until,
                   to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS placed_at, released_by,
                   to_char(released_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS released_at
            FROM retention.holds
            WHERE placed_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
              AND (released_at IS NULL OR released_at >= $1::date::timestamp AT TIME ZONE 'UTC')
            ORDER BY placed_at, id
            """, [since, until]).rows.map { row in
            var scope: [String] = []
            if try row.bool("one_patron") { scope.append("one patron") }
            if let policy = try row.optional("policy") { scope.append("policy \(policy)") }
            if let library = try row.optional("library") { scope.append("library \(library)") }
            if let from = try row.optional("held_from") { scope.append("from \(from)") }
            if let until = try row.optional("held_until") { scope.append("until \(until)") }
            return .init(id: try row.int64("id"), reference: ManifestHold.withoutNumbers(try row.string("reference")),
                         reason: ManifestHold.withoutNumbers(try row.string("reason")),
                         scope: scope.isEmpty ? "everything (all purging frozen)" : scope.joined(separator: ", "),
                         placedBy: "database role " + (try row.string("placed_by")), placedAt: try row.string("placed_at"),
                         releasedBy: try row.optional("released_by").map { "database role " + $0 }, releasedAt: try row.optional("released_at"),
                         firstRecorded: 0, lastRecorded: 0)
        }
    }

}
