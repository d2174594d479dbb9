import Foundation
import Logging

/// The first stage of a delete policy on a partitioned table: whole partitions past the cutoff emptied at once.
extension Runner {
    /// Empties, with `TRUNCATE`, the partitions of a delete policy's table that lie wholly before the
    /// cutoff and hold no kept row; each partition is one batch in the ledger. Returns the batches it used.
    ///
    /// The partitions go in groups of about `options.partitionGroupRows` rows, one transaction each: lock the
    /// group in `SHARE` mode (readers go on, no row can come, go or change), read the catalog again
    /// (a partition detached meanwhile is left alone), count every partition's rows and due rows with
    /// the batches' own tests in one statement, then truncate together those whose rows are all due
    /// and write their ledger rows. A hold or consent committed before the count keeps its partition
    /// whole for the batches; one committed after it is ordered after the purge, as for a batch. A
    /// group that is busy past `lock_timeout` is left to the batches, which purge the same rows one by one.
    func truncateWholePartitions(_ resolved: ResolvedPolicy, into state: WalkState, runID: Int64,
                                 options: RunOptions, deadline: ContinuousClock.Instant?) throws -> Int {
        guard resolved.policy.action == .delete, resolved.partitionedByAge else { return 0 }
        let sql = PurgeSQL(resolved)
        let candidates = try wholePartitions(sql, cutoffs: state.cutoffs)
        var batch = 0
        let clock = ContinuousClock()
        var lower: String?
        for group in Runner.groups(of: candidates, rows: options.partitionGroupRows) {
            defer { lower = group.last?.upper }
            if options.stopRequested?() != nil { break }
            if let deadline, clock.now >= deadline { break }
            let began = clock.now
            let emptied: [(partition: QualifiedName, ledger: [LedgerRow])]
            do {
                // `hold place` waits for the truncate as for a batch (`HoldLock`); taken for the session
                // before the transaction, whose snapshot must follow every hold placed before it.
                try HoldLock.shareForSession(on: connection)
                defer { HoldLock.releaseForSession(on: connection) }
                emptied = try connection.repeatableReadTransaction {
                    try truncateGroup(group, from: lower, sql: sql, cutoffs: state.cutoffs, runID: runID, firstBatch: batch + 1)
                }
            } catch let error as DatabaseError where ["55P03", "40P01", "42P01"].contains(error.sqlState ?? "") {
                // Busy past lock_timeout, in a deadlock, or dropped meanwhile: the batches purge them.
                logger.notice("partitions busy; the batches purge them", metadata: [
                    "policy.name": "\(resolved.policy.name)", "partitions": "\(group.count)"])
                continue
            }
            guard !emptied.isEmpty else { continue }
            batch += emptied.count
            // Each partition is a batch of its own, in the manifest's counts as in the ledger.
            let done = emptied.map { state.record($0.ledger) }.last ?? 0
            options.progress?.advanced(policy: resolved.policy.name, done: done)
            let ms = milliseconds(clock.now - began)
            for (partition, ledger) in emptied {
                logger.info("partition truncated", metadata: [
                    "policy.name": "\(resolved.policy.name)", "partition": "\(partition)",
                    "batch.rows": "\(Runner.purgedRows(ledger))", "batch.ms": "\(ms)",
                ])
            }
        }
        return batch
    }

    /// A partition that may be emptied whole: its oid, name and upper bound, and the planner's estimate of its rows.
    struct WholePartition {
        let oid: Int64
        let name: QualifiedName
        let upper: String
        let estimate: Int64
    }

    private func wholePartitions(_ sql: PurgeSQL, cutoffs: Cutoffs) throws -> [WholePartition] {
        try connection.query(sql.wholePartitionsQuery(cutoffs: cutoffs)).rows.map {
            WholePartition(oid: try $0.int64("oid"), name: QualifiedName(schema: try $0.string("schema"), name: try $0.string("name")),
                           upper: try $0.string("upper"), estimate: try $0.int64("estimate"))
        }
    }

    /// Consecutive runs of partitions holding about `rows` rows together (at least one partition each).
    static func groups(of partitions: [WholePartition], rows limit: Int64) -> [[WholePartition]] {
        var groups: [[WholePartition]] = []
        var rows: Int64 = 0
        for partition in partitions {
            if groups.isEmpty || rows + partition.estimate > limit {
                groups.append([])
                rows = 0
            }
            groups[groups.count - 1].append(partition)
            rows += partition.estimate
        }
        return groups
    }

    /// One group's transaction: lock, check, count, truncate what holds only due rows, write the ledger.
    /// Returns the partitions emptied, each with the ledger rows written for it.
    /// `lower` is the previous group's upper bound: the count reads from there.
    ///
    /// `REPEATABLE READ` with the lock first: the holds, the catalog and the rows are all read as
    /// they were when the locks were granted.
    private func truncateGroup(_ group: [WholePartition], from lower: String?, sql: PurgeSQL, cutoffs: Cutoffs, runID: Int64,
                               firstBatch: Int) throws -> [(partition: QualifiedName, ledger: [LedgerRow])] {
        // The names come from the catalog and are quoted: a fixed statement of the program's.
        try connection.execute(unsafeSQL: "LOCK TABLE \(group.map(\.name.sql).joined(separator: ", ")) IN SHARE MODE")
        let holds = try HoldShape.current(for: sql.resolved, on: connection)
        // A partition detached or dropped meanwhile is no longer the policy's table.
        let still = Set(try wholePartitions(sql, cutoffs: cutoffs).map(\.oid))
        let partitions = group.filter { still.contains($0.oid) }
        guard let upper = partitions.last?.upper else { return [] }
        var counts: [Int64: [(library: String?, rows: Int64, due: Int64)]] = [:]
        for row in try connection.query(sql.partitionsCountQuery(from: lower, below: upper, cutoffs: cutoffs, holds: holds)).rows {
            counts[try row.int64("partition"), default: []].append(
                (try row.optional("library"), try row.int64("rows"), try row.int64("due")))
        }
        let emptiable = partitions.filter { partition in
            guard let libraries = counts[partition.oid] else { return false }
            if libraries.allSatisfy({ $0.rows == $0.due }) { return true }
            logger.debug("partition holds a kept row; the batches purge it", metadata: [
                "policy.name": "\(sql.policy.name)", "partition": "\(partition.name)"])
            return false
        }
        guard !emptiable.isEmpty else { return [] }
        try connection.execute(unsafeSQL: "TRUNCATE \(emptiable.map(\.name.sql).joined(separator: ", "))")
        struct Entry: Encodable {
            let batch: Int
            let library: String?
            let rows: Int64
        }
        let entries = emptiable.enumerated().flatMap { number, partition in
            counts[partition.oid, default: []].map { Entry(batch: firstBatch + number, library: $0.library, rows: $0.due) }
        }
        let json = String(decoding: try JSONEncoder().encode(entries), as: UTF8.self)
        // The column list is `KeptReason`'s fixed words.
        let written = try connection.query(unsafeSQL: """
            INSERT INTO retention.batches (run_id, batch, policy, library, rows, started_at, finished_at)
            SELECT $1::int8, e.batch, $2, e.library, e.rows, now(), clock_timestamp()
            FROM jsonb_to_recordset($3::jsonb) AS e(batch int4, library text, rows int8)
            RETURNING batch, \(KeptReason.ledgerReturning)
            """, [String(runID), sql.policy.name, json]).rows.map { (batch: try $0.int64("batch"), row: try LedgerRow(row: $0)) }
        let byBatch = Dictionary(grouping: written, by: \.batch)
        return emptiable.enumerated().map { number, partition in
            (partition.name, byBatch[Int64(firstBatch + number), default: []].map(\.row))
        }
    }
}
