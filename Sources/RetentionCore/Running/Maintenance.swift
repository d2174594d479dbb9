import Foundation
import Logging

/// The stage after the last batch: `--vacuum` or `--erase` on every table the run purged.
extension Runner {
    /// `VACUUM` is for a table's owner; anyone else gets a warning and nothing done, so say it before the run.
    func requireOwnership(_ policies: [ResolvedPolicy]) throws {
        var missing: [String] = []
        for resolved in policies {
            if try !Catalog.ownsTable(resolved.tableOID, on: connection) { missing.append("--vacuum: VACUUM of \(resolved.policy.table) needs its owner's role") }
        }
        if !missing.isEmpty { throw MissingPrivileges(missing: missing) }
    }

    /// Runs `--erase` or `--vacuum`, whichever was asked for, on the tables the run purged; returns
    /// the signal that stopped it, if one did.
    func maintain(_ policies: [ResolvedPolicy], summary: RunSummary, options: RunOptions,
                  erasure: ErasurePlan?) throws -> Int32? {
        let stop = options.stopRequested ?? { nil }
        if let erasure {
            return try maintain(policies, summary: summary, method: "erase (\(erasure.method?.rawValue ?? ""))",
                                stopRequested: stop) { table in
                try Erasure.rewrite(table, plan: erasure, on: connection, stopRequested: stop)
            }
        }
        guard options.vacuum else { return nil }
        // The name comes from the catalog check and is quoted: a fixed statement of the program's.
        return try maintain(policies, summary: summary, method: "vacuum", stopRequested: stop) { table in
            try connection.execute(unsafeSQL: "VACUUM \(table.sql)")
        }
    }

    /// Runs `VACUUM` or the erasure rewrite on each table the run purged, and records it per policy.
    ///
    /// Plain VACUUM marks the space of purged rows free but does not overwrite it; only a rewrite
    /// (`--erase`) removes their bytes from the table's files (docs/operations.md, "What erasure means on disk").
    ///
    /// A SIGTERM or SIGINT cancels the statement (or pg_repack) at once and ends the maintenance;
    /// returns that signal, or `nil` when every table was done.
    func maintain(_ policies: [ResolvedPolicy], summary: RunSummary, method: String,
                          stopRequested: @escaping @Sendable () -> Int32?,
                          _ work: (QualifiedName) throws -> Void) throws -> Int32? {
        // Maintenance of a large table may take longer than a batch may take.
        try connection.setStatementTimeout("0")
        defer { try? connection.setStatementTimeout(statementTimeout) }
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
}
