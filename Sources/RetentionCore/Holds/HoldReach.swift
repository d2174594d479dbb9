/// Active holds that a run could not apply: the checks `check --catalog`, `plan` and `run` make
/// before anything is counted or purged.
extension Holds {
    /// A line when active holds are scoped to a policy no file of the folder defines (renamed or
    /// removed): they would keep nothing although they were meant to. And one per policy whose rows
    /// another policy also purges but dates by another column, while a hold with a window covers
    /// them: each tests the window against its own column, so the rows one keeps the other may purge.
    /// A query per check, however many holds.
    ///
    /// A court order wins over a purge: the commands refuse (78) while any such hold is active,
    /// and the lines say how to place it again.
    static func blindSpots(_ resolved: [ResolvedPolicy], on connection: Connection) throws -> [String] {
        var lines: [String] = []
        var names = Set(resolved.map(\.policy.name))
        for policy in resolved { names.formUnion(policy.policy.companions.map(\.name)) }
        let unknown = try connection.query(SQL("""
            SELECT count(*) AS holds, min(h.id) AS first, min(h.policy) AS policy FROM retention.holds h
            WHERE h.released_at IS NULL AND h.policy IS NOT NULL AND NOT (h.policy = ANY (\(bind: names.sorted())))
            """).statement).single()
        if try unknown.int64("holds") > 0 {
            let more = try unknown.int64("holds") > 1 ? " (and \(try unknown.int64("holds") - 1) more such holds)" : ""
            lines.append("hold \(try unknown.int64("first")) names policy \(visible(try unknown.string("policy"))), which no policy "
                         + "file of the folder defines (renamed or removed?), so it keeps nothing\(more); place it again for the "
                         + "policy's current name, then release it (`retention hold list` shows it)")
        }
        var told = Set<[String]>()
        for resolved in resolved {
            let policy = resolved.policy
            let differing = policy.companions.filter { resolved.sameRows.contains($0.name) && $0.age != policy.age }
            guard !differing.isEmpty, told.insert(([policy.name] + differing.map(\.name)).sorted()).inserted else { continue }
            let window = try connection.query(SQL("""
                SELECT min(h.id) AS first FROM retention.holds h
                WHERE h.released_at IS NULL AND (h.held_from IS NOT NULL OR h.held_until IS NOT NULL)
                  AND (h.policy IS NULL OR h.policy = ANY (\(bind: [policy.name] + differing.map(\.name))))
                """).statement).single().optionalInt64("first")
            guard let window, let other = differing.first else { continue }
            lines.append("hold \(window) keeps rows dated in a window, and policies \(policy.name) and \(other.name) purge the same "
                         + "rows but date them by different columns (\(visible(policy.age)), \(visible(other.age))): the window would "
                         + "keep the rows of one and let the other purge them; give both the same age column, or release the hold "
                         + "and place it again without a window")
        }
        return lines + (try movedHolds(resolved, on: connection))
    }
}

extension Holds {
    /// Refuses (64) a window hold over a policy whose rows another policy of the folder purges but
    /// dates by another column (same table): a run refuses to start while such a hold is active
    /// (`blindSpots`), and a run already going would test the window against each column.
    public static func refuseWindowOverTwoAges(_ scope: HoldScope, policies: [Policy]) throws {
        guard scope.from != nil || scope.until != nil else { return }
        for policy in policies where scope.policy == nil || scope.policy == policy.name {
            guard let other = policy.companions.first(where: { $0.table == policy.table && $0.age != policy.age }) else { continue }
            throw UsageError("policies \(policy.name) and \(other.name) purge the same rows of \(policy.table) but date them by "
                             + "different columns (\(visible(policy.age)), \(visible(other.age))): a window would keep the rows of "
                             + "one and let the other purge them; give both the same age column, or place the hold without "
                             + "--from/--until", exitCode: .usage)
        }
    }

    /// A warning when a hold's window starts on or after today's cutoff of every policy it
    /// covers: it keeps no record that is due now, only records dated from its first day on, as
    /// they come due. (A clerk who read `--from`/`--until` as how long the hold lasts meant to hold
    /// what exists now; a hold lasts until it is released.)
    public static func windowWarnings(_ scope: HoldScope, policies: [Policy], on connection: Connection) throws -> [String] {
        guard let from = scope.from else { return [] }
        let covered = policies.filter { scope.policy == nil || $0.name == scope.policy }
        let periods = covered.flatMap { policy in [policy.retain] + (policy.libraries?.retain.map(\.period) ?? []) }
        guard !periods.isEmpty else { return [] }
        let late = try connection.query(SQL("""
            SELECT bool_and(\(bind: from)::date >= (now() - p::interval)::date) AS late
            FROM pg_catalog.unnest(\(bind: periods.map(\.interval))) p
            """).statement).single().bool("late")
        guard late else { return [] }
        return ["--from \(from) is on or after today's cutoff of every policy the hold covers: it keeps no record that is due "
                + "now, only records dated from that day on as they come due. To hold the records that exist now, give an "
                + "earlier --from (or none); --until is the day after the last record's date, not when the hold ends (a hold "
                + "lasts until it is released)"]
    }
}
