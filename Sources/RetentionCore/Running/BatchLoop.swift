import Foundation
import Logging

/// One session's walk through its slice of the key space, one transaction per batch.
extension Runner {
    /// One worker's walk through its slice, batch after batch, until the slice ends or the run must stop.
    static func walkSlice(_ sql: PurgeSQL, worker: Worker, of workers: Int, after batches: Int, state: WalkState, runID: Int64,
                          options: RunOptions, deadline: ContinuousClock.Instant?, logger: Logger) throws -> WalkEnd {
        let connection = worker.connection
        let name = sql.resolved.policy.name
        // Workers number their batches in turn (1, 3, 5 and 2, 4, 6 for two, after the truncated
        // partitions), so the ledger's numbers are unique.
        var batch = batches + worker.number + 1 - workers
        var first = true
        var size = options.batchSize ?? (sql.resolved.policy.triggers.isEmpty ? BatchSizing.first : BatchSizing.firstWithTriggers)
        let clock = ContinuousClock()
        while !state.aborted {
            if let signal = options.stopRequested?() { return .signal(signal) }
            if let deadline, clock.now >= deadline { return .deadline }
            if let pacing = options.pacing, let end = try pacing.wait(on: connection, options: options, deadline: deadline,
                                                                        logger: logger) {
                return end
            }
            // Under --max-rows a batch spans no more keys than rows are left (a key is a row, but
            // for the links of a chain), reserved so that sessions together stay within the cap.
            let reserved = options.rowBudget?.reserve(size)
            if reserved == 0 { return .rowLimit }
            batch += workers
            let began = clock.now
            let spanned: Int64, ledgerRows: [LedgerRow], work: Duration
            var asked = size
            do {
                // A batch that timed out is tried again with a quarter of its keys (its rows may reach
                // far: long renewal chains), and later batches grow again from there.
                (spanned, ledgerRows, work) = try withRetries(options, policy: name, batch: batch, deadline: deadline, logger: logger,
                                                        waitedFor: { LockWaits.holders(of: [sql.resolved.policy.table], on: connection) },
                                                        timedOut: { size = max(1, size / 4) }) {
                    asked = min(size, reserved ?? size)
                    return try purgeBatch(sql, size: asked, first: first, slice: worker.slice, state: state, runID: runID,
                                   batch: batch, on: connection)
                }
            } catch let error as DatabaseError where error.sqlState == "57014" && options.stopRequested?() != nil {
                // Cancelled 10 s after a stop signal (`Runner.lateStop`): rolled back whole, ledger and all.
                return .signal(options.stopRequested?() ?? SIGTERM)
            } catch let error as DatabaseError where Self.retried.contains(error.sqlState ?? "") && deadline.map({ clock.now >= $0 }) == true {
                // A batch that timed out once more after `--max-runtime` passed: rolled back whole; the
                // run stops as at any other batch past the deadline.
                return .deadline
            }
            if let reserved { options.rowBudget?.settle(reserved: reserved, purged: purgedRows(ledgerRows)) }
            first = false
            guard spanned > 0 else { break }
            let done = state.record(ledgerRows)
            options.progress?.advanced(policy: name, done: done)
            logger.debug("batch committed", metadata: [
                "policy.name": "\(name)", "batch.number": "\(batch)", "batch.keys": "\(spanned)",
                "batch.rows": "\(purgedRows(ledgerRows))",
                "batch.ms": "\(milliseconds(clock.now - began))", "batch.work_ms": "\(milliseconds(work))",
                "batch.session": "\(worker.number)",
            ])
            if spanned < Int64(asked) { break }
            if options.batchSize == nil {
                let took = clock.now - began
                size = BatchSizing.next(after: asked, took: took, overhead: took - work, target: options.batchTarget)
            }
        }
        return .finished
    }

    /// One batch in one transaction: the key range, the purge proven against the server's counters,
    /// the cascades' counts and the ledger rows; returns the keys spanned (0: the slice is done),
    /// the ledger rows and the time the work that grows with the batch took: the purge statements,
    /// the ledger's count of the kept rows' reasons and the commit's WAL flush (the rest, the bound,
    /// the session's reset and the proofs, is the batch's fixed cost, which `BatchSizing` weighs).
    static func purgeBatch(_ sql: PurgeSQL, size: Int, first: Bool, slice: PurgeSQL.Slice, state: WalkState, runID: Int64,
                           batch: Int, on connection: Connection) throws -> (Int64, [LedgerRow], Duration) {
        var listOID: String?
        let settings = try SessionGuard.reset(connection)
        if sql.recordsPending {
            try connection.execute(unsafeSQL: PurgeSQL.pendingTable)
            listOID = try connection.query(PurgeSQL.pendingTableOID).single().string("oid")
        }
        let clock = ContinuousClock()
        var bodyDone = clock.now
        let (spanned, rows, work) = try connection.transaction { () -> (Int64, [LedgerRow], Duration) in
            // `hold place` waits for the batches in flight (`HoldLock`): a hold it reports placed
            // is in force for every batch that commits after it.
            try HoldLock.shareForBatch(on: connection)
            let spanned = try connection.query(sql.boundStatement(size: size, first: first, slice: slice,
                                                                cutoffs: state.cutoffs))
                .single().int64("keys")
            guard spanned > 0 else { return (0, [], .zero) }
            // Before and after: the counters can still hold earlier transactions' changes that the
            // session has not yet reported to the statistics system.
            let before = try changedRows(in: sql.resolved.cascades, on: connection)
            let countersBefore = try TableCounters.read([sql.resolved.tableOID], on: connection)
            let sideEffects = try SideEffects(sql, batch: batch, on: connection)
            let perRow = PurgeSQL.looksUpConsent(consenting: state.consenting, keys: spanned)
            // The list's counters too, before and after: they may hold what earlier transactions did.
            let listBefore = try listOID.map { try TableCounters.read([$0], on: connection) }
            let purging = clock.now
            let result = try connection.query(sql.purgeStatement(cutoffs: state.cutoffs, consentPerRow: perRow)).rows
            if sql.recordsPending { try connection.query(sql.pendingDeleteStatement()) }
            let work = clock.now - purging
            // A deferred constraint trigger would act at commit, after every check below: now, instead.
            if sideEffects.triggered { try connection.execute(unsafeSQL: "SET CONSTRAINTS ALL IMMEDIATE") }
            // Before anything is proven: the proofs' own statements rely on the session the purge left.
            try SessionGuard.check(sql, batch: batch, since: settings, list: listOID, lockHolder: state.lockHolder, on: connection)
            // A hold's enum label renamed since the run began would make it hold nothing.
            try Holds.requireReadable([sql.resolved], on: connection)
            let purged = try result.map { (library: try $0.optional("library"), rows: try $0.int64("rows")) }
            // The claim against what the server counted, before anything of it is recorded.
            let pending = try result.reduce(0) { $0 + (try $1.int64("pending")) }
            // The list may only have gained the rows the batch wrote down.
            var listTouched = false
            if let listOID, let listBefore {
                listTouched = try TableCounters.read([listOID], on: connection) - listBefore != TableCounters(inserted: pending)
            }
            try prove(purged.reduce(0) { $0 + $1.rows }, undone: try result.reduce(0) { $0 + (try $1.int64("undone")) },
                      counted: try TableCounters.read([sql.resolved.tableOID], on: connection) - countersBefore,
                      stayed: pending == 0 ? 0 : try connection.query(sql.pendingRemainingQuery()).single().int64("remaining"),
                      listTouched: listTouched, sql: sql, batch: batch)
            var cascaded: [String: Int64] = [:]
            for (table, count) in try changedRows(in: sql.resolved.cascades, on: connection)
            where count > before[table, default: 0] {
                cascaded[table] = count - before[table, default: 0]
            }
            for (table, rows) in try sideEffects.prove(on: connection) { cascaded[table, default: 0] += rows }
            let ledger = sql.ledgerStatement(cutoffs: state.cutoffs, runID: runID, batch: batch, purged: purged,
                                             cascaded: cascaded)
            let counting = clock.now
            let rows = try connection.query(ledger).decode(LedgerRow.self)
            let counted = clock.now - counting
            try connection.query(PurgeSQL.advanceStatement)
            bodyDone = clock.now
            return (spanned, rows, work + counted)
        }
        // The commit flushes the batch's WAL: more rows, more to flush.
        return (spanned, rows, spanned > 0 ? work + (clock.now - bodyDone) : work)
    }

    /// Rows deleted or changed in each declared cascade table by the server's transaction counters
    /// (summed over the table's partitions; they may include earlier transactions of the session not
    /// yet reported, so callers take differences): counts only, no row is read.
    static func changedRows(in tables: [CascadeTable], on connection: Connection) throws -> [String: Int64] {
        var counts: [String: Int64] = [:]
        for (table, counters) in zip(tables, try TableCounters.read(each: tables, on: connection)) {
            counts[table.table.description] = counters.changed
        }
        return counts
    }

    /// Runs a batch, trying again after a lock or statement timeout, a deadlock, or a foreign key
    /// that a concurrent insert made point to a row being purged (the batch rolled back whole,
    /// cursor included), with a doubling wait, up to `options.retries` times.
    /// `waitedFor` says, after a lock timeout, who holds the locks the batch waited for; `timedOut`
    /// is told of a statement timeout before the batch is tried again.
    /// The SQLSTATEs of a batch that is tried again: lock and statement timeouts, a deadlock, a
    /// foreign key a concurrent insert made point to a purged row.
    static let retried: Set<String> = ["55P03", "57014", "40P01", "23503"]

    static func withRetries<T>(_ options: RunOptions, policy: String, batch: Int, deadline: ContinuousClock.Instant? = nil,
                               logger: Logger, waitedFor: () -> String = { "" }, timedOut: () -> Void = {},
                               _ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            do {
                return try body()
            } catch let error as DatabaseError where error.kind == .server
                && retried.contains(error.sqlState ?? "") && attempt < options.retries
                && options.stopRequested?() == nil && deadline.map({ ContinuousClock.now < $0 }) != false {
                let wait = options.retryDelay * Double(1 << attempt)
                attempt += 1
                var metadata: Logger.Metadata = [
                    "policy.name": "\(policy)", "batch.number": "\(batch)", "sqlstate": "\(error.sqlState ?? "")",
                    "retry.attempt": "\(attempt)", "retry.wait_s": "\(wait)",
                ]
                if error.sqlState == "55P03" { metadata["lock.holders"] = "\(waitedFor())" }
                if error.sqlState == "57014" { timedOut() }
                let why = ["55P03": "waited past the lock timeout", "57014": "ran past the statement timeout or was cancelled",
                           "40P01": "was chosen to end a deadlock", "23503": "met a foreign key that a concurrent insert made point to a due row"]
                logger.warning("batch \(why[error.sqlState ?? ""] ?? "failed"); trying again", metadata: metadata)
                Thread.sleep(forTimeInterval: wait)
            }
        }
    }

    /// The rows a batch purged, from its ledger rows, for its log line.
    static func purgedRows(_ rows: [LedgerRow]) -> Int64 {
        rows.reduce(0) { $0 + $1.counts.rows }
    }

    /// Adds one batch's ledger rows to the policy's outcome.
    static func record(_ rows: [LedgerRow], into outcome: inout PolicyOutcome) {
        var purgedSomething = false
        for row in rows {
            var index = outcome.libraries.firstIndex { $0.library == row.library }
            if index == nil {
                outcome.libraries.append(LibraryOutcome(library: row.library, cutoff: outcome.cutoffs.cutoff(for: row.library)))
                index = outcome.libraries.count - 1
            }
            outcome.libraries[index!].counts += row.counts
            if row.counts.rows > 0 {
                outcome.libraries[index!].batches += 1
                purgedSomething = true
            }
        }
        if purgedSomething { outcome.batches += 1 }
    }
}
