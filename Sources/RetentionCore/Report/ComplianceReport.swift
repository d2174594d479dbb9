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
        public var problems: [String]
    }

    /// How a night's run ended: the status of the last run that started that day, `missing` (no
    /// run), or `unknown` (a status this version does not know, from a newer manifest).
    public enum NightStatus: String, Encodable, Sendable, CaseIterable, CustomStringConvertible {
        case completed, stopped, interrupted, recovered, failed, running, restored, missing, unknown

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
        /// Rows kept by each reason at the last run of the period (a run counts every kept row again, so
        /// nights do not add up), and the most any one night's run kept.
        public var kept: [KeptReason: Int64]
        public var keptMost: [KeptReason: Int64]
        public var libraries: [LibrarySummary]
        public var methods: [String]
    }

    public struct LibrarySummary: Encodable, Sendable {
        /// The library value, or nil for all rows of a policy without libraries.
        public var library: String?
        public var rows: Int64
        public var kept: [KeptReason: Int64]
        public var keptMost: [KeptReason: Int64]
        public var retain: String
        /// The last run's cutoff, and what its last completed run left due.
        public var lastCutoff: String
        public var stillDue: Int64?
        public var oldestDueDays: Int64?
    }

    public struct PolicyVersion: Encodable, Sendable {
        public var name: String
        public var version: Int64
        public var fileSHA256: String
        public var action: String
        public var periods: [String]
        public var description: String?
        /// When a run first used this version or file (UTC date), and the run's sequence.
        public var since: String
        public var sinceSequence: Int64
    }

    public struct Hold: Encodable, Sendable {
        public var reference: String
        public var reason: String
        public var scope: String
        public var placedBy: String
        public var placedAt: String
        public var releasedBy: String?
        public var releasedAt: String?
    }

    public struct ManifestFile: Encodable, Sendable {
        public var name: String
        public var sequence: Int64?
        public var status: String
        public var sha256: String
        public var problems: [String]
    }

    public var generatedAt: String
    public var since: String
    public var until: String
    public var keyID: String?
    public var verdict: Verdict
    public var nights: [Night]
    public var policies: [PolicySummary]
    public var register: [PolicyVersion]
    /// Holds from the ledger (`--ledger`); nil when not read.
    public var holds: [Hold]?
    public var files: [ManifestFile]
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
    /// Policy files whose descriptions the register shows (the current files; matched by digest when possible).
    public var policies: [Policy]
    /// The command line that made the report, for the appendix.
    public var command: String

    public init(manifestFolder: String, publicKeyPath: String?, since: String?, until: String?,
                backupRetention: String?, policies: [Policy], command: String) {
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
