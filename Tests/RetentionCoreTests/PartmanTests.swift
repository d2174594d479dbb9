import Foundation
import Testing
@testable import RetentionCore

/// A table managed by pg_partman: its template table is no patron table, and its own retention is a second purger.
@Suite struct PartmanTests {
    /// pg_partman in its own schema and `public.visits`, which it partitions by month from `since` ago.
    static func visits(since: String) -> String {
        """
        CREATE SCHEMA partman;
        CREATE EXTENSION pg_partman SCHEMA partman;
        CREATE TABLE public.visits (id bigint, seen timestamptz NOT NULL, patron_id int, PRIMARY KEY (id, seen))
            PARTITION BY RANGE (seen);
        SELECT partman.create_parent('public.visits', 'seen', 'native', 'monthly',
                                     p_start_partition := (now() - interval '\(since)')::date::text);

        """
    }

    @Test(.enabled(if: serverOffers("pg_partman"), "needs pg_partman (postgresql-15-partman)"))
    func auditSkipsPartmanTemplatesAndCheckWarnsAboutPartmansOwnRetention() throws {
        let db = try TestDatabase(reference: false)
        try db.sql(Self.visits(since: "6 months") + """
            INSERT INTO visits SELECT g, now() - (g % 150) * interval '1 day', 900000 + g % 10 FROM generate_series(1, 3000) g;
            """)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                       + "retain: 6 months\naction: delete\npatron: patron_id\n"])
        let quiet = try db.retention(["check", "--catalog", "--policies", folder.url.path, "--log-format", "text"])
        #expect(quiet.status == 0 && !quiet.stderr.contains("pg_partman"), "\(quiet.stderr)")

        // pg_partman's period is shorter: it drops partitions before the policy makes their rows due.
        try db.sql("UPDATE partman.part_config SET retention = '3 months' WHERE parent_table = 'public.visits'")
        var check = try db.retention(["check", "--catalog", "--policies", folder.url.path, "--log-format", "text"])
        #expect(check.status == 0)
        #expect(check.stderr.contains("policy v: pg_partman's own retention (3 months) is also set on public.visits: two purgers on one table, "
                                      + "and pg_partman acts first"), "\(check.stderr)")
        #expect(check.stderr.contains("retention_keep_table is set"))
        // Longer: the policy acts first, and pg_partman later drops what it keeps.
        try db.sql("UPDATE partman.part_config SET retention = '12 months', retention_keep_table = false WHERE parent_table = 'public.visits'")
        check = try db.retention(["check", "--catalog", "--policies", folder.url.path, "--log-format", "text"])
        #expect(check.stderr.contains("this policy acts first, and pg_partman then drops whole partitions older than 12 months"), "\(check.stderr)")
        #expect(!check.stderr.contains("retention_keep_table"))

        // The audit does not report pg_partman's template table as a patron table no policy covers.
        #expect(try db.int("SELECT count(*) FROM pg_class WHERE relname = 'template_public_visits'") == 1)
        let audit = try db.retention(["audit", "--policies", folder.url.path, "--json"])
        #expect(audit.status == 0, "\(audit.output)")
        #expect(!audit.stdout.contains("template_public_visits"))
    }

    @Test(.enabled(if: serverOffers("pg_partman"), "needs pg_partman (postgresql-15-partman)"))
    func aPartmanTableIsPurgedByWholePartitionsButTheOneWithAHeldPatron() throws {
        let db = try TestDatabase(reference: false)
        // Two years of monthly partitions made by pg_partman; patron 555's one visit is 15 months old.
        try db.sql(Self.visits(since: "25 months") + """
            INSERT INTO visits SELECT g, now() - (g % 720) * interval '1 day' - interval '12 hours', 900000 + g % 10
            FROM generate_series(1, 7200) g;
            INSERT INTO visits VALUES (100000, now() - interval '15 months', 555);
            ANALYZE visits;
            """)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                       + "retain: 6 months\naction: delete\npatron: patron_id\n"])
        let place = try db.retention(["hold", "place", "--reference", "CV-10", "--reason", "court order", "--patron", "555",
                                      "--policies", folder.url.path])
        #expect(place.status == 0, "\(place.stderr)")
        let files = "SELECT c.relname, c.relfilenode::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'public.visits'::regclass"
        let before = Dictionary(uniqueKeysWithValues: try db.connection.query(unsafeSQL: files).rows.map { ($0[0]!, $0[1]!) })
        let held = try #require(try db.strings("SELECT tableoid::regclass::text FROM visits WHERE patron_id = 555").first ?? nil)
        let due = try db.int("SELECT count(*) FROM visits WHERE seen < now() - interval '6 months' AND patron_id <> 555")

        let run = try db.retention(["run", "--policies", folder.url.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM visits WHERE seen < now() - interval '6 months'") == 1)
        #expect(try db.int("SELECT count(*) FROM visits WHERE patron_id = 555") == 1)
        #expect(try db.int("SELECT sum(rows) FROM retention.batches") == due)
        #expect(try db.int("SELECT sum(kept_hold) FROM retention.batches") == 1)
        // Every month wholly past the cutoff was truncated, but the held patron's, which the batches purged.
        let after = Dictionary(uniqueKeysWithValues: try db.connection.query(unsafeSQL: files).rows.map { ($0[0]!, $0[1]!) })
        let truncated = Set(after.keys.filter { after[$0] != before[$0] })
        #expect(truncated.count >= 16, "\(truncated.sorted())")
        #expect(!truncated.contains(held))
        #expect(try db.int("SELECT count(*) FROM \(held)") == 1)
        // pg_partman still manages the table: its maintenance runs and its template is untouched.
        try db.sql("SELECT partman.run_maintenance('public.visits')")
        #expect(try db.int("SELECT count(*) FROM partman.template_public_visits") == 0)
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
    }
}
