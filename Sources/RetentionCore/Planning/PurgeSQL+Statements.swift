/// The statements of a batch: the walk through the key space, the purge, and the ledger rows.
extension PurgeSQL {
    /// The batch's key range, between its first and last key.
    ///
    /// Both ends live in the session (`retention.first`, `retention.last`), set by `boundStatement`,
    /// so the program walks the key space without ever receiving a key. Two bounds let the server
    /// plan an index range scan for every batch, the first one included. (The key's type is the
    /// catalog's name for it, never text from a policy.)
    var keyRange: SQL {
        let key = column(policy.key)
        // A stable expression, not a scalar subquery: the server makes it the index scan's runtime key.
        // (As InitPlans inside the statement's CTEs, the bounds would cost a walk of the index from its start.)
        return "\(key) \(op(">=", for: policy.key)) current_setting('retention.first')::\(unsafe: resolved.keyType) "
            + "AND \(key) \(op("<=", for: policy.key)) current_setting('retention.last')::\(unsafe: resolved.keyType)"
    }

    /// Finds the next batch's first and last key (`size` keys after the previous batch) and keeps them
    /// in the session; returns only how many keys the batch spans (0: the walk is over).
    ///
    /// Three index probes: the first key, the key `size - 1` places on (or else the slice's last),
    /// and a count only for the short batch at the end. A parallel worker's walk stays within its
    /// slice: from `retention.lower` (included) to `retention.upper` (excluded), set in its session
    /// by `sliceStatement`.
    ///
    /// On a table range-partitioned by age, the walk keeps to rows older than the latest cutoff, so
    /// the server reads only the partitions that can hold them (with the primary key, which holds
    /// the age column, and no row of the newer ones): after whole partitions were emptied, that is
    /// the month that straddles the cutoff, not the whole table.
    func boundStatement(size: Int, first: Bool, slice: Slice = .whole, cutoffs: Cutoffs) -> Statement {
        let key = column(policy.key), keyType = resolved.keyType
        var conditions: [SQL] = []
        if resolved.partitionedByAge {
            conditions.append("\(column(policy.age)) < greatest(\(everyCutoff(cutoffs)))")
        }
        if !first {
            conditions.append("\(key) \(op(">", for: policy.key)) current_setting('retention.after')::\(unsafe: keyType)")
        } else if slice.lower {
            conditions.append("\(key) \(op(">=", for: policy.key)) current_setting('retention.lower')::\(unsafe: keyType)")
        }
        if slice.upper { conditions.append("\(key) \(op("<", for: policy.key)) current_setting('retention.upper')::\(unsafe: keyType)") }
        let keys: SQL = "FROM \(policy.table) AS t" + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
        return SQL("""
            WITH o AS MATERIALIZED (SELECT \(key) AS k \(keys) ORDER BY \(key) OFFSET \(bind: String(size))::int8 - 1 LIMIT 1),
            b AS MATERIALIZED (SELECT (SELECT \(key) \(keys) ORDER BY \(key) LIMIT 1) AS lo,
                                      coalesce((SELECT k FROM o), (SELECT \(key) \(keys) ORDER BY \(key) DESC LIMIT 1)) AS hi,
                                      EXISTS (SELECT 1 FROM o) AS full)
            SELECT CASE WHEN b.full THEN \(bind: String(size))::int8 ELSE (SELECT count(*) \(keys)) END AS keys
            FROM b
            WHERE set_config('retention.first', coalesce(b.lo::text, ''), false) IS NOT NULL
              AND set_config('retention.last', coalesce(b.hi::text, ''), false) IS NOT NULL
            """).statement
    }

    /// Which ends of a worker's slice of the key space are bounded (by keys kept in its session).
    struct Slice: Equatable {
        var lower = false
        var upper = false
        static let whole = Slice()
    }

    /// Keeps in the session the bounds of worker `number`'s slice of the key space, one of `workers`
    /// equal parts by the key's histogram in `pg_stats` (`retention.lower`, `retention.upper`).
    /// Returns whether each was found (no row at all: the key has no statistics yet); the program
    /// never sees them. Every worker runs this in the same exported snapshot, so their slices meet
    /// without a gap or an overlap.
    func sliceStatement(number: Int, of workers: Int) -> Statement {
        Statement("""
            SELECT set_config('retention.lower', coalesce(s.h[1 + (cardinality(s.h) - 1) * $4::int / $5::int], ''), false) <> '' AS lower,
                   set_config('retention.upper', coalesce(s.h[1 + (cardinality(s.h) - 1) * ($4::int + 1) / $5::int], ''), false) <> '' AS upper
            FROM (SELECT histogram_bounds::text::text[] AS h FROM pg_catalog.pg_stats
                  WHERE schemaname = $1 AND tablename = $2 AND attname = $3 AND histogram_bounds IS NOT NULL
                  ORDER BY inherited DESC LIMIT 1) s
            """, [policy.table.schema, policy.table.name, policy.key, String(number), String(workers)])
    }

    /// Moves the session's cursor past the batch just done (in the batch's transaction, so a rollback undoes it).
    static let advanceStatement = Statement(
        "SELECT 1 WHERE set_config('retention.after', current_setting('retention.last'), false) IS NOT NULL")

    /// A batch's first statement: purges the due rows of the session's key range.
    ///
    /// Batches walk the primary key in ranges of about `--batch-size` keys (after `boundStatement`),
    /// so a batch never rescans what an earlier one purged and holds its locks briefly. Each row is
    /// tested once; holds behind guards, whatever the holds table's statistics (as an anti-join, a
    /// holds table without statistics can make a batch scan it per row). The program gets back counts
    /// per library only, never a key or any other value. Columns: `library`, `rows`, `undone`,
    /// `pending` (with declared triggers the statement only writes the rows down, all pending, for
    /// `pendingDeleteStatement`).
    /// `consentPerRow`: look each row's patron up in the consent table's index instead of hashing
    /// every consenting patron (`looksUpConsent`).
    func purgeStatement(cutoffs: Cutoffs, consentPerRow: Bool = false) -> Statement {
        let purge: SQL
        switch policy.action {
        case .delete:
            purge = "DELETE FROM \(policy.table) AS t"
        case .anonymize:
            let assignments = policy.set.map { assignment -> SQL in "\(name: assignment.column) = \(bind: assignment.value)" }
            purge = "UPDATE \(policy.table) AS t SET " + assignments.joined(separator: ", ")
        }
        let due = due(cutoffs, held: held(.scoped), consented: consentPerRow ? consentedPerRow : consented)
        let counted: SQL = "SELECT lib AS library, count(*) AS rows, count(*) FILTER (WHERE undone) AS undone, 0::int8 AS pending FROM purged GROUP BY lib"
        guard hasReferences || recordsPending || policy.keepNewest != nil else {
            return SQL("""
                WITH purged AS (
                    \(purge)
                    WHERE \(keyRange) AND \(due)
                    RETURNING \(library) AS lib, \(undone) AS undone
                )
                \(counted)
                """).statement
        }
        // With foreign keys into the table: the range's due rows that no other table points to, each
        // with the rows of its own table linked to it either way (renewal chains), however far they
        // reach and whatever batch or session they fall in; a chain with any link that must stay stays whole.
        let key = policy.key
        var sql: SQL = """
            WITH RECURSIVE due AS MATERIALIZED (
                SELECT t.\(name: key) AS k FROM \(policy.table) AS t
                WHERE \(keyRange) AND \(due) AND NOT \(pointedToFromOutside)
            )
            """
        if let newest = policy.keepNewest {
            let groups: SQL = "SELECT g.\(name: newest.per) FROM \(policy.table) g WHERE g.\(name: key) \(op("=", for: key)) ANY (ARRAY(SELECT k FROM due))"
            // A group's due rows go together, whatever batch or session they fall in: whether a group
            // has no more than `count` ended rows is decided once, on the group as it was, not again
            // after an earlier batch purged some of it (Evergreen decides per copy before purging).
            sql += """
                , grouped AS MATERIALIZED (
                    SELECT d.k FROM due d
                    UNION
                    SELECT t.\(name: key) FROM \(policy.table) AS t
                    WHERE \(among(column(newest.per), groups, by: newest.per)) AND \(due) AND NOT \(pointedToFromOutside)
                )

                """
        }
        let start: SQL = policy.keepNewest == nil ? "due" : "grouped"
        if selfReferences.isEmpty {
            sql += ", doomed AS (SELECT k FROM \(start))\n"
        } else {
            // Each linked row is visited once per batch, however long its chain (a walk per due row
            // cost the batch's size times the chain's length): every row linked to a due row, then
            // every row linked to one of those that stays; what is reached and does not stay goes.
            sql += """
                , reach(k) AS (
                    SELECT d.k FROM \(start) d
                    UNION
                    SELECT c.k FROM reach r CROSS JOIN LATERAL (\(neighbours(of: "r.k"))) c
                ), stays(k) AS (
                    SELECT r.k FROM reach r JOIN \(policy.table) AS t ON t.\(name: key) \(op("=", for: key)) r.k
                    WHERE NOT coalesce(\(dueByTests(cutoffs)) AND NOT \(pointedToFromOutside), false)
                    UNION
                    SELECT c.k FROM stays s CROSS JOIN LATERAL (\(neighbours(of: "s.k"))) c
                ), doomed AS (
                    SELECT r.k FROM reach r WHERE NOT EXISTS (SELECT 1 FROM stays s WHERE s.k \(op("=", for: key)) r.k)
                )

                """
        }
        if recordsPending {
            // With declared triggers, the batch first writes down the rows it chose, each by its place
            // (table and tuple: a key may repeat across partitions), locked, with its library; then
            // `pendingDeleteStatement` deletes exactly those. A declared BEFORE DELETE trigger may
            // skip one for an AFTER DELETE trigger to delete at the end of the statement (Evergreen
            // skips a loan with renewals): after the triggers ran, the batch proves none is left.
            sql += """
                , chosen AS (
                    INSERT INTO pg_temp.retention_pending (rel, tid, lib)
                    SELECT t.tableoid, t.ctid, \(library) FROM \(policy.table) AS t
                    WHERE t.\(name: key) \(op("=", for: key)) ANY (ARRAY(SELECT k FROM doomed)) AND \(due)
                    FOR UPDATE OF t
                    RETURNING lib
                )
                SELECT lib AS library, count(*) AS rows, 0::int8 AS undone, count(*) AS pending FROM chosen GROUP BY lib
                """
            return sql.statement
        }
        sql += """
            , purged AS (
                \(purge)
                -- An array of keys, so the rows are found through the primary key: as a join with
                -- `doomed`, the server can misjudge its size and scan the whole table every batch.
                -- The tests again, so a row changed meanwhile by another session is tested as it is
                -- now (a chain link that stopped being due then fails the batch on its foreign key,
                -- and the batch is tried again).
                WHERE t.\(name: key) \(op("=", for: key)) ANY (ARRAY(SELECT k FROM doomed)) AND \(due)
                RETURNING \(library) AS lib, \(undone) AS undone
            )
            \(counted)
            """
        return sql.statement
    }

    /// Deletes the rows the batch's first statement wrote down (`recordsPending`): locked by it, so
    /// unchanged since. Their triggers run here.
    func pendingDeleteStatement() -> Statement {
        SQL("""
            DELETE FROM \(policy.table) AS t
            WHERE t.ctid = ANY (ARRAY(SELECT p.tid FROM pg_temp.retention_pending p))
              AND (t.tableoid, t.ctid) IN (SELECT p.rel, p.tid FROM pg_temp.retention_pending p)
            """).statement
    }

    /// Whether a batch writes down the rows it chose before deleting them (`purgeStatement`'s
    /// `chosen`, `pendingDeleteStatement`): for a delete policy with declared triggers, which may
    /// skip a row for another trigger to delete at the end of the statement.
    var recordsPending: Bool { policy.action == .delete && !policy.triggers.isEmpty }

    /// Creates the session's table of pending rows (`recordsPending`), emptied at each commit;
    /// run outside a batch's transaction, so that a batch holding it whole means code truncated it.
    static let pendingTable = "CREATE TEMP TABLE IF NOT EXISTS retention_pending (rel oid, tid tid, lib text) ON COMMIT DELETE ROWS"

    /// After the purge and its triggers: how many of the rows the batch chose are still in the table
    /// (by table and tuple: a tid scan). Column: `remaining`.
    func pendingRemainingQuery() -> Statement {
        SQL("""
            SELECT count(*) AS remaining FROM \(policy.table) AS t
            WHERE t.ctid = ANY (ARRAY(SELECT p.tid FROM pg_temp.retention_pending p))
              AND (t.tableoid, t.ctid) IN (SELECT p.rel, p.tid FROM pg_temp.retention_pending p)
            """).statement
    }

    /// The oid of the session's table of pending rows, whose counters (`TableCounters.read`) show
    /// what code in the session (a trigger) did to it besides the batch's inserts. Column: `oid`.
    static let pendingTableOID = Statement("SELECT 'pg_temp.retention_pending'::pg_catalog.regclass::oid::text AS oid")

    /// A batch's second statement, in the same transaction: writes its ledger rows, the purged
    /// counts (`purged`: library and rows, from `purgeStatement`) and the kept rows by first reason.
    ///
    /// After the purge the range holds only the rows it kept (and rows it never looked at), so
    /// giving each candidate its reason costs a test of the few kept rows, not of every row: their
    /// consent is looked up per row rather than hashing every consenting patron once more. A
    /// candidate the purge left with no other reason stays because a row that stays points to it.
    /// Columns: `library`, `rows`, one per `KeptReason`. `cascaded`: rows a declared cascade changed
    /// in the batch, per table.
    func ledgerStatement(cutoffs: Cutoffs, runID: Int64, batch: Int, purged: [(library: String?, rows: Int64)],
                         cascaded: [String: Int64] = [:]) -> Statement {
        let counts = JSONValue.array(purged.map { .array([$0.library.map(JSONValue.string) ?? .null, .int($0.rows)]) })
        let reason = Self.firstReason(tests(fewRows: true, referenced: hasReferences ? "true" : nil))
        let columns = Self.ledgerColumns
        // `OFFSET 0` keeps `reason > 0` from being pushed into the scan, where the CASE would run twice per row.
        return SQL("""
            WITH purged AS (
                SELECT e->>0 AS lib, (e->>1)::int8 AS n FROM jsonb_array_elements(\(bind: counts.canonicalString)::jsonb) e
            ), kept AS (
                SELECT s.lib, s.reason
                FROM (SELECT \(library) AS lib, \(reason) AS reason
                      FROM \(policy.table) AS t
                      WHERE \(keyRange) AND \(candidates(cutoffs))
                      OFFSET 0) s
                WHERE s.reason > 0
            ), counted AS (
                SELECT lib, n, \(Self.keptFlags(nil)) FROM purged
                UNION ALL
                SELECT lib, 0, \(Self.keptFlags("reason")) FROM kept
            )
            INSERT INTO retention.batches
                (run_id, batch, policy, library, rows, \(columns), cascaded, started_at, finished_at)
            SELECT \(bind: String(runID))::int8, \(bind: String(batch))::int4, \(bind: policy.name), lib,
                   sum(n), \(KeptReason.allCases.map { reason -> SQL in "sum(\(unsafe: reason.ledgerColumn))" }.joined(separator: ", ")),
                   -- The cascaded rows are the batch's, not a library's: on the first library's row only.
                   CASE WHEN row_number() OVER (ORDER BY lib NULLS FIRST) = 1
                        THEN \(bind: JSONValue.object(cascaded.mapValues { .int($0) }).canonicalString)::jsonb
                        ELSE '{}'::jsonb END,
                   now(), clock_timestamp()
            FROM counted
            GROUP BY lib
            RETURNING \(unsafe: KeptReason.ledgerReturning)
            """).statement
    }
}
