import Foundation

/// Finds what is wrong in a report's period, in two kinds: evidence altered or missing, and the
/// schedule not kept; each with the day it concerns, so the headline can list them in date order.
enum ReportProblems {
    typealias Problem = ComplianceReport.Problem

    /// Where a file stands in the chain: its sequence and day, from its payload (verified or only
    /// claimed) or, for a file whose payload cannot be read at all, from its name (never trusted for
    /// counts, only to say which night an unreadable file stands for).
    struct Place {
        let sequence: Int64
        let day: String

        init(sequence: Int64, day: String) {
            self.sequence = sequence
            self.day = day
        }

        init?(_ verdict: FileVerdict) {
            if let manifest = verdict.manifest ?? verdict.claimed {
                self.init(sequence: manifest.sequence, day: ReportBuilder.day(of: manifest))
                return
            }
            // `20260610T021500Z-000160.manifest.json`, as `Manifest.fileName` writes it.
            let name = ReportBuilder.fileName(verdict.path)
            guard name.count == 37, name.hasSuffix(".manifest.json"), let sequence = Int64(name.dropFirst(17).prefix(6)) else { return nil }
            let digits = name.prefix(8)
            let day = "\(digits.prefix(4))-\(digits.dropFirst(4).prefix(2))-\(digits.dropFirst(6))"
            guard ReportRequest.day(day) != nil else { return nil }
            self.init(sequence: sequence, day: day)
        }
    }

    /// A break in the chain: the manifests after `after` up to `before` are not among the files.
    struct Gap {
        let after: Place
        let before: Place
        var missing: ClosedRange<Int64> { (after.sequence + 1)...(before.sequence - 1) }
        /// The nights a removed manifest may have been made on.
        var days: [String] { ReportBuilder.dates(from: after.day, to: before.day) }
    }

    /// The gaps of the folder's chain, from every file that has a place.
    static func gaps(_ places: [Place]) -> [Gap] {
        let sorted = places.sorted { $0.sequence < $1.sequence }
        return zip(sorted, sorted.dropFirst()).compactMap { after, before in
            before.sequence > after.sequence + 1 ? Gap(after: after, before: before) : nil
        }
    }

    /// Evidence problems: files that fail a check, the chain's gaps, the ledger's findings and
    /// restores, each named by file or sequence.
    static func evidence(files: [FileVerdict], general: [String], gaps: [Gap], counted: [Manifest],
                         period: ClosedRange<String>) -> [Problem] {
        var problems: [Problem] = []
        for verdict in files {
            // The verifier names a gap on the file after it; the report names the missing sequences instead.
            let own = verdict.problems.filter { !$0.hasPrefix("sequence gap:") }
            let name = ReportBuilder.fileName(verdict.path), place = Place(verdict)
            // A file of another period is that period's problem (the appendix still shows its check).
            guard !own.isEmpty, place.map({ period.contains($0.day) }) ?? true else { continue }
            let which = place.map { "manifest \($0.sequence) (\(name))" } ?? "file \(name)"
            let altered = verdict.manifest == nil && place != nil ? " was altered or is not this key's: " : ": "
            problems.append(Problem(kind: .evidence, date: place?.day, text: which + altered + own.joined(separator: "; ")))
        }
        for gap in gaps where gap.days.contains(where: period.contains) {
            let range = gap.missing.count == 1 ? "manifest \(gap.missing.lowerBound) is" : "manifests \(gap.missing.lowerBound)-\(gap.missing.upperBound) are"
            problems.append(Problem(kind: .evidence, date: gap.days.dropFirst().first ?? gap.after.day,
                                    text: "\(range) missing from the folder: removed from the chain between manifest \(gap.after.sequence) "
                                        + "(\(gap.after.day)) and manifest \(gap.before.sequence) (\(gap.before.day))"))
        }
        problems += general.map { Problem(kind: .evidence, date: nil, text: $0) }
        for manifest in counted where manifest.status == RunStatus.restored.rawValue {
            let lost = manifest.gap.map { "\($0.runsLost) \($0.runsLost == 1 ? "run" : "runs") whose manifests the restore lost" } ?? "runs lost"
            problems.append(Problem(kind: .evidence, date: ReportBuilder.day(of: manifest),
                                    text: "the database was restored from a backup behind its evidence (manifest \(manifest.sequence) records it): \(lost)"))
        }
        return problems
    }

    /// Schedule problems: nights without a run, runs that did not complete (why, in plain words,
    /// and when their rows were purged after all), and what the latest run left due or did not count.
    /// Nights before the folder's first manifest (`chainBegins`) are before the job ran at all, not nights it missed.
    static func schedule(nights: [ComplianceReport.Night], counted: [Manifest], chainBegins: String? = nil) -> [Problem] {
        var problems = nights.filter { $0.status == .missing && $0.date >= (chainBegins ?? "") }
            .map { Problem(kind: .schedule, date: $0.date, text: "no run") }
        for (index, manifest) in counted.enumerated() {
            guard let cause = cause(of: manifest) else { continue }
            problems.append(Problem(kind: .schedule, date: ReportBuilder.day(of: manifest),
                                    text: "run \(manifest.sequence) \(cause); \(lateness(after: index, in: counted))"))
        }
        // `run --only`: a policy the folder had and the run left out is a night without its purge,
        // unless another run of that night applied it.
        for (day, runs) in Dictionary(grouping: counted, by: ReportBuilder.day(of:)).sorted(by: { $0.key < $1.key }) {
            let applied = Set(runs.flatMap { $0.policies.map(\.name) })
            let leftOut = Set(runs.flatMap(\.leftOut)).subtracting(applied).sorted()
            guard !leftOut.isEmpty else { continue }
            problems.append(Problem(kind: .schedule, date: day,
                                    text: "\(leftOut.count == 1 ? "policy" : "policies") \(leftOut.map(visible).joined(separator: ", ")) "
                                        + "left out of the night's run (run --only): not purged that night"))
        }
        if let latest = counted.last {
            for policy in latest.policies {
                let reference = "manifest \(latest.sequence) (\(ReportBuilder.day(of: latest)))"
                switch policy.remaining.stillDue {
                case nil:
                    let since = counted.lastIndex { $0.policies.first { $0.name == policy.name }?.remaining.stillDue != nil }
                        .map { counted.index(after: $0) } ?? counted.startIndex
                    let first = counted[since]
                    problems.append(Problem(kind: .schedule, date: ReportBuilder.day(of: latest),
                                            text: "policy \(visible(policy.name)): what remains due is unknown since manifest "
                                                + "\(first.sequence) (\(ReportBuilder.day(of: first))): no run since counted it"))
                case let due? where due > 0:
                    let oldest = policy.remaining.oldestDueDays.map { ", the oldest dated \($0) days before the run" } ?? ""
                    problems.append(Problem(kind: .schedule, date: ReportBuilder.day(of: latest),
                                            text: "policy \(visible(policy.name)): \(TextTable.grouped(due)) rows past their period "
                                                + "remained after the latest run, \(reference)\(oldest)"))
                default: break
                }
            }
        }
        return problems
    }

    /// Evidence problems the officer's checkpoints find: a manifest re-signed, replaced or removed
    /// after she witnessed it, or a checkpoint folder that is not hers or was altered.
    static func witnessed(_ findings: WitnessFindings?) -> [Problem] {
        guard let findings else { return [] }
        return findings.folderProblems.map { Problem(kind: .evidence, date: nil, text: $0) }
            + findings.changes.map { Problem(kind: .evidence, date: $0.night, text: $0.text) }
    }

    /// Why a run did not complete, in plain words; `nil` for a completed (or restored) run.
    static func cause(of manifest: Manifest) -> String? {
        switch RunStatus(rawValue: manifest.status) {
        case .completed?, .restored?, .running?: return nil
        case .stopped?:
            if let cap = manifest.options["max_rows"]?.int, manifest.policies.reduce(0, { $0 + $1.rows }) >= cap {
                return "stopped at its row cap of \(TextTable.grouped(cap)) rows a night"
            }
            if let seconds = manifest.options["max_runtime_seconds"]?.int {
                return "stopped at its time limit (\(Runner.words(Double(seconds))))"
            }
            return "stopped before it was done"
        case .interrupted?: return "was interrupted by a stop signal (a shutdown, or systemctl stop)"
        case .recovered?: return "died during the run (killed, or the machine stopped); the next run recorded what it had done"
        case .failed?: return "failed: " + failure(manifest.error)
        case nil: return "ended with a status this program does not know"
        }
    }

    /// A failed run's error in plain words, then the program's own text (never row data).
    static func failure(_ error: String?) -> String {
        guard let error else { return "no cause recorded" }
        let lower = error.lowercased()
        let words: [(match: [String], plain: String)] = [
            (["57014", "statement timeout", "canceling statement"], "a statement ran past its time limit"),
            (["55p03", "lock timeout", "lock-timeout", "for a lock", "could not obtain lock"], "a table stayed locked by other work"),
            (["40p01", "40001", "deadlock"], "it collided with other work on the same rows"),
            (["57p01", "57p02", "57p03", "08006", "08003", "08001", "connection", "server closed"],
             "the connection to the database was lost (a server restart or the network)"),
            (["53100", "no space", "disk full"], "the database server's disk was full"),
            (["42501", "permission denied", "privilege"], "the job's database role lacked a privilege"),
            (["session", "count", "proof", "changed"], "a safety check stopped it before anything unproven was recorded"),
        ]
        let plain = words.first { $0.match.contains(where: lower.contains) }?.plain ?? "an error"
        // Cut at a word, not inside one.
        var text = error
        if text.count > 160 {
            text = String(text.prefix(157))
            if let space = text.lastIndex(of: " ") { text = String(text[..<space]) }
            text += " …"
        }
        return "\(plain) (\(visible(text)))"
    }

    /// When the rows a run left were purged after all: by the next run that left nothing due.
    static func lateness(after index: Int, in counted: [Manifest]) -> String {
        let run = counted[index]
        let left = run.policies.map(\.remaining.stillDue)
        if !left.isEmpty && left.allSatisfy({ $0 == 0 }) { return "it left nothing due" }
        // Only a run that applied every policy this one left due (or did not count) caught up with it.
        let pending = run.policies.filter { $0.remaining.stillDue != 0 }.map(\.name)
        for later in counted[(index + 1)...] where later.status == RunStatus.completed.rawValue
            && later.policies.allSatisfy({ $0.remaining.stillDue == 0 })
            && pending.allSatisfy({ name in later.policies.contains { $0.name == name } }) {
            let late = ReportBuilder.dates(from: ReportBuilder.day(of: run), to: ReportBuilder.day(of: later)).count - 1
            return "its rows were purged by run \(later.sequence) on \(ReportBuilder.day(of: later)), "
                + "\(late) \(late == 1 ? "night" : "nights") late"
        }
        return "its rows were still due at the end of the period"
    }
}
