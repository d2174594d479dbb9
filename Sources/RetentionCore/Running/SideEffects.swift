/// What else a batch's transaction changed besides the purge's own rows, from the server's
/// counters read before and after the purge statement: nothing may change another policy's table
/// (a hold may keep its rows) unless the policy declares the triggers that do, and then not while a
/// hold that may cover it is active; no table may be truncated (its rows would go uncounted).
struct SideEffects {
    let sql: PurgeSQL
    let batch: Int
    /// Whether the policy declares triggers: then every table is watched and what they change counted.
    var triggered: Bool { !sql.policy.triggers.isEmpty }
    private let cascadeLeaves: [String]
    private let watched: [CascadeTable]
    private let watchedBefore: [TableCounters]
    private let everyBefore: [String: TableCounters.Changed]

    /// Reads the counters, before the purge statement.
    init(_ sql: PurgeSQL, batch: Int, on connection: Connection) throws {
        self.sql = sql
        self.batch = batch
        cascadeLeaves = sql.resolved.cascades.flatMap(\.leafOIDs)
        let triggered = !sql.policy.triggers.isEmpty
        // Without declared triggers, nothing may touch another policy's table: its counters before and after.
        watched = triggered ? [] : sql.resolved.watched
        watchedBefore = try TableCounters.read(each: watched, on: connection)
        everyBefore = triggered
            ? try TableCounters.everyOtherTable(than: sql.resolved.tableOID, cascades: cascadeLeaves,
                                                          policies: sql.resolved.otherPolicies, on: connection) : [:]
    }

    /// Reads them again, after the purge statement (and its deferred triggers), and throws when
    /// something changed what it may not; returns the rows declared triggers deleted, changed or
    /// inserted in each other table, for the ledger's `cascaded`.
    func prove(on connection: Connection) throws -> [String: Int64] {
        let policy = sql.policy.name, own = sql.resolved.tableOID
        let watchedAfter = try TableCounters.read(each: watched, on: connection)
        let touched = watched.indices.filter { (watchedAfter[$0] - watchedBefore[$0]).changed > 0 }.map { watched[$0].table.description }
        if !touched.isEmpty { throw SideEffectRefused(cause: .otherPolicysRows, policy: policy, batch: batch, tables: touched) }
        // A table truncated (or altered) during the purge, by whatever code: no counter counts its rows.
        let truncated = try TableCounters.lockedWhole(than: own, on: connection)
        if !truncated.isEmpty { throw SideEffectRefused(cause: .truncated, policy: policy, batch: batch, tables: truncated) }
        guard triggered else { return [:] }
        // What the declared triggers did to every other table, counted like a cascade (a declared
        // cascade's table is counted as such). Rows deleted or changed in another policy's table,
        // or in a cascade's (while a hold that may cover it is active, the cascade itself changes
        // none of its rows), may be held; a table no policy purges holds nothing a hold keeps
        // (Evergreen's triggers archive a loan and update its bill's summary).
        var changed: [String: Int64] = [:]
        var reached: [String] = []
        for (table, after) in try TableCounters.everyOtherTable(than: own, cascades: cascadeLeaves,
                                                                 policies: sql.resolved.otherPolicies, on: connection) {
            let change = after.counters - (everyBefore[table]?.counters ?? TableCounters())
            guard change.changed + change.inserted > 0 else { continue }
            if !after.cascade { changed[table] = change.changed + change.inserted }
            if change.changed > 0 && (after.cascade || after.policy) { reached.append(table) }
        }
        if !reached.isEmpty, try connection.query(sql.otherHoldsQuery()).single().bool("active") {
            throw SideEffectRefused(cause: .heldByTrigger, policy: policy, batch: batch, tables: reached.sorted())
        }
        return changed
    }
}
