import Foundation

/// What the report's template shows, in the form it shows it: plain words, grouped numbers, times
/// to the minute in the consortium's zone, dated chart geometry and a calendar of nights, all
/// computed here so that the template only places them.
struct ReportPage {
    let report: ComplianceReport
    let paper: String
    let verdictWord, verdictClass, keyFingerprint, generated, zone: String
    let problems: [ProblemRow]
    let hasProblems: Bool
    let latest: String
    let months: [MonthView]
    let legend: [Legend]
    let exceptions: [ExceptionRow]
    let hasExceptions: Bool
    let policies: [PolicyView]
    let register: [RegisterRow]
    let changes: [ChangeRow]
    let hasChanges: Bool
    let holds: [HoldRow]
    let hasHolds, holdsKnown: Bool
    let keptByHold: [NamedCount]
    let backupRetention: String
    /// The nights the totals leave out (altered or missing evidence), or nil.
    let excluded: String?
    let files: [FileRow]
    let glossary: [Term]

    init(_ report: ComplianceReport, paper: ReportRendering.Paper) {
        self.report = report
        self.paper = paper.css
        let time = ReportTime(zone: report.timeZone)
        switch report.verdict.state {
        case .verified: (verdictWord, verdictClass) = ("Verified", "ok")
        case .failed: (verdictWord, verdictClass) = ("Not verified", "bad")
        case .couldNotCheck: (verdictWord, verdictClass) = ("Could not check", "unknown")
        }
        keyFingerprint = report.keyID ?? "no public key given"
        generated = time.minute(report.generatedAt)
        zone = time.name
        problems = report.verdict.problems.map { ProblemRow(date: $0.date ?? "", kind: $0.heading, kindClass: $0.kind.rawValue, text: $0.text) }
        hasProblems = !problems.isEmpty
        latest = report.latestRun.map(Self.describe) ?? "no run in the period"
        months = MonthView.months(report.nights)
        legend = NightWords.order.map { Legend(status: $0.rawValue, symbol: NightWords.symbol($0), meaning: NightWords.meaning($0)) }
        exceptions = report.nights.filter { $0.status != .completed }.map {
            ExceptionRow(date: $0.date, status: $0.status.rawValue, meaning: NightWords.meaning($0.status),
                         sequences: $0.sequences.map(String.init).joined(separator: ", "))
        }
        hasExceptions = !exceptions.isEmpty
        policies = report.policies.map { policy in
            PolicyView(policy, nights: report.nights, rules: report.register.last { $0.name == policy.name }?.rules ?? [], time: time)
        }
        register = report.register.map(RegisterRow.init)
        changes = report.register.filter { !$0.changes.isEmpty }.map {
            ChangeRow(date: $0.since, sequence: "\($0.sinceSequence)", name: $0.name, text: $0.changes.joined(separator: "; "))
        }
        hasChanges = !changes.isEmpty
        holds = (report.holds ?? []).map { HoldRow($0, time: time) }
        hasHolds = !holds.isEmpty
        holdsKnown = report.holds != nil
        keptByHold = report.policies.map { policy in
            NamedCount(name: policy.name, count: TextTable.grouped(policy.kept[.hold] ?? 0),
                       most: TextTable.grouped(policy.keptMost[.hold] ?? 0), run: policy.latestRun.map(Self.describe) ?? "")
        }
        backupRetention = report.backupRetention ?? "not stated (give --backup-retention, as the library's backup policy says)"
        files = report.files.map(FileRow.init)
        excluded = report.excludedNights.isEmpty ? nil : report.excludedNights.joined(separator: ", ")
        glossary = Term.all
    }

    /// A run as figures cite it: `manifest 301 of 2026-10-28 (stopped)`.
    static func describe(_ run: ComplianceReport.RunReference) -> String {
        "manifest \(run.sequence) of \(run.date) (\(run.status))"
    }

    struct ProblemRow { let date, kind, kindClass, text: String }
    struct Legend { let status, symbol, meaning: String }
    struct ExceptionRow { let date, status, meaning, sequences: String }
    struct NamedCount {
        let name, count: String
        var most = ""
        var run = ""
    }
    struct ChangeRow { let date, sequence, name, text: String }
    struct Term { let term, meaning: String }

    struct RegisterRow {
        let name, version, action, periods, inForce, sha256: String
        let description: String?
        let rules: [String]
        let hasRules: Bool
        init(_ row: ComplianceReport.PolicyVersion) {
            name = row.name
            version = "\(row.version)"
            action = row.action
            periods = row.periods.joined(separator: "; ")
            inForce = row.since == row.until ? "\(row.since) (manifest \(row.sinceSequence))"
                : "\(row.since) to \(row.until) (from manifest \(row.sinceSequence))"
            sha256 = row.fileSHA256
            description = row.description
            rules = row.rules ?? []
            hasRules = !(row.rules ?? []).isEmpty
        }
    }

    struct HoldRow {
        let id, reference, reason, scope, placed, released, recorded: String
        init(_ hold: ComplianceReport.Hold, time: ReportTime) {
            id = "\(hold.id)"
            reference = hold.reference
            reason = hold.reason
            scope = hold.scope
            placed = "\(time.minute(hold.placedAt)) by \(hold.placedBy)"
            released = hold.releasedAt.map { "\(time.minute($0)) by \(hold.releasedBy ?? "?")" } ?? "in force"
            recorded = hold.firstRecorded == 0 ? "from the database (--ledger)"
                : hold.firstRecorded == hold.lastRecorded ? "manifest \(hold.firstRecorded)"
                : "manifests \(hold.firstRecorded) to \(hold.lastRecorded)"
        }
    }

    struct FileRow {
        let name, sequence, status, sha256, problems: String
        let bad: Bool
        init(_ file: ComplianceReport.ManifestFile) {
            name = file.name
            sequence = file.sequence.map { "\($0)" } ?? "-"
            status = file.status
            sha256 = file.sha256
            problems = file.problems.isEmpty ? "OK" : file.problems.joined(separator: "; ")
            bad = !file.problems.isEmpty
        }
    }
}

extension ReportPage.Term {
    static let all: [Self] = [
        .init(term: "manifest", meaning: "the signed record one nightly run writes: what it purged and kept, counts only, never a patron's data."),
        .init(term: "chain", meaning: "each manifest carries the fingerprint of the one before it, so a removed or altered manifest shows."),
        .init(term: "signature, key fingerprint", meaning: "proof that the program's key wrote the manifest and that no byte changed since; "
              + "the fingerprint names the key."),
        .init(term: "policy, version", meaning: "a written rule: which records, how long they are kept (the period), what keeps one longer. "
              + "A change gets a new version, recorded by every run that applies it."),
        .init(term: "purged", meaning: "deleted, or anonymized (the patron's details removed, the record kept for statistics)."),
        .init(term: "still due", meaning: "records past their period that a run left in place without a reason to keep them: "
              + "none in a healthy system."),
        .init(term: "kept", meaning: "records past their period kept for a reason: a legal hold, the patron's own choice, a rule "
              + "of the policy (an open fine, a lost item), or a link from a record that stays."),
        .init(term: "legal hold", meaning: "staff's order that certain records (one patron's, one library's, some dates) be kept "
              + "whatever their age, for a court order or an investigation."),
        .init(term: "ledger", meaning: "the job's own tables in the database, written in the same step as each purge."),
        .init(term: "period, cutoff", meaning: "how long a policy keeps a record; a run's cutoff is the moment before which "
              + "records are past their period that night."),
        .init(term: "time limit, row cap", meaning: "a night's run may be told to stop after so long, or after so many records; "
              + "what it left is purged the next night, and the report says how late."),
        .init(term: "(other libraries)", meaning: "every library a policy does not name, counted together so that no free text "
              + "from the library field reaches the evidence."),
    ]
}

/// Times as the page shows them: to the minute, in the consortium's zone.
struct ReportTime {
    let zone: TimeZone
    let name: String

    init(zone identifier: String) {
        // Foundation on Linux calls UTC "GMT": the name shown is the one given, when it is a zone.
        let zone = TimeZone(identifier: identifier)
        self.zone = zone ?? TimeZone(identifier: "UTC")!
        name = zone == nil ? "UTC" : identifier
    }

    /// `2026-03-02T07:15:03.123456Z` as `2026-03-02 02:15`; text that is not such a time, as it is.
    func minute(_ text: String) -> String {
        let reader = DateFormatter()
        reader.locale = Locale(identifier: "en_US_POSIX")
        reader.timeZone = TimeZone(identifier: "UTC")
        reader.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        guard let date = reader.date(from: String(text.prefix(19))) else { return text }
        let writer = DateFormatter()
        writer.locale = Locale(identifier: "en_US_POSIX")
        writer.timeZone = zone
        writer.dateFormat = "yyyy-MM-dd HH:mm"
        return writer.string(from: date)
    }
}

/// A night's status in the page's words and letters; never colour alone.
enum NightWords {
    typealias Status = ComplianceReport.NightStatus
    static let order: [Status] = [.completed, .stopped, .interrupted, .recovered, .failed, .restored, .missing, .removed, .altered]

    static func symbol(_ status: Status) -> String {
        switch status {
        case .completed: return "C"
        case .stopped: return "S"
        case .interrupted: return "I"
        case .recovered: return "R"
        case .failed: return "F"
        case .restored: return "B"
        case .missing: return "–"
        case .removed: return "X"
        case .altered: return "A"
        case .running, .unknown: return "?"
        }
    }

    static func meaning(_ status: Status) -> String {
        switch status {
        case .completed: return "completed"
        case .stopped: return "stopped early (time limit or row cap): schedule not kept"
        case .interrupted: return "interrupted by a shutdown: schedule not kept"
        case .recovered: return "the program died; the next run recorded the night: schedule not kept"
        case .failed: return "failed: schedule not kept"
        case .restored: return "the database was restored from a backup"
        case .missing: return "no run that night (the chain has no gap): schedule not kept"
        case .removed: return "evidence missing: a manifest of these nights was removed from the chain"
        case .altered: return "evidence altered: the night's manifest fails its check"
        case .running, .unknown: return "a status this program does not know"
        }
    }
}
