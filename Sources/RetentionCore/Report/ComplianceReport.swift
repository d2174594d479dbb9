import Foundation

/// The compliance officer's report over a period: verdict, nights, what was purged and kept, the
/// schedule kept, holds, policies, what remains elsewhere, and an appendix for auditors.
///
/// Built from manifests (counts and digests) verified as `retention verify` does, the policy files'
/// descriptions, and with the ledger the holds table without patron values: no personal data.
public struct ComplianceReport: Encodable, Sendable {
    public struct Verdict: Encodable, Sendable {
        public enum State: String, Encodable, Sendable, CustomStringConvertible {
            case verified, failed
            /// No public key was given, so no signature was verified.
            case couldNotCheck = "could not check"
            public var description: String { rawValue }
        }

        public var state: State
        public var summary: String
        /// Every problem of the period, in date order (those without a date first).
        public var problems: [Problem]
    }

    /// One thing wrong: evidence altered or missing, or the schedule not kept, on a date when it has one.
    public struct Problem: Encodable, Sendable, Equatable {
        public enum Kind: String, Encodable, Sendable {
            /// A signature that fails, a file removed from the chain, a fork, a ledger that disagrees.
            case evidence
            /// No run that night, a run that failed or stopped, rows left due or not counted.
            case schedule
        }
        public var kind: Kind
        /// The UTC day it concerns (`YYYY-MM-DD`), or the first of a span; `nil` when none can be named.
        public var date: String?
        public var text: String

        /// How the headline names the kind.
        public var heading: String { kind == .evidence ? "evidence altered or missing" : "schedule not kept" }
    }

    /// Which run a figure comes from: its manifest's sequence, UTC day and status.
    public struct RunReference: Encodable, Sendable, Equatable {
        public var sequence: Int64
        public var date: String
        public var status: String
    }

    /// How a night's run ended: the status of the last run that started that day, `missing` (no
    /// run, and the chain has no gap there), `removed` (no manifest, inside a gap of the chain: evidence
    /// missing), `altered` (its only manifests fail their check), or `unknown` (a status this version
    /// does not know, from a newer manifest).
    public enum NightStatus: String, Encodable, Sendable, CaseIterable, CustomStringConvertible {
        case completed, stopped, interrupted, recovered, failed, running, restored, missing, removed, altered, unknown

        /// The night status of a manifest's `status` text.
        init(manifestStatus: String) {
            self = RunStatus(rawValue: manifestStatus).flatMap { NightStatus(rawValue: $0.rawValue) } ?? .unknown
        }

        public var description: String { rawValue }
    }

    /// One day of the period and how its run (the last that started that day, UTC) ended.
    public struct Night: Encodable, Sendable {
        public var date: String
        public var status: NightStatus
        public var sequences: [Int64]
    }

    /// One policy's nights, totals, kept counts and schedule evidence over the period.
    public struct PolicySummary: Encodable, Sendable {
        public var name: String
        public var action: String
        public var table: String
        /// Rows purged per night of the period, in date order (0 when no run or none purged).
        public var perNight: [Int64]
        public var rows: Int64
        /// Rows kept by each reason at the latest run of the period, whatever its status (a run counts
        /// every kept row again, so nights do not add up), and the most any one night's run kept.
        public var kept: [KeptReason: Int64]
        public var keptMost: [KeptReason: Int64]
        /// The run `kept` and each library's still-due figures come from: the period's latest.
        public var latestRun: RunReference?
        public var libraries: [LibrarySummary]
        public var methods: [String]
        /// Rows purged under each version of the policy (a period change splits the totals).
        public var byVersion: [VersionTotal]
    }

    /// Rows one version of a policy purged during the period, and its periods.
    public struct VersionTotal: Encodable, Sendable {
        public var version: Int64
        public var periods: [String]
        public var from: String
        public var until: String
        public var rows: Int64
    }

    public struct LibrarySummary: Encodable, Sendable {
        /// The library value, or nil for all rows of a policy without libraries.
        public var library: String?
        public var rows: Int64
        public var kept: [KeptReason: Int64]
        public var keptMost: [KeptReason: Int64]
        public var retain: String
        /// The latest run's cutoff, and what it left due (`nil`: not counted; see `unknownSince`).
        public var lastCutoff: String
        public var stillDue: Int64?
        public var oldestDueDays: Int64?
        /// When the latest run did not count what remains: the first run of the unbroken series of
        /// runs that did not count it.
        public var unknownSince: RunReference?
        /// Rows purged in this library under each version of the policy and its period there.
        public var byVersion: [VersionTotal] = []
    }

    public struct PolicyVersion: Encodable, Sendable {
        public var name: String
        public var version: Int64
        public var fileSHA256: String
        public var action: String
        public var periods: [String]
        public var description: String?
        /// What the policy does and keeps, in words, as the run recorded it (`nil` before manifest version 6).
        public var rules: [String]?
        /// When a run first used this version or file (UTC date), and the run's sequence; the last day a run used it.
        public var since: String
        public var sinceSequence: Int64
        public var until: String
        /// What changed from the version before it ("period 60 days -> 45 days"); empty for the first.
        public var changes: [String]
    }

    /// A legal hold as the signed manifests record it.
    public struct Hold: Encodable, Sendable {
        public var id: Int64
        public var reference: String
        public var reason: String
        public var scope: String
        /// The person (operating-system user) and database role, as recorded.
        public var placedBy: String
        public var placedAt: String
        public var releasedBy: String?
        public var releasedAt: String?
        /// The manifest sequences that record it: the first and the newest.
        public var firstRecorded: Int64
        public var lastRecorded: Int64
    }

    public struct ManifestFile: Encodable, Sendable {
        public var name: String
        public var sequence: Int64?
        public var status: String
        public var sha256: String
        public var problems: [String]
    }

    public var generatedAt: String
    /// The zone the page shows times in (minutes), and the day boundaries of the nights (UTC).
    public var timeZone: String
    public var since: String
    public var until: String
    public var keyID: String?
    public var verdict: Verdict
    public var nights: [Night]
    public var policies: [PolicySummary]
    public var register: [PolicyVersion]
    /// Holds the period's manifests record; `nil` when no manifest of the period records holds (older versions).
    public var holds: [Hold]?
    /// The period's latest run: what remains due and what was kept come from it.
    public var latestRun: RunReference?
    /// With the officer's checkpoints: how far they witnessed the chain (`WitnessFindings.summary`).
    public var witnessed: String?
    public var files: [ManifestFile]
    /// Nights of the period whose manifest is altered or missing: the totals leave their rows out.
    public var excludedNights: [String]
    public var backupRetention: String?
    public var command: String
}

/// What the report is asked to cover.
public struct ReportRequest: Sendable {
    public var manifestFolder: String
    public var publicKeyPath: String?
    public var since: String?
    public var until: String?
    public var backupRetention: String?
    /// The time zone for the page's times (`timezone` setting), default UTC.
    public var timeZone: String = "UTC"
    /// The compliance officer's public key and checkpoint folder (`retention witness`), or `nil`.
    public var witness: (key: String, checkpoints: String)?
    /// The time-stamping authority's CA file (`tsa_ca`): each manifest's token is checked, or `nil`.
    public var timestampCA: String?
    /// Policy files whose descriptions the register shows (the current files; matched by digest when possible).
    public var policies: [Policy]
    /// The command line that made the report, for the appendix.
    public var command: String

    public init(manifestFolder: String, publicKeyPath: String?, since: String?, until: String?,
                backupRetention: String?, policies: [Policy], command: String, timeZone: String = "UTC") {
        self.timeZone = timeZone
        self.manifestFolder = manifestFolder
        self.publicKeyPath = publicKeyPath
        self.since = since
        self.until = until
        self.backupRetention = backupRetention
        self.policies = policies
        self.command = command
    }

    /// A `YYYY-MM-DD` date, or a usage error naming the option.
    public static func checkDate(_ text: String?, option: String) throws {
        guard let text else { return }
        guard day(text) != nil else {
            throw UsageError("\(option) must be a date like 2026-01-31; found '\(visible(text))'", exitCode: .usage)
        }
    }

    /// Refuses (64) a last day after today (UTC): nights to come have no run yet, and counted, each
    /// would read as a night without one.
    public static func refuseFuture(_ until: String?, now: Date = Date()) throws {
        let today = utcDays.string(from: now)
        guard let until, until > today else { return }
        throw UsageError("--until \(until) is after today (\(today), UTC): a report covers nights that have passed; "
                         + "give --until \(today)", exitCode: .usage)
    }

    static func day(_ text: String) -> Date? {
        let formatter = utcDays
        guard text.count == 10, let date = formatter.date(from: text), formatter.string(from: date) == text else { return nil }
        return date
    }

    /// Reads and writes `YYYY-MM-DD` as a UTC day.
    static var utcDays: DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter
    }
}
