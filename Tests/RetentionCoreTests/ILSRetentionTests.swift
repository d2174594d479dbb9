import Foundation
import Testing
@testable import RetentionCore

/// What an ILS's own purge does that a policy must be able to say: triggers that archive a loan and
/// delete its chain from the table itself, the newest loans of each copy kept, and the history a
/// patron chose to keep (Evergreen's `purge_circulations` and `purge_holds`).
@Suite struct ILSRetentionTests {
    /// A delete policy `loans` on `public.loans` (30 days after `returned_at`, patron `patron_id`) and `extra` keys.
    static func loansPolicy(_ extra: String) -> String {
        "name: loans\nversion: 1\ndescription: Loans are kept 30 days.\ntable: public.loans\nkey: id\nage: returned_at\n"
            + "retain: 30 days\naction: delete\npatron: patron_id\n" + extra
    }

    func manifests(_ db: TestDatabase) throws -> [Manifest] {
        try db.manifestFiles().map { try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: $0))).payload) }
    }

    /// Evergreen's two triggers on `action.circulation`, on the renewal-chain table of
    /// `ForeignKeyTests`: BEFORE DELETE skips a loan that has renewals and archives the others;
    /// AFTER DELETE deletes the loan a deleted renewal renewed (which the first then archives).
    static let evergreenTriggers = """
        CREATE TABLE aged_circulation (id bigint PRIMARY KEY, returned_at timestamptz);
        CREATE FUNCTION public.age_circ() RETURNS trigger LANGUAGE plpgsql SET search_path = public AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM circulation WHERE parent_circ = OLD.id) THEN RETURN NULL; END IF;
            INSERT INTO aged_circulation VALUES (OLD.id, OLD.returned_at);
            RETURN OLD;
        END $$;
        CREATE FUNCTION public.age_parent() RETURNS trigger LANGUAGE plpgsql SET search_path = public AS $$
        BEGIN
            IF OLD.parent_circ IS NOT NULL THEN DELETE FROM circulation WHERE id = OLD.parent_circ; END IF;
            RETURN OLD;
        END $$;
        CREATE TRIGGER age_circ BEFORE DELETE ON circulation FOR EACH ROW EXECUTE FUNCTION age_circ();
        CREATE TRIGGER age_parent AFTER DELETE ON circulation FOR EACH ROW EXECUTE FUNCTION age_parent();
        """

    /// The rows the batch chose that its statement left to the triggers (a loan with renewals) are
    /// counted once the triggers deleted them: the manifest's count is what left the table, every
    /// purged loan was archived once, and chains with a link that stays are untouched.
    @Test func triggersThatDeleteAChainsOtherLinksAreCountedAsTheBatchsOwnRows() throws {
        let policy = ForeignKeyTests.policy + "\ntriggers: [public.age_circ, public.age_parent]\n"
        let (db, folder) = try ForeignKeyTests().prepared(extraSQL: Self.evergreenTriggers, policy: policy)
        let purgeable = try db.int(ForeignKeyTests.independentPurgeable())
        #expect(purgeable > 15_000)
        var options = RunOptions(batchSize: 700)
        options.jobs = 2
        let summary = try db.run(folder.url, options: options)
        #expect(summary.status == .completed)
        #expect(summary.policies[0].rows == purgeable)
        #expect(try db.int("SELECT count(*) FROM circulation") == 20_005 - purgeable)
        #expect(try db.int("SELECT count(*) FROM aged_circulation") == purgeable)
        #expect(try db.int(ForeignKeyTests.independentPurgeable()) == 0)
        #expect(try db.strings("SELECT id::text FROM circulation WHERE id > 30000 ORDER BY id") == ["30001", "30002", "30003", "30011", "30012"])
        #expect(try db.int("SELECT count(*) FROM circulation WHERE id IN (17010, 10010, 3010)") == 3)
        let manifest = try #require(try manifests(db).first)
        #expect(manifest.policies[0].rows == purgeable)
        #expect(manifest.policies[0].cascaded == ["public.aged_circulation": purgeable])
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
        // `show` says what else the purge changed, as the manifest does.
        let show = try db.retention(["show", try #require(try db.manifestFiles().first)])
        #expect(show.stdout.contains("also changed in other tables (declared cascades and triggers): public.aged_circulation "
                                     + TextTable.grouped(purgeable)), "\(show.stdout)")
    }

    /// A declared BEFORE DELETE trigger that skips some of the chosen rows for good: the rows the
    /// batch claimed are still there, so it rolls back and the run fails (1), naming how many.
    @Test func aChosenRowNoTriggerDeletedFailsTheBatch() throws {
        let policy = ForeignKeyTests.policy + "\ntriggers: [public.spare]\n"
        let (db, folder) = try ForeignKeyTests().prepared(extraSQL: """
            CREATE FUNCTION public.spare() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF OLD.id % 100 = 1 THEN RETURN NULL; END IF; RETURN OLD; END $$;
            CREATE TRIGGER spare BEFORE DELETE ON circulation FOR EACH ROW EXECUTE FUNCTION spare();
            """, policy: policy)
        let before = try db.int("SELECT count(*) FROM circulation")
        let result = try db.retention(["run", "--policies", folder.url.path, "--log-format", "text", "--jobs", "1"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("rows the batch chose in public.circulation are still there after its declared triggers ran"),
                "\(result.stderr)")
        #expect(try db.int("SELECT count(*) FROM circulation") == before)
        #expect(try db.int("SELECT count(*) FROM retention.batches") == 0)
    }

    /// Chains of thousands of links (a loan renewed automatically every week for years): each batch
    /// visits each linked row once, so a chain of 5,000 all due goes, and one whose newest link is
    /// recent stays whole, in one run within the default statement timeout (a walk per due row
    /// cost the batch's size times the chain's length: a chain of 10,000 failed every night).
    @Test func longChainsAreWalkedOncePerBatch() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE circulation (id bigint PRIMARY KEY, patron_id bigint, returned_at timestamptz,
                                      parent_circ bigint REFERENCES circulation);
            CREATE INDEX ON circulation (parent_circ);
            INSERT INTO circulation SELECT g, 1, now() - interval '400 days' + g * interval '1 minute',
                                           CASE WHEN g NOT IN (1, 5001) THEN g - 1 END
            FROM generate_series(1, 10000) g;
            UPDATE circulation SET returned_at = now() - interval '1 day' WHERE id = 10000;
            ANALYZE circulation;
            """)
        let folder = try PolicyFolder(["circulation.yaml": ForeignKeyTests.policy.replacingOccurrences(of: "keep_when:\n  - { column: status, op: \"=\", value: lost }", with: "")])
        let plan = try db.plan(folder.url).policies[0]
        #expect(plan.due == 5000 && plan.counts[.reference] == 4999)
        let result = try db.retention(["run", "--policies", folder.url.path, "--log-format", "text", "--statement-timeout", "60s"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try db.int("SELECT count(*) FROM circulation") == 5000)
        #expect(try db.int("SELECT min(id) FROM circulation") == 5001)
    }

    /// A foreign key declared on one partition into its partitioned table links rows of the table as
    /// a renewal chain does: a held link keeps its chain whole, an unheld chain goes whole (its ON
    /// DELETE CASCADE then deletes nothing more). A policy on a partition may name the first column
    /// of the partition's primary key.
    @Test func aForeignKeyFromAPartitionIntoItsTableLinksAChain() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE loans (id bigint, branch text, patron_id bigint, returned_at timestamptz, ren_id bigint, ren_branch text,
                                PRIMARY KEY (id, branch)) PARTITION BY LIST (branch);
            CREATE TABLE loans_a PARTITION OF loans FOR VALUES IN ('a');
            CREATE TABLE loans_b PARTITION OF loans FOR VALUES IN ('b');
            ALTER TABLE loans_b ADD FOREIGN KEY (ren_id, ren_branch) REFERENCES loans (id, branch) ON DELETE CASCADE;
            CREATE INDEX ON loans_b (ren_id, ren_branch);
            INSERT INTO loans VALUES (1, 'a', 42, now() - interval '100 days', NULL, NULL),
                                     (2, 'b', 7, now() - interval '90 days', 1, 'a'),
                                     (3, 'a', 8, now() - interval '100 days', NULL, NULL),
                                     (4, 'b', 8, now() - interval '90 days', 3, 'a');
            """)
        let folder = try PolicyFolder(["loans.yaml": Self.loansPolicy(""), "loans-b.yaml": """
            name: loans-b
            version: 1
            description: Loans of branch b are kept 30 days.
            table: public.loans_b
            key: id
            age: returned_at
            retain: 30 days
            action: delete
            patron: patron_id
            """])
        let place = try db.retention(["hold", "place", "--reference", "CV-1", "--reason", "court order", "--patron", "42",
                                      "--policies", folder.url.path])
        #expect(place.status == 0, "\(place.stderr)")
        let result = try db.retention(["run", "--policies", folder.url.path, "--only", "loans", "--log-format", "text"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try db.strings("SELECT id::text FROM loans ORDER BY id") == ["1", "2"])
        #expect(try db.retention(["check", "--catalog", "--policies", folder.url.path]).status == 0)
    }

    /// A declared trigger that skips a chosen row, deletes a held row instead and strikes the
    /// skipped row from the batch's list (written against the tool): the list's own counters show
    /// it, and the batch fails; the held row stays.
    @Test func aTriggerThatEditsTheListOfPendingRowsFailsTheBatch() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE loans (id bigint PRIMARY KEY, patron_id int, returned_at timestamptz, note text);
            INSERT INTO loans SELECT g, g, now() - interval '100 days', 'CANARY-PII-' || g FROM generate_series(1, 10) g;
            INSERT INTO loans VALUES (100, 42, now() - interval '100 days', 'CANARY-HELD');
            CREATE FUNCTION public.skip1() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF OLD.id = 1 THEN RETURN NULL; END IF; RETURN OLD; END $$;
            CREATE FUNCTION public.swap() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF OLD.id = 2 THEN DELETE FROM public.loans WHERE id = 100; DELETE FROM pg_temp.retention_pending; END IF;
                  RETURN OLD; END $$;
            CREATE TRIGGER skip1 BEFORE DELETE ON loans FOR EACH ROW EXECUTE FUNCTION public.skip1();
            CREATE TRIGGER swap AFTER DELETE ON loans FOR EACH ROW EXECUTE FUNCTION public.swap();
            """)
        let folder = try PolicyFolder(["loans.yaml": Self.loansPolicy("triggers: [public.skip1, public.swap]")])
        let place = try db.retention(["hold", "place", "--reference", "CV-1", "--reason", "court order", "--patron", "42",
                                      "--policies", folder.url.path])
        #expect(place.status == 0, "\(place.stderr)")
        let result = try db.retention(["run", "--policies", folder.url.path, "--log-format", "text"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("changed the batch's list of the rows it left to its declared triggers"), "\(result.stderr)")
        #expect(!result.output.contains("CANARY"))
        #expect(try db.int("SELECT count(*) FROM loans") == 11)
    }

    /// Pending rows are told apart by their place, not their key: a key repeated across partitions
    /// (a recent row of another branch) is no chosen row left behind. And a patron's consent to keep
    /// history "forever" (`10000 years`) keeps their rows instead of failing the night.
    @Test func pendingRowsAreFoundByPlaceAndAForeverConsentKeeps() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE loans (id bigint, branch text, patron_id int, returned_at timestamptz, parent_id bigint,
                                PRIMARY KEY (id, branch)) PARTITION BY LIST (branch);
            CREATE TABLE loans_a PARTITION OF loans FOR VALUES IN ('a');
            CREATE TABLE loans_b PARTITION OF loans FOR VALUES IN ('b');
            CREATE FUNCTION public.skip_renewed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF EXISTS (SELECT 1 FROM public.loans WHERE parent_id = OLD.id AND branch = OLD.branch) THEN RETURN NULL; END IF;
                  RETURN OLD; END $$;
            CREATE FUNCTION public.delete_renewed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN DELETE FROM public.loans WHERE id = OLD.parent_id AND branch = OLD.branch; RETURN OLD; END $$;
            CREATE TRIGGER skip_renewed BEFORE DELETE ON loans FOR EACH ROW EXECUTE FUNCTION public.skip_renewed();
            CREATE TRIGGER delete_renewed AFTER DELETE ON loans FOR EACH ROW EXECUTE FUNCTION public.delete_renewed();
            INSERT INTO loans VALUES (5, 'a', 1, now() - interval '100 days', NULL), (6, 'a', 1, now() - interval '90 days', 5),
                                     (5, 'b', 2, now() - interval '1 day', NULL), (7, 'a', 3, now() - interval '100 days', NULL);
            CREATE TABLE choices (patron int PRIMARY KEY, keep_for interval, opted boolean);
            INSERT INTO choices VALUES (3, interval '10000 years', true);
            """)
        let folder = try PolicyFolder(["loans.yaml": Self.loansPolicy("""
            consent: { table: public.choices, key: patron, keep_if: opted, keep_for: keep_for }
            triggers: [public.skip_renewed, public.delete_renewed]
            """)])
        let result = try db.retention(["run", "--policies", folder.url.path, "--log-format", "text"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try db.strings("SELECT id || branch FROM loans ORDER BY 1") == ["5b", "7a"])
    }

    /// Loans of five copies, a chain of two among them, for `keep_newest: {per: copy_id, count: 3}`.
    static let copies = """
        CREATE TABLE loans (
            id          bigint PRIMARY KEY,
            copy_id     int,
            patron_id   int,
            started_at  timestamptz NOT NULL,
            finished_at timestamptz,
            parent_id   bigint REFERENCES loans
        );
        CREATE INDEX ON loans (copy_id);
        CREATE INDEX ON loans (parent_id);
        -- Copy 1: six old chains; the newest (id 16) renewed by 17: the three newest stay, with 17.
        INSERT INTO loans SELECT 10 + g, 1, g, now() - (400 - g) * interval '1 day', now() - (390 - g) * interval '1 day', NULL
        FROM generate_series(1, 6) g;
        INSERT INTO loans VALUES (17, 1, 6, now() - interval '389 days', now() - interval '380 days', 16);
        -- An old chain of copy 1 renewed twice: all three go together.
        INSERT INTO loans VALUES (18, 1, 1, now() - interval '500 days', now() - interval '499 days', NULL),
                                 (19, 1, 1, now() - interval '499 days', now() - interval '498 days', 18),
                                 (20, 1, 1, now() - interval '498 days', now() - interval '497 days', 19);
        -- Copy 2: three old ended loans and one still out (the newest): three ended, so all stay.
        INSERT INTO loans SELECT 20 + g, 2, g, now() - (400 - g) * interval '1 day', now() - (390 - g) * interval '1 day', NULL
        FROM generate_series(1, 3) g;
        INSERT INTO loans VALUES (24, 2, 9, now() - interval '10 days', NULL, NULL);
        -- Copy 3: two old loans: all stay. Copy 4: five, four old and the newest recent: two old go.
        INSERT INTO loans VALUES (31, 3, 1, now() - interval '600 days', now() - interval '590 days', NULL),
                                 (32, 3, 1, now() - interval '500 days', now() - interval '490 days', NULL);
        INSERT INTO loans SELECT 40 + g, 4, g, now() - (500 - g) * interval '1 day', now() - (490 - g) * interval '1 day', NULL
        FROM generate_series(1, 4) g;
        INSERT INTO loans VALUES (45, 4, 5, now() - interval '20 days', now() - interval '15 days', NULL);
        -- No copy: no group, nothing kept as newest.
        INSERT INTO loans VALUES (51, NULL, 1, now() - interval '600 days', now() - interval '590 days', NULL);
        -- Copy 6: four ended loans and one out (the newest): 61 and 62 go, in different batches; once
        -- 61 is gone three ended loans are left, but the copy had four when the night began.
        INSERT INTO loans VALUES (61, 6, 1, now() - interval '700 days', now() - interval '690 days', NULL),
                                 (62, 6, 1, now() - interval '600 days', now() - interval '590 days', NULL),
                                 (63, 6, 1, now() - interval '500 days', now() - interval '490 days', NULL),
                                 (64, 6, 1, now() - interval '450 days', now() - interval '440 days', NULL),
                                 (65, 6, 1, now() - interval '5 days', NULL, NULL);
        """

    static let newestPolicy = """
        name: loans
        version: 1
        description: Loan history is kept a year; the three newest loans of each copy stay longer.
        table: public.loans
        key: id
        age: finished_at
        retain: 1 year
        action: delete
        patron: patron_id
        keep_newest: { per: copy_id, count: 3, order: started_at }
        """

    /// `keep_newest` keeps each copy's three newest chains (counted by their first loan, a renewal
    /// staying with it) and copies with no more than three ended loans whole, as they were when the
    /// night began (a copy's due loans go together, in small batches too); plan, run, ledger and
    /// manifest count them as `newest` (the ledger once per batch that looked at the row).
    @Test func theNewestChainsOfEachGroupStayAndGroupsWithFewEndedRowsStayWhole() throws {
        let db = try TestDatabase(reference: false)
        try db.sql(Self.copies)
        let folder = try PolicyFolder(["loans.yaml": Self.newestPolicy])
        let gone = ["11", "12", "13", "18", "19", "20", "41", "42", "51", "61", "62"]
        let plan = try db.plan(folder.url).policies[0]
        #expect(plan.due == Int64(gone.count))
        // First reasons: 14, 15, 16 (copy 1), 21-23 (copy 2), 31, 32, 43, 44, 63, 64; 17 stays with its chain.
        #expect(plan.counts[.newest] == 12)
        #expect(plan.counts[.reference] == 1)
        let summary = try db.run(folder.url, options: RunOptions(batchSize: 2))
        #expect(summary.policies[0].rows == Int64(gone.count))
        let left = try db.strings("SELECT id::text FROM loans ORDER BY id")
        #expect(Set(left).isDisjoint(with: gone))
        #expect(left.count == 27 - gone.count)
        #expect(try db.int("SELECT sum(kept_newest) FROM retention.batches") >= 12)
        let manifest = try #require(try manifests(db).first)
        #expect(manifest.manifestVersion == Manifest.currentVersion)
        #expect(manifest.policies[0].counts[.newest] >= 12)
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
    }

    /// Holds fulfilled or cancelled, and patrons' choices read from a consent table: rows from
    /// `since`, younger than `keep_for`, the `keep_newest` newest ranked by fulfilment or cancel time.
    static let holds = """
        CREATE TABLE holds (
            id            bigint PRIMARY KEY,
            patron_id     int NOT NULL,
            fulfilled_at  timestamptz,
            cancelled_at  timestamptz,
            note          text
        );
        CREATE INDEX ON holds (patron_id);
        CREATE TABLE history_choices (patron int PRIMARY KEY, since timestamptz, keep_for interval, keep_count int, opted boolean);
        -- Patron 1 keeps from three years ago, the two newest (the newest hold is a cancelled one).
        -- Patron 2 keeps from 18 months ago. Patron 3 keeps two years. Patron 4 chose nothing.
        INSERT INTO history_choices VALUES
            (1, now() - interval '3 years', NULL, 2, true),
            (2, now() - interval '18 months', NULL, NULL, true),
            (3, now() - interval '10 years', interval '2 years', NULL, true);
        INSERT INTO holds (id, patron_id, fulfilled_at, cancelled_at, note) VALUES
            (101, 1, now() - interval '400 days', NULL, 'CANARY-HOLD'),
            (102, 1, now() - interval '500 days', NULL, NULL),
            (103, 1, NULL, now() - interval '300 days', NULL),
            (104, 1, now() - interval '700 days', NULL, NULL),
            (201, 2, now() - interval '400 days', NULL, NULL),
            (202, 2, now() - interval '600 days', NULL, NULL),
            (301, 3, now() - interval '600 days', NULL, NULL),
            (302, 3, now() - interval '800 days', NULL, NULL),
            (401, 4, now() - interval '400 days', NULL, NULL),
            (402, 4, now() - interval '30 days', NULL, NULL);
        """

    static let holdsPolicy = """
        name: fulfilled-holds
        version: 1
        description: Fulfilled holds are kept a year, longer where the patron chose to keep their history.
        table: public.holds
        key: id
        age: fulfilled_at
        retain: 1 year
        action: delete
        patron: patron_id
        consent:
          table: public.history_choices
          key: patron
          keep_if: opted
          since: since
          keep_for: keep_for
          keep_newest: keep_count
          rank_by: [fulfilled_at, cancelled_at]
        """

    @Test func consentKeepsWhatThePatronChoseFromSinceForAnAgeAndTheNewestFew() throws {
        let db = try TestDatabase(reference: false)
        try db.sql(Self.holds)
        let folder = try PolicyFolder(["holds.yaml": Self.holdsPolicy])
        // 101 is patron 1's second newest (after cancelled 103): kept; 102 and 104 are not among the two.
        // 201 is after patron 2's since, 202 before. 301 is younger than two years, 302 older.
        let plan = try db.plan(folder.url).policies[0]
        #expect(plan.due == 5)
        #expect(plan.counts[.consent] == 3)
        let summary = try db.run(folder.url)
        #expect(summary.policies[0].rows == 5)
        #expect(try db.strings("SELECT id::text FROM holds ORDER BY id") == ["101", "103", "201", "301", "402"])
        let manifest = try #require(try manifests(db).first)
        #expect(manifest.policies[0].counts[.consent] == 3)
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
    }

    /// Consent's limits name columns that must exist with a fitting type; `rank_by` needs
    /// `keep_newest`; `keep_newest.count` is a whole number: each refused with its place (78, or 65 for
    /// the file's own form).
    @Test func consentLimitsAndKeepNewestAreCheckedAgainstTheCatalog() throws {
        let db = try TestDatabase(reference: false)
        try db.sql(Self.holds)
        let wrongTypes = Self.holdsPolicy.replacingOccurrences(of: "since: since", with: "since: opted")
            .replacingOccurrences(of: "keep_for: keep_for", with: "keep_for: nothing")
        let folder = try PolicyFolder(["holds.yaml": wrongTypes])
        let result = try db.retention(["check", "--catalog", "--policies", folder.url.path])
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("consent since column opted of public.history_choices is boolean; expected date, timestamp or timestamptz"),
                "\(result.stderr)")
        #expect(result.stderr.contains("consent keep_for column nothing does not exist in public.history_choices"), "\(result.stderr)")
        let badCount = try PolicyFolder(["loans.yaml": Self.newestPolicy.replacingOccurrences(of: "count: 3", with: "count: -1")])
        let parsed = try db.retention(["check", "--policies", badCount.url.path])
        #expect(parsed.status == 65, "\(parsed.stderr)")
        #expect(parsed.stderr.contains("keep_newest.count must be a whole number of 1 or more"), "\(parsed.stderr)")
    }
}
