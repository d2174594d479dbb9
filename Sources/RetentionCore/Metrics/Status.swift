import Foundation

/// The state of the nightly purge at a glance, for an administrator and for Nagios-style checks
/// (`retention status`): the last run and whether its manifest is in the folder as the ledger
/// recorded it, the last success, what remains due, the active holds, and whatever would stop
/// tonight's run. Counts, names and times only.
///
/// Stages: read the ledger (`read`), check the manifest folder and tonight's policies
/// (`checkManifest`, the caller's blockers), then judge (`problems`, `level`).
public struct StatusReport: Codable, Sendable {
    /// Nagios plugin levels, which are also the command's exit status.
    public enum Level: Int, Codable, Sendable, Comparable, CaseIterable {
        case ok = 0, warning = 1, critical = 2, unknown = 3

        public var word: String { ["OK", "WARNING", "CRITICAL", "UNKNOWN"][rawValue] }
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        /// How bad, for the worst of several instances: critical, then unknown, then warning, then
        /// OK (a critical instance is never hidden behind one that cannot be reached).
        public var severity: Int { [0, 1, 3, 2][rawValue] }

        // In JSON as a word, as the text says it.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(word.lowercased())
        }

        public init(from decoder: any Decoder) throws {
            let word = try decoder.singleValueContainer().decode(String.self)
            guard let level = Level.allCases.first(where: { $0.word.lowercased() == word }) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a level"))
            }
            self = level
        }
    }

    /// A run as the ledger recorded it.
    public struct RunLine: Codable, Sendable {
        public var id: Int64
        public var status: String
        public var startedAt: String
        public var finishedAt: String?
        /// The error that ended a failed run (an SQLSTATE and the tool's message, never row data).
        public var error: String?
        public var sequence: Int64?
        /// The SHA-256 of its manifest as the ledger recorded it.
        public var manifestSha256: String?
        /// Seconds since it finished.
        public var secondsAgo: Int64?
        /// Whether the run's session is still connected (a `running` run whose session is gone died).
        public var alive: Bool
        /// The manifest's file in the folder, and whether its bytes are those the ledger recorded.
        public var manifestFile: String?
        public var manifestIntact: Bool?
    }

    /// What a policy left due after the last run that counted it.
    public struct Due: Codable, Sendable {
        public var policy: String
        public var stillDue: Int64
        public var oldestDueDays: Int64?
        public var run: Int64
    }

    /// A policy of the folder that no recent run applied.
    public struct Unapplied: Codable, Sendable {
        public var policy: String
        /// Hours since a run that applied it started; `nil`: none ever did.
        public var hoursAgo: Int64?
    }

    /// One finding, worst first in `problems`.
    public struct Problem: Codable, Sendable {
        public var level: Level
        public var text: String
    }

    public var database: String
    public var lastRun: RunLine?
    public var lastSuccess: RunLine?
    public var due: [Due] = []
    public var activeHolds: Int64 = 0
    /// What would stop tonight's run (the policy folder and the catalog, as `check --catalog` sees them).
    public var blockers: [String] = []
    /// The folder's policies no run applied in the last `successAge` (a nightly `run --only`, a
    /// policy added since the last run), each with the hours since a run last applied it.
    public var unapplied: [Unapplied] = []
    /// The timer's next start, where systemd says.
    public var nextRun: String?
    public var problems: [Problem] = []

    public var level: Level { problems.map(\.level).max() ?? .ok }

    /// A success older than this is a missed night: a day and two hours (the timer's spread and a long run).
    public static let successAge: Double = 26 * 3600

    /// Reads the ledger: the last run, the last success (a completed run with its manifest), what the
    /// last counted run left due, the active holds.
    public static func read(on connection: Connection) throws -> StatusReport {
        try RetentionSchema.requireInstalled(on: connection)
        var report = StatusReport(database: connection.target)
        let runColumns = """
            r.id, r.status, pg_catalog.to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') AS started_at,
            pg_catalog.to_char(r.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') AS finished_at, r.error, r.sequence,
            r.manifest_sha256, pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.now() - r.finished_at))::int8 AS seconds_ago,
            EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid = r.backend_pid
                    AND (a.backend_start IS NULL OR a.backend_start <= r.started_at)) AS alive
            """
        report.lastRun = try connection.query(unsafeSQL: "SELECT \(runColumns) FROM retention.runs r ORDER BY r.id DESC LIMIT 1")
            .rows.first.map(runLine)
        report.lastSuccess = try connection.query(unsafeSQL: """
            SELECT \(runColumns) FROM retention.runs r WHERE r.status = 'completed' AND r.sequence IS NOT NULL
            ORDER BY r.id DESC LIMIT 1
            """).rows.first.map(runLine)
        // Per policy, from the last run that counted it: a later `run --only` of other policies
        // leaves what an earlier run left due standing.
        report.due = try connection.query("""
            SELECT policy, still_due, oldest, run_id FROM (
                SELECT m.policy, sum(m.still_due)::int8 AS still_due, max(m.oldest_due_days)::int8 AS oldest, m.run_id,
                       rank() OVER (PARTITION BY m.policy ORDER BY m.run_id DESC) AS newest
                FROM retention.run_remaining m GROUP BY m.policy, m.run_id) counted
            WHERE newest = 1 ORDER BY policy
            """).rows.map {
            Due(policy: try $0.string("policy"), stillDue: try $0.int64("still_due"), oldestDueDays: try $0.optionalInt64("oldest"),
                run: try $0.int64("run_id"))
        }
        report.activeHolds = try connection.query("SELECT count(*) AS n FROM retention.holds WHERE released_at IS NULL")
            .single().int64("n")
        return report
    }

    private static func runLine(_ row: Row) throws -> RunLine {
        RunLine(id: try row.int64("id"), status: try row.string("status"), startedAt: try row.string("started_at"),
                finishedAt: try row.optional("finished_at"), error: try row.optional("error"),
                sequence: try row.optionalInt64("sequence"), manifestSha256: try row.optional("manifest_sha256"),
                secondsAgo: try row.optionalInt64("seconds_ago"), alive: try row.bool("alive"))
    }

    /// What the folder's chain against the ledger would make tonight's run refuse (a stray or
    /// foreign manifest, a fork, a folder behind the ledger), as a blocker.
    public mutating func checkChain(in folder: String, on connection: Connection) {
        do {
            switch try ChainCheck.examine(folder: folder, on: connection).verdict {
            case .consistent: break
            case .ahead(_, _, let reason), .refused(let reason): blockers.append(reason)
            }
        } catch let error as RetentionError {
            blockers.append(String(error.description.split(separator: "\n").first ?? ""))
        } catch {
            blockers.append("the manifest folder \(visible(folder)) cannot be read")
        }
    }

    /// Finds the folder's policies that no run applied in the last `successAge`: a nightly run
    /// restricted by `--only` purges the others never, however well each night goes.
    public mutating func checkApplied(_ policies: [String], on connection: Connection) throws {
        let rows = try connection.query("""
            SELECT p.policy, pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.now() - pg_catalog.max(r.started_at)) / 3600)::int8 AS hours
            FROM retention.run_policies p JOIN retention.runs r ON r.id = p.run_id
            WHERE p.policy = ANY ($1::text[]) GROUP BY p.policy
            """, [SQL.arrayLiteral(policies)]).rows
        var hours: [String: Int64] = [:]
        for row in rows { hours[try row.string("policy")] = try row.int64("hours") }
        unapplied = policies.sorted().compactMap { name in
            guard let ago = hours[name] else { return Unapplied(policy: name, hoursAgo: nil) }
            return Double(ago) * 3600 > Self.successAge ? Unapplied(policy: name, hoursAgo: ago) : nil
        }
    }

    /// Finds the last run's manifest in `folder` by its sequence and compares its SHA-256 with the ledger's.
    public mutating func checkManifest(in folder: String) {
        guard let sequence = lastRun?.sequence, let sha256 = lastRun?.manifestSha256 else { return }
        let path = (try? ChainCheck.sequencedFiles(in: folder))?[sequence]?.sorted().last
        lastRun?.manifestFile = path.map { ($0 as NSString).lastPathComponent }
        lastRun?.manifestIntact = path.flatMap { FileManager.default.contents(atPath: $0) }.map { sha256Hex($0) == sha256 } ?? false
    }

    /// Judges what was read: failures and missing evidence are critical, a night that stopped short
    /// or left rows due is a warning.
    public mutating func judge() {
        var found: [Problem] = []
        if let run = lastRun {
            switch run.status {
            case "failed":
                // Escaped: the job's role may write the ledger's error text, which must not forge lines.
                found.append(Problem(level: .critical, text: "run \(run.id) failed: \(run.error.map { visible($0) } ?? "no cause recorded")"))
            case "running" where !run.alive:
                found.append(Problem(level: .critical, text: "run \(run.id) died (its session is gone); the next run recovers it from the ledger"))
            case "stopped", "interrupted":
                found.append(Problem(level: .warning, text: "run \(run.id) \(run.status) before it finished; the rest waits for the next run"))
            default: break
            }
            if run.status != "running" && run.sequence == nil {
                found.append(Problem(level: .critical, text: "run \(run.id) has no manifest: the evidence of that night is missing"))
            } else if let sequence = run.sequence, run.manifestIntact == false {
                let what = run.manifestFile == nil ? "is not in the manifest folder" : "differs from the one the ledger recorded"
                found.append(Problem(level: .critical, text: "the manifest of run \(run.id) (sequence \(sequence)) \(what)"))
            }
        } else {
            found.append(Problem(level: .warning, text: "no run recorded yet"))
        }
        if lastRun != nil {
            if let success = lastSuccess {
                if let ago = success.secondsAgo, Double(ago) > Self.successAge {
                    found.append(Problem(level: .critical, text: "no completed run with its manifest for \(ago / 3600) hours"))
                }
            } else {
                found.append(Problem(level: .critical, text: "no run has completed with its manifest yet"))
            }
        }
        for due in self.due where due.stillDue > 0 {
            let oldest = due.oldestDueDays.map { ", the oldest \($0) days old" } ?? ""
            found.append(Problem(level: .warning, text: "\(due.policy): \(TextTable.grouped(due.stillDue)) rows still due after run \(due.run)\(oldest)"))
        }
        for policy in unapplied {
            let when = policy.hoursAgo.map { "for \($0) hours" } ?? "ever"
            found.append(Problem(level: .warning, text: "policy \(visible(policy.policy)) of the policy folder has not been applied by any run "
                                 + "\(when) (a run with --only leaves it out): its rows are not purged"))
        }
        for blocker in blockers {
            found.append(Problem(level: .critical, text: "tonight's run would stop: \(blocker)"))
        }
        problems = found.sorted { $0.level > $1.level }
    }

    /// The verdict in words: the worst problem, or that all is well.
    public var verdict: String { problems.first?.text ?? "the last night completed and nothing is due" }

    /// The text for a person and for a Nagios check: the verdict line first, then the facts.
    public var text: String {
        var lines = ["RETENTION \(level.word): " + verdict]
        lines.append("connected to: \(database)")
        if let run = lastRun {
            var line = "last run:     \(run.id), \(run.status), started \(run.startedAt)"
            if let finished = run.finishedAt { line += ", finished \(finished)" }
            lines.append(line)
            if let sequence = run.sequence {
                let state = run.manifestIntact.map { $0 ? "in the folder as recorded" : "NOT as recorded" } ?? "folder not checked"
                lines.append("manifest:     sequence \(sequence), \(run.manifestFile ?? "no file found"), \(state)")
            }
        }
        lines.append("last success: " + (lastSuccess.map { "run \($0.id), finished \($0.finishedAt ?? "?")" } ?? "none"))
        if due.isEmpty { lines.append("still due:    not counted yet") }
        for due in self.due {
            lines.append("still due:    \(due.policy): \(TextTable.grouped(due.stillDue))"
                         + (due.oldestDueDays.map { ", the oldest \($0) days old" } ?? "") + " (after run \(due.run))")
        }
        lines.append("active holds: \(activeHolds)")
        if let nextRun { lines.append("next run:     \(nextRun)") }
        lines.append("tonight:      " + (blockers.isEmpty ? "the policies and the catalog check out" : "\(blockers.count) problem(s) would stop the run"))
        for problem in problems.dropFirst() { lines.append("\(problem.level.word.lowercased()): \(problem.text)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
