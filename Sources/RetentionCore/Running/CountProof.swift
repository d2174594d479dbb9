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

extension Runner {
    /// Fails the batch unless the server counted exactly what the purge statement claimed.
    ///
    /// A declared cascade that reaches the policy's own table (a self-referencing `ON DELETE CASCADE`
    /// or `SET NULL`) changes rows there besides the claimed ones; then only "at least the claimed
    /// rows deleted" can be proven, which still keeps a manifest from claiming more than happened.
    /// For anonymize, `undone` rows (updated but still lacking the `set` values) fail it too.
    static func prove(_ claimed: Int64, undone: Int64 = 0, counted: TableCounters, sql: PurgeSQL, batch: Int) throws {
        let resolved = sql.resolved
        guard undone == 0 else {
            throw CountNotProven(policy: resolved.policy.name, batch: batch, table: resolved.policy.table,
                                 action: resolved.policy.action, claimed: claimed, counted: counted, undone: undone)
        }
        let expected = TableCounters.expected(claimed, action: resolved.policy.action)
        let cascadesIntoItself = resolved.cascades.contains { $0.table == resolved.policy.table }
        let proven = cascadesIntoItself ? counted.deleted >= claimed && counted.inserted == 0 : counted == expected
        guard !proven else { return }
        throw CountNotProven(policy: resolved.policy.name, batch: batch, table: resolved.policy.table,
                             action: resolved.policy.action, claimed: claimed, counted: counted)
    }
}
