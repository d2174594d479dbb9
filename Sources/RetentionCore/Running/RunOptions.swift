import Foundation
import Synchronization

/// How a run is to proceed.
public struct RunOptions: Sendable {
    /// How many rows (keys) each batch spans; it purges the due ones among them. `nil`: each session
    /// sizes its batches to take about `batchTarget` (`BatchSizing`).
    public var batchSize: Int?
    /// Stop cleanly after the batch that crosses this many seconds.
    public var maxRuntime: Double?
    /// Stop cleanly once this many rows are purged: each batch spans at most the keys left.
    public var maxRows: Int64?
    /// The folder's policies `--only` left out, which the manifest names (`left_out`): a night that
    /// purged only some policies is not a night that kept the schedule.
    public var leftOut: [String] = []
    /// How long a batch waits for a row lock before it gives up.
    public var lockTimeout: String
    /// How long one batch statement may take.
    public var statementTimeout: String
    /// The program's version, recorded with the run.
    public var toolVersion: String
    /// Run plain `VACUUM` on every table the run purged, after the last batch.
    public var vacuum = false
    /// Rewrite every table the run purged so no byte of a purged row stays in its files.
    public var erase = false
    /// Let `--erase` fall back to `VACUUM FULL`, which blocks the table while it is rewritten.
    public var allowExclusiveLock = false
    /// How many sessions purge one policy's table at once, each in its own slice of the key space.
    public var jobs = RunOptions.defaultJobs
    /// How often a batch that hit `lock_timeout` or `statement_timeout` is tried again before the run fails.
    public var retries = 3
    /// The wait before the first retry; it doubles for each further one.
    public var retryDelay: Double = 1
    /// Asked before every batch: the signal that asks the run to stop, or `nil` to go on.
    public var stopRequested: (@Sendable () -> Int32?)?
    /// Told how far each policy got (a terminal's progress display); `nil` when nobody watches.
    public var progress: (any RunProgress)?
    /// Waits before batches for a lagging replica or a WAL rate limit; `nil` when neither is set.
    public var pacing: Pacing?
    /// How far, in seconds, the database clock may be from this machine's before the run refuses to
    /// start; `nil`: not compared (a test server on a fake clock).
    public var maxClockSkew: Double? = RunOptions.defaultMaxClockSkew

    /// Five minutes (`SettingKey.maxClockSkew`): far more than NTP lets two hosts drift, far less
    /// than a day of purging early.
    public static let defaultMaxClockSkew: Double = DurationText.seconds(SettingKey.maxClockSkew.builtIn)!

    /// How long a batch should take when its size is not fixed: 60 ms, so that with the spikes a
    /// busy server adds (a checkpoint, autovacuum, the other session) 99% stay under 100 ms.
    public var batchTarget: Duration = .milliseconds(60)

    /// How many rows (by the planner's estimates) the partitions emptied together in one
    /// transaction may hold: their count runs while writers to them wait, so about a tenth of a second.
    var partitionGroupRows: Int64 = 500_000

    /// What `maxRows` leaves, made when the run starts purging.
    var rowBudget: RowBudget?

    /// Two sessions (`SettingKey.jobs`): one purge statement keeps one core busy, so two use a small
    /// server's two cores; more sessions than the server's cores only wait on each other (docs/performance.md).
    public static let defaultJobs = Int(SettingKey.jobs.builtIn)!

    public init(batchSize: Int? = nil, maxRuntime: Double? = nil,
                lockTimeout: String = SettingKey.lockTimeout.builtIn, statementTimeout: String = SettingKey.statementTimeout.builtIn,
                toolVersion: String = RetentionVersion.current) {
        self.batchSize = batchSize
        self.maxRuntime = maxRuntime
        self.lockTimeout = lockTimeout
        self.statementTimeout = statementTimeout
        self.toolVersion = toolVersion
    }
}

/// Sizes a session's batches so each takes about the target time.
///
/// No one size fits: a batch pays a fixed cost (finding its range, hashing the consenting patrons,
/// which grows with the patron table) and a cost per row that is five times higher for an
/// anonymizing `UPDATE` (a new entry in every index) than for a `DELETE`, so a size that suits one
/// policy makes another's batches ten times longer (docs/performance.md, "Batch size"). So, like
/// pt-archiver's or gh-ost's chunk sizing, each session starts small and scales its next batch
/// by target / last time, growing it by half at most (a doubling overshot: 137 ms batches at 1M
/// loans) and halving it at most.
///
/// Where rows are dear (declared triggers: Evergreen's cost a millisecond a row) the target
/// would shrink batches until their fixed cost (the proofs of what each changed, 20-30 ms) is most
/// of their time: so a batch aims at ten times its fixed cost when that is longer than the target
/// (up to a second),
/// and such a policy starts at a tenth of the usual first size.
public struct BatchSizing: Sendable {
    public static let first = 2_000
    public static let firstWithTriggers = 200
    public static let smallest = 100
    public static let largest = 200_000

    /// The size of the batch after one of `size` keys that took `took`, of which `overhead` was
    /// its fixed cost (everything but the work that grows with the batch: `Runner.purgeBatch`).
    public static func next(after size: Int, took: Duration, overhead: Duration = .zero, target: Duration) -> Int {
        let overhead = min(overhead, took)
        // At most a second: a batch that waited on a lock or was tried again counts that as fixed cost.
        let aim = max(target, min(overhead * 10, .seconds(1)))
        let factor = min(1.5, max(0.5, (aim - overhead) / max(took - overhead, .milliseconds(1))))
        return min(largest, max(smallest, Int(Double(size) * factor)))
    }
}

/// The rows a run may still purge under `--max-rows`, shared by its sessions: each reserves its
/// batch's keys before the batch and gives back what the batch did not purge.
final class RowBudget: Sendable {
    private let left: Mutex<Int64>

    init(_ rows: Int64) { left = Mutex(rows) }

    /// Reserves up to `keys` rows for a batch; 0 when none are left (the run stops).
    func reserve(_ keys: Int) -> Int {
        left.withLock { left in
            let taken = Int(max(0, min(Int64(keys), left)))
            left -= Int64(taken)
            return taken
        }
    }

    /// Settles a committed batch: `reserved` rows were set aside, `purged` were purged (more,
    /// for a chain's links outside the range).
    func settle(reserved: Int, purged: Int64) { left.withLock { $0 += Int64(reserved) - purged } }
}

/// Receives a run's progress, for a display on a terminal. Counts only.
public protocol RunProgress: Sendable {
    /// A policy starts; `due` rows are due by the plan's count.
    func started(policy: String, due: Int64)
    /// A batch committed; `done` rows of the policy are purged so far.
    func advanced(policy: String, done: Int64)
    /// The policy is finished (or the run stopped in it).
    func finished(policy: String)
}
