import Foundation

/// Builds the compliance report: verifies every manifest of the folder (as `retention verify`),
/// keeps those whose run started in the period, and sums them per night, policy and library.
public enum ReportBuilder {
    public static func build(_ request: ReportRequest, connection: Connection?, now: Date = Date()) throws -> ComplianceReport {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: request.manifestFolder, isDirectory: &isFolder), isFolder.boolValue else {
            throw UsageError("manifest folder \(visible(request.manifestFolder)) does not exist or is not a folder", exitCode: .config)
        }
        // Verified as `verify` does (the whole chain, so the period's first link is checked too); without a
        // key, the payloads are read as they claim to be and the verdict says it could not check.
        let key = try request.publicKeyPath.map { try SigningKeys.loadPublicKey(path: $0) }
        let verification: VerificationReport
        if let key {
            verification = try Verifier.verify(paths: [request.manifestFolder], key: key, connection: connection)
        } else {
            verification = VerificationReport(files: try Verifier.files(in: [request.manifestFolder]).map(unverified), general: [])
        }
        // A file takes its place in the period by the day its payload names, verified or not; what is
        // counted comes only from payloads a signature verified (or, without a key, from what they claim).
        let placed = verification.files.compactMap { verdict in (verdict.manifest ?? verdict.claimed).map { (verdict, $0) } }
        let days = placed.map { day(of: $0.1) }.sorted()
        guard let since = request.since ?? days.first, let until = request.until ?? days.last else {
            throw UsageError("no manifest in \(visible(request.manifestFolder)): nothing to report "
                             + "(give --since and --until to report a period without any)", exitCode: .config)
        }
        guard since <= until else {
            let problem = request.until == nil ? "--since \(since) is after the last manifest's day, \(until)"
                : request.since == nil ? "--until \(until) is before the first manifest's day, \(since)"
                : "--since \(since) is after --until \(until)"
            throw UsageError(problem, exitCode: .usage)
        }
        // A report's pages grow with its days: ten years is a board's longest look back.
        let period = dates(from: since, to: until, atMost: Self.longestPeriod + 1)
        guard period.count <= Self.longestPeriod else {
            throw UsageError("--since \(since) to --until \(until) is more than ten years; a report covers at most "
                             + "\(Self.longestPeriod) days: report a shorter period", exitCode: .usage)
        }
        let inPeriod = placed.filter { (since...until).contains(day(of: $0.1)) }
            .sorted { $0.1.sequence < $1.1.sequence }
        let counted = inPeriod.filter { key == nil || $0.0.manifest != nil }

        // Nights: the last run that started on each day.
        var byDay: [String: [(FileVerdict, Manifest)]] = [:]
        for entry in counted { byDay[day(of: entry.1), default: []].append(entry) }
        let nights = period.map { date in
            ComplianceReport.Night(date: date, status: byDay[date]?.last.map { .init(manifestStatus: $0.1.status) } ?? .missing,
                                   sequences: byDay[date]?.map(\.1.sequence) ?? [])
        }

        // Problems: files that fail a check (those of the period, and those no date can be read from),
        // the ledger's, missing nights and failed runs.
        var problems: [String] = []
        let unplaced = verification.files.filter { ($0.manifest ?? $0.claimed) == nil }
        for verdict in inPeriod.map(\.0) + unplaced where !verdict.problems.isEmpty {
            problems.append("\(fileName(verdict.path)): \(verdict.problems.joined(separator: "; "))")
        }
        problems += verification.general
        for night in nights where night.status == .missing { problems.append("no run on \(night.date)") }
        for (_, manifest) in counted where manifest.status == RunStatus.failed.rawValue {
            problems.append("run \(manifest.runID) (sequence \(manifest.sequence)) on \(day(of: manifest)) failed")
        }
        let present = nights.filter { $0.status != .missing }.count
        let runs = "\(present) of \(nights.count) nights from \(since) to \(until) have a run (\(counted.count) "
            + "\(counted.count == 1 ? "manifest" : "manifests"))"
        let verdict: ComplianceReport.Verdict
        if key == nil {
            verdict = .init(state: .couldNotCheck, summary: "no public key was given, so no signature was verified; \(runs).",
                            problems: problems)
        } else if problems.isEmpty {
            verdict = .init(state: .verified, summary: "\(runs), every one signed by key \(key!.keyID.prefix(16))… "
                            + "and chained to the one before without a gap.", problems: [])
        } else {
            verdict = .init(state: .failed, summary: "\(problems.count) \(problems.count == 1 ? "problem" : "problems") "
                            + "from \(since) to \(until); the first: \(problems[0]).", problems: problems)
        }

        let manifests = counted.map(\.1)
        return ComplianceReport(
            generatedAt: ISO8601DateFormatter().string(from: now), since: since, until: until, keyID: key?.keyID,
            verdict: verdict, nights: nights,
            policies: summaries(manifests, period: period),
            register: register(manifests, policies: request.policies),
            holds: try connection.map { try holds(on: $0, since: since, until: until) },
            files: inPeriod.map(\.0).map { verdict in
                let manifest = verdict.manifest ?? verdict.claimed
                return .init(name: fileName(verdict.path), sequence: manifest?.sequence,
                             status: verdict.manifest.map { knownStatus($0.status) } ?? (manifest == nil ? "unreadable" : "not verified"),
                             sha256: verdict.sha256, problems: verdict.problems)
            } + unplaced.map { .init(name: fileName($0.path), sequence: nil, status: "unreadable", sha256: $0.sha256, problems: $0.problems) },
            backupRetention: request.backupRetention, command: request.command)
    }

    /// A file read without a key: what its payload claims, and no problem found (none could be looked for).
    static func unverified(_ path: String) -> FileVerdict {
        let data: Data
        switch BoundedFile.read(path, atMost: BoundedFile.largestManifest) {
        case .success(let read): data = read
        case .failure(let problem): return FileVerdict(path: path, manifest: nil, sha256: "", problems: [problem.description])
        }
        var verdict = FileVerdict(path: path, manifest: nil, sha256: sha256Hex(data), problems: [])
        verdict.claimed = (try? DSSEEnvelope(fileData: data)).flatMap { try? Manifest(payload: $0.payload) }
        if verdict.claimed == nil { verdict.problems = ["not a readable manifest"] }
        return verdict
    }

    /// Per policy: rows per night, totals, kept counts, and per library the schedule's evidence.
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
            var last: ManifestPolicy?
            // Kept counts come from the last completed run (a library it does not list had nothing kept
            // there); until one is seen, from the latest run of any status. What remains due comes from
            // the latest run.
            var completedPolicy: ManifestPolicy?
            for manifest in manifests {
                guard let policy = manifest.policies.first(where: { $0.name == name }) else { continue }
                last = policy
                let completed = manifest.status == RunStatus.completed.rawValue
                if let night = index[day(of: manifest)] { perNight[night] += policy.rows }
                rows += policy.rows
                for reason in KeptReason.allCases { keptMost[reason] = max(keptMost[reason] ?? 0, policy.counts[reason]) }
                for method in [policy.action] + [policy.maintenance?.method].compactMap({ $0 }) where !methods.contains(method) {
                    methods.append(method)
                }
                for library in policy.libraries where libraries[library.library] == nil {
                    libraryOrder.append(library.library)
                    libraries[library.library] = .init(library: library.library, rows: 0, kept: [:], keptMost: [:], retain: "",
                                                       lastCutoff: "", stillDue: nil, oldestDueDays: nil)
                }
                let takesKept = completed || completedPolicy == nil
                for key in libraryOrder {
                    var summary = libraries[key]!
                    let entry = policy.libraries.first { $0.library == key }
                    if let entry {
                        summary.rows += entry.counts.rows
                        summary.retain = entry.period.retain
                        summary.lastCutoff = entry.period.cutoff
                        for reason in KeptReason.allCases {
                            summary.keptMost[reason] = max(summary.keptMost[reason] ?? 0, entry.counts[reason])
                        }
                    }
                    if takesKept {
                        for reason in KeptReason.allCases { summary.kept[reason] = entry?.counts[reason] ?? 0 }
                    }
                    // What remains due is the latest run's figure, whatever its status: a stopped night's
                    // backlog must not hide behind an earlier completed run's 0; not counted stays unknown.
                    let counted = policy.remaining.stillDue != nil
                    summary.stillDue = entry?.remaining.stillDue ?? (counted ? 0 : nil)
                    summary.oldestDueDays = entry?.remaining.oldestDueDays
                    libraries[key] = summary
                }
                if completed { completedPolicy = policy }
            }
            let lastKept = (completedPolicy ?? last)?.counts ?? Counts()
            return .init(name: name, action: last?.action ?? "", table: last?.table ?? "", perNight: perNight, rows: rows,
                         kept: Dictionary(uniqueKeysWithValues: KeptReason.allCases.map { ($0, lastKept[$0]) }),
                         keptMost: keptMost, libraries: libraryOrder.compactMap { libraries[$0] }, methods: methods)
        }
    }

    /// Each policy's versions as the runs recorded them, with the date a run first used each.
    static func register(_ manifests: [Manifest], policies: [Policy]) -> [ComplianceReport.PolicyVersion] {
        var register: [ComplianceReport.PolicyVersion] = []
        for manifest in manifests {
            for policy in manifest.policies {
                let latest = register.last { $0.name == policy.name }
                if latest?.version == policy.version && latest?.fileSHA256 == policy.fileSHA256 { continue }
                // A description is shown only from the file the run recorded (same digest), never guessed.
                let description = policies.first { $0.name == policy.name && $0.sha256 == policy.fileSHA256 }?.description
                register.append(.init(name: policy.name, version: policy.version, fileSHA256: policy.fileSHA256, action: policy.action,
                                      periods: periods(policy),
                                      description: description, since: day(of: manifest), sinceSequence: manifest.sequence))
            }
        }
        return register.sorted { ($0.name, $0.sinceSequence) < ($1.name, $1.sinceSequence) }
    }

    /// The policy's period, then each library's own where it differs: `30 days`, `SOUTH: 45 days`.
    static func periods(_ policy: ManifestPolicy) -> [String] {
        [policy.retain] + policy.libraries.filter { $0.library != nil && $0.period.retain != policy.retain }
            .map { "\($0.library!): \($0.period.retain)" }
    }

    /// Holds in force at some time of the period, without patron values: a patron hold reads "one patron".
    static func holds(on connection: Connection, since: String, until: String) throws -> [ComplianceReport.Hold] {
        try connection.query("""
            SELECT reference, reason, placed_by, patron IS NOT NULL AS one_patron, policy, library,
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
            return .init(reference: try row.string("reference"), reason: try row.string("reason"),
                         scope: scope.isEmpty ? "everything (all purging frozen)" : scope.joined(separator: ", "),
                         placedBy: try row.string("placed_by"), placedAt: try row.string("placed_at"),
                         releasedBy: try row.optional("released_by"), releasedAt: try row.optional("released_at"))
        }
    }

    /// A run status as the report shows it: one of the statuses runs have, else `unknown` (a payload,
    /// even a signed one, is not trusted to put words of its own into the page's markup).
    static func knownStatus(_ status: String) -> String {
        RunStatus(rawValue: status).map(\.rawValue) ?? "unknown"
    }

    /// The UTC day a run started on: the first ten characters of `started_at`.
    static func day(of manifest: Manifest) -> String { String(manifest.startedAt.prefix(10)) }

    static func fileName(_ path: String) -> String { (path as NSString).lastPathComponent }

    /// Every day from `since` to `until`, as `YYYY-MM-DD`.
    /// The days of a report: at most `ten years and a day` (`longestPeriod`), so the checks fit in memory.
    static let longestPeriod = 3_653

    /// Every day from `since` to `until`, at most `limit` of them.
    static func dates(from since: String, to until: String, atMost limit: Int = Int.max) -> [String] {
        guard var date = ReportRequest.day(since), let end = ReportRequest.day(until) else { return [] }
        let formatter = ReportRequest.utcDays
        var days: [String] = []
        while date <= end, days.count < limit {
            days.append(formatter.string(from: date))
            date += 86_400
        }
        return days
    }
}
