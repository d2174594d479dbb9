import Foundation
import Testing
@testable import RetentionCore

/// The eleventh hostile pass: a hold whose policy name moves to another table or whose column's
/// type no longer reads it, a patron cut to fit a `name` column, a failure line that did not say
/// which database, and a hold's impossible date. (A batch's isolation: `HoldIsolationTests`.)
@Suite struct HostileInputIVTests {
    static func policy(_ name: String, table: String, version: Int = 1) -> String {
        "name: \(name)\nversion: \(version)\ndescription: d\ntable: public.\(table)\nkey: id\nage: at\nretain: 1 day\n"
            + "action: delete\npatron: patron\n"
    }

    /// A policy name given to another table (a migration that swapped two files) would move the
    /// court order's hold to the other table's rows: the run refuses (78) and nothing is purged.
    @Test func aHoldWhosePolicyNowPurgesAnotherTableStopsTheRun() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE public.t1 (id bigint PRIMARY KEY, patron int, at date);
            CREATE TABLE public.t2 (LIKE public.t1 INCLUDING ALL);
            INSERT INTO t1 SELECT g, g % 10, '2020-01-01' FROM generate_series(1, 100) g;
            INSERT INTO t2 SELECT * FROM t1;
            """)
        let before = try PolicyFolder(["f1.yaml": Self.policy("loans", table: "t1")])
        #expect(try db.retention(["hold", "place", "--reference", "CV-1", "--reason", "r", "--patron", "3", "--policy", "loans",
                                  "--policies", before.url.path]).status == 0)
        let after = try PolicyFolder(["f1.yaml": Self.policy("loans", table: "t2", version: 2),
                                      "f2.yaml": Self.policy("legacy-loans", table: "t1")])
        let run = try db.retention(["run", "--policies", after.url.path, "--log-format", "text"])
        #expect(run.status == 78, "\(run.stderr)")
        #expect(run.stderr.contains("hold 1 was placed while policy loans purged public.t1; it now purges public.t2"), "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM t1") == 100 && db.int("SELECT count(*) FROM t2") == 100)
        let plan = try db.retention(["plan", "--policies", after.url.path])
        #expect(plan.status == 78)
    }

    /// A numeric patron column that became a bigint: the hold stored as `3.00` reads as no bigint,
    /// so it would hold nothing; the run refuses (78). `0001` placed while the column was text
    /// still reads as patron 1 of the bigint column, and keeps its rows.
    @Test func aHoldTheColumnsNewTypeNoLongerReadsStopsTheRunOneItStillReadsKeeps() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE public.t (id bigint PRIMARY KEY, patron numeric(10,2), at date);
            INSERT INTO t SELECT g, g % 10, '2020-01-01' FROM generate_series(1, 100) g;
            CREATE TABLE public.u (id bigint PRIMARY KEY, patron text, at date);
            INSERT INTO u SELECT g, (g % 10)::text, '2020-01-01' FROM generate_series(1, 100) g;
            """)
        let numeric = try PolicyFolder(["t.yaml": Self.policy("t", table: "t")])
        let place = try db.retention(["hold", "place", "--reference", "CV-1", "--reason", "r", "--patron", "3",
                                      "--policies", numeric.url.path])
        #expect(place.status == 0 && place.stdout.contains("covers: patron 3.00"), "\(place.output)")
        try db.sql("ALTER TABLE t ALTER COLUMN patron TYPE bigint")
        let run = try db.retention(["run", "--policies", numeric.url.path, "--log-format", "text"])
        #expect(run.status == 78, "\(run.stderr)")
        #expect(run.stderr.contains("hold 1's patron no longer reads as a value of public.t.patron, whose type changed from "
                                    + "numeric(10,2) to bigint"), "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM t") == 100)

        try db.sql("UPDATE retention.holds SET released_at = now(), released_by = current_user")
        let text = try PolicyFolder(["u.yaml": Self.policy("u", table: "u")])
        #expect(try db.retention(["hold", "place", "--reference", "CV-2", "--reason", "r", "--patron", "0001",
                                  "--policies", text.url.path]).status == 0)
        try db.sql("ALTER TABLE u ALTER COLUMN patron TYPE bigint USING patron::bigint")
        let kept = try db.retention(["run", "--policies", text.url.path, "--log-format", "text"])
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(try db.int("SELECT count(*) FROM u") == 10 && db.int("SELECT count(*) FROM u WHERE patron = 1") == 10)
    }

    /// A `name` column cuts its input to 63 bytes: a longer patron is refused (64), never stored
    /// cut to another card.
    @Test func aPatronLongerThanANameColumnIsRefused() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("CREATE TABLE public.t (id bigint PRIMARY KEY, patron name, at date)")
        let folder = try PolicyFolder(["t.yaml": Self.policy("t", table: "t")])
        let long = String(repeating: "A", count: 63) + "XYZ"
        let place = try db.retention(["hold", "place", "--reference", "CV-1", "--reason", "r", "--patron", long,
                                      "--policies", folder.url.path, "--log-format", "text"])
        #expect(place.status == 64 && place.stderr.contains("--patron matches no record: t: not a value of public.t.patron (name)"), "\(place.stderr)")
        #expect(!place.output.contains("AAAAAAAAAA"))
        #expect(try db.int("SELECT count(*) FROM retention.holds") == 0)
    }

    /// Policy files name tables exactly: `public.T1` is not `public.t1`, and the message says which exists.
    @Test func aTableNamedInAnotherCaseGetsAHint() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("CREATE TABLE public.t1 (id bigint PRIMARY KEY, patron int, at date)")
        let folder = try PolicyFolder(["t.yaml": Self.policy("t", table: "T1")])
        let check = try db.retention(["check", "--catalog", "--policies", folder.url.path, "--log-format", "text"])
        #expect(check.status == 78)
        #expect(check.output.contains("does not exist (policy t); names are exact, not folded to lower case as in SQL: did you mean public.t1?"),
                "\(check.output)")
    }

    /// A failed run's one line (what cron mails) names the database it failed on; an impossible
    /// hold date names its option.
    @Test func aFailedRunNamesItsDatabaseAndAnImpossibleDateItsOption() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE public.t (id bigint PRIMARY KEY, patron int, at date);
            INSERT INTO t SELECT g, g, '2020-01-01' FROM generate_series(1, 10) g;
            CREATE FUNCTION public.no() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no deletes'; END $$;
            CREATE TRIGGER no BEFORE DELETE ON t FOR EACH ROW EXECUTE FUNCTION public.no();
            """)
        let folder = try PolicyFolder(["t.yaml": Self.policy("t", table: "t") + "triggers: [public.no]\n"])
        let run = try db.retention(["run", "--policies", folder.url.path, "--quiet"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("on database \(db.name) as "), "\(run.stderr)")
        let date = try db.retention(["hold", "place", "--reference", "CV-1", "--reason", "r", "--from", "2026-02-30",
                                     "--policies", folder.url.path, "--log-format", "text"])
        #expect(date.status == 64 && date.stderr.contains("--from 2026-02-30 is no day of the calendar"), "\(date.stderr)")
    }
}
