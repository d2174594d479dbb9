/// What the plan and the run count without changing anything: rows due and kept per library, the
/// partitions that may be emptied whole, the rows a cascade would change, the holds' shape.
extension PurgeSQL {
    /// Which active holds apply to the policy: run in the same snapshot as the count it shapes.
    /// Columns: `holds`, and `patron_holds` that name only a patron.
    func holdShapeQuery() -> Statement {
        SQL("""
            SELECT count(*) AS holds, count(*) FILTER (WHERE h.patron IS NOT NULL AND h.library IS NULL
                                                  AND h.held_from IS NULL AND h.held_until IS NULL) AS patron_holds
            FROM retention.holds h WHERE \(policyHolds)
            """).statement
    }

    /// Counts the consenting patrons, once per run, for `looksUpConsent`; nil when the consent
    /// table has no index a lookup could use (`ResolvedPolicy.consentIndexed`). Column: `patrons`.
    func consentingCountQuery() -> Statement? {
        guard resolved.consentIndexed, let consent = policy.consent, policy.patron != nil else { return nil }
        return SQL("SELECT count(*) AS patrons FROM \(consent.table) c WHERE c.\(name: consent.keepIf)").statement
    }

    /// Counts the rows a declared cascade would change, per foreign key that points directly from a
    /// declared table: the rows pointing to a row the purge would delete. (Rows a cascade reaches
    /// further are counted by the run only.) Columns: `table_name`, `rows`; `nil` without cascades.
    func cascadeCountQuery(cutoffs: Cutoffs) -> Statement? {
        let declared = Set(resolved.cascades.map(\.table))
        let direct = resolved.references.filter { !$0.isSelf && $0.onDelete.changesReferencingRows && declared.contains($0.referencing) }
        guard policy.action == .delete, !direct.isEmpty else { return nil }
        let purged = dueByTests(cutoffs)
            + (hasReferences ? " AND NOT EXISTS (SELECT 1 FROM staying s WHERE s.k \(op("=", for: policy.key)) \(column(policy.key)))" : "")
        let counts = direct.map { ref -> SQL in
            let pointing = ref.columns.map { column -> SQL in "r.\(name: column)" }.joined(separator: ", ")
            let pointed = ref.referencedColumns.map(column).joined(separator: ", ")
            return "SELECT \(bind: ref.referencing.description)::text AS table_name, count(*) AS rows "
                + "FROM \(ref.referencing) r WHERE (\(pointing)) IN (SELECT \(pointed) FROM \(policy.table) AS t WHERE \(purged))"
        }
        return (withStaying(cutoffs) + counts.joined(separator: "\nUNION ALL\n")).statement
    }

    /// Counts, per library, the rows due and the rows kept by hold, consent, `keep_when` and reference.
    ///
    /// Each test is a grouping key, so the server evaluates it once per row (hold and consent as
    /// hashed lookups, built once per process) and counts in parallel; at most a few dozen groups
    /// per library, which the outer query sorts into first reasons (`countsByFirstReason`). (At 20M
    /// loans with holds and consents: 1.27x the raw `count(*)`, where joining the held and
    /// consenting patrons took 1.37x: a join's per-row cost outgrew the lookups'.) Columns:
    /// `library`, `rows` (due), one per `KeptReason`, `oldest_due_days`.
    func countQuery(cutoffs: Cutoffs, holds: HoldShape = .scoped) -> Statement {
        let held: SQL
        if holds == .patronsOnly, let patron = policy.patron {
            held = "COALESCE(\(among(patronKey(patron), heldPatrons, by: patron)), false)"
        } else {
            held = self.held(holds)
        }
        let tests = self.tests(held: held, referenced: hasReferences ? "st.k IS NOT NULL" : "false")
        // With foreign keys into the table, the rows that must stay because a row that stays points
        // to them (`staying`); otherwise nothing is referenced and the count stays as cheap as it was.
        // A join, not `IN (SELECT ...)`: the recursive query's row estimate is far too high for the
        // server to hash it as a subplan, and an unhashed one is scanned again for every row.
        let joinStaying: SQL = hasReferences
            ? "LEFT JOIN (SELECT DISTINCT k FROM staying) st ON st.k \(op("=", for: policy.key)) \(column(policy.key))" : ""
        let keys = [(column: "lib", value: library)] + tests.map { (column: $0.reason.ledgerColumn, value: $0.test) }
        // A test that cannot keep a row of this policy (no holds, no consent, ...) is the constant
        // `false`, and a policy without libraries has the constant NULL: no grouping key, as every
        // key costs the aggregate for every row (at 5M loans without holds, 0.87x the raw count
        // against 1.04x, by hand). With no key at all, `HAVING` keeps an empty table's count empty.
        let grouped = keys.indices.filter { !keys[$0].value.isText("false") && !keys[$0].value.isText("NULL::text") }
            .map { index -> SQL in "\(index + 1)" }
        let (due, counts) = Self.countsByFirstReason("g")
        let selected = keys.map { key -> SQL in "\(key.value) AS \(unsafe: key.column)" }.joined(separator: ", ")
        return (withStaying(cutoffs) + """
            SELECT g.lib AS library, \(counts),
                   floor(extract(epoch FROM now() - min(g.oldest) FILTER (WHERE \(due))) / 86400)::int8 AS oldest_due_days
            FROM (SELECT \(selected), count(*) AS n, min(\(column(policy.age))::timestamptz) AS oldest
                  FROM \(policy.table) AS t \(joinStaying)
                  WHERE \(candidates(cutoffs))
                  \(grouped.isEmpty ? "HAVING count(*) > 0" : "GROUP BY " + grouped.joined(separator: ", "))) g
            GROUP BY g.lib
            ORDER BY g.lib
            """).statement
    }

    /// The partitions a delete policy may empty whole, for a table range-partitioned on the age
    /// column alone (`ResolvedPolicy.partitionedByAge`): leaf partitions whose upper bound is at or
    /// before every cutoff, so each row they can hold is older than its cutoff. Left out: partitions
    /// the role may not read or truncate, and tables with triggers or referenced by a foreign key (a
    /// truncate fires neither).
    /// Columns: `oid`, `schema`, `name`, `upper` (the upper bound, as text of the age column's type),
    /// `estimate` (the planner's row estimate, 0 when unknown); oldest first.
    func wholePartitionsQuery(cutoffs: Cutoffs) -> Statement {
        let type = resolved.ageType.sql
        // The bound as the server writes it (`FOR VALUES FROM ('a') TO ('b')`), read back as the age
        // column's type (the default partition has none).
        return SQL("""
            SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, b.upper::text AS upper,
                   greatest(c.reltuples, 0)::int8 AS estimate
            FROM pg_catalog.pg_inherits i
            JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            CROSS JOIN LATERAL (SELECT replace(substring(pg_catalog.pg_get_expr(c.relpartbound, c.oid)
                                                         FROM ' TO \\(''(.*)''\\)$'), '''''', '''')::\(unsafe: type) AS upper) b
            WHERE i.inhparent = \(bind: resolved.tableOID)::oid AND c.relkind = 'r'
              AND b.upper <= least(\(everyCutoff(cutoffs)))
              AND has_table_privilege(c.oid, 'SELECT') AND has_table_privilege(c.oid, 'TRUNCATE')
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint f WHERE f.contype = 'f' AND f.confrelid IN (i.inhparent, c.oid))
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g WHERE g.tgrelid IN (i.inhparent, c.oid) AND NOT g.tgisinternal)
            ORDER BY b.upper
            """).statement
    }

    /// Every cutoff of the policy (the standard one and each library's), bound, in the age column's
    /// type and separated by commas: for `least(...)` or `greatest(...)`.
    func everyCutoff(_ cutoffs: Cutoffs) -> SQL {
        ([cutoffs.standard] + cutoffs.libraries.map(\.cutoff)).map { cutoff -> SQL in
            "\(bind: cutoff)::\(unsafe: resolved.ageType.sql)"
        }.joined(separator: ", ")
    }

    /// The hold test of the partitions' count and the join it needs: with only plain patron holds, a
    /// join with the held patrons keeps the test out of the aggregate's filter (one hash probe per
    /// row, and the server may count in parallel); otherwise `held`.
    func heldTest(_ holds: HoldShape) -> (test: SQL, join: SQL) {
        guard holds == .patronsOnly, let patron = policy.patron else { return (held(holds), "") }
        return ("hp.p IS NOT NULL",
                "LEFT JOIN (SELECT DISTINCT p FROM (\(heldPatrons)) held) hp ON hp.p \(op("=", for: patron)) \(patronKey(patron))")
    }

    /// The consent test of the partitions' count and the join it needs: the consenting patrons
    /// hashed once and joined (`DISTINCT`, so a consent table with repeated keys adds no row).
    var consentTest: (test: SQL, join: SQL) {
        guard let consent = policy.consent, let patron = policy.patron else { return ("false", "") }
        guard !consent.limited else { return (consentedPerRow, "") }
        return ("cp.k IS NOT NULL",
                "LEFT JOIN (SELECT DISTINCT \(consentKey(consent, patron: patron)) AS k FROM \(consent.table) c"
                    + " WHERE c.\(name: consent.keepIf)) cp ON cp.k \(op("=", for: patron)) \(column(patron))")
    }

    /// Counts the rows of every partition with ages from `lower` (an age, `nil`: from the first)
    /// up to `upper` per library, all of them and the due ones, in one statement over the
    /// partitioned table: the server reads only the partitions that can hold such rows (and the
    /// default partition), and with the holds' shape known it counts them in parallel, as
    /// `countQuery` does. A partition may be emptied whole only when it holds rows and all are due.
    /// Columns: `partition` (its oid), `library`, `rows`, `due`.
    func partitionsCountQuery(from lower: String?, below upper: String, cutoffs: Cutoffs, holds: HoldShape) -> Statement {
        let (held, joinHeld) = heldTest(holds)
        let (consented, joinConsent) = consentTest
        let type = resolved.ageType.sql
        let age = column(policy.age)
        // From the previous group's end, so no group reads again what an earlier one read.
        let from: SQL = lower.map { lower -> SQL in " AND \(age) >= \(bind: lower)::\(unsafe: type)" } ?? ""
        return SQL("""
            SELECT t.tableoid::int8 AS partition, \(library) AS library, count(*) AS rows,
                   count(*) FILTER (WHERE \(due(cutoffs, held: held, consented: consented))) AS due
            FROM \(policy.table) AS t \(joinHeld) \(joinConsent)
            WHERE \(age) < \(bind: upper)::\(unsafe: type)\(from)
            GROUP BY 1, 2
            """).statement
    }
}
