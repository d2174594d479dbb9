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

    /// `read` for several tables in one statement (a batch reads them twice): each table's leaf
    /// tables' counters summed, in the order given.
    static func read(each tables: [CascadeTable], on connection: Connection) throws -> [TableCounters] {
        guard !tables.isEmpty else { return [] }
        let pairs = tables.enumerated().flatMap { index, table in table.leafOIDs.map { (String(index), $0) } }
        var counters = Array(repeating: TableCounters(), count: tables.count)
        for row in try connection.query(SQL("""
            SELECT t.i, sum(pg_catalog.pg_stat_get_xact_tuples_deleted(t.o))::int8 AS deleted,
                   sum(pg_catalog.pg_stat_get_xact_tuples_updated(t.o))::int8 AS updated,
                   sum(pg_catalog.pg_stat_get_xact_tuples_inserted(t.o))::int8 AS inserted
            FROM ROWS FROM (pg_catalog.unnest(\(bind: pairs.map(\.0))::int[]), pg_catalog.unnest(\(bind: pairs.map(\.1))::oid[])) AS t(i, o)
            GROUP BY t.i
            """).statement).rows {
            counters[Int(try row.int64("i"))] = TableCounters(deleted: try row.int64("deleted"), updated: try row.int64("updated"),
                                                              inserted: try row.int64("inserted"))
        }
        return counters
    }

    /// The oids of a table and of every partition below it (a table outside any partition tree has
    /// none but itself), as an SQL subquery.
    static func tree(of tableOID: String) -> SQL {
        "(SELECT \(bind: tableOID)::oid UNION SELECT r.relid FROM pg_catalog.pg_partition_tree(\(bind: tableOID)::oid) r)"
    }

    /// A table's counters, whether it is a declared cascade's and whether another policy purges it.
    struct Changed {
        let counters: TableCounters
        let cascade: Bool
        let policy: Bool
    }

    /// The counters of every table of the database but the policy's own (with its partitions) and
    /// temporary tables (a session's own, as the batch's list of pending rows), by name, for the
    /// tables the transaction's counters show changed, and whether the table is one
    /// of `cascades` (declared cascades, counted on their own) or of `policies` (other policies'
    /// tables): what a declared trigger may have done anywhere.
    static func everyOtherTable(than tableOID: String, cascades: [String], policies: [String],
                                on connection: Connection) throws -> [String: Changed] {
        // The counters first, in one pass over pg_class: joined first to pg_namespace (whose
        // statistics may be missing), the planner scanned pg_class once per schema, 40-60 ms a
        // read on Evergreen's 3,500 relations, twice a batch.
        let rows = try connection.query(SQL("""
            WITH changed AS MATERIALIZED (
                SELECT c.oid, c.relname, c.relnamespace,
                       pg_catalog.pg_stat_get_xact_tuples_deleted(c.oid) AS deleted,
                       pg_catalog.pg_stat_get_xact_tuples_updated(c.oid) AS updated,
                       pg_catalog.pg_stat_get_xact_tuples_inserted(c.oid) AS inserted
                FROM pg_catalog.pg_class c
                WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't'
                  AND pg_catalog.pg_stat_get_xact_tuples_deleted(c.oid) + pg_catalog.pg_stat_get_xact_tuples_updated(c.oid)
                      + pg_catalog.pg_stat_get_xact_tuples_inserted(c.oid) > 0)
            SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name, c.oid = ANY (\(bind: cascades)::oid[]) AS cascade,
                   c.oid = ANY (\(bind: policies)::oid[]) AS policy, c.deleted, c.updated, c.inserted
            FROM changed c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'retention') AND n.nspname !~ '^pg_toast'
              AND c.oid NOT IN \(tree(of: tableOID))
            """).statement).rows
        var counters: [String: Changed] = [:]
        for row in rows {
            counters[try row.string("name")] = Changed(
                counters: TableCounters(deleted: try row.int64("deleted"), updated: try row.int64("updated"), inserted: try row.int64("inserted")),
                cascade: try row.bool("cascade"), policy: try row.bool("policy"))
        }
        return counters
    }

    /// The tables other than the policy's own (with its partitions) and temporary ones (but the
    /// batch's list of pending rows, made before its transaction) that this transaction holds in
    /// `ACCESS EXCLUSIVE` mode: code in the database truncated (or altered) them, which the row
    /// counters do not show (a `TRUNCATE` resets them). By name.
    static func lockedWhole(than tableOID: String, on connection: Connection) throws -> [String] {
        try connection.query(SQL("""
            SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name
            FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_class c ON c.oid = l.relation
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
              AND c.relkind IN ('r', 'p', 'm') AND (c.relpersistence <> 't' OR c.oid = pg_catalog.to_regclass('pg_temp.retention_pending'))
              AND c.oid NOT IN \(tree(of: tableOID))
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
    /// Rows the batch chose for its declared triggers to delete that are still in the table.
    var stayed: Int64 = 0
    /// Whether code in the session changed the batch's list of those rows.
    var listTouched = false

    var exitCode: ExitStatus { .failure }

    var description: String {
        if undone > 0 {
            return "batch \(batch) of policy \(policy): \(undone) of the \(claimed) rows the update anonymized in \(table) still "
                + "hold what it clears, as updated; something in the database (a BEFORE UPDATE trigger) undid the change, so the "
                + "batch was rolled back and the run stopped without claiming it"
        }
        if listTouched {
            return "batch \(batch) of policy \(policy): code in the database (a trigger) changed the batch's list of the rows it "
                + "left to its declared triggers (pg_temp.retention_pending), so what left \(table) cannot be proven; the batch "
                + "was rolled back and the run stopped without claiming it"
        }
        if stayed > 0 {
            return "batch \(batch) of policy \(policy): \(stayed) of the \(claimed) rows the batch chose in \(table) are still there "
                + "after its declared triggers ran (a BEFORE DELETE trigger skipped them, and nothing deleted them later), while "
                + "the server counted \(counted.deleted) deleted; the triggers did not delete the rows the batch chose, so the "
                + "batch was rolled back and the run stopped without claiming it"
        }
        return "batch \(batch) of policy \(policy): the purge statement reported \(claimed) rows \(action.rawValue)d, but the server "
            + "counted \(counted.deleted) deleted, \(counted.updated) updated and \(counted.inserted) inserted in \(table) "
            + "in that transaction; something in the database (a rule, a trigger, row-level security; the server also counts "
            + "a trigger's deletions that an EXCEPTION block rolled back) changed what the "
            + "purge did, so the batch was rolled back and the run stopped without claiming it"
    }
}

/// A batch that changed more than its own rows, in a way the run cannot prove harmless: the batch
/// rolled back and the run fails (1) rather than risk a held row or sign an uncounted change.
struct SideEffectRefused: RetentionError {
    enum Cause {
        /// Something in the database other than the purge (a check constraint's, a domain's or a
        /// consent view's function, a trigger enabled or a foreign key added during the run) deleted
        /// or changed rows of another policy's table, which a hold may keep.
        case otherPolicysRows
        /// Code in the database (a trigger, a constraint's function) truncated or altered a table:
        /// its rows no counter counts, whatever the holds.
        case truncated
        /// The policy's declared triggers deleted or changed rows of another table while a hold that
        /// may cover it is active: nothing tells which rows a trigger reached.
        case heldByTrigger
    }

    let cause: Cause
    let policy: String
    let batch: Int
    let tables: [String]

    var exitCode: ExitStatus { .failure }

    var description: String {
        let names = tables.joined(separator: ", ")
        let what: String
        switch cause {
        case .otherPolicysRows:
            what = "while it purged, something in the database deleted or changed rows of \(names), the table of another "
                + "policy, which a hold may keep (a check constraint's, a domain's or a consent view's function, or a trigger "
                + "or foreign key added during the run); the batch was rolled back and the run stopped; declare the trigger "
                + "under triggers:, or remove what changes the rows"
        case .truncated:
            what = "while it purged, code in the database (a trigger, a constraint's function) truncated (or altered) \(names), "
                + "whose rows no counter counts, so the batch was rolled back and the run stopped; code that runs on purge must "
                + "delete rows, not truncate tables"
        case .heldByTrigger:
            what = "its declared triggers deleted or changed rows of \(names) while a legal hold that may cover them is active "
                + "(one on no policy, or on another policy); which rows a trigger reaches cannot be told, so the batch was "
                + "rolled back and the run stopped; the run goes on once those holds are released or scoped to this policy"
        }
        return "batch \(batch) of policy \(policy): " + what
    }
}

extension Runner {
    /// Fails the batch unless the server counted exactly what the purge statement claimed.
    ///
    /// (No declared cascade reaches the policy's own table: a cycle through another table is refused,
    /// and a self-reference's chain is purged whole, so its action changes nothing more.) For
    /// anonymize, `undone` rows (updated but still lacking the `set` values) fail it too.
    ///
    /// With declared triggers, the claim counts the rows the batch chose that its statement left for
    /// the triggers to delete (`PurgeSQL.recordsPending`); `stayed` of them are still there. The
    /// table's deletions equal to the claim and none of those rows left: then exactly the chosen
    /// rows went, no more (a trigger deleting another row instead would leave one of them behind).
    static func prove(_ claimed: Int64, undone: Int64 = 0, counted: TableCounters, stayed: Int64 = 0, listTouched: Bool = false,
                      sql: PurgeSQL, batch: Int) throws {
        let resolved = sql.resolved
        guard undone == 0, stayed == 0, !listTouched else {
            throw CountNotProven(policy: resolved.policy.name, batch: batch, table: resolved.policy.table,
                                 action: resolved.policy.action, claimed: claimed, counted: counted, undone: undone, stayed: stayed,
                                 listTouched: listTouched)
        }
        let expected = TableCounters.expected(claimed, action: resolved.policy.action)
        guard counted != expected else { return }
        throw CountNotProven(policy: resolved.policy.name, batch: batch, table: resolved.policy.table,
                             action: resolved.policy.action, claimed: claimed, counted: counted)
    }
}
