import Foundation
import Testing
@testable import RetentionCore

/// The fast paths purge exactly what one session's batches purge: parallel sessions and whole partitions.
@Suite struct FastPathTests {
    /// Visits on every seventh day of a year by every third of 300 patrons (every tenth patron keeps
    /// their history, patron 7 is held), ids with gaps, a `flag` that keep_when keeps; ages sit at
    /// noon, far from any cutoff.
    static let visits = """
        CREATE TABLE patrons (id int PRIMARY KEY, keep boolean NOT NULL);
        INSERT INTO patrons SELECT g, g % 10 = 0 FROM generate_series(1, 300) g;
        INSERT INTO retention.holds (reference, patron) VALUES ('court order 1', '7');
        CREATE TEMP TABLE source AS
            SELECT row_number() OVER (ORDER BY d, p) * 3 AS id,
                   date_trunc('day', now()) - d * interval '1 day' - interval '12 hours' AS seen,
                   p AS patron, (d * p) % 97 = 0 AS flag, 'FAST-CANARY-' || d || '-' || p AS name
            FROM generate_series(1, 360, 7) d, generate_series(1, 300, 3) p;
        """

    /// A delete policy for `table`: 60 days, consent by `patrons.keep`, kept when `flag`.
    static func policy(_ name: String, table: String) -> String {
        """
        name: \(name)
        version: 1
        description: d
        table: public.\(table)
        key: id
        age: seen
        retain: 60 days
        action: delete
        patron: patron
        consent: { table: public.patrons, key: id, keep_if: keep }
        keep_when:
          - { column: flag, op: "=", value: "true" }
        """
    }

    /// The ledger's sums for a policy: rows, kept by hold, consent and keep_when.
    func ledger(_ db: TestDatabase, _ policy: String) throws -> [Int64] {
        try db.connection.query("""
            SELECT sum(rows)::text, sum(kept_hold)::text, sum(kept_consent)::text, sum(kept_rule)::text
            FROM retention.batches WHERE policy = $1
            """, [policy]).rows[0].map { Int64($0 ?? "") ?? -1 }
    }

    func remaining(_ db: TestDatabase, _ table: String) throws -> [String?] {
        try db.strings("SELECT md5(string_agg(id::text || name, ',' ORDER BY id)) FROM \(table)")
    }

    @Test func parallelSessionsPurgeExactlyWhatOneSessionPurges() throws {
        let db = try TestDatabase(reference: false)
        try db.sql(Self.visits + """
            CREATE TABLE one (id bigint PRIMARY KEY, seen timestamptz, patron int, flag boolean, name text);
            CREATE TABLE four (LIKE one INCLUDING ALL);
            INSERT INTO one SELECT * FROM source;
            INSERT INTO four SELECT * FROM source;
            ANALYZE one; ANALYZE four;
            """)
        let folder = try PolicyFolder(["one.yaml": Self.policy("one", table: "one"), "four.yaml": Self.policy("four", table: "four")])
        var options = RunOptions(batchSize: 100)
        options.jobs = 1
        let single = try db.run(folder.url, only: ["one"], options: options)
        options.jobs = 4
        let parallel = try db.run(folder.url, only: ["four"], options: options)

        #expect(single.policies[0].sessions == 1)
        #expect(parallel.policies[0].sessions == 4)
        let sums = try ledger(db, "one")
        #expect(sums[0] > 1000 && sums[1] > 0 && sums[2] > 0 && sums[3] > 0, "every reason occurs: \(sums)")
        #expect(try ledger(db, "four") == sums)
        #expect(parallel.policies[0].rows == single.policies[0].rows)
        #expect(try remaining(db, "four") == remaining(db, "one"))
        #expect(try db.int("SELECT count(*) FROM four WHERE seen < now() - interval '60 days' AND NOT flag AND patron <> 7 AND patron % 10 <> 0") == 0)
        // Every batch number once per library, whichever session wrote it.
        #expect(try db.int("SELECT count(*) FROM (SELECT 1 FROM retention.batches WHERE policy = 'four' GROUP BY batch, library HAVING count(*) > 1) d") == 0)
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
    }

    @Test func aTableWithoutStatisticsIsPurgedByOneSession() throws {
        let db = try TestDatabase(reference: false)
        try db.sql(Self.visits + """
            CREATE TABLE fresh (id bigint PRIMARY KEY, seen timestamptz, patron int, flag boolean, name text)
                WITH (autovacuum_enabled = false);
            INSERT INTO fresh SELECT * FROM source;
            """)
        try db.sql("VACUUM fresh")
        // VACUUM counts the rows (reltuples) but leaves no histogram to split the keys by.
        #expect(try db.int("SELECT reltuples::int8 FROM pg_class WHERE oid = 'fresh'::regclass") > 1000)
        #expect(try db.int("SELECT count(*) FROM pg_stats WHERE tablename = 'fresh'") == 0)
        let folder = try PolicyFolder(["fresh.yaml": Self.policy("fresh", table: "fresh")])
        var options = RunOptions(batchSize: 100)
        options.jobs = 4
        let summary = try db.run(folder.url, options: options)
        #expect(summary.policies[0].sessions == 1)
        #expect(summary.policies[0].rows > 1000)
        #expect(try db.int("SELECT count(*) FROM fresh WHERE seen < now() - interval '60 days' AND NOT flag AND patron <> 7 AND patron % 10 <> 0") == 0)
    }

    /// Monthly partitions of `table` for the last `months` + 1 months, each named `table_m<months back>`,
    /// and a default partition.
    static func partitioned(_ table: String, months: Int = 12) -> String {
        """
        CREATE TABLE \(table) (id bigint, seen timestamptz NOT NULL, patron int, flag boolean, name text,
                               PRIMARY KEY (id, seen)) PARTITION BY RANGE (seen);
        DO $$ BEGIN
          FOR m IN 0..\(months) LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF \(table) FOR VALUES FROM (%L) TO (%L)', '\(table)_m' || m,
                           date_trunc('month', now()) - (m - 1) * interval '1 month' - interval '1 month',
                           date_trunc('month', now()) - (m - 1) * interval '1 month');
          END LOOP;
        END $$;
        CREATE TABLE \(table)_rest PARTITION OF \(table) DEFAULT;
        """
    }

    /// The partitions' files, to tell a truncated partition (new file) from a purged one (same file).
    func files(_ db: TestDatabase, _ table: String) throws -> [String: String] {
        var files: [String: String] = [:]
        for row in try db.inPublic({ try db.connection.query("""
            SELECT c.relname, c.relfilenode::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = $1::regclass
            """, [table]).rows }) {
            files[row[0]!] = row[1]!
        }
        return files
    }

    @Test func truncatesWholePartitionsWithoutKeptRowsAndPurgesWhatBatchesPurge() throws {
        let db = try TestDatabase(reference: false)
        // No consent, hold or flag in the data but one kept row planted in each of months 5, 7 and 9.
        try db.sql(Self.visits + Self.partitioned("parts") + """
            CREATE TABLE plain (id bigint PRIMARY KEY, seen timestamptz, patron int, flag boolean, name text);
            INSERT INTO source SELECT id + 1, seen - interval '60 days', patron, flag, name FROM source WHERE seen < now() - interval '300 days';
            """ + Self.keptOnlyIn(flag: 5, consent: 7, hold: 9))
        // Months wholly before the cutoff that hold rows and no kept row: the ones to empty whole.
        let expected = try wholeMonths(db, table: "parts", months: 12, except: [5, 7, 9])
        #expect(expected.count >= 7)
        #expect(try db.int("SELECT count(*) FROM parts_rest") > 0)
        let folder = try PolicyFolder(["parts.yaml": Self.policy("parts", table: "parts"), "plain.yaml": Self.policy("plain", table: "plain")])
        let before = try files(db, "parts")
        var options = RunOptions(batchSize: 200)
        options.jobs = 1
        let batched = try db.run(folder.url, only: ["plain"], options: options)
        options.jobs = 2
        let fast = try db.run(folder.url, only: ["parts"], options: options)

        // The same rows go and the same rows stay, counted the same way.
        #expect(try ledger(db, "parts") == ledger(db, "plain"))
        #expect(try ledger(db, "plain") == [batched.policies[0].rows, 1, 1, 1])
        #expect(try remaining(db, "parts") == remaining(db, "plain"))

        // Months with a kept row (5, 7, 9) are purged row by row and keep their file; so do the months
        // that reach past the cutoff and the default partition (its range has no upper bound).
        let after = try files(db, "parts")
        let truncated = Set(after.keys.filter { after[$0] != before[$0] })
        #expect(truncated == Set(expected))
        #expect(fast.policies[0].partitionsTruncated == expected.count)
        for month in [5, 7, 9] {
            #expect(try db.int("SELECT count(*) FROM parts_m\(month)") == 1)
        }
        #expect(try db.int("SELECT count(*) FROM parts_rest") == 0)
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
        let manifest = try #require(fast.manifestPath)
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        #expect(!text.contains("FAST-CANARY") && !text.contains("parts_m"))
    }

    @Test func leavesPartitionsOfATableWithTriggersToTheBatches() throws {
        let db = try TestDatabase(reference: false)
        try db.sql(Self.visits + Self.partitioned("parts") + """
            CREATE TABLE deletions (n int);
            CREATE FUNCTION count_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN INSERT INTO public.deletions VALUES (1); RETURN OLD; END $$;
            CREATE TRIGGER audit AFTER DELETE ON parts FOR EACH ROW EXECUTE FUNCTION count_deletion();
            INSERT INTO parts SELECT * FROM source WHERE patron % 10 <> 0 AND patron <> 7 AND NOT flag;
            ANALYZE parts;
            """)
        let folder = try PolicyFolder(["parts.yaml": Self.policy("parts", table: "parts") + "\ntriggers: [public.count_deletion]\n"])
        let before = try files(db, "parts")
        let summary = try db.run(folder.url, options: RunOptions(batchSize: 500))
        // A TRUNCATE would not fire the table's DELETE trigger: every row goes through a DELETE instead.
        #expect(summary.policies[0].partitionsTruncated == 0)
        #expect(try files(db, "parts") == before)
        #expect(summary.policies[0].rows > 1000)
        #expect(try db.int("SELECT count(*) FROM deletions") == summary.policies[0].rows)
    }

    /// The months of `source` wholly before the 60-day cutoff that hold rows, but for `except`.
    func wholeMonths(_ db: TestDatabase, table: String, months: Int, except: [Int]) throws -> [String] {
        try db.strings("""
            SELECT '\(table)_m' || m FROM generate_series(0, \(months)) m
            WHERE date_trunc('month', now()) - (m - 1) * interval '1 month' <= now() - interval '60 days'
              AND m NOT IN (\(except.map(String.init).joined(separator: ", ")))
              AND EXISTS (SELECT 1 FROM source WHERE seen >= date_trunc('month', now()) - m * interval '1 month'
                                                 AND seen < date_trunc('month', now()) - (m - 1) * interval '1 month')
            """).compactMap { $0 }
    }

    /// `source` without kept rows but one planted in each of three months (keep_when's flag, a
    /// consenting patron, the held patron), copied into `parts` and `plain`.
    static func keptOnlyIn(flag: Int, consent: Int, hold: Int) -> String {
        """
        DELETE FROM source WHERE patron % 10 = 0 OR patron = 7;
        UPDATE source SET flag = false;
        UPDATE source SET flag = true WHERE id = (SELECT min(id) FROM source WHERE \(month(flag)));
        UPDATE source SET patron = 10 WHERE id = (SELECT min(id) FROM source WHERE \(month(consent)));
        UPDATE source SET patron = 7 WHERE id = (SELECT min(id) FROM source WHERE \(month(hold)));
        INSERT INTO parts SELECT * FROM source;
        INSERT INTO plain SELECT * FROM source;
        ANALYZE parts; ANALYZE plain;
        """
    }

    /// A condition on `seen` for the month `m` months back (0: this month).
    static func month(_ m: Int) -> String {
        "seen >= date_trunc('month', now()) - interval '\(m) months' AND seen < date_trunc('month', now()) - interval '\(m - 1) months'"
    }

    @Test func thirtyPartitionsTruncatedInGroupsByTwoSessionsPurgeWhatBatchesPurge() throws {
        let db = try TestDatabase(reference: false)
        // Two and a half years of visits; kept rows planted in months 5 (keep_when), 14 (consent), 22 (hold).
        try db.sql(Self.visits + Self.partitioned("parts", months: 30) + """
            CREATE TABLE plain (id bigint PRIMARY KEY, seen timestamptz, patron int, flag boolean, name text);
            INSERT INTO source SELECT id + 1, seen - interval '360 days', patron, flag, name FROM source;
            INSERT INTO source SELECT id + 2, seen - interval '720 days', patron, flag, name FROM source WHERE seen > now() - interval '360 days';
            """ + Self.keptOnlyIn(flag: 5, consent: 14, hold: 22))
        let expected = try wholeMonths(db, table: "parts", months: 30, except: [5, 14, 22])
        #expect(expected.count >= 24)
        // Several groups: about four months' rows each.
        let perMonth = try db.int("SELECT max(reltuples)::int8 FROM pg_class WHERE relname LIKE 'parts_m%'")
        #expect(perMonth > 100)
        let folder = try PolicyFolder(["parts.yaml": Self.policy("parts", table: "parts"), "plain.yaml": Self.policy("plain", table: "plain")])
        let before = try files(db, "parts")
        var options = RunOptions(batchSize: 300)
        options.jobs = 1
        let batched = try db.run(folder.url, only: ["plain"], options: options)
        options.jobs = 2
        options.partitionGroupRows = perMonth * 4
        let fast = try db.run(folder.url, only: ["parts"], options: options)

        #expect(try ledger(db, "parts") == ledger(db, "plain"))
        #expect(try ledger(db, "plain") == [batched.policies[0].rows, 1, 1, 1])
        #expect(try remaining(db, "parts") == remaining(db, "plain"))
        let after = try files(db, "parts")
        #expect(Set(after.keys.filter { after[$0] != before[$0] }) == Set(expected))
        #expect(fast.policies[0].partitionsTruncated == expected.count)
        #expect(fast.policies[0].sessions == 2)
        // The manifest counts each partition as a batch, as the ledger does.
        #expect(try Int64(fast.policies[0].batches) == db.int("SELECT count(DISTINCT batch) FROM retention.batches WHERE policy = 'parts' AND rows > 0"))
        // One ledger row per truncated partition, numbered 1, 2, 3, ... across the groups, and every
        // batch number once, whichever session or group wrote it.
        #expect(try db.strings("""
            SELECT string_agg(batch::text, ',' ORDER BY batch) FROM retention.batches
            WHERE policy = 'parts' AND batch <= \(expected.count)
            """) == [(1...expected.count).map(String.init).joined(separator: ",")])
        #expect(try db.int("SELECT count(*) FROM (SELECT 1 FROM retention.batches WHERE policy = 'parts' GROUP BY batch, library HAVING count(*) > 1) d") == 0)
        for month in [5, 14, 22] {
            #expect(try db.int("SELECT count(*) FROM parts_m\(month)") == 1)
        }
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
    }

    /// A hold placed while the truncation waits for a partition's lock waits in turn for the
    /// truncation (`HoldLock`), and is dated after it: the record never shows a hold in force before
    /// a purge that could not see it.
    @Test func aHoldPlacedWhileTheTruncationWaitsForItsLockWaitsForItAndIsDatedAfterIt() throws {
        let db = try TestDatabase(reference: false)
        // No kept row at all, but patron 999's one visit in month 8.
        try db.sql(Self.visits + Self.partitioned("parts") + """
            DELETE FROM source WHERE patron % 10 = 0 OR patron = 7;
            UPDATE source SET flag = false;
            UPDATE source SET patron = 999 WHERE id = (SELECT min(id) FROM source WHERE \(Self.month(8)));
            INSERT INTO parts SELECT * FROM source;
            ANALYZE parts;
            """)
        let folder = try PolicyFolder(["parts.yaml": Self.policy("parts", table: "parts")])
        // A session writing to month 8 holds the truncation at its lock, after it chose its partitions.
        let writer = try db.session()
        try writer.execute(unsafeSQL: "BEGIN; LOCK TABLE parts_m8 IN ROW EXCLUSIVE MODE")
        let run = try db.startRetention(["run", "--policies", folder.url.path, "--lock-timeout", "8s", "--jobs", "2"])
        var waited = 0
        while try db.int("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'parts_m8'::regclass") == 0 {
            waited += 1
            try #require(waited < 600, "the run never waited for month 8")
            Thread.sleep(forTimeInterval: 0.05)
        }
        let place = try db.startRetention(["hold", "place", "--reference", "CV-9", "--reason", "court order", "--patron", "999",
                                           "--policies", folder.url.path])
        Thread.sleep(forTimeInterval: 1)
        try writer.execute(unsafeSQL: "ROLLBACK")
        let placed = place.wait()
        #expect(placed.status == 0, "\(placed.stderr)")
        let result = run.wait()
        #expect(result.status == 0, "\(result.stderr)")
        // The truncation (the run's first batches, one transaction) could not see the hold, and
        // emptied month 8; the hold is dated after it committed. Later batches saw it.
        #expect(try db.int("SELECT count(*) FROM parts WHERE patron = 999") == 0)
        #expect(try db.int("""
            SELECT count(*) FROM retention.holds h WHERE h.placed_at >= (SELECT min(b.finished_at) FROM retention.batches b)
            """) == 1)
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
    }

    @Test func onlyATableRangePartitionedByAgeIsWalkedThroughItsOldPartitions() throws {
        let db = try TestDatabase(reference: false)
        try db.sql(Self.visits + Self.partitioned("parts") + """
            CREATE TABLE hashed (id bigint PRIMARY KEY, seen timestamptz NOT NULL, patron int, flag boolean, name text)
                PARTITION BY HASH (id);
            CREATE TABLE hashed_0 PARTITION OF hashed FOR VALUES WITH (MODULUS 2, REMAINDER 0);
            CREATE TABLE hashed_1 PARTITION OF hashed FOR VALUES WITH (MODULUS 2, REMAINDER 1);
            CREATE TABLE plain (id bigint PRIMARY KEY, seen timestamptz, patron int, flag boolean, name text);
            """ + Self.keptOnlyIn(flag: 5, consent: 7, hold: 9) + "INSERT INTO hashed SELECT * FROM source; ANALYZE hashed;")
        let folder = try PolicyFolder(["parts.yaml": Self.policy("parts", table: "parts"), "plain.yaml": Self.policy("plain", table: "plain"),
                                       "hashed.yaml": Self.policy("hashed", table: "hashed")])
        let resolved = Dictionary(uniqueKeysWithValues: try db.resolve(folder.url).map { ($0.policy.name, $0) })
        #expect(resolved["parts"]?.partitionedByAge == true)
        #expect(resolved["hashed"]?.partitionedByAge == false)
        #expect(resolved["plain"]?.partitionedByAge == false)
        var options = RunOptions(batchSize: 150)
        options.jobs = 2
        _ = try db.run(folder.url, options: options)
        // The walk of parts read only its old partitions, and purged what the whole walks purged.
        #expect(try ledger(db, "parts") == ledger(db, "plain"))
        #expect(try ledger(db, "hashed") == ledger(db, "plain"))
        #expect(try remaining(db, "parts") == remaining(db, "plain"))
        #expect(try remaining(db, "hashed") == remaining(db, "plain"))
    }

    @Test func aPartitionWithAHostileNameIsTruncatedByItsQuotedName() throws {
        let db = try TestDatabase(reference: false)
        // Month 6 renamed to something that would end the statement if it were spliced in unquoted.
        try db.sql(Self.visits + Self.partitioned("parts") + """
            CREATE TABLE sentinel (n int);
            ALTER TABLE parts_m6 RENAME TO "parts_m6""; DROP TABLE sentinel; --";
            DELETE FROM source WHERE patron % 10 = 0 OR patron = 7;
            UPDATE source SET flag = false;
            INSERT INTO parts SELECT * FROM source;
            ANALYZE parts;
            """)
        let folder = try PolicyFolder(["parts.yaml": Self.policy("parts", table: "parts")])
        let before = try files(db, "parts")
        let summary = try db.run(folder.url, options: RunOptions(batchSize: 200))
        let after = try files(db, "parts")
        let hostile = "parts_m6\"; DROP TABLE sentinel; --"
        #expect(before[hostile] != nil && after[hostile] != before[hostile], "the hostile partition was truncated")
        #expect(summary.policies[0].partitionsTruncated >= 7)
        #expect(try db.int("SELECT count(*) FROM sentinel") == 0)
        #expect(try db.int("SELECT count(*) FROM parts WHERE seen < now() - interval '60 days'") == 0)
    }
}
