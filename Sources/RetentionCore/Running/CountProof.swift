import Foundation

/// What the server counted a transaction doing to a policy's own table: rows deleted, updated and
/// inserted, summed over its partitions (`pg_stat_get_xact_tuples_*`).
///
/// A batch's claim (the rows its `DELETE` or `UPDATE ... RETURNING` gave back) is compared with the
/// server's counters, read before and after the purge in the batch's own transaction: a rule that
/// turns the delete into an update, a trigger that puts rows back or deletes others, row-level
/// security or any future feature that makes the statement's answer differ from what happened to
/// the table fails the batch, which rolls back, and the run, instead of signing a false count.
struct TableCounters: Equatable {
    var deleted: Int64 = 0
    var updated: Int64 = 0
    var inserted: Int64 = 0

    /// Rows deleted or updated: what a declared cascade (`ON DELETE CASCADE` / `SET NULL`) changed.
    var changed: Int64 { deleted + updated }

    /// The counters of the tables `oids` and of every partition below them, summed, as the
    /// transaction sees them: counts only, no row is read.
    ///
    /// They may still hold earlier transactions' changes that the session has not yet reported to the
    /// statistics system, so callers take the difference of two reads.
    static func read(_ oids: [String], on connection: Connection) throws -> TableCounters {
        let row = try connection.query("""
            SELECT coalesce(sum(pg_catalog.pg_stat_get_xact_tuples_deleted(r.o)), 0)::int8 AS deleted,
                   coalesce(sum(pg_catalog.pg_stat_get_xact_tuples_updated(r.o)), 0)::int8 AS updated,
                   coalesce(sum(pg_catalog.pg_stat_get_xact_tuples_inserted(r.o)), 0)::int8 AS inserted
            FROM (SELECT t.o FROM pg_catalog.unnest($1::oid[]) t(o)
                  UNION SELECT p.relid FROM pg_catalog.unnest($1::oid[]) t(o), pg_catalog.pg_partition_tree(t.o) p) r
            """, ["{" + oids.joined(separator: ",") + "}"]).single()
        return TableCounters(deleted: try row.int64("deleted"), updated: try row.int64("updated"),
                             inserted: try row.int64("inserted"))
    }

    /// The counters of every table of the database but the policy's own (with its partitions), by
    /// name, for the tables the transaction's counters show changed, and whether the table is one
    /// of `cascades` (declared cascades, counted on their own): what a declared trigger may have done
    /// anywhere.
    static func everyOtherTable(than tableOID: String, cascades: [String],
                                on connection: Connection) throws -> [String: (counters: TableCounters, cascade: Bool)] {
        let rows = try connection.query(SQL("""
            SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name, c.oid = ANY (\(bind: cascades)::oid[]) AS cascade,
                   pg_catalog.pg_stat_get_xact_tuples_deleted(c.oid) AS deleted,
                   pg_catalog.pg_stat_get_xact_tuples_updated(c.oid) AS updated,
                   pg_catalog.pg_stat_get_xact_tuples_inserted(c.oid) AS inserted
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'retention')
              AND n.nspname !~ '^pg_toast'
              AND c.oid <> \(bind: tableOID)::oid AND c.oid NOT IN (SELECT r.relid FROM pg_catalog.pg_partition_tree(\(bind: tableOID)::oid) r)
              AND pg_catalog.pg_stat_get_xact_tuples_deleted(c.oid) + pg_catalog.pg_stat_get_xact_tuples_updated(c.oid)
                  + pg_catalog.pg_stat_get_xact_tuples_inserted(c.oid) > 0
            """).statement).rows
        var counters: [String: (counters: TableCounters, cascade: Bool)] = [:]
        for row in rows {
            counters[try row.string("name")] = (TableCounters(deleted: try row.int64("deleted"), updated: try row.int64("updated"),
                                                              inserted: try row.int64("inserted")), try row.bool("cascade"))
        }
        return counters
    }

    /// The tables other than the policy's own (with its partitions) that this transaction holds in
    /// `ACCESS EXCLUSIVE` mode: a trigger truncated (or altered) them, which the row counters do not
    /// show (a `TRUNCATE` resets them). By name.
    static func lockedWhole(than tableOID: String, on connection: Connection) throws -> [String] {
        try connection.query(SQL("""
            SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name
            FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_class c ON c.oid = l.relation
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
              AND c.relkind IN ('r', 'p', 'm') AND c.oid <> \(bind: tableOID)::oid
              AND c.oid NOT IN (SELECT r.relid FROM pg_catalog.pg_partition_tree(\(bind: tableOID)::oid) r)
            ORDER BY 1
            """).statement).rows.map { try $0.string("name") }
    }

    static func - (after: TableCounters, before: TableCounters) -> TableCounters {
        TableCounters(deleted: after.deleted - before.deleted, updated: after.updated - before.updated,
                      inserted: after.inserted - before.inserted)
    }

    /// The counters a purge that did exactly what it claimed leaves: `claimed` rows deleted (or
    /// updated, for anonymize) and nothing else.
    static func expected(_ claimed: Int64, action: Policy.Action) -> TableCounters {
        action == .delete ? TableCounters(deleted: claimed) : TableCounters(updated: claimed)
    }
}

/// A batch whose claimed count the server's counters contradict: the batch rolled back, the run fails (1).
struct CountNotProven: RetentionError {
    let policy: String
    let batch: Int
    let table: QualifiedName
    let action: Policy.Action
    let claimed: Int64
    let counted: TableCounters
    /// Anonymized rows that still lack the `set` values after the update.
    var undone: Int64 = 0

    var exitCode: ExitStatus { .failure }

    var description: String {
        if undone > 0 {
            return "batch \(batch) of policy \(policy): \(undone) of the \(claimed) rows the update anonymized in \(table) still "
                + "hold what it clears, as updated; something in the database (a BEFORE UPDATE trigger) undid the change, so the "
                + "batch was rolled back and the run stopped without claiming it"
        }
        return "batch \(batch) of policy \(policy): the purge statement reported \(claimed) rows \(action.rawValue)d, but the server "
            + "counted \(counted.deleted) deleted, \(counted.updated) updated and \(counted.inserted) inserted in \(table) "
            + "in that transaction; something in the database (a rule, a trigger, row-level security) changed what the "
            + "purge did, so the batch was rolled back and the run stopped without claiming it"
    }
}

/// A batch whose declared triggers deleted or changed rows of another table while a hold that may
/// cover that table is active: nothing tells which rows a trigger reached, so the batch rolled
/// back and the run fails (1) rather than risk a held row.
/// A batch during which something in the database other than the purge (a check constraint's or a
/// domain's function, a consent view's function, a trigger enabled or a foreign key added during the
/// run) deleted or changed rows of another policy's table, which a hold may keep: the batch rolled
/// back and the run fails (1).
struct SideEffectOnPolicyTable: RetentionError {
    let policy: String
    let batch: Int
    let tables: [String]

    var exitCode: ExitStatus { .failure }

    var description: String {
        "batch \(batch) of policy \(policy): while it purged, something in the database deleted or changed rows of "
            + "\(tables.joined(separator: ", ")), the table of another policy, which a hold may keep (a check constraint's, "
            + "a domain's or a consent view's function, or a trigger or foreign key added during the run); the batch was "
            + "rolled back and the run stopped; declare the trigger under triggers:, or remove what changes the rows"
    }
}

struct TriggerReachedHeldTable: RetentionError {
    let policy: String
    let batch: Int
    let tables: [String]
    /// Tables a trigger truncated: their rows cannot be counted, whatever the holds.
    var truncated = false

    var exitCode: ExitStatus { .failure }

    var description: String {
        if truncated {
            return "batch \(batch) of policy \(policy): while it purged, code in the database (its declared triggers) truncated (or altered) "
                + "\(tables.joined(separator: ", ")), whose rows no counter counts, so the batch was rolled back and the run "
                + "stopped; code that runs on purge must delete rows, not truncate tables"
        }
        return "batch \(batch) of policy \(policy): its declared triggers deleted or changed rows of \(tables.joined(separator: ", ")) "
            + "while a legal hold that may cover them is active (one on no policy, or on another policy); which rows a "
            + "trigger reaches cannot be told, so the batch was rolled back and the run stopped; the run goes on once "
            + "those holds are released or scoped to this policy"
    }
}

extension Runner {
    /// Fails the batch unless the server counted exactly what the purge statement claimed.
    ///
    /// (No declared cascade reaches the policy's own table: a cycle through another table is refused,
    /// and a self-reference's chain is purged whole, so its action changes nothing more.) For
    /// anonymize, `undone` rows (updated but still lacking the `set` values) fail it too.
    static func prove(_ claimed: Int64, undone: Int64 = 0, counted: TableCounters, sql: PurgeSQL, batch: Int) throws {
        let resolved = sql.resolved
        guard undone == 0 else {
            throw CountNotProven(policy: resolved.policy.name, batch: batch, table: resolved.policy.table,
                                 action: resolved.policy.action, claimed: claimed, counted: counted, undone: undone)
        }
        let expected = TableCounters.expected(claimed, action: resolved.policy.action)
        guard counted != expected else { return }
        throw CountNotProven(policy: resolved.policy.name, batch: batch, table: resolved.policy.table,
                             action: resolved.policy.action, claimed: claimed, counted: counted)
    }
}
