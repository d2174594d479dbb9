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
    /// on any other policy (one on the partitioned table holds its other partitions too). Column: `active`.
    func otherHoldsQuery() -> Statement {
        SQL("""
            SELECT EXISTS (SELECT 1 FROM retention.holds h WHERE h.released_at IS NULL
                           AND (h.policy IS NULL OR h.policy <> \(bind: policy.name))) AS active
            """).statement
    }

    /// The keys (`k`) of the rows of the table that point to the row whose key is `key` (an SQL
    /// expression), through any self-reference; a subquery for a lateral join, one index probe each.
    func children(of key: SQL) -> SQL {
        childQueries(of: key).joined(separator: " UNION ALL ") + " OFFSET 0"
    }

    /// The keys (`k`) of the rows linked to the row whose key is `key` through any self-reference,
    /// either way: those that point to it and those it points to. A chain is one unit both ways
    /// (a renewal stays while the loan it renewed stays, and the other way round), as an ILS
    /// keeps a circulation chain whole while any link is open.
    func neighbours(of key: SQL) -> SQL {
        let table = policy.table, own = policy.key
        let parents = selfReferences.map { ref -> SQL in
            if ref.referencedColumns == [policy.key], ref.columns.count == 1 {
                // The pointing column holds the key of the row it points to: one probe, no join.
                let pointing = ref.columns[0]
                return "SELECT x.\(name: pointing) AS k FROM \(table) x WHERE x.\(name: own) \(op("=", for: own)) \(key)"
                    + " AND x.\(name: pointing) IS NOT NULL"
            }
            return "SELECT p.\(name: own) AS k FROM \(table) x JOIN \(table) p ON \(points(ref, from: "x", to: "p"))"
                + " WHERE x.\(name: own) \(op("=", for: own)) \(key)"
        }
        return (childQueries(of: key) + parents).joined(separator: " UNION ALL ") + " OFFSET 0"
    }

    private func childQueries(of key: SQL) -> [SQL] {
        let table = policy.table, own = policy.key
        return selfReferences.map { ref -> SQL in
            if ref.referencedColumns == [policy.key], ref.columns.count == 1 {
                return "SELECT x.\(name: own) AS k FROM \(table) x WHERE x.\(name: ref.columns[0]) \(op("=", for: own)) \(key)"
            }
            return "SELECT x.\(name: own) AS k FROM \(table) x JOIN \(table) p ON \(points(ref, from: "x", to: "p"))"
                + " WHERE p.\(name: own) \(op("=", for: own)) \(key)"
        }
    }

    /// A recursive query of the keys that must stay because a row that stays is linked to them:
    /// rows another table points to, and every row of a chain (rows linked by the table's
    /// self-references, either way, however far) with a link that stays. (The batches find the
    /// same rows from their due rows.)
    func stayingReferenced(_ cutoffs: Cutoffs) -> SQL {
        let table = policy.table, own = policy.key
        var parts: [SQL] = ["SELECT t.\(name: own) FROM \(table) AS t WHERE \(pointedToFromOutside)"]
        if !selfReferences.isEmpty {
            // The links of the rows that stay by their own tests: chains start there.
            parts.append("SELECT n.k FROM \(table) AS t CROSS JOIN LATERAL (\(neighbours(of: "t.\(name: own)"))) n"
                         + " WHERE NOT coalesce(\(dueByTests(cutoffs)), false)")
        }
        var sql = parts.joined(separator: " UNION ")
        if !selfReferences.isEmpty {
            sql += " UNION SELECT n.k FROM staying s CROSS JOIN LATERAL (\(neighbours(of: "s.k"))) n"
        }
        return sql
    }

    /// `WITH RECURSIVE staying(k) AS (...)` before a statement that must know the rows a row that
    /// stays points to, or nothing without foreign keys into the table.
    func withStaying(_ cutoffs: Cutoffs) -> SQL {
        hasReferences ? "WITH RECURSIVE staying(k) AS (\(stayingReferenced(cutoffs)))\n" : ""
    }
}
