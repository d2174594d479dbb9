import Foundation
import Testing
@testable import RetentionCore

/// The ninth hostile pass: code in the database that changes the purging session while it runs, a
/// hold placed while a batch is in flight, a hold the column no longer reads, settings a database
/// sets, and a partition key that an anonymization would move.
@Suite struct HostileInputIIITests {
    /// Ten rows of ten patrons, 100 days old, under a 30-day delete policy with a consent view that
    /// calls `public.ok()`, which runs `change` (SQL) as a side effect.
    func consentThatChanges(_ db: TestDatabase, patronType: String, patron: String, change: String,
                            decoy: String = "false") throws -> PolicyFolder {
        try db.sql("""
            CREATE TABLE public.v (id int PRIMARY KEY, patron \(patronType), at timestamptz);
            INSERT INTO v SELECT g, \(patron), now() - interval '100 days' FROM generate_series(1, 10) g;
            CREATE TABLE public.prefs (patron \(patronType) PRIMARY KEY, keep boolean);
            CREATE FUNCTION public.ok() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN \(change); RETURN true; END $$;
            CREATE VIEW public.consent AS SELECT patron, keep FROM public.prefs WHERE public.ok();
            INSERT INTO prefs SELECT patron, true FROM v WHERE id = 10;
            CREATE FUNCTION public.texteq_decoy(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT \(decoy)';
            CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.texteq_decoy);
            """)
        return try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.v\nkey: id\nage: at\nretain: 30 days\n"
                                 + "action: delete\npatron: patron\nconsent:\n  table: public.consent\n  key: patron\n  keep_if: keep\n"])
    }

    /// A function the consent view calls changes the session (a search path that puts a decoy `=`
    /// first, bytea written in escape form, replication mode that turns off cascades): the batch
    /// that saw it rolls back and the run fails (1), naming the setting; the held row stays.
    @Test(arguments: [
        ("text", "'CNRY4711-' || g", "CNRY4711-5", "PERFORM pg_catalog.set_config('search_path', 'public, pg_catalog', false)", "search_path"),
        ("bytea", "pg_catalog.decode(pg_catalog.lpad(g::text, 8, '0'), 'hex')", "\\x00000005",
         "PERFORM pg_catalog.set_config('bytea_output', 'escape', false)", "bytea_output"),
        ("text", "'CNRY4711-' || g", "CNRY4711-5", "PERFORM pg_catalog.set_config('session_replication_role', 'replica', false)",
         "session_replication_role"),
    ])
    func codeThatChangesTheSessionMidRunFailsTheBatchAndTheHoldStays(type: String, patron: String, held: String, change: String,
                                                                     setting: String) throws {
        let db = try TestDatabase(reference: false)
        let folder = try consentThatChanges(db, patronType: type, patron: patron, change: change)
        let place = try db.retention(["hold", "place", "--reference", "CV-1", "--reason", "order", "--patron", held,
                                      "--policies", folder.url.path])
        #expect(place.status == 0, "\(place.stderr)")
        // The plan too: its counts would show the held row as due.
        let plan = try db.retention(["plan", "--policies", folder.url.path, "--log-format", "text"])
        #expect(plan.status == 1 && plan.stderr.contains("changed the session's \(setting)"), "\(plan.stderr)")
        #expect(plan.stderr.contains("while the plan counted the policy"), "\(plan.stderr)")
        let run = try db.retention(["run", "--policies", folder.url.path, "--batch-size", "2", "--log-format", "text"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("code in the database changed the session's \(setting)"), "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM v WHERE id = 5") == 1)
        #expect(try db.int("SELECT count(*) FROM v") == 10)
        #expect(!run.output.contains("CNRY4711"))
    }

    /// The check itself holds when the search path is what changed: with an always-true `=` in
    /// public, a comparison by the search path would find every setting unchanged.
    @Test func theSessionCheckIsNotFooledByADecoyOperator() throws {
        let db = try TestDatabase(reference: false)
        let folder = try consentThatChanges(db, patronType: "text", patron: "'CNRY4711-' || g",
                                            change: "PERFORM pg_catalog.set_config('search_path', 'public, pg_catalog', false)",
                                            decoy: "true")
        #expect(try db.retention(["hold", "place", "--reference", "CV-1", "--reason", "order", "--patron", "CNRY4711-5",
                                  "--policies", folder.url.path]).status == 0)
        let run = try db.retention(["run", "--policies", folder.url.path, "--batch-size", "2", "--log-format", "text"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("code in the database changed the session's search_path"), "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM v") == 10)
    }

    /// `hold place` while a batch is in flight waits for it, and its hold is dated after the batch
    /// committed: the record never shows a hold in force before a purge that ignored it.
    @Test func aHoldPlacedDuringABatchWaitsForItAndIsDatedAfterIt() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE public.visits (id int PRIMARY KEY, patron text, at timestamptz);
            INSERT INTO visits SELECT g, 'CNRY4711-' || g, now() - interval '100 days' FROM generate_series(1, 3) g;
            CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1); RETURN OLD; END $$;
            CREATE TRIGGER slow BEFORE DELETE ON public.visits FOR EACH ROW EXECUTE FUNCTION public.slow();
            """)
        let folder = try PolicyFolder(["visits.yaml": "name: visits\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\n"
                                       + "age: at\nretain: 30 days\naction: delete\npatron: patron\ntriggers: [public.slow]\n"])
        #expect(try db.retention(["setup", "--quiet"]).status == 0)
        let run = try db.startRetention(["run", "--policies", folder.url.path])
        // The batch is in flight once its trigger sleeps.
        for _ in 0..<500 where try db.int("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'") == 0 {
            Thread.sleep(forTimeInterval: 0.01)
        }
        let place = try db.retention(["hold", "place", "--reference", "CV-2", "--reason", "order", "--patron", "CNRY4711-3",
                                      "--policies", folder.url.path])
        #expect(place.status == 0, "\(place.stderr)")
        #expect(run.wait().status == 0)
        #expect(try db.int("""
            SELECT count(*) FROM retention.holds h
            WHERE h.placed_at >= (SELECT max(b.finished_at) FROM retention.batches b)
            """) == 1)
    }

    /// A library hold on an enum column whose label was renamed since reads as no value of the
    /// column: plan and run refuse (78) naming the hold; nothing is purged.
    @Test func aHoldTheColumnNoLongerReadsStopsPlanAndRun() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TYPE public.lib AS ENUM ('BANGOR', 'ORONO');
            CREATE TABLE public.v (id int PRIMARY KEY, library public.lib, at timestamptz);
            INSERT INTO v SELECT g, CASE WHEN g <= 5 THEN 'BANGOR' ELSE 'ORONO' END::public.lib, now() - interval '100 days'
            FROM generate_series(1, 10) g;
            """)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.v\nkey: id\nage: at\n"
                                       + "retain: 30 days\naction: delete\nlibraries:\n  column: library\n  names: [ORONO]\n"])
        #expect(try db.retention(["hold", "place", "--reference", "CV-3", "--reason", "order", "--library", "BANGOR",
                                  "--policies", folder.url.path]).status == 0)
        try db.sql("ALTER TYPE public.lib RENAME VALUE 'BANGOR' TO 'BANGOR_MAIN'")
        for command in ["plan", "run"] {
            let result = try db.retention([command, "--policies", folder.url.path, "--log-format", "text"])
            #expect(result.status == 78, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("active hold 1: the patron or library is no label of its policies' enum column any more"),
                    "\(result.stderr)")
        }
        #expect(try db.int("SELECT count(*) FROM v") == 10)
    }

    /// An anonymization of a partition key column would move every row to another partition: refused (78).
    @Test func anonymizingAPartitionKeyIsRefused() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE public.p (id int, patron int, at timestamptz, PRIMARY KEY (id, patron)) PARTITION BY HASH (patron);
            CREATE TABLE public.p0 PARTITION OF public.p FOR VALUES WITH (MODULUS 2, REMAINDER 0);
            CREATE TABLE public.p1 PARTITION OF public.p FOR VALUES WITH (MODULUS 2, REMAINDER 1);
            INSERT INTO p SELECT g, g, now() - interval '100 days' FROM generate_series(1, 10) g;
            """)
        let folder = try PolicyFolder(["p.yaml": "name: p\nversion: 1\ndescription: d\ntable: public.p\nkey: id\nage: at\n"
                                       + "retain: 30 days\naction: anonymize\nset:\n  patron: 0\n"])
        let check = try db.retention(["check", "--catalog", "--policies", folder.url.path, "--log-format", "text"])
        #expect(check.status == 78, "\(check.stderr)")
        #expect(check.stderr.contains("set changes patron, part of public.p's partition key"), "\(check.stderr)")
    }

    /// A database whose extra_float_digits is -15 (or any setting a role or database sets) reads
    /// the clock as the tool needs: the run starts and purges.
    @Test func databaseSettingsDoNotChangeWhatTheToolReads() throws {
        let db = try TestDatabase(reference: false)
        let folder = try visitsTable(db, canary: "FLOAT-CANARY-")
        try db.sql("ALTER DATABASE \(db.name) SET extra_float_digits = -15")
        let run = try db.retention(["run", "--policies", folder.url.path, "--log-format", "text"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM visits") == 0)
    }
}
