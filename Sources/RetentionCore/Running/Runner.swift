import Foundation
import Logging
import Synchronization

/// Applies policies to the database in batches and writes the run's signed manifest.
///
/// A run goes through these stages, each in a file of its own in this folder:
/// 1. prepare (`Runner.swift`): check `--vacuum`/`--erase` can work, set the session's timeouts,
///    take the run lock (`RunLock.swift`), finalize runs that died (`ManifestStore`);
/// 2. record the run and its cutoffs (`RunRecording.swift`);
/// 3. per policy: empty the whole partitions it may (`PartitionTruncation.swift`), then walk the
///    table's key space in `--jobs` sessions (`ParallelWalk.swift`), one transaction per batch that
///    purges and writes its ledger rows (`BatchLoop.swift`, decoded as `LedgerRow.swift`);
/// 4. count what is still due, whatever the purge's end (`RunRecording.swift`), then vacuum or erase
///    the purged tables (`Maintenance.swift`);
/// 5. record how the run ended (`RunRecording.swift`) and write the manifest (`ManifestStore`).
public final class Runner {
    let connection: Connection
    let logger: Logger
    var statementTimeout = SettingKey.statementTimeout.builtIn

    public init(connection: Connection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Runs the policies and writes the run's manifest; throws `RunLockBusy` (75) before anything changes,
    /// or `PurgeFailed` (1) after.
    ///
    /// `manifests` was checked before this call (key loaded, folder writable), so a run never purges
    /// without being able to sign and write its manifest.
    public func run(_ policies: [ResolvedPolicy], options: RunOptions, manifests: ManifestSettings) throws -> RunSummary {
        let erasure = try prepare(policies, options: options)
        let store = ManifestStore(connection: connection, settings: manifests, logger: logger)
        try store.finalizePending()
        try LostHolds.refuseRun(folder: manifests.directory, on: connection)
        var summary = try start(policies, options: options)
        do {
            try purge(policies, into: &summary, options: options)
            // From here on the run records itself: a stop signal no longer cancels its statements.
            connection.interruption = nil
            recordRemaining(policies, summary: &summary, within: remainingLimit(summary.status, options: options))
            if summary.status != .interrupted, let signal = try maintain(policies, summary: summary, options: options, erasure: erasure) {
                summary.status = .interrupted
                summary.signal = signal
                logger.notice("interrupted by signal \(signal) during table maintenance; the purge is complete and recorded")
            }
            summary.finishedAt = try finish(summary.runID, status: summary.status, error: nil, pacing: options.pacing)
        } catch let error as RetentionError {
            connection.interruption = nil
            recordFailure(error, of: &summary, policies: policies, store: store, options: options)
            throw PurgeFailed(summary: summary, cause: error, target: connection.target)
        }
        do {
            summary.manifestPath = try store.write(runID: summary.runID)
        } catch let error as RetentionError {
            // The purge is done and recorded; say so, and what is missing, rather than fail without a word.
            summary.manifestError = error
        }
        return summary
    }

    /// Checks what the run's options need, configures the session and takes the run lock; changes nothing.
    private func prepare(_ policies: [ResolvedPolicy], options: RunOptions) throws -> ErasurePlan? {
        if options.vacuum && !options.erase { try requireOwnership(policies) }
        let erasure = options.erase ? try Erasure.plan(policies, allowExclusiveLock: options.allowExclusiveLock, on: connection) : nil
        if let refusal = erasure?.refusal { throw refusal }
        statementTimeout = options.statementTimeout
        try options.pacing?.requirePrivileges(on: connection)
        try configure(connection, options)
        // Each batch proves its count with the server's per-transaction counters, which need track_counts.
        guard try connection.query("SELECT pg_catalog.current_setting('track_counts')::bool AS counting").single().bool("counting") else {
            throw UsageError("the server's track_counts setting is off, so a batch cannot check its count against the server's "
                             + "row counters; turn it on (the default) in postgresql.conf", exitCode: .config)
        }
        try RunLock.acquire(on: connection)
        try checkClocks(maxSkew: options.maxClockSkew)
        return erasure
    }

    /// Purges policy after policy until all are done, `--max-runtime` passes or a signal comes.
    private func purge(_ policies: [ResolvedPolicy], into summary: inout RunSummary, options: RunOptions) throws {
        let began = ContinuousClock.now
        let deadline = options.maxRuntime.map { began + .seconds($0) }
        var options = options
        options.rowBudget = options.maxRows.map(RowBudget.init)
        for (index, resolved) in policies.enumerated() {
            switch try purge(resolved, into: &summary.policies[index], runID: summary.runID, options: options, deadline: deadline) {
            case .finished:
                continue
            case .deadline:
                summary.status = .stopped
                logger.notice("stopped at --max-runtime; the rest waits for the next run",
                              metadata: ["policy.name": "\(resolved.policy.name)"])
                return
            case .rowLimit:
                summary.status = .stopped
                logger.notice("stopped at --max-rows; the rest waits for the next run",
                              metadata: ["policy.name": "\(resolved.policy.name)"])
                return
            case .signal(let signal):
                summary.status = .interrupted
                summary.signal = signal
                logger.notice("interrupted by signal \(signal) after a committed batch; the rest waits for the next run",
                              metadata: ["policy.name": "\(resolved.policy.name)"])
                return
            }
        }
        summary.status = .completed
    }

    /// How long counting what a run left due may take: an hour after a completed run (the nightly
    /// figure), the statement timeout after one stopped at `--max-runtime`, a few seconds after a
    /// signal or a failure (a service manager waits only so long). A count that runs out of time
    /// leaves the run "not counted", which the manifest says.
    /// How long counting what remains due may take after a signal or a failure: a few seconds.
    static let briefCount = "5s"

    func remainingLimit(_ status: RunStatus, options: RunOptions) -> String {
        switch status {
        // Bounded even so: a server that stops answering must not hold the finished run for ever.
        case .completed: return "1h"
        case .stopped: return options.statementTimeout
        default: return Self.briefCount
        }
    }

    /// Records a failed run and writes its manifest when the database can still be reached.
    private func recordFailure(_ error: RetentionError, of summary: inout RunSummary, policies: [ResolvedPolicy],
                               store: ManifestStore, options: RunOptions) {
        summary.status = .failed
        // After a stop signal a service manager is waiting: no reconnecting to a server that went silent.
        guard connection.isAlive || (options.stopRequested?() == nil && reconnect()) else {
            logger.warning("the database is out of reach; the next run finds this run and recovers it from the ledger")
            return
        }
        do {
            // A reconnected session has lost the lock: finalize only if no other run took it since.
            try RunLock.acquire(on: connection)
            recordRemaining(policies, summary: &summary, within: Self.briefCount)
            _ = try finish(summary.runID, status: .failed, error: error.description, pacing: options.pacing)
            summary.manifestPath = try store.write(runID: summary.runID)
        } catch {
            logger.warning("could not record the failure; the next run finds this run and recovers it from the ledger")
        }
    }

    /// Sets a purging session's timeouts.
    func configure(_ session: Connection, _ options: RunOptions) throws {
        // No JIT: a batch is short and its statement is planned anew each time, so compiling its
        // expressions would cost a large part of every batch again and again.
        // No bitmap scans: the batch's key bounds are unknown when the statement is planned, so the
        // server may combine the key range with the age index and read every old entry of that index
        // for each batch; a plain range scan of the key reads only the batch.
        do {
            try session.query("""
                SELECT set_config('lock_timeout', $1, false),
                       set_config('idle_in_transaction_session_timeout', '60s', false), set_config('jit', 'off', false),
                       set_config('enable_bitmapscan', 'off', false)
                """, [options.lockTimeout])
            try session.setStatementTimeout(options.statementTimeout)
        } catch let error as DatabaseError where error.sqlState == "22023" {
            // The server's parser is the judge of its own settings' syntax; nothing has changed yet.
            throw UsageError("--lock-timeout \(visible(options.lockTimeout)) / --statement-timeout "
                             + "\(visible(options.statementTimeout)): \(error.message)", exitCode: .usage)
        }
        session.interruption = Runner.lateStop(options.stopRequested)
    }

    /// After a stop signal the batch in flight may finish for 10 s; then its statement is cancelled
    /// (and the connection given up if the server does not answer that either), so a service
    /// manager's stop ends a run whose server went silent.
    static func lateStop(_ stopRequested: (@Sendable () -> Int32?)?) -> (@Sendable () -> Bool)? {
        guard let stopRequested else { return nil }
        let firstSeen = Mutex<ContinuousClock.Instant?>(nil)
        return {
            guard stopRequested() != nil else { return false }
            let now = ContinuousClock.now
            return firstSeen.withLock { seen in
                if seen == nil { seen = now }
                return now - seen! >= .seconds(10)
            }
        }
    }

    /// Tries to reach the server again after the connection broke (a restart), for about 20 s.
    func reconnect() -> Bool {
        let clock = ContinuousClock()
        let began = clock.now
        while !connection.reset() {
            guard clock.now - began < .seconds(20) else { return false }
            Thread.sleep(forTimeInterval: 1)
        }
        return true
    }
}
