import Foundation
import Testing
@testable import RetentionCore

/// A table managed by pg_partman: its template table is no patron table, and its own retention is a second purger.
@Suite struct PartmanTests {
    @Test(.enabled(if: serverOffers("pg_partman"), "needs pg_partman (postgresql-15-partman)"))
    func auditSkipsPartmanTemplatesAndCheckWarnsAboutPartmansOwnRetention() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE SCHEMA partman;
            CREATE EXTENSION pg_partman SCHEMA partman;
            CREATE TABLE public.visits (id bigint, seen timestamptz NOT NULL, patron_id int, PRIMARY KEY (id, seen))
                PARTITION BY RANGE (seen);
            SELECT partman.create_parent('public.visits', 'seen', 'native', 'monthly',
                                         p_start_partition := (now() - interval '6 months')::date::text);
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
}
