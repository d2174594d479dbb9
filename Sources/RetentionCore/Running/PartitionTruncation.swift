import Foundation
import Logging

/// The first stage of a delete policy on a partitioned table: whole partitions past the cutoff emptied at once.
extension Runner {
    /// Empties, with `TRUNCATE`, each partition of a delete policy's table that lies wholly before the
    /// cutoff and holds no kept row; each is one batch in the ledger. Returns the batches it used.
    ///
    /// Each partition gets its own transaction: lock it (no row can come or go), count its rows and
    /// its due rows with the batches' own tests, and only when they are equal truncate it and write
    /// the ledger rows. A partition that is busy past `lock_timeout` or holds a kept row is left to
    /// the batches, which purge exactly the same rows, one by one.
    func truncateWholePartitions(_ resolved: ResolvedPolicy, into state: WalkState, runID: Int64,
                                 options: RunOptions, deadline: ContinuousClock.Instant?) throws -> Int {
        guard resolved.policy.action == .delete, resolved.partitioned else { return 0 }
        let sql = PurgeSQL(resolved)
        let partitions = try connection.query(sql.wholePartitionsQuery(cutoffs: state.cutoffs)).rows.map {
            QualifiedName(schema: try $0.string("schema"), name: try $0.string("name"))
        }
        var batch = 0
        let clock = ContinuousClock()
        for partition in partitions {
            if options.stopRequested?() != nil { break }
            if let deadline, clock.now >= deadline { break }
            let began = clock.now
            // First without a lock, which stops at the first kept row: most partitions that cannot be
            // emptied are told at once, and none is locked for nothing.
            let kept = sql.partitionCountQuery(partition, cutoffs: state.cutoffs, keptOnly: true)
            if try connection.query(kept).single().bool("kept") {
                logger.debug("partition holds a kept row; the batches purge it", metadata: [
                    "policy.name": "\(resolved.policy.name)", "partition": "\(partition)"])
                continue
            }
            let result: [LedgerRow]?
            do {
                result = try connection.transaction { () -> [LedgerRow]? in
                    // The name comes from the catalog and is quoted: a fixed statement of the program's.
                    try connection.execute(unsafeSQL: "LOCK TABLE \(partition.sql) IN ACCESS EXCLUSIVE MODE")
                    let rows = try connection.query(sql.partitionCountQuery(partition, cutoffs: state.cutoffs)).rows
                    guard !rows.isEmpty, try rows.allSatisfy({ try $0.int64("rows") == $0.int64("due") }) else { return nil }
                    try connection.execute(unsafeSQL: "TRUNCATE \(partition.sql)")
                    var ledger: [LedgerRow] = []
                    for row in rows {
                        // The column list is `KeptReason`'s fixed words.
                        ledger += try connection.query(unsafeSQL: """
                            INSERT INTO retention.batches (run_id, batch, policy, library, rows, started_at, finished_at)
                            VALUES ($1::int8, $2::int4, $3, $4, $5::int8, now(), clock_timestamp())
                            RETURNING \(KeptReason.ledgerReturning)
                            """, [String(runID), String(batch + 1), resolved.policy.name, try row.optional("library"),
                                  String(try row.int64("due"))]).decode(LedgerRow.self)
                    }
                    return ledger
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
            let done = state.record(result)
            options.progress?.advanced(policy: resolved.policy.name, done: done)
            logger.info("partition truncated", metadata: [
                "policy.name": "\(resolved.policy.name)", "partition": "\(partition)", "batch.number": "\(batch)",
                "batch.rows": "\(Runner.purgedRows(result))",
                "batch.ms": "\(milliseconds(clock.now - began))",
            ])
        }
        return batch
    }
}
