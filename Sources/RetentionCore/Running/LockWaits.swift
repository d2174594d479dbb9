import Foundation

/// A policy's table (or the tool's own) held by another session past `--lock-timeout` before the
/// first batch: nothing was done. `plan` and `check` exit 75; `run` records itself as failed first.
public struct TablesBusy: RetentionError {
    /// Who holds what, in words: `public.computer_signups: server process 4242 (AccessExclusiveLock)`.
    public let holders: String
    public let lockTimeout: String
    public var exitCode: ExitStatus { .tempFail }
    public var description: String {
        "waited --lock-timeout \(visible(lockTimeout)) for a lock before the first batch and gave up: \(holders); "
            + "nothing was done (pg_terminate_backend, or waiting for that session, ends a session's lock)"
    }
}

/// Finds who holds locks on the tables a run needs, for the message of a wait that gave up.
enum LockWaits {
    /// The sessions other than this one that hold a lock on any of `tables` (or, with none found,
    /// that block this session), in words; never a row value.
    static func holders(of tables: [QualifiedName], on connection: Connection) -> String {
        // The names are bound; the statement's text is the program's own.
        let rows = (try? connection.query(SQL("""
            SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS relation, coalesce(l.pid::text, '') AS pid, l.mode,
                   -- A prepared transaction's locks have no process; its transaction id's lock shares
                   -- their virtual transaction.
                   (SELECT p.gid FROM pg_catalog.pg_prepared_xacts p
                    JOIN pg_catalog.pg_locks x ON x.locktype = 'transactionid' AND x.transactionid = p.transaction
                    WHERE l.pid IS NULL AND x.virtualtransaction = l.virtualtransaction LIMIT 1) AS prepared
            FROM pg_catalog.pg_locks l
            JOIN pg_catalog.pg_class c ON c.oid = l.relation
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE l.granted AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid() AND l.mode <> 'AccessShareLock'
              AND c.oid IN (SELECT pg_catalog.to_regclass(x) FROM pg_catalog.unnest(\(bind: tables.map(\.sql))) x)
            ORDER BY 1, 2
            """).statement).rows) ?? []
        let described = rows.compactMap { row -> String? in
            guard let relation = try? row.string("relation"), let pid = try? row.string("pid"), let mode = try? row.string("mode")
            else { return nil }
            if let prepared = try? row.optional("prepared") {
                // No session holds it and it outlives restarts: only its own end frees the table.
                return "\(visible(relation)) held by prepared transaction '\(visible(prepared))' (\(mode)), which only COMMIT PREPARED "
                    + "or ROLLBACK PREPARED '\(visible(prepared))' ends (it outlives sessions and restarts)"
            }
            guard !pid.isEmpty else { return nil }
            return "\(visible(relation)) held by server process \(pid) (\(mode))"
        }
        return described.isEmpty ? "a lock another session holds" : described.joined(separator: ", ")
    }
}

extension Runner {
    /// Records a run that gave up before its first batch (a table locked past `--lock-timeout`): a
    /// run row with status `failed` and its cause, and its signed manifest, so the night is on record.
    /// Returns the failure to end the command with (exit 1), with the run for the metrics file.
    public func recordGaveUp(_ cause: any RetentionError, options: RunOptions, manifests: ManifestSettings) throws -> PurgeFailed {
        try configure(connection, options)
        try RunLock.acquire(on: connection)
        let store = ManifestStore(connection: connection, settings: manifests, logger: logger)
        try store.finalizePending()
        var summary = try start([], options: options)
        summary.status = .failed
        summary.finishedAt = try finish(summary.runID, status: .failed, error: cause.description, pacing: nil)
        summary.manifestPath = try store.write(runID: summary.runID)
        return PurgeFailed(summary: summary, cause: cause, target: connection.target)
    }
}
