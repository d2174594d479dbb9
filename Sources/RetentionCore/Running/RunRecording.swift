import Foundation
import Logging

/// The stages that record a run: the run and its cutoffs at the start, how it ended at the end.
extension Runner {
    /// Records the run and its cutoffs (fixed for the whole run) in one transaction.
    func start(_ policies: [ResolvedPolicy], options: RunOptions) throws -> RunSummary {
        let database = try ManifestDatabase.current(on: connection)
        if database.systemIdentifier == nil {
            logger.warning("no privilege to read the system identifier; manifests will not name it", metadata: ["sqlstate": "42501"])
        }
        return try connection.transaction {
            // Integers and text only: manifests are canonical JSON without floating point.
            let optionsJSON = JSONValue.object([
                "batch_size": options.batchSize.map { .int(Int64($0)) } ?? .null,
                "batch_target_ms": options.batchSize == nil ? .int(milliseconds(options.batchTarget)) : .null,
                "jobs": .int(Int64(options.jobs)),
                "max_runtime_seconds": options.maxRuntime.map { .int(Int64($0.rounded(.up))) } ?? .null,
                "policies": .array(policies.map { .string($0.policy.name) }),
            ].merging(Self.pacingOptions(options.pacing)) { $1 }
             .merging(options.maxRows.map { ["max_rows": .int($0)] } ?? [:]) { $1 }
             .merging(options.leftOut.isEmpty ? [:] : ["left_out": .array(options.leftOut.map { .string($0) })]) { $1 }).canonicalString
            let row = try connection.query("""
                INSERT INTO retention.runs (tool_version, options, system_identifier, database_oid)
                VALUES ($1, $2::jsonb, $3, $4)
                RETURNING id, started_at::text AS started_at
                """, [options.toolVersion, optionsJSON, database.systemIdentifier, database.oid]).single()
            let runID = try row.int64("id")
            var outcomes: [PolicyOutcome] = []
            for resolved in policies {
                let policy = resolved.policy
                let cutoffs = try Cutoffs.compute(for: resolved, on: connection)
                var periods: [(String?, Period, String)] = [(nil, policy.retain, cutoffs.standard)]
                for (library, cutoff) in cutoffs.libraries {
                    periods.append((library, policy.period(for: library), cutoff))
                }
                // The policy in words, on its own row: the manifest's record of it (a recovered run's too).
                let words = PolicyWords(policy)
                // The libraries it names: a hold's library appears in the manifest only if one of them.
                let record = JSONValue.object(["description": .string(words.description),
                                               "rules": .array(words.rules.map { .string($0) }),
                                               "libraries": .array((policy.libraries?.named ?? []).map { .string($0) })]).canonicalString
                for (library, period, cutoff) in periods {
                    try connection.query("""
                        INSERT INTO retention.run_policies
                            (run_id, policy, version, policy_sha256, table_name, action, library, retain, cutoff, record)
                        VALUES ($1::int8, $2, $3::int4, $4, $5, $6, $7, $8, $9, $10::jsonb)
                        """, [String(runID), policy.name, String(policy.version), policy.sha256,
                              policy.table.description, policy.action.rawValue, library, period.description, cutoff,
                              library == nil ? record : nil])
                }
                outcomes.append(PolicyOutcome(name: policy.name, version: policy.version, sha256: policy.sha256,
                                              table: policy.table.description, action: policy.action,
                                              cutoffs: cutoffs, libraries: []))
            }
            logger.info("run started", metadata: ["run.id": "\(runID)", "run.policies": "\(policies.count)"])
            return RunSummary(runID: runID, status: .running, startedAt: try row.string("started_at"), policies: outcomes)
        }
    }

    /// Counts, after a run's last batch (completed, stopped, interrupted or failed), what is still due
    /// under the run's own cutoffs (the plan's query, in one snapshot) and records it per policy and
    /// library, so a run that did not finish still says how much it left.
    ///
    /// The purge is done by then: a count that fails or takes longer than `limit` (a statement
    /// timeout; `0`: none) is logged and leaves the run "not counted" rather than failing it.
    func recordRemaining(_ policies: [ResolvedPolicy], summary: inout RunSummary, within limit: String) {
        do {
            // Counting a large table may take longer than a batch may take.
            try connection.setStatementTimeout(limit)
            defer { try? connection.setStatementTimeout(statementTimeout) }
            var counted: [[LibraryCounts]] = []
            try connection.transaction(readOnly: true) {
                counted = try zip(policies, summary.policies).map { try LibraryCounts.count($0, cutoffs: $1.cutoffs, on: connection) }
            }
            try record(counted, of: policies, runID: summary.runID)
            for index in policies.indices {
                summary.policies[index].stillDue = counted[index].reduce(0) { $0 + $1.counts.rows }
            }
        } catch {
            logger.warning("could not count the rows still due after the run (within \(limit == "0" ? "no limit" : limit)); its manifest says not counted",
                           metadata: ["run.id": "\(summary.runID)"])
        }
    }

    /// Writes the counts to `retention.run_remaining`, in one transaction.
    private func record(_ counted: [[LibraryCounts]], of policies: [ResolvedPolicy], runID: Int64) throws {
        let remaining = zip(policies, counted).flatMap { resolved, counts in counts.map { (resolved.policy.name, $0) } }
        try connection.transaction {
            for (policy, counts) in remaining {
                try connection.query("""
                    INSERT INTO retention.run_remaining (run_id, policy, library, still_due, oldest_due_days)
                    VALUES ($1::int8, $2, $3, $4::int8, $5::int8)
                    """, [String(runID), policy, counts.library, String(counts.counts.rows),
                          counts.oldestDueDays.map(String.init)])
            }
            // A policy with no row left to count still gets one, so "counted: none due" differs from "not counted".
            try connection.query("""
                INSERT INTO retention.run_remaining (run_id, policy, library, still_due, oldest_due_days)
                SELECT $1::int8, p.policy, NULL, 0, NULL FROM retention.run_policies p
                WHERE p.run_id = $1::int8 AND p.library IS NULL
                  AND NOT EXISTS (SELECT FROM retention.run_remaining r WHERE r.run_id = $1::int8 AND r.policy = p.policy)
                """, [String(runID)])
        }
    }

    /// Records how the run ended (and the error that ended a failed one); returns when, as text.
    func finish(_ runID: Int64, status: RunStatus, error: String?, pacing: Pacing? = nil) throws -> String {
        // With pacing, the options also record how long the run waited in all.
        let waited = pacing.map { JSONValue.object(["paused_ms": .int($0.pausedMilliseconds)]).canonicalString } ?? "{}"
        return try connection.query("""
            UPDATE retention.runs SET status = $2, finished_at = clock_timestamp(), error = $3, options = options || $4::jsonb
            WHERE id = $1::int8 RETURNING finished_at::text AS finished_at
            """, [String(runID), status.rawValue, error, waited]).single().string("finished_at")
    }

    /// The pacing limits a run records among its options, when it has them.
    static func pacingOptions(_ pacing: Pacing?) -> [String: JSONValue] {
        guard let pacing else { return [:] }
        return ["max_replica_lag_seconds": pacing.maxReplicaLag.map { .int(Int64($0.rounded(.up))) } ?? .null,
                "max_wal_rate_mb_per_s": pacing.maxWALRate.map { .int(Int64($0 / 1_048_576)) } ?? .null]
    }
}
