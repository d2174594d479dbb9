/// Triggers that run when a policy purges, which the policy must declare (`triggers:`): a trigger
/// may change rows the ledger would not count, or rows a hold keeps in another table.
extension Catalog {
    /// A user trigger that runs when the policy deletes (or, for anonymize, updates) rows.
    public struct FiringTrigger: Equatable, Sendable {
        let name: String
        let table: String
        let function: QualifiedName
    }

    /// What `check --catalog` says about each policy's declared triggers: each one that fires, and
    /// that what it changes is counted.
    public static func triggerNotes(for policies: [ResolvedPolicy]) -> [String] {
        policies.flatMap { resolved in
            resolved.firingTriggers.map { trigger in
                "trigger \(visible(trigger.name)) on \(visible(trigger.table)) runs \(trigger.function)() when policy "
                    + "\(resolved.policy.name) \(resolved.policy.action == .delete ? "deletes" : "updates") rows: declared under "
                    + "triggers: the rows it deletes, changes or inserts in every table are counted"
            }
        }
    }

    /// The enabled user triggers (not the server's own for foreign keys) that a purge of the
    /// policy fires: `DELETE` triggers (`UPDATE` for anonymize) of its table and its partitions,
    /// and `DELETE` or `UPDATE` triggers of the tables its declared cascades change; one per
    /// trigger and function (a partition's copy of its table's trigger is the same trigger).
    static func firingTriggers(of policy: Policy, tableOID: String, cascades: [CascadeTable],
                               on connection: Connection) throws -> [FiringTrigger] {
        // pg_trigger.tgtype: 8 DELETE, 16 UPDATE.
        let own = policy.action == .delete ? 8 : 16
        let rows = try connection.query(SQL("""
            SELECT DISTINCT ON (t.tgname, fn.nspname, p.proname)
                   t.tgname::text AS name, pg_catalog.format('%I.%I', n.nspname, c.relname) AS table_name,
                   fn.nspname::text AS function_schema, p.proname::text AS function_name
            FROM pg_catalog.pg_trigger t
            JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
            JOIN pg_catalog.pg_namespace fn ON fn.oid = p.pronamespace
            WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'
              AND ((t.tgrelid IN \(TableCounters.tree(of: tableOID)) AND (t.tgtype::int & \(own)) <> 0)
                   OR (t.tgrelid = ANY (\(bind: cascades.flatMap(\.leafOIDs))::oid[]) AND (t.tgtype::int & 24) <> 0))
            ORDER BY t.tgname, fn.nspname, p.proname, c.oid
            """).statement).rows
        return try rows.map { row in
            FiringTrigger(name: try row.string("name"), table: try row.string("table_name"),
                          function: QualifiedName(schema: try row.string("function_schema"), name: try row.string("function_name")))
        }
    }

    /// The problems of a policy's triggers: each undeclared one that fires, each declared one
    /// that does not. Returns the triggers that fire.
    static func checkTriggers(_ policy: Policy, tableOID: String, cascades: [CascadeTable], check: inout PolicyCheck,
                              on connection: Connection) throws -> [FiringTrigger] {
        let firing = try firingTriggers(of: policy, tableOID: tableOID, cascades: cascades, on: connection)
        let verb = policy.action == .delete ? "deletes" : "updates"
        for trigger in firing where !policy.triggers.contains(trigger.function) {
            check.fail("trigger \(visible(trigger.name)) on \(visible(trigger.table)) runs \(trigger.function)() when policy "
                       + "\(policy.name) \(verb) rows: it may change rows the ledger would not count, or rows a hold keeps; list "
                       + "\(trigger.function) under triggers: to let the run count what it changes in every table (a run stops "
                       + "while a hold may cover what it changes), or disable the trigger", at: .table)
        }
        for declared in policy.triggers where !firing.contains(where: { $0.function == declared }) {
            check.fail("triggers lists \(declared), but no enabled trigger runs it when policy \(policy.name) \(verb) rows",
                       at: .triggerFunction(declared))
        }
        return firing
    }
}
