import Foundation
import Testing
@testable import RetentionCore

/// Names and values from policies are quoted or bound, never spliced into SQL.
@Suite struct InjectionTests {
    @Test func hostileTableAndColumnNamesAreQuotedAndWork() throws {
        let db = try TestDatabase()
        try db.sql(#"""
            CREATE SCHEMA "odd--schema";
            CREATE TABLE "odd--schema"."we""ird; DROP TABLE patrons; --" (
                "id; --" int PRIMARY KEY,
                "when'" timestamptz,
                "lib""x" text
            );
            INSERT INTO "odd--schema"."we""ird; DROP TABLE patrons; --" VALUES
                (1, now() - interval '10 days', 'A'), (2, now() - interval '1 day', 'A'), (3, now() - interval '10 days', 'B;--');
            """#)
        let folder = try PolicyFolder(["odd.yaml": #"""
            name: odd
            version: 1
            description: hostile names
            table: 'odd--schema.we"ird; DROP TABLE patrons; --'
            key: 'id; --'
            age: "when'"
            retain: 5 days
            action: delete
            libraries:
              column: 'lib"x'
              retain:
                "B;--": 20 days
            """#])
        let summary = try db.run(folder.url)
        #expect(summary.policies[0].rows == 1)
        #expect(try db.strings(#"SELECT "id; --"::text FROM "odd--schema"."we""ird; DROP TABLE patrons; --" ORDER BY 1"#) == ["2", "3"])
        #expect(try db.int("SELECT count(*) FROM patrons") == 0)
        #expect(try db.int("SELECT count(*) FROM pg_tables WHERE tablename = 'patrons'") == 1)
    }

    /// A consent table, key and flag with hostile names, indexed so that every batch looks the
    /// patrons up by the quoted names (and the catalog finds the partial index by its quoted flag).
    @Test func hostileConsentNamesAreLookedUpByTheirQuotedNames() throws {
        let db = try TestDatabase(reference: false)
        try db.sql(#"""
            CREATE TABLE sentinel (x int);
            INSERT INTO sentinel VALUES (1);
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, who int);
            INSERT INTO visits SELECT g, now() - interval '100 days', g % 10 FROM generate_series(1, 200) g;
            CREATE TABLE "con""sent; DROP TABLE sentinel; --" ("k'ey" int, "keep""it" bool);
            INSERT INTO "con""sent; DROP TABLE sentinel; --" SELECT g, g < 6 FROM generate_series(0, 9) g;
            CREATE INDEX ON "con""sent; DROP TABLE sentinel; --" ("k'ey") WHERE "keep""it";
            """#)
        let folder = try PolicyFolder(["v.yaml": #"""
            name: v
            version: 1
            description: hostile consent names
            table: public.visits
            key: id
            age: seen
            retain: 10 days
            action: delete
            patron: who
            consent:
              table: 'public.con"sent; DROP TABLE sentinel; --'
              key: "k'ey"
              keep_if: 'keep"it'
            """#])
        #expect(try db.resolve(folder.url)[0].consentIndexed)
        // Six consenting patrons, more than four per key of a one-key batch: every purge looks them up.
        #expect(PurgeSQL.looksUpConsent(consenting: 6, keys: 1))
        let summary = try db.run(folder.url, options: RunOptions(batchSize: 1))
        #expect(summary.policies[0].rows == 80)
        #expect(try db.int("SELECT count(*) FROM visits WHERE who >= 6") == 0)
        #expect(try db.int("SELECT count(*) FROM visits WHERE who < 6") == 120)
        #expect(try db.int("SELECT sum(kept_consent) FROM retention.batches WHERE run_id = $1::int8",
                           [String(summary.runID)]) == 120)
        #expect(try db.int("SELECT count(*) FROM sentinel") == 1)
    }

    @Test func hostileValuesAreBoundNotSpliced() throws {
        let db = try TestDatabase()
        try db.sql(loanCases)
        let hostile = "'x'; DROP TABLE patrons; --"
        var yaml = validLoanPolicy.replacingOccurrences(of: "  notes: null", with: "  notes: \"\(hostile)\"")
        yaml = yaml.replacingOccurrences(of: "value: [lost, claims-returned]", with: "value: [lost, \"\(hostile)\"]")
        yaml = yaml.replacingOccurrences(of: "BANGOR: 14 days", with: "\"BANGOR'; DROP TABLE loans; --\": 14 days")
        let folder = try PolicyFolder(["loans.yaml": yaml])
        let summary = try db.run(folder.url)
        // BANGOR lost its own period (the key no longer matches), so loan 3 (20 days) waits for 30 days.
        #expect(summary.policies[0].rows == 2)
        #expect(try db.int("SELECT count(*) FROM patrons") == 2)
        #expect(try db.strings("SELECT id::text FROM loans WHERE notes = '\(hostile.replacingOccurrences(of: "'", with: "''"))' ORDER BY loans.id")
                == ["1", "5"])
    }

    @Test func lookAlikeAndInjectedNamesAreRejectedWithVisibleEscapes() throws {
        let db = try TestDatabase()
        var yaml = validLoanPolicy.replacingOccurrences(of: "public.loans", with: "public.l\u{43E}ans")
        let folder = try PolicyFolder(["lookalike.yaml": yaml])
        let error = try #require(throws: PolicyErrors.self) { try db.resolve(folder.url) }
        #expect(error.description.contains("table public.l\\u{43e}ans does not exist"))

        yaml = validLoanPolicy.replacingOccurrences(of: "age: returned_at", with: "age: 'returned_at; DROP TABLE patrons; --'")
        let injected = try PolicyFolder(["injected.yaml": yaml])
        let second = try #require(throws: PolicyErrors.self) { try db.resolve(injected.url) }
        #expect(second.description.contains("column returned_at; DROP TABLE patrons; -- (age) does not exist"))
        #expect(try db.int("SELECT count(*) FROM pg_tables WHERE tablename = 'patrons'") == 1)
    }
}
