import Foundation

/// What a batch's own statements depend on and code in the database could change while they run:
/// the session's settings and row-level security on the tables whose rows decide what is kept.
///
/// A function that a consent view, a trigger or a column default calls runs in the purging
/// session, with its rights to change the session: `set_config('search_path', 'public, ...',
/// false)` lets a decoy `=` in `public` decide whether a row is held in the next statement;
/// `bytea_output = 'escape'` writes a bytea patron differently from its hold; `session_replication_role
/// = replica` (a SECURITY DEFINER function) turns off the cascades a policy declares. So a batch
/// sets the settings again before it starts, and after its purge (with the holds table locked by
/// it, so no concurrent change can commit meanwhile) checks them and the row-level security of
/// the holds and policy tables: anything changed fails the batch, which rolls back.
enum SessionGuard {
    /// The settings a batch relies on and the value each must have.
    static let settings: [(String, String)] = [
        ("search_path", "pg_catalog, pg_temp"), ("bytea_output", "hex"), ("DateStyle", "ISO, MDY"),
        ("IntervalStyle", "postgres"), ("extra_float_digits", "1"), ("session_replication_role", "origin"),
        ("row_security", "on"),
    ]

    /// Before a batch: the settings as the connection set them.
    static func reset(_ connection: Connection) throws {
        try connection.fixSessionSettings()
    }

    /// After a batch's purge, in its transaction: throws `SessionChanged` naming what changed.
    static func check(_ sql: PurgeSQL, batch: Int, on connection: Connection) throws {
        let names = settings.map(\.0), wanted = settings.map(\.1)
        let tables = [sql.resolved.tableOID]
        let row = try connection.query("""
            SELECT pg_catalog.array_to_string(ARRAY(
                       SELECT s.name FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])) AS s(name, wanted)
                       WHERE pg_catalog.current_setting(s.name) IS DISTINCT FROM s.wanted), ', ') AS settings,
                   pg_catalog.array_to_string(ARRAY(
                       SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c
                       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                       WHERE (c.oid = ANY ($3::oid[]) OR c.oid = 'retention.holds'::pg_catalog.regclass)
                         AND pg_catalog.row_security_active(c.oid)
                       ORDER BY 1), ', ') AS secured
            """, ["{" + names.joined(separator: ",") + "}",
                  "{" + wanted.map { "\"\($0)\"" }.joined(separator: ",") + "}",
                  "{" + tables.joined(separator: ",") + "}"]).single()
        let changed = try row.string("settings"), secured = try row.string("secured")
        guard changed.isEmpty && secured.isEmpty else {
            throw SessionChanged(policy: sql.resolved.policy.name, batch: batch, settings: changed, secured: secured)
        }
    }
}

/// Code in the database changed what a batch relies on while it ran: the batch rolled back, the run fails (1).
struct SessionChanged: RetentionError {
    let policy: String
    let batch: Int
    let settings: String
    let secured: String

    var exitCode: ExitStatus { .failure }
    var description: String {
        var what: [String] = []
        if !settings.isEmpty { what.append("the session's \(settings) (set_config in a function that a consent view, trigger or default calls)") }
        if !secured.isEmpty { what.append("row-level security on \(secured), which this role does not bypass") }
        return "policy \(policy), batch \(batch): code in the database changed \(what.joined(separator: " and ")) while the batch ran, "
            + "so its holds and counts could not be trusted; the batch rolled back and nothing of it was purged"
    }
}
