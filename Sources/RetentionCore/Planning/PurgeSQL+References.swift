/// Foreign keys into the table of a delete policy: rows another table points to, renewal chains
/// within the table, and the declared cascades a hold may cover.
extension PurgeSQL {
    /// Foreign keys from other tables whose rows keep the rows they point to (`NO ACTION`, `RESTRICT`).
    var blockingReferences: [ForeignKeyRef] {
        policy.action == .delete ? resolved.references.filter { !$0.isSelf && !$0.onDelete.changesReferencingRows } : []
    }

    /// Foreign keys from the table into itself (renewal chains), whatever their action: a row's
    /// links are purged with it when every one is due, or all of them stay.
    var selfReferences: [ForeignKeyRef] {
        policy.action == .delete ? resolved.references.filter(\.isSelf) : []
    }

    /// Whether a foreign key can keep a due row.
    var hasReferences: Bool { !blockingReferences.isEmpty || !selfReferences.isEmpty || !heldCascades.isEmpty }

    /// Declared cascades from tables a hold of another policy may cover (`ResolvedPolicy.heldCascades`).
    var heldCascades: [ResolvedPolicy.HeldCascade] {
        policy.action == .delete ? resolved.heldCascades : []
    }

    /// The condition that row `from` points to row `to` (table aliases) through foreign key `ref`.
    func points(_ ref: ForeignKeyRef, from: String, to: String) -> SQL {
        zip(ref.columns, ref.referencedColumns).map { pointing, pointed -> SQL in
            "\(unsafe: from).\(name: pointing) \(op("=", for: pointed)) \(unsafe: to).\(name: pointed)"
        }.joined(separator: " AND ")
    }

    /// True when a row of another table still points to the row `t` (found by that table's index
    /// on its pointing columns, which `check --catalog` asks for).
    ///
    /// A row a declared cascade would reach counts too while a hold that may cover the cascade's
    /// table is active (one of the policies that purge that table, or none; for a table no policy of
    /// the run names, any policy outside the run): deleting the row would delete the held one. The
    /// hold test runs once per statement; without such a hold the cascade goes on as declared.
    var pointedToFromOutside: SQL {
        guard !blockingReferences.isEmpty || !heldCascades.isEmpty else { return "false" }
        var tests = blockingReferences.map { ref -> SQL in
            "EXISTS (SELECT 1 FROM \(ref.referencing) r WHERE \(points(ref, from: "r", to: "t")))"
        }
        for cascade in heldCascades {
            // A table no policy of the run purges may cascade further, into any policy's table: every
            // hold but one on this policy alone may cover what it reaches.
            let scope: SQL = cascade.policies.map { policies -> SQL in "h.policy = ANY (\(bind: policies))" }
                ?? "h.policy <> \(bind: policy.name)"
            tests.append("((SELECT EXISTS (SELECT 1 FROM retention.holds h WHERE h.released_at IS NULL AND (h.policy IS NULL OR \(scope))))"
                         + " AND EXISTS (SELECT 1 FROM \(cascade.reference.referencing) r WHERE \(points(cascade.reference, from: "r", to: "t"))))")
        }
        return "(" + tests.joined(separator: " OR ") + ")"
    }

    /// Whether an active hold may cover rows outside the policy's own table: one on no policy, or
    /// on a policy that purges other rows. Column: `active`.
    func otherHoldsQuery() -> Statement {
        SQL("""
            SELECT EXISTS (SELECT 1 FROM retention.holds h WHERE h.released_at IS NULL
                           AND (h.policy IS NULL OR NOT (h.policy = ANY (\(bind: [policy.name] + resolved.sameRows))))) AS active
            """).statement
    }

    /// The keys (`k`) of the rows of the table that point to the row whose key is `key` (an SQL
    /// expression), through any self-reference; a subquery for a lateral join, one index probe each.
    func children(of key: SQL) -> SQL {
        let table = policy.table, own = policy.key
        return selfReferences.map { ref -> SQL in
            if ref.referencedColumns == [policy.key], ref.columns.count == 1 {
                return "SELECT x.\(name: own) AS k FROM \(table) x WHERE x.\(name: ref.columns[0]) \(op("=", for: own)) \(key)"
            }
            return "SELECT x.\(name: own) AS k FROM \(table) x JOIN \(table) p ON \(points(ref, from: "x", to: "p"))"
                + " WHERE p.\(name: own) \(op("=", for: own)) \(key)"
        }.joined(separator: " UNION ALL ") + " OFFSET 0"
    }

    /// A recursive query of the keys that must stay because a row that stays points to them: rows
    /// another table points to, rows a staying row of the table points to, and, upwards, every row
    /// a row that must stay points to. (The batches find the same rows downwards from their due rows.)
    func stayingReferenced(_ cutoffs: Cutoffs) -> SQL {
        let table = policy.table, own = policy.key
        var parts: [SQL] = ["SELECT t.\(name: own) FROM \(table) AS t WHERE \(pointedToFromOutside)"]
        for ref in selfReferences {
            parts.append("SELECT p.\(name: own) FROM \(table) AS t JOIN \(table) p ON \(points(ref, from: "t", to: "p"))"
                         + " WHERE NOT coalesce(\(dueByTests(cutoffs)), false)")
        }
        var sql = parts.joined(separator: " UNION ")
        if !selfReferences.isEmpty {
            let up = selfReferences.map { ref -> SQL in "(" + points(ref, from: "x", to: "p") + ")" }.joined(separator: " OR ")
            sql += " UNION SELECT p.\(name: own) FROM staying s JOIN \(table) x ON x.\(name: own) \(op("=", for: own)) s.k JOIN \(table) p ON \(up)"
        }
        return sql
    }

    /// `WITH RECURSIVE staying(k) AS (...)` before a statement that must know the rows a row that
    /// stays points to, or nothing without foreign keys into the table.
    func withStaying(_ cutoffs: Cutoffs) -> SQL {
        hasReferences ? "WITH RECURSIVE staying(k) AS (\(stayingReferenced(cutoffs)))\n" : ""
    }
}
