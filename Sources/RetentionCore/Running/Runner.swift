import Foundation
import Logging
import Synchronization

/// How a run is to proceed.
public struct RunOptions: Sendable {
    /// How many rows (keys) each batch spans; it purges the due ones among them. `nil`: each session
    /// sizes its batches to take about `batchTarget` (`BatchSizing`).
    public var batchSize: Int?
    /// Stop cleanly after the batch that crosses this many seconds.
    public var maxRuntime: Double?
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

    /// How long a batch should take when its size is not fixed.
    public var batchTarget: Duration = .milliseconds(100)

    /// Two sessions: one purge statement keeps one core busy, and this is a two-core server.
    public static let defaultJobs = 2

    public init(batchSize: Int? = nil, maxRuntime: Double? = nil,
                lockTimeout: String = "5s", statementTimeout: String = "60s", toolVersion: String = RetentionVersion.current) {
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
/// anonymizing `UPDATE` than for a `DELETE`. Measured at 5M loans: 10,000 keys took 20 ms per
/// delete batch, most of it the fixed cost, and up to 230 ms per anonymize batch. So, like
/// pt-archiver's or gh-ost's chunk sizing, each session starts small and scales its next batch
/// by target / last time, at most doubling or halving it.
public struct BatchSizing: Sendable {
    public static let first = 2_000
    public static let smallest = 100
    public static let largest = 200_000

    /// The size of the batch after one of `size` keys that took `took`.
    public static func next(after size: Int, took: Duration, target: Duration) -> Int {
        let factor = min(2, max(0.5, target / max(took, .milliseconds(1))))
        return min(largest, max(smallest, Int(Double(size) * factor)))
    }
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

/// The counts of one library (or of all rows, for a policy without libraries) in a run.
public struct LibraryOutcome: Sendable, Equatable {
    public let library: String?
    public let cutoff: String
    public var rows: Int64 = 0
    public var keptByHold: Int64 = 0
    public var keptByConsent: Int64 = 0
    public var keptByRule: Int64 = 0
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
    public var rows: Int64 { libraries.reduce(0) { $0 + $1.rows } }
}

/// The end state of a run (SPEC §6).
public enum RunStatus: String, Sendable, Codable {
    case running, completed, stopped, interrupted, failed, recovered
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

/// Another run holds the run lock; nothing was done (exit 75).
public struct RunLockBusy: RetentionError {
    public let holderPID: String?
    public var exitCode: ExitStatus { .tempFail }
    public var description: String {
        "another retention run holds the lock on this database" + (holderPID.map { " (server process \($0))" } ?? "")
            + "; nothing was done"
    }
}

/// The run failed after it started purging; every committed batch is in the ledger (exit 1).
public struct PurgeFailed: RetentionError {
    public let runID: Int64
    public let cause: any RetentionError
    public var exitCode: ExitStatus { cause.exitCode == .noPermission ? .noPermission : .failure }
    public var description: String {
        "run \(runID) failed: \(cause.description); every committed batch is recorded in the ledger"
    }
}

/// Applies policies to the database in batches (SPEC §6).
///
/// Stages: take the run lock; finalize runs that died; record the run and its cutoffs; for each
/// policy empty the whole partitions it may, then walk the table's primary key in ranges, in
/// `--jobs` sessions, one transaction per batch that purges and writes its ledger rows; vacuum or
/// erase; record how the run ended; write the manifest.
public final class Runner {
    private let connection: Connection
    private let logger: Logger
    private var statementTimeout = "60s"

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
        if options.vacuum && !options.erase { try requireOwnership(policies) }
        let erasure = options.erase ? try Erasure.plan(policies, allowExclusiveLock: options.allowExclusiveLock, on: connection) : nil
        if let refusal = erasure?.refusal { throw refusal }
        statementTimeout = options.statementTimeout
        try configure(connection, options)
        try RunLock.acquire(on: connection)
        let store = ManifestStore(connection: connection, settings: manifests, logger: logger)
        try store.finalizePending()
        var summary = try start(policies, options: options)
        let clock = ContinuousClock()
        let began = clock.now
        do {
            walk: for (index, resolved) in policies.enumerated() {
                let end = try purge(resolved, into: &summary.policies[index], runID: summary.runID,
                                    options: options, deadline: options.maxRuntime.map { began + .seconds($0) })
                switch end {
                case .finished:
                    continue
                case .deadline:
                    summary.status = .stopped
                    logger.notice("stopped at --max-runtime; the rest waits for the next run",
                                  metadata: ["policy.name": "\(resolved.policy.name)"])
                    break walk
                case .signal(let signal):
                    summary.status = .interrupted
                    summary.signal = signal
                    logger.notice("interrupted by signal \(signal) after a committed batch; the rest waits for the next run",
                                  metadata: ["policy.name": "\(resolved.policy.name)"])
                    break walk
                }
            }
            if summary.status == .running { summary.status = .completed }
            if summary.status != .interrupted {
                var stoppedBy: Int32?
                let stop = options.stopRequested ?? { nil }
                if let erasure {
                    stoppedBy = try maintain(policies, summary: summary, method: "erase (\(erasure.method?.rawValue ?? ""))",
                                             stopRequested: stop) { table in
                        try Erasure.rewrite(table, plan: erasure, on: connection, stopRequested: stop)
                    }
                } else if options.vacuum {
                    // The name comes from the catalog check and is quoted: a fixed statement of the program's.
                    stoppedBy = try maintain(policies, summary: summary, method: "vacuum", stopRequested: stop) { table in
                        try connection.execute(unsafeSQL: "VACUUM \(table.sql)")
                    }
                }
                if let stoppedBy {
                    summary.status = .interrupted
                    summary.signal = stoppedBy
                    logger.notice("interrupted by signal \(stoppedBy) during table maintenance; the purge is complete and recorded")
                }
            }
            summary.finishedAt = try finish(summary.runID, status: summary.status, error: nil)
        } catch let error as RetentionError {
            summary.status = .failed
            if connection.isAlive || reconnect() {
                do {
                    // A reconnected session has lost the lock: finalize only if no other run took it since.
                    try RunLock.acquire(on: connection)
                    _ = try finish(summary.runID, status: .failed, error: error.description)
                    summary.manifestPath = try store.write(runID: summary.runID)
                } catch {
                    logger.warning("could not record the failure; the next run finds this run and recovers it from the ledger")
                }
            } else {
                logger.warning("the database is out of reach; the next run finds this run and recovers it from the ledger")
            }
            throw PurgeFailed(runID: summary.runID, cause: error)
        }
        do {
            summary.manifestPath = try store.write(runID: summary.runID)
        } catch let error as RetentionError {
            // The purge is done and recorded; say so, and what is missing, rather than fail without a word.
            summary.manifestError = error
        }
        return summary
    }

    /// Sets a purging session's timeouts.
    private func configure(_ session: Connection, _ options: RunOptions) throws {
        // No JIT: compiling a batch's expressions took 40-60 ms of a 100 ms batch, again for every batch.
        // No bitmap scans: the batch's key bounds are unknown when the statement is planned, so the
        // server once combined the key range with the age index and read all 230,000 old entries of
        // that index for each batch of 10,000 keys; a plain range scan of the key reads only the batch.
        do {
            try session.query("""
                SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false),
                       set_config('idle_in_transaction_session_timeout', '60s', false), set_config('jit', 'off', false),
                       set_config('enable_bitmapscan', 'off', false)
                """, [options.lockTimeout, options.statementTimeout])
        } catch let error as DatabaseError where error.sqlState == "22023" {
            // The server's parser is the judge of its own settings' syntax; nothing has changed yet.
            throw UsageError("--lock-timeout \(visible(options.lockTimeout)) / --statement-timeout "
                             + "\(visible(options.statementTimeout)): \(error.message)", exitCode: .usage)
        }
    }

    /// Tries to reach the server again after the connection broke (a restart), for a few seconds.
    private func reconnect() -> Bool {
        var attempts = 1
        while !connection.reset() {
            guard attempts < 5 else { return false }
            attempts += 1
            Thread.sleep(forTimeInterval: 1)
        }
        return true
    }

    /// Records the run and its cutoffs (fixed for the whole run) in one transaction.
    private func start(_ policies: [ResolvedPolicy], options: RunOptions) throws -> RunSummary {
        let systemIdentifier = try systemIdentifier()
        return try connection.transaction {
            // Integers and text only: manifests are canonical JSON without floating point.
            let optionsJSON = JSONValue.object([
                "batch_size": options.batchSize.map { .int(Int64($0)) } ?? .null,
                "batch_target_ms": options.batchSize == nil ? .int(milliseconds(options.batchTarget)) : .null,
                "jobs": .int(Int64(options.jobs)),
                "max_runtime_seconds": options.maxRuntime.map { .int(Int64($0.rounded(.up))) } ?? .null,
                "policies": .array(policies.map { .string($0.policy.name) }),
            ]).canonicalString
            let row = try connection.query("""
                INSERT INTO retention.runs (tool_version, options, system_identifier) VALUES ($1, $2::jsonb, $3)
                RETURNING id::text, started_at::text
                """, [options.toolVersion, optionsJSON, systemIdentifier]).rows[0]
            let runID = Int64(row[0] ?? "") ?? 0
            var outcomes: [PolicyOutcome] = []
            for resolved in policies {
                let policy = resolved.policy
                let cutoffs = try Planner.computeCutoffs(resolved, on: connection)
                var periods: [(String?, Period, String)] = [(nil, policy.retain, cutoffs.standard)]
                for (library, cutoff) in cutoffs.libraries {
                    periods.append((library, policy.period(for: library), cutoff))
                }
                for (library, period, cutoff) in periods {
                    try connection.query("""
                        INSERT INTO retention.run_policies
                            (run_id, policy, version, policy_sha256, table_name, action, library, retain, cutoff)
                        VALUES ($1::int8, $2, $3::int4, $4, $5, $6, $7, $8, $9)
                        """, [String(runID), policy.name, String(policy.version), policy.sha256,
                              policy.table.description, policy.action.rawValue, library, period.description, cutoff])
                }
                outcomes.append(PolicyOutcome(name: policy.name, version: policy.version, sha256: policy.sha256,
                                              table: policy.table.description, action: policy.action,
                                              cutoffs: cutoffs, libraries: []))
            }
            logger.info("run started", metadata: ["run.id": "\(runID)", "run.policies": "\(policies.count)"])
            return RunSummary(runID: runID, status: .running, startedAt: row[1] ?? "", policies: outcomes)
        }
    }

    /// `VACUUM` is for a table's owner; anyone else gets a warning and nothing done, so say it before the run.
    private func requireOwnership(_ policies: [ResolvedPolicy]) throws {
        var missing: [String] = []
        for resolved in policies {
            if try !Catalog.ownsTable(resolved.tableOID, on: connection) { missing.append("--vacuum: VACUUM of \(resolved.policy.table) needs its owner's role") }
        }
        if !missing.isEmpty { throw MissingPrivileges(missing: missing) }
    }

    /// Runs `VACUUM` or the erasure rewrite on each table the run purged, and records it per policy.
    ///
    /// Plain VACUUM marks the space of purged rows free but does not overwrite it; only a rewrite
    /// (`--erase`) removes their bytes from the table's files (README, "What erasure means").
    ///
    /// A SIGTERM or SIGINT cancels the statement (or pg_repack) at once and ends the maintenance;
    /// returns that signal, or `nil` when every table was done.
    private func maintain(_ policies: [ResolvedPolicy], summary: RunSummary, method: String,
                          stopRequested: @escaping @Sendable () -> Int32?,
                          _ work: (QualifiedName) throws -> Void) throws -> Int32? {
        // Maintenance of a large table may take longer than a batch may take.
        try connection.query("SELECT set_config('statement_timeout', '0', false)")
        defer { _ = try? connection.query("SELECT set_config('statement_timeout', $1, false)", [statementTimeout]) }
        var done = Set<String>()
        for (resolved, outcome) in zip(policies, summary.policies) where outcome.rows > 0 {
            if let signal = stopRequested() { return signal }
            let clock = ContinuousClock()
            let began = clock.now
            if done.insert(resolved.tableOID).inserted {
                do {
                    try connection.cancelling(when: { stopRequested() != nil }) { try work(resolved.policy.table) }
                } catch where stopRequested() != nil {
                    // Cancelled (57014, or pg_repack stopped): the table is as it was before its maintenance.
                    return stopRequested()
                }
            }
            let elapsed = milliseconds(clock.now - began)
            try connection.query("""
                UPDATE retention.run_policies SET maintenance = $3, maintenance_ms = $4::int8
                WHERE run_id = $1::int8 AND policy = $2
                """, [String(summary.runID), resolved.policy.name, method, String(elapsed)])
            logger.info("table maintained", metadata: [
                "policy.name": "\(resolved.policy.name)", "maintenance.method": "\(method)", "maintenance.ms": "\(elapsed)",
            ])
        }
        return nil
    }

    /// The cluster's system identifier, which names the database in manifests together with its name.
    ///
    /// `pg_control_system()` is for superusers unless granted (sql/roles.sql grants it); without it the
    /// manifest says so instead of failing the run.
    private func systemIdentifier() throws -> String? {
        do {
            return try connection.query("SELECT system_identifier::text FROM pg_catalog.pg_control_system()").rows[0][0]
        } catch let error as DatabaseError where error.isPermissionDenied {
            logger.warning("no privilege to read the system identifier; manifests will not name it",
                           metadata: ["sqlstate": "42501"])
            return nil
        }
    }

    /// How a policy's walk ended.
    enum WalkEnd {
        case finished, deadline, signal(Int32)
    }

    /// Walks one policy's table in key ranges, one transaction per batch, with `options.jobs` sessions
    /// at once, each in its own slice of the key space.
    private func purge(_ resolved: ResolvedPolicy, into outcome: inout PolicyOutcome, runID: Int64,
                       options: RunOptions, deadline: ContinuousClock.Instant?) throws -> WalkEnd {
        let sql = PurgeSQL(resolved)
        let name = resolved.policy.name
        if let progress = options.progress {
            // Only a person watching pays for this count; a cron run goes straight to work.
            let count = sql.countQuery(cutoffs: outcome.cutoffs, holds: try Planner.holdShape(resolved, on: connection))
            let due = try connection.query(count.sql, count.params).rows.reduce(Int64(0)) { $0 + (Int64($1[1] ?? "") ?? 0) }
            progress.started(policy: name, due: due)
        }
        let walk = Walk(outcome: outcome)
        let truncated = try truncateWholePartitions(resolved, into: walk, runID: runID, options: options, deadline: deadline)
        let workers = try openWorkers(resolved, options: options)
        // Each worker owns its session for the whole walk; the main session (worker 0 or the only
        // one) is not touched by this thread until every worker has returned.
        let logger = logger
        DispatchQueue.concurrentPerform(iterations: workers.count) { index in
            do {
                let end = try Runner.walk(sql, worker: workers[index], of: workers.count, after: truncated, walk: walk,
                                          runID: runID, options: options, deadline: deadline, logger: logger)
                walk.ended(end)
            } catch {
                walk.failed(error)
            }
        }
        options.progress?.finished(policy: name)
        let (merged, end, error) = walk.result
        outcome = merged
        outcome.sessions = workers.count
        outcome.partitionsTruncated = truncated
        if let error { throw error }
        logger.info("policy done", metadata: [
            "policy.name": "\(name)", "policy.action": "\(resolved.policy.action.rawValue)",
            "policy.rows": "\(outcome.rows)", "policy.batches": "\(outcome.batches)", "policy.sessions": "\(workers.count)",
            "policy.partitions_truncated": "\(truncated)",
        ])
        return end
    }

    /// Empties, with `TRUNCATE`, each partition of a delete policy's table that lies wholly before the
    /// cutoff and holds no kept row; each is one batch in the ledger. Returns the batches it used.
    ///
    /// Each partition gets its own transaction: lock it (no row can come or go), count its rows and
    /// its due rows with the batches' own tests, and only when they are equal truncate it and write
    /// the ledger rows. A partition that is busy past `lock_timeout` or holds a kept row is left to
    /// the batches, which purge exactly the same rows, one by one.
    private func truncateWholePartitions(_ resolved: ResolvedPolicy, into walk: Walk, runID: Int64,
                                         options: RunOptions, deadline: ContinuousClock.Instant?) throws -> Int {
        guard resolved.policy.action == .delete, resolved.partitioned else { return 0 }
        let sql = PurgeSQL(resolved)
        let list = sql.wholePartitionsQuery(cutoffs: walk.cutoffs)
        let partitions = try connection.query(list.sql, list.params).rows.map {
            QualifiedName(schema: $0[0] ?? "", name: $0[1] ?? "")
        }
        var batch = 0
        let clock = ContinuousClock()
        for partition in partitions {
            if options.stopRequested?() != nil { break }
            if let deadline, clock.now >= deadline { break }
            let began = clock.now
            // First without a lock, which stops at the first kept row: most partitions that cannot be
            // emptied are told at once, and none is locked for nothing.
            let kept = sql.partitionCountQuery(partition, cutoffs: walk.cutoffs, keptOnly: true)
            if try connection.query(kept.sql, kept.params).rows.first?[0] != "f" {
                logger.debug("partition holds a kept row; the batches purge it", metadata: [
                    "policy.name": "\(resolved.policy.name)", "partition": "\(partition)"])
                continue
            }
            let result: QueryResult?
            do {
                result = try connection.transaction { () -> QueryResult? in
                    // The name comes from the catalog and is quoted: a fixed statement of the program's.
                    try connection.execute(unsafeSQL: "LOCK TABLE \(partition.sql) IN ACCESS EXCLUSIVE MODE")
                    let count = sql.partitionCountQuery(partition, cutoffs: walk.cutoffs)
                    let rows = try connection.query(count.sql, count.params).rows
                    let number = { (row: [String?], column: Int) in Int64(row[column] ?? "") ?? 0 }
                    guard !rows.isEmpty, rows.allSatisfy({ number($0, 1) == number($0, 2) }) else { return nil }
                    try connection.execute(unsafeSQL: "TRUNCATE \(partition.sql)")
                    var ledger: [[String?]] = []
                    for row in rows {
                        ledger += try connection.query("""
                            INSERT INTO retention.batches (run_id, batch, policy, library, rows, started_at, finished_at)
                            VALUES ($1::int8, $2::int4, $3, $4, $5::int8, now(), clock_timestamp())
                            RETURNING library, rows, kept_hold, kept_consent, kept_rule
                            """, [String(runID), String(batch + 1), resolved.policy.name, row[0], row[2]]).rows
                    }
                    return QueryResult(columns: [], rows: ledger)
                }
            } catch let error as DatabaseError where error.sqlState == "55P03" {
                logger.notice("partition busy; the batches purge it", metadata: [
                    "policy.name": "\(resolved.policy.name)", "partition": "\(partition)"])
                continue
            }
            guard let result else {
                logger.debug("partition changed; the batches purge it", metadata: [
                    "policy.name": "\(resolved.policy.name)", "partition": "\(partition)"])
                continue
            }
            batch += 1
            let done = walk.record(result)
            options.progress?.advanced(policy: resolved.policy.name, done: done)
            logger.info("partition truncated", metadata: [
                "policy.name": "\(resolved.policy.name)", "partition": "\(partition)", "batch.number": "\(batch)",
                "batch.rows": "\(Runner.purgedRows(result))",
                "batch.ms": "\(milliseconds(clock.now - began))",
            ])
        }
        return batch
    }

    /// One session of a policy's walk and the slice of the key space it purges.
    private final class Worker: @unchecked Sendable {
        // Unchecked: the session is used by one thread at a time, first this one (to open it and
        // find its slice), then its worker's, handed over by `concurrentPerform`.
        let connection: Connection
        let number: Int
        let slice: PurgeSQL.Slice

        init(connection: Connection, number: Int, slice: PurgeSQL.Slice) {
            self.connection = connection
            self.number = number
            self.slice = slice
        }
    }

    /// What the workers of one policy's walk found, gathered under a lock.
    private final class Walk: Sendable {
        private struct State {
            var outcome: PolicyOutcome
            var end = WalkEnd.finished
            var error: (any Error)?
        }
        private let state: Mutex<State>
        let cutoffs: Cutoffs

        init(outcome: PolicyOutcome) {
            state = Mutex(State(outcome: outcome))
            cutoffs = outcome.cutoffs
        }

        /// Adds a committed batch's ledger rows; returns the rows purged so far in the policy.
        func record(_ result: QueryResult) -> Int64 {
            state.withLock { state in
                Runner.record(result, into: &state.outcome)
                return state.outcome.rows
            }
        }

        func ended(_ end: WalkEnd) {
            state.withLock { state in
                switch (state.end, end) {
                case (.signal, _), (_, .finished): break
                default: state.end = end
                }
            }
        }

        func failed(_ error: any Error) {
            state.withLock { state in if state.error == nil { state.error = error } }
        }

        /// Whether a worker failed, so the others stop after their current batch.
        var aborted: Bool { state.withLock { $0.error != nil } }

        var result: (PolicyOutcome, WalkEnd, (any Error)?) { state.withLock { ($0.outcome, $0.end, $0.error) } }
    }

    /// Opens the sessions that purge a policy together and gives each its slice of the key space.
    ///
    /// The main session exports its snapshot and every other session imports it, so all find their
    /// slice's bounds in the same data and the slices meet exactly. One session does it all when
    /// `--jobs 1`, when the table is too small to share, or when no further session can be opened.
    private func openWorkers(_ resolved: ResolvedPolicy, options: RunOptions) throws -> [Worker] {
        let alone = [Worker(connection: connection, number: 0, slice: .whole)]
        guard options.jobs > 1 else { return alone }
        // The planner's estimates are enough: any split works, as long as all sessions agree on it.
        let rows = Int64(try connection.query("SELECT greatest(reltuples, 0)::int8 FROM pg_class WHERE oid = $1::oid",
                                              [resolved.tableOID]).rows.first?[0] ?? "") ?? 0
        // A session for every 10,000 rows at most (or every batch, when their size is fixed).
        let jobs = Int(min(Int64(options.jobs), rows / Int64(max(options.batchSize ?? 10_000, 1))))
        guard jobs > 1 else { return alone }
        let sql = PurgeSQL(resolved)
        return try connection.transaction(snapshot: .export) { snapshot in
            var workers: [Worker] = []
            for number in 0..<jobs {
                let session: Connection
                if number == 0 {
                    session = connection
                } else {
                    do {
                        session = try connection.another()
                        try configure(session, options)
                    } catch let error as DatabaseError {
                        logger.warning("could not open another session; one session purges the policy",
                                       metadata: ["policy.name": "\(resolved.policy.name)", "error": "\(error.description)"])
                        return alone
                    }
                }
                let bounds = sql.sliceStatement(number: number, of: jobs)
                let slice = try (number == 0 ? session.query(bounds.sql, bounds.params)
                    : session.transaction(snapshot: .importing(snapshot)) { _ in try session.query(bounds.sql, bounds.params) }).rows
                guard let found = slice.first, number == 0 || found[0] == "t" else {
                    logger.notice("the key has no statistics yet (ANALYZE); one session purges the policy",
                                  metadata: ["policy.name": "\(resolved.policy.name)"])
                    return alone
                }
                workers.append(Worker(connection: session, number: number,
                                      slice: PurgeSQL.Slice(lower: number > 0, upper: number < jobs - 1 && found[1] == "t")))
            }
            return workers
        }
    }

    /// One worker's walk through its slice, batch after batch, until the slice ends or the run must stop.
    private static func walk(_ sql: PurgeSQL, worker: Worker, of workers: Int, after batches: Int, walk: Walk, runID: Int64,
                             options: RunOptions, deadline: ContinuousClock.Instant?, logger: Logger) throws -> WalkEnd {
        let connection = worker.connection
        let name = sql.resolved.policy.name
        // Workers number their batches in turn (1, 3, 5 and 2, 4, 6 for two, after the truncated
        // partitions), so the ledger's numbers are unique.
        var batch = batches + worker.number + 1 - workers
        var first = true
        var size = options.batchSize ?? BatchSizing.first
        let clock = ContinuousClock()
        while !walk.aborted {
            if let signal = options.stopRequested?() { return .signal(signal) }
            if let deadline, clock.now >= deadline { return .deadline }
            batch += workers
            let began = clock.now
            let (spanned, result) = try withRetries(options, policy: name, batch: batch, logger: logger) {
                try connection.transaction { () -> (Int, QueryResult) in
                    let bound = sql.boundStatement(size: size, first: first, slice: worker.slice)
                    let spanned = Int(try connection.query(bound.sql, bound.params).rows.first?[0] ?? "") ?? 0
                    guard spanned > 0 else { return (0, QueryResult(columns: [], rows: [])) }
                    let purge = sql.purgeStatement(cutoffs: walk.cutoffs)
                    let purged = try connection.query(purge.sql, purge.params).rows.map { ($0[0], Int64($0[1] ?? "") ?? 0) }
                    let ledger = sql.ledgerStatement(cutoffs: walk.cutoffs, runID: runID, batch: batch, purged: purged)
                    let result = try connection.query(ledger.sql, ledger.params)
                    try connection.query(PurgeSQL.advanceStatement.sql)
                    return (spanned, result)
                }
            }
            first = false
            guard spanned > 0 else { break }
            let done = walk.record(result)
            options.progress?.advanced(policy: name, done: done)
            logger.debug("batch committed", metadata: [
                "policy.name": "\(name)", "batch.number": "\(batch)", "batch.keys": "\(spanned)",
                "batch.rows": "\(purgedRows(result))",
                "batch.ms": "\(milliseconds(clock.now - began))", "batch.session": "\(worker.number)",
            ])
            if spanned < size { break }
            if options.batchSize == nil { size = BatchSizing.next(after: size, took: clock.now - began, target: options.batchTarget) }
        }
        return .finished
    }

    /// Runs a batch, trying again after a lock or statement timeout (the batch rolled back whole,
    /// cursor included), with a doubling wait, up to `options.retries` times.
    private static func withRetries<T>(_ options: RunOptions, policy: String, batch: Int, logger: Logger,
                                       _ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            do {
                return try body()
            } catch let error as DatabaseError where error.kind == .server
                && (error.sqlState == "55P03" || error.sqlState == "57014") && attempt < options.retries {
                let wait = options.retryDelay * Double(1 << attempt)
                attempt += 1
                logger.warning("batch timed out; trying again", metadata: [
                    "policy.name": "\(policy)", "batch.number": "\(batch)", "sqlstate": "\(error.sqlState ?? "")",
                    "retry.attempt": "\(attempt)", "retry.wait_s": "\(wait)",
                ])
                Thread.sleep(forTimeInterval: wait)
            }
        }
    }

    /// The rows a batch purged, from its ledger rows (library, rows, ...), for its log line.
    private static func purgedRows(_ result: QueryResult) -> Int64 {
        result.rows.reduce(0) { $0 + (Int64($1[1] ?? "") ?? 0) }
    }

    /// Adds one batch's ledger rows (library, rows, kept by hold, consent, rule) to the policy's outcome.
    fileprivate static func record(_ result: QueryResult, into outcome: inout PolicyOutcome) {
        var purgedSomething = false
        for row in result.rows {
            let library = row[0]
            let numbers = row.dropFirst().map { Int64($0 ?? "") ?? 0 }
            var index = outcome.libraries.firstIndex { $0.library == library }
            if index == nil {
                outcome.libraries.append(LibraryOutcome(library: library, cutoff: outcome.cutoffs.cutoff(for: library)))
                index = outcome.libraries.count - 1
            }
            outcome.libraries[index!].rows += numbers[0]
            outcome.libraries[index!].keptByHold += numbers[1]
            outcome.libraries[index!].keptByConsent += numbers[2]
            outcome.libraries[index!].keptByRule += numbers[3]
            if numbers[0] > 0 {
                outcome.libraries[index!].batches += 1
                purgedSomething = true
            }
        }
        if purgedSomething { outcome.batches += 1 }
    }

    private func finish(_ runID: Int64, status: RunStatus, error: String?) throws -> String {
        try connection.query("""
            UPDATE retention.runs SET status = $2, finished_at = clock_timestamp(), error = $3
            WHERE id = $1::int8 RETURNING finished_at::text
            """, [String(runID), status.rawValue, error]).rows.first?[0] ?? ""
    }
}

/// A duration in whole milliseconds, for logs.
public func milliseconds(_ duration: Duration) -> Int64 {
    duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
}

/// The program's version, recorded in runs and manifests.
public enum RetentionVersion {
    public static let current = "0.1.0"
}
