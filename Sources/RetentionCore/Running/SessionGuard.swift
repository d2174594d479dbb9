import Foundation

/// What a batch's own statements depend on and code in the database could change while they run:
/// the session's settings and row-level security on the tables whose rows decide what is kept.
///
/// A function that a consent view, a trigger or a column default calls runs in the purging
/// session, with its rights to change the session: `set_config('search_path', 'public, ...',
/// false)` lets a decoy `=` in `public` decide whether a row is held in the next statement;
/// `bytea_output = 'escape'` writes a bytea patron differently from its hold; `session_replication_role
/// = replica` (a SECURITY DEFINER function) turns off the cascades a policy declares; a
/// `statement_timeout` of 0 unbounds the next batch. So a batch sets the settings again before it
/// starts, and after its purge (with the holds table locked by it, so no concurrent change can
/// commit meanwhile) checks that none changed, that no row-level security applies to the holds, the
/// policy's table or the tables its foreign keys read, that nothing acts on the batch's list of
/// pending rows, and that the run still holds its lock: anything else fails the batch, which rolls back.
enum SessionGuard {
    /// The settings a batch relies on: how values read and compare, which objects names find,
    /// whether cascades and triggers fire, its bounds (timeouts) and its role.
    static let settings = [
        "search_path", "bytea_output", "DateStyle", "IntervalStyle", "extra_float_digits", "TimeZone",
        "session_replication_role", "row_security", "role", "lock_timeout", "statement_timeout",
        "standard_conforming_strings", "default_transaction_isolation",
    ]

    /// Before a batch: the settings as the connection set them; returns their values, which the
    /// batch must still have after its purge.
    static func reset(_ connection: Connection) throws -> [String] {
        try connection.fixSessionSettings()
        return try connection.query("""
            SELECT s.name, pg_catalog.current_setting(s.name) AS value FROM pg_catalog.unnest($1::text[]) WITH ORDINALITY AS s(name, n)
            ORDER BY s.n
            """, [SQL.arrayLiteral(settings)]).rows.map { try $0.string("value") }
    }

    /// After a batch's purge, in its transaction: throws `SessionChanged` naming what changed since `reset`.
    static func check(_ sql: PurgeSQL, batch: Int?, since values: [String], list: String?, lockHolder: Int64?,
                      on connection: Connection) throws {
        // The tables whose rows decide what is kept: the policy's own, those its foreign keys read
        // (cascades, tables pointing into it), the holds.
        let resolved = sql.resolved
        let tables = [resolved.tableOID] + resolved.references.map(\.referencingOID) + resolved.cascades.flatMap(\.leafOIDs)
        // Every operator and type named with its schema: this query must hold when the search path
        // is what changed (a decoy `=` in public would otherwise say nothing did).
        let row = try connection.query("""
            SELECT pg_catalog.array_to_string(ARRAY(
                       SELECT s.name FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), pg_catalog.unnest($2::pg_catalog.text[]))
                           AS s(name, was)
                       WHERE NOT (pg_catalog.current_setting(s.name) OPERATOR(pg_catalog.=) s.was)), ', ') AS settings,
                   pg_catalog.array_to_string(ARRAY(
                       SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c
                       JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
                       WHERE (c.oid OPERATOR(pg_catalog.=) ANY ($3::pg_catalog.oid[])
                              OR c.oid OPERATOR(pg_catalog.=) 'retention.holds'::pg_catalog.regclass::pg_catalog.oid)
                         AND pg_catalog.row_security_active(c.oid)
                       ORDER BY 1), ', ') AS secured,
                   -- The list of rows left to declared triggers: nothing may act on it.
                   $4::pg_catalog.oid IS NOT NULL AND (
                       EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid OPERATOR(pg_catalog.=) $4::pg_catalog.oid)
                       OR EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r WHERE r.ev_class OPERATOR(pg_catalog.=) $4::pg_catalog.oid)
                       OR EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                                  WHERE c.oid OPERATOR(pg_catalog.=) $4::pg_catalog.oid AND c.relrowsecurity)) AS list_touched,
                   $5::pg_catalog.int4 IS NOT NULL AND NOT EXISTS (
                       SELECT 1 FROM pg_catalog.pg_locks l
                       WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'::pg_catalog.text AND l.granted
                         AND l.pid OPERATOR(pg_catalog.=) $5::pg_catalog.int4
                         AND l.objsubid OPERATOR(pg_catalog.=) 2::pg_catalog.int2
                         AND l.classid OPERATOR(pg_catalog.=) $6::pg_catalog.int4::pg_catalog.oid
                         AND l.objid OPERATOR(pg_catalog.=) $7::pg_catalog.int4::pg_catalog.oid) AS lock_lost
            """, [SQL.arrayLiteral(settings), SQL.arrayLiteral(values), "{" + tables.joined(separator: ",") + "}", list,
                  lockHolder.map(String.init), String(RunLock.classID), String(RunLock.runID)]).single()
        let changed = try row.string("settings"), secured = try row.string("secured")
        var problems: [String] = []
        if !changed.isEmpty { problems.append("the session's \(changed) (set_config in a function that a consent view, trigger or default calls)") }
        if !secured.isEmpty { problems.append("row-level security on \(secured), which this role does not bypass") }
        if try row.bool("list_touched") { problems.append("the batch's list of rows left to declared triggers (a trigger, rule or row security on it)") }
        if try row.bool("lock_lost") { problems.append("the run's lock, which this run no longer holds (pg_advisory_unlock_all)") }
        guard problems.isEmpty else { throw SessionChanged(policy: resolved.policy.name, batch: batch, what: problems) }
    }
}

/// Code in the database changed what a batch relies on while it ran: the batch rolled back, the run fails (1).
struct SessionChanged: RetentionError {
    let policy: String
    /// The batch, or `nil` for a plan's counts.
    let batch: Int?
    let what: [String]

    var exitCode: ExitStatus { .failure }
    var description: String {
        guard let batch else {
            return "policy \(policy): code in the database changed \(what.joined(separator: " and ")) while the plan counted "
                + "the policy, so its counts of held and due rows could not be trusted; nothing was changed"
        }
        return "policy \(policy), batch \(batch): code in the database changed \(what.joined(separator: " and ")) while the batch ran, "
            + "so its holds and counts could not be trusted; the batch rolled back and nothing of it was purged"
    }
}
