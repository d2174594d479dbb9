/// The counts of one library (or of all rows, for a policy without libraries) in a run.
public struct LibraryOutcome: Sendable, Equatable {
    public let library: String?
    public let cutoff: String
    /// Rows purged (`rows`) and kept by each reason.
    public var counts = Counts()
    public var batches = 0
}

/// What a run did with one policy.
public struct PolicyOutcome: Sendable, Equatable {
    public let name: String
    public let version: Int
    public let sha256: String
    public let table: String
    public let action: Policy.Action
    public let cutoffs: Cutoffs
    public var libraries: [LibraryOutcome]
    public var batches = 0
    /// How many sessions purged the table at once.
    public var sessions = 1
    /// How many partitions were emptied whole, each as one batch.
    public var partitionsTruncated = 0
    /// Rows still due after a completed run's last batch (`nil`: the run did not count).
    public var stillDue: Int64?
    public var counts: Counts { libraries.reduce(Counts()) { $0 + $1.counts } }
    public var rows: Int64 { counts.rows }
}

/// The end state of a run.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case running, completed, stopped, interrupted, failed, recovered
    /// Not a purge: the record of a break in the chain after a restore (`retention setup --after-restore`).
    case restored
}

/// What a run did, from the ledger's point of view.
public struct RunSummary: Sendable {
    public let runID: Int64
    public var status: RunStatus
    public let startedAt: String
    public var finishedAt: String = ""
    public var policies: [PolicyOutcome]
    /// The manifest written for the run, when one was.
    public var manifestPath: String?
    /// Why the manifest could not be written after the purge (the ledger holds every batch; the
    /// next run or `retention setup` writes it), or `nil`.
    public var manifestError: (any RetentionError)?
    /// The signal that interrupted the run (status `interrupted`).
    public var signal: Int32?
}

/// The run failed after it started purging; every committed batch is in the ledger (exit 1).
public struct PurgeFailed: RetentionError {
    /// The run as far as it went (status `failed`), for the summary line and the metrics file.
    public let summary: RunSummary
    public let cause: any RetentionError
    /// The database the run worked on (`Connection.target`): the one line cron mails must say which.
    public var target = ""
    public var runID: Int64 { summary.runID }
    public var exitCode: ExitStatus { cause.exitCode == .noPermission ? .noPermission : .failure }
    public var description: String {
        "run \(runID)\(target.isEmpty ? "" : " on \(target)") failed: \(cause.description); every committed batch is recorded in the ledger"
    }
}
