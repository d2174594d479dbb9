import Foundation
import Logging
import Synchronization

/// The stage that purges a policy's table: its key space walked in `--jobs` sessions at once.
extension Runner {
    /// How a policy's walk ended.
    enum WalkEnd {
        case finished, deadline, rowLimit, signal(Int32)
    }

    /// Walks one policy's table in key ranges, one transaction per batch, with `options.jobs` sessions
    /// at once, each in its own slice of the key space.
    func purge(_ resolved: ResolvedPolicy, into outcome: inout PolicyOutcome, runID: Int64,
               options: RunOptions, deadline: ContinuousClock.Instant?) throws -> WalkEnd {
        let sql = PurgeSQL(resolved)
        let name = resolved.policy.name
        if let progress = options.progress {
            // Only a person watching pays for this count; a cron run goes straight to work.
            let due = try LibraryCounts.count(resolved, cutoffs: outcome.cutoffs, on: connection).reduce(Int64(0)) { $0 + $1.counts.rows }
            progress.started(policy: name, due: due)
        }
        let consenting = try sql.consentingCountQuery().map { try connection.query($0).single().int64("patrons") }
        // The session holding the run lock, which every batch checks it still holds: code in the
        // database can release it (`pg_advisory_unlock_all()`), and another run would then take this
        // one for dead and sign its manifest while it still purges.
        let lockHolder = try connection.query("""
            SELECT pg_catalog.pg_backend_pid()::pg_catalog.int8 AS pid FROM pg_catalog.pg_locks l
            WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'::pg_catalog.text AND l.granted
              AND l.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()
              AND l.classid OPERATOR(pg_catalog.=) $1::pg_catalog.int4::pg_catalog.oid
              AND l.objid OPERATOR(pg_catalog.=) $2::pg_catalog.int4::pg_catalog.oid
              AND l.objsubid OPERATOR(pg_catalog.=) 2::pg_catalog.int2
            """, [String(RunLock.classID), String(RunLock.runID)]).rows.first?.int64("pid")
        let state = WalkState(outcome: outcome, consenting: consenting, lockHolder: lockHolder)
        // Under --max-rows, partitions are not emptied whole: a truncate could take millions of rows at once.
        let truncated = options.rowBudget != nil ? 0
            : try truncateWholePartitions(resolved, into: state, runID: runID, options: options, deadline: deadline)
        let workers = try openWorkers(resolved, options: options)
        // Each worker owns its session for the whole walk; the main session (worker 0 or the only
        // one) is not touched by this thread until every worker has returned.
        let logger = logger
        Self.atOnce(workers.count) { index in
            do {
                let end = try Runner.walkSlice(sql, worker: workers[index], of: workers.count, after: truncated, state: state,
                                               runID: runID, options: options, deadline: deadline, logger: logger)
                state.ended(end)
            } catch {
                state.failed(error)
            }
        }
        options.progress?.finished(policy: name)
        let (merged, end, error) = state.result
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

    /// Runs `body` for each index `0..<count` at the same time, one thread each (index 0 on this
    /// thread), and returns when all have returned.
    ///
    /// A session's thread mostly waits on its socket while the server works, so `--jobs N` must mean
    /// N sessions at once whatever the client's cores: `DispatchQueue.concurrentPerform` runs no more
    /// at once than there are active CPUs, so a 1-vCPU batch machine ran `--jobs 2` one after the other.
    static func atOnce(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for index in stride(from: 1, to: count, by: 1) {
            group.enter()
            let thread = Thread {
                body(index)
                group.leave()
            }
            // As a main thread's: libpq and the SQL builder are called from it.
            thread.stackSize = 8 << 20
            thread.start()
        }
        if count > 0 { body(0) }
        group.wait()
    }

    /// One session of a policy's walk and the slice of the key space it purges.
    final class Worker: @unchecked Sendable {
        // Unchecked: the session is used by one thread at a time, first this one (to open it and
        // find its slice), then its worker's, handed over by `atOnce`.
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
    final class WalkState: Sendable {
        private struct State {
            var outcome: PolicyOutcome
            var end = WalkEnd.finished
            var error: (any Error)?
        }
        private let state: Mutex<State>
        let cutoffs: Cutoffs
        /// The consenting patrons when the run began, when they can be looked up per row.
        let consenting: Int64?
        /// The server process holding the run lock when the walk began (`nil`: none, as in tests
        /// that call the runner without it).
        let lockHolder: Int64?

        init(outcome: PolicyOutcome, consenting: Int64? = nil, lockHolder: Int64? = nil) {
            state = Mutex(State(outcome: outcome))
            cutoffs = outcome.cutoffs
            self.consenting = consenting
            self.lockHolder = lockHolder
        }

        /// Adds a committed batch's ledger rows; returns the rows purged so far in the policy.
        func record(_ rows: [LedgerRow]) -> Int64 {
            state.withLock { state in
                Runner.record(rows, into: &state.outcome)
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
    func openWorkers(_ resolved: ResolvedPolicy, options: RunOptions) throws -> [Worker] {
        let alone = [Worker(connection: connection, number: 0, slice: .whole)]
        guard options.jobs > 1 else { return alone }
        // The planner's estimates are enough: any split works, as long as all sessions agree on it.
        let rows = try connection.query("SELECT greatest(reltuples, 0)::int8 AS estimate FROM pg_class WHERE oid = $1::oid",
                                        [resolved.tableOID]).rows.first?.int64("estimate") ?? 0
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
                let slice = try (number == 0 ? session.query(bounds)
                    : session.transaction(snapshot: .importing(snapshot)) { _ in try session.query(bounds) }).rows
                guard let found = slice.first, try number == 0 || found.bool("lower") else {
                    logger.notice("the key has no statistics yet (ANALYZE); one session purges the policy",
                                  metadata: ["policy.name": "\(resolved.policy.name)"])
                    return alone
                }
                workers.append(Worker(connection: session, number: number,
                                      slice: PurgeSQL.Slice(lower: number > 0, upper: try number < jobs - 1 && found.bool("upper"))))
            }
            return workers
        }
    }
}
