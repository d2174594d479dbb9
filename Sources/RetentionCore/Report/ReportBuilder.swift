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
            verification = try Verifier.verify(paths: [request.manifestFolder], key: key, connection: connection,
                                               timestampAuthorities: try request.timestampCA.map(TimestampAuthority.loadAuthorities))
        } else {
            verification = VerificationReport(files: try Verifier.files(in: [request.manifestFolder]).map(unverified), general: [])
        }
        // A file takes its place in the period by the day its payload names, verified or not; what is
        // counted comes only from payloads a signature verified (or, without a key, from what they claim).
        let witnessed = try request.witness.map { witness in
            try Witness.findings(folder: witness.checkpoints, key: try SigningKeys.loadPublicKey(path: witness.key),
                                 manifests: verification, manifestKey: key)
        }
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
        let manifests = counted.map(\.1)

        // Nights: the last run that started on each day; a day without one is a night without a run,
        // unless a manifest of that day fails its check (altered) or the chain has a gap there (removed).
        var byDay: [String: [Manifest]] = [:]
        for manifest in manifests { byDay[day(of: manifest), default: []].append(manifest) }
        let gaps = ReportProblems.gaps(verification.files.compactMap(ReportProblems.Place.init))
        let removed = Set(gaps.flatMap(\.days))
        let altered = Set(verification.files.filter { $0.manifest == nil || !$0.problems.isEmpty }
            .compactMap { ReportProblems.Place($0)?.day })
        // A manifest re-signed after the officer witnessed it verifies with the batch key: its night is altered all the same.
        let rewritten = Set(witnessed?.changes.compactMap(\.night) ?? [])
        let nights = period.map { date in
            let status: ComplianceReport.NightStatus = rewritten.contains(date) ? .altered
                : byDay[date]?.last.map { .init(manifestStatus: $0.status) }
                ?? (altered.contains(date) ? .altered : removed.contains(date) ? .removed : .missing)
            return ComplianceReport.Night(date: date, status: status, sequences: byDay[date]?.map(\.sequence) ?? [])
        }

        let unplaced = verification.files.filter { ($0.manifest ?? $0.claimed) == nil }
        let problems = (ReportProblems.evidence(files: inPeriod.map(\.0) + unplaced, general: verification.general, gaps: gaps,
                                                counted: manifests, period: since...until)
            + ReportProblems.schedule(nights: nights, counted: manifests, chainBegins: days.first)
            + ReportProblems.witnessed(witnessed))
            .enumerated().sorted { ($0.element.date ?? "", $0.offset) < ($1.element.date ?? "", $1.offset) }.map(\.element)
        let present = nights.filter { !byDay[$0.date, default: []].isEmpty }.count
        let runs = "\(present) of \(nights.count) nights from \(since) to \(until) have a run (\(counted.count) "
            + "\(counted.count == 1 ? "manifest" : "manifests"))"
            + (days.first.map { $0 > since ? "; the manifests begin on \($0)" : "" } ?? "")
        let verdict: ComplianceReport.Verdict
        // Without a key no signature is checked, but a removed manifest, a night without a run or rows
        // left due need none: those still make the verdict "not verified".
        if key == nil && problems.isEmpty {
            verdict = .init(state: .couldNotCheck, summary: "no public key was given, so no signature was verified; \(runs).",
                            problems: problems)
        } else if problems.isEmpty {
            verdict = .init(state: .verified, summary: "\(runs), every one signed by key \(key!.keyID.prefix(16))… "
                            + "and chained to the one before without a gap; nothing was left due"
                            + (witnessed.map { "; \($0.summary)" } ?? "") + ".", problems: [])
        } else {
            let evidence = problems.filter { $0.kind == .evidence }.count, schedule = problems.count - evidence
            let counts = [(evidence, "evidence altered or missing"), (schedule, "schedule not kept")].filter { $0.0 > 0 }
                .map { "\($0.1): \($0.0)" }.joined(separator: "; ")
            verdict = .init(state: .failed, summary: "\(problems.count) \(problems.count == 1 ? "problem" : "problems") from \(since) "
                            + "to \(until) (\(counts)); \(runs)"
                            + (key == nil ? "; no public key was given, so no signature was verified." : "."), problems: problems)
        }

        let latest = manifests.last.map(reference)
        return ComplianceReport(
            generatedAt: ISO8601DateFormatter().string(from: now), timeZone: request.timeZone, since: since, until: until,
            keyID: key?.keyID, verdict: verdict, nights: nights,
            policies: summaries(manifests, period: period),
            register: register(manifests, policies: request.policies),
            holds: try holds(manifests) ?? connection.map { try holds(on: $0, since: since, until: until) },
            latestRun: latest, witnessed: witnessed.map { $0.isClean ? $0.summary : "the chain changed after it was \($0.summary)" },
            files: appendix(verification.files, gaps: gaps, period: since...until),
            excludedNights: nights.filter { [.altered, .removed].contains($0.status) }.map(\.date),
            backupRetention: request.backupRetention, command: request.command)
    }

    /// The appendix's lines: every file of the period in sequence order (a file whose payload cannot
    /// be read in the place its name gives it), and a line for each manifest missing from the chain.
    static func appendix(_ files: [FileVerdict], gaps: [ReportProblems.Gap], period: ClosedRange<String>) -> [ComplianceReport.ManifestFile] {
        var lines: [ComplianceReport.ManifestFile] = files.compactMap { verdict in
            let place = ReportProblems.Place(verdict)
            guard place.map({ period.contains($0.day) }) ?? true else { return nil }
            let status = verdict.manifest.map { knownStatus($0.status) }
                ?? (verdict.claimed != nil ? "altered" : place != nil ? "altered (unreadable)" : "unreadable")
            return .init(name: fileName(verdict.path), sequence: place?.sequence, status: status, sha256: verdict.sha256,
                         problems: verdict.problems.map {
                             $0.hasPrefix("sequence gap:") && !gaps.contains { gap in gap.before.sequence == place?.sequence }
                                 ? "the manifest before it fails its check" : $0
                         })
        }
        for gap in gaps where gap.days.contains(where: period.contains) {
            for sequence in gap.missing.prefix(100) {
                lines.append(.init(name: "(missing)", sequence: sequence, status: "missing", sha256: "",
                                   problems: ["removed from the folder between manifest \(gap.after.sequence) and \(gap.before.sequence)"]))
            }
        }
        return lines.sorted { ($0.sequence ?? .max) < ($1.sequence ?? .max) }
    }

    /// The run a figure comes from.
    static func reference(_ manifest: Manifest) -> ComplianceReport.RunReference {
        .init(sequence: manifest.sequence, date: day(of: manifest), status: knownStatus(manifest.status))
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
