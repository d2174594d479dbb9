import Foundation
import Testing
@testable import RetentionCore

/// Holds whose value or window could protect less than the clerk meant: a value only some of the
/// covered policies can read, a value with characters nobody sees, column types whose equal values
/// are written differently, a window's zone sent by the clerk's own environment.
@Suite struct HoldValueTests {
    let place = ["hold", "place", "--reference", "Case 9", "--reason", "court order", "--log-format", "text"]

    /// Two policies, patron 4711 in a bigint column and in a numeric(12,1) one, every row due.
    func twoPatronTypes(_ db: TestDatabase) throws -> PolicyFolder {
        try db.sql("""
            CREATE TABLE a (id int PRIMARY KEY, seen timestamptz, patron bigint);
            CREATE TABLE b (id int PRIMARY KEY, seen timestamptz, patron numeric(12,1));
            INSERT INTO a SELECT g, now() - interval '100 days', 4711 + g % 2 FROM generate_series(1, 10) g;
            INSERT INTO b SELECT g, now() - interval '100 days', 4711 + g % 2 FROM generate_series(1, 10) g;
            """)
        func policy(_ name: String) -> String {
            "name: \(name)\nversion: 1\ndescription: d\ntable: public.\(name)\nkey: id\nage: seen\nretain: 30 days\naction: delete\npatron: patron\n"
        }
        return try PolicyFolder(["a.yaml": policy("a"), "b.yaml": policy("b")])
    }

    /// `4711.0` reads as patron 4711 in the numeric column but is no value of the bigint one: a hold
    /// over both would have held nothing in `a`, so it is refused (64) naming that policy, and
    /// nothing is stored; `4711` is held in both, and the run keeps both patrons' rows.
    @Test func aHoldSomeCoveredPoliciesCannotReadIsRefused() throws {
        let db = try TestDatabase(reference: false)
        let folder = try twoPatronTypes(db)
        let refused = try db.retention(place + ["--patron", "4711.0", "--policies", folder.url.path])
        #expect(refused.status == 64, "\(refused.stderr)")
        #expect(refused.stderr.contains("would hold nothing in some of the policies it covers: a: not a value of public.a.patron (bigint)"),
                "\(refused.stderr)")
        #expect(!refused.output.contains("4711"))
        #expect(try db.int("SELECT count(*) FROM retention.holds") == 0)
        let placed = try db.retention(place + ["--patron", "4711", "--policies", folder.url.path])
        #expect(placed.status == 0, "\(placed.stderr)")
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)
        #expect(try db.int("SELECT count(*) FROM a") == 5 && db.int("SELECT count(*) FROM b") == 5)
        #expect(try db.int("SELECT count(*) FROM a WHERE patron <> 4711") == 0)
    }

    /// A patron no row holds gets a warning (the hold is still placed: records may come), naming the
    /// invisible characters by code point or the decomposed form, never the value; a patron that
    /// rows hold gets none.
    @Test(arguments: [("CNRY\u{00A0}4711", "U+00A0 NO-BREAK SPACE at character 5"),
                      ("CNRY4711\u{200B}", "U+200B ZERO WIDTH SPACE at character 9"),
                      ("\u{FEFF}CNRY4711", "U+FEFF ZERO WIDTH NO-BREAK SPACE at character 1"),
                      ("CNRY4711-Jose\u{0301}", "decomposed form"),
                      ("CNRY4799", "check the value")])
    func aPatronNoRowHoldsIsWarnedAbout(patron: String, warning: String) throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, card text);
            INSERT INTO visits VALUES (1, now() - interval '100 days', 'CNRY4711'), (2, now() - interval '100 days', 'CNRY4711-José');
            """)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                       + "retain: 30 days\naction: delete\npatron: card\n"])
        let placed = try db.retention(place + ["--patron", patron, "--policies", folder.url.path])
        #expect(placed.status == 0, "\(placed.stderr)")
        #expect(placed.stderr.contains("--patron matches no row of public.visits.card yet") && placed.stderr.contains(warning),
                "\(placed.stderr)")
        // `hold place` shows the clerk what was placed; the warning (a log line) never holds the value.
        #expect(!placed.stderr.contains("CNRY"), "\(placed.stderr)")
        #expect(try db.int("SELECT count(*) FROM retention.holds") == 1)
        let seen = try db.retention(place + ["--patron", "CNRY4711", "--policies", folder.url.path])
        #expect(seen.status == 0 && !seen.stderr.contains("matches no row"), "\(seen.stderr)")
    }

    /// Patron and library columns of types whose equal values are written differently are refused
    /// (78) by check, plan and run: float -0 and 0, interval '1 day' and '24 hours', timestamptz by
    /// the session's zone; a domain over bigint is accepted.
    @Test(arguments: ["float8", "interval", "timestamptz", "money"])
    func patronColumnsAHoldCannotNameAreRefused(type: String) throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE DOMAIN card AS bigint;
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, patron \(type), branch \(type));
            CREATE TABLE tokens (id int PRIMARY KEY, seen timestamptz, patron card);
            INSERT INTO tokens VALUES (1, now() - interval '100 days', 4711);
            """)
        let folder = try PolicyFolder([
            "v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 30 days\naction: delete\n"
                + "patron: patron\nlibraries:\n  column: branch\n  names: ['\(["float8": "1", "interval": "1 day", "timestamptz": "2026-01-01"][type] ?? "1")']\n",
        ])
        for command in [["check", "--catalog"], ["plan"], ["run"]] {
            let result = try db.retention(command + ["--policies", folder.url.path, "--log-format", "text"])
            #expect(result.status == 78, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("patron column patron of public.visits: its type") &&
                    result.stderr.contains("library column branch of public.visits: its type"), "\(result.stderr)")
        }
        #expect(try db.int("SELECT count(*) FROM retention.runs") == 0)
        // A domain over bigint names its values as bigint does.
        let domain = try PolicyFolder(["t.yaml": "name: t\nversion: 1\ndescription: d\ntable: public.tokens\nkey: id\nage: seen\n"
                                       + "retain: 30 days\naction: delete\npatron: patron\n"])
        #expect(try db.retention(place + ["--patron", "4711", "--policies", domain.url.path]).status == 0)
        let run = try db.retention(["run", "--policies", domain.url.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM tokens") == 1)
    }

    /// A window placed without the timezone setting takes the server's zone, never one the clerk's
    /// own environment sent (PGOPTIONS): that is refused (78) and nothing is stored; with the
    /// setting, the window is placed in the declared zone.
    @Test func aWindowsZoneIsNeverTheClerksEnvironment() throws {
        let db = try TestDatabase(reference: false)
        let window = place + ["--policy", "v", "--from", "2026-03-01", "--until", "2026-03-02"]
        try db.sql("CREATE TABLE visits (id int PRIMARY KEY, seen date)")
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                       + "retain: 30 days\naction: delete\n"])
        let refused = try db.retention(window + ["--policies", folder.url.path], environment: ["PGOPTIONS": "-c TimeZone=Asia/Tokyo"])
        #expect(refused.status == 78 && refused.stderr.contains("set by this client (PGOPTIONS or PGTZ)"), "\(refused.stderr)")
        #expect(try db.int("SELECT count(*) FROM retention.holds") == 0)
        let declared = try db.retention(window + ["--policies", folder.url.path],
                                        environment: ["PGOPTIONS": "-c TimeZone=Asia/Tokyo", "RETENTION_TIMEZONE": "America/New_York"])
        #expect(declared.status == 0, "\(declared.stderr)")
        #expect(try db.strings("SELECT time_zone FROM retention.holds") == ["America/New_York"])
        let plain = try db.retention(window + ["--policies", folder.url.path])
        #expect(plain.status == 0, "\(plain.stderr)")
        let serverZone = try db.strings("SELECT reset_val FROM pg_settings WHERE name = 'TimeZone'")
        #expect(try db.strings("SELECT time_zone FROM retention.holds ORDER BY id").last == serverZone.first)
    }

    /// An envelope of many signatures is refused at once, before any signature is checked.
    @Test func anEnvelopeOfManySignaturesIsRefusedAtOnce() throws {
        func envelope(_ count: Int) -> Data {
            DSSEEnvelope(payloadType: Manifest.payloadType, payload: Data("{}".utf8),
                         signatures: Array(repeating: .init(keyid: "ab", sig: Data([1, 2, 3])), count: count)).fileData()
        }
        #expect(throws: JSONFormatError.self) { try DSSEEnvelope(fileData: envelope(17)) }
        #expect(try DSSEEnvelope(fileData: envelope(16)).signatures.count == 16)
    }

    /// A bytea patron read by a run's parallel sessions, in a database whose sessions write bytea in
    /// `escape` form: every session reads it in one form, and the hold keeps all of its rows.
    @Test func everySessionOfARunReadsBytesInOneForm() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (id bigint PRIMARY KEY, card bytea, seen timestamptz NOT NULL);
            INSERT INTO visits SELECT g, decode(lpad(to_hex(g % 50), 4, '0'), 'hex'), now() - interval '400 days'
            FROM generate_series(1, 2000) g;
            ANALYZE visits;
            ALTER DATABASE \(quoteIdentifier(db.name)) SET bytea_output = 'escape';
            """)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                       + "retain: 30 days\naction: delete\npatron: card\n"])
        #expect(try db.retention(place + ["--patron", "\\x0007", "--policies", folder.url.path]).status == 0)
        let run = try db.retention(["run", "--policies", folder.url.path, "--jobs", "2", "--batch-size", "100"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM visits") == 40)
    }

    /// A hold scoped to one of two policies on one table keeps its rows from the other too (an
    /// anonymize that would clear the patron, then a delete); a NaN numeric patron is held.
    @Test func aHoldOnOnePolicyKeepsItsRowsFromTheOthersOnTheSameTable() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE loans (id int PRIMARY KEY, patron_id bigint, notes text, returned_at timestamptz);
            INSERT INTO loans SELECT g, g % 10, 'n', now() - interval '400 days' FROM generate_series(1, 200) g;
            CREATE TABLE tokens (id int PRIMARY KEY, patron numeric, seen timestamptz);
            INSERT INTO tokens SELECT g, CASE WHEN g <= 10 THEN 'NaN'::numeric ELSE g END, now() - interval '400 days'
            FROM generate_series(1, 20) g;
            """)
        let folder = try PolicyFolder([
            "anon.yaml": "name: loans-anon\nversion: 1\ndescription: d\ntable: public.loans\nkey: id\nage: returned_at\n"
                + "retain: 30 days\naction: anonymize\nset: {patron_id: null, notes: null}\npatron: patron_id\n",
            "delete.yaml": "name: loans-delete\nversion: 1\ndescription: d\ntable: public.loans\nkey: id\nage: returned_at\n"
                + "retain: 60 days\naction: delete\npatron: patron_id\n",
            "tokens.yaml": "name: tokens\nversion: 1\ndescription: d\ntable: public.tokens\nkey: id\nage: seen\n"
                + "retain: 30 days\naction: delete\npatron: patron\n",
        ])
        #expect(try db.retention(place + ["--policy", "loans-delete", "--patron", "7", "--policies", folder.url.path]).status == 0)
        #expect(try db.retention(place + ["--policy", "tokens", "--patron", "NaN", "--policies", folder.url.path]).status == 0)
        let run = try db.retention(["run", "--policies", folder.url.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM loans WHERE patron_id = 7 AND notes = 'n'") == 20)
        #expect(try db.int("SELECT count(*) FROM loans") == 20)
        #expect(try db.int("SELECT count(*) FROM tokens") == 10)
    }

    /// A policy on a partition and one on its partitioned table read the same rows: reading the
    /// patron from different columns is refused (78); with one column, a hold on either keeps the rows.
    @Test func policiesOnAPartitionAndItsTableShareTheirHolds() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE v (id bigint PRIMARY KEY, seen date NOT NULL, patron bigint, card bigint) PARTITION BY RANGE (id);
            CREATE TABLE v_lo PARTITION OF v FOR VALUES FROM (0) TO (100);
            CREATE TABLE v_hi PARTITION OF v FOR VALUES FROM (100) TO (MAXVALUE);
            INSERT INTO v VALUES (1, '2024-01-10', 7, 900), (2, '2024-01-11', 8, 901), (101, '2024-06-01', 7, 900);
            """)
        func policies(_ loColumn: String) throws -> PolicyFolder {
            try PolicyFolder([
                "v.yaml": "name: visits\nversion: 1\ndescription: d\ntable: public.v\nkey: id\nage: seen\nretain: 30 days\n"
                    + "action: delete\npatron: patron\n",
                "lo.yaml": "name: visits-lo\nversion: 1\ndescription: d\ntable: public.v_lo\nkey: id\nage: seen\nretain: 30 days\n"
                    + "action: delete\npatron: \(loColumn)\n",
            ])
        }
        let apart = try policies("card")
        let refused = try db.retention(["check", "--catalog", "--policies", apart.url.path, "--log-format", "text"])
        #expect(refused.status == 78 && refused.stderr.contains("purge rows of one partitioned table"), "\(refused.stderr)")
        let together = try policies("patron")
        #expect(try db.retention(place + ["--policy", "visits", "--patron", "7", "--policies", together.url.path]).status == 0)
        let run = try db.retention(["run", "--only", "visits-lo", "--policies", together.url.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try db.strings("SELECT id::text FROM v ORDER BY id") == ["1", "101"])
    }

    /// A hold on the policy of a table two declared cascades away (loans -> loan_notes -> note_files)
    /// keeps the loans whose notes have files; and a foreign key that names a leaf partition of a
    /// policy's table is seen like one that names the table: undeclared, its cascade is refused (78).
    @Test func holdsReachThroughEveryDeclaredCascadeAndPartitions() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE loans (id int PRIMARY KEY, patron_id int, returned_at timestamptz);
            CREATE TABLE loan_notes (id int PRIMARY KEY, loan_id int REFERENCES loans ON DELETE CASCADE, patron_id int, written_at timestamptz);
            CREATE INDEX ON loan_notes (loan_id);
            CREATE TABLE note_files (id int PRIMARY KEY, note_id int REFERENCES loan_notes ON DELETE CASCADE, patron_id int, filed_at timestamptz);
            CREATE INDEX ON note_files (note_id);
            INSERT INTO loans SELECT g, g, now() - interval '400 days' FROM generate_series(1, 10) g;
            INSERT INTO loan_notes SELECT g, g, g, now() - interval '10 days' FROM generate_series(1, 5) g;
            INSERT INTO note_files SELECT g, g, g, now() - interval '10 days' FROM generate_series(1, 5) g;
            CREATE TABLE visits (id int, branch text, patron_id int, seen timestamptz, PRIMARY KEY (id, branch)) PARTITION BY LIST (branch);
            CREATE TABLE visits_bangor PARTITION OF visits FOR VALUES IN ('BANGOR');
            CREATE TABLE visit_notes (id int PRIMARY KEY, visit_id int, branch text,
                                      FOREIGN KEY (visit_id, branch) REFERENCES visits_bangor (id, branch) ON DELETE CASCADE);
            """)
        func policy(_ name: String, _ table: String, _ age: String, _ retain: String, _ extra: String = "") -> String {
            "name: \(name)\nversion: 1\ndescription: d\ntable: public.\(table)\nkey: id\nage: \(age)\nretain: \(retain)\naction: delete\n"
                + "patron: patron_id\n" + extra
        }
        let folder = try PolicyFolder([
            "loans.yaml": policy("loans", "loans", "returned_at", "30 days", "cascade: [public.loan_notes, public.note_files]\n"),
            "notes.yaml": policy("loan-notes", "loan_notes", "written_at", "5 years", "cascade: [public.note_files]\n"),
            "files.yaml": policy("note-files", "note_files", "filed_at", "5 years"),
        ])
        #expect(try db.retention(place + ["--policy", "note-files", "--patron", "3", "--policies", folder.url.path]).status == 0)
        let run = try db.retention(["run", "--policies", folder.url.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM note_files") == 5 && db.int("SELECT count(*) FROM loans") == 5)
        let partitioned = try PolicyFolder(["visits.yaml": "name: visits\nversion: 1\ndescription: d\ntable: public.visits\n"
                                            + "key: id\nage: seen\nretain: 30 days\naction: delete\npatron: patron_id\n"])
        let check = try db.retention(["check", "--catalog", "--policies", partitioned.url.path, "--log-format", "text"])
        #expect(check.status == 78 && check.stderr.contains("public.visit_notes"), "\(check.stderr)")
    }

    /// A hold placed while the patron column was text, on `0001`, still holds patron 1 once the
    /// column is a bigint: the run reads a hold as the column reads it (as assigning `0001` would
    /// store 1), and `check --catalog` says the hold is not written as the column writes it, never
    /// the patron.
    @Test func aHoldPlacedBeforeTheColumnBecameAnIntegerHoldsItsValue() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE loans (id int PRIMARY KEY, patron_id varchar(10), returned_at date);
            INSERT INTO loans SELECT g, '000' || (g % 3), current_date - 100 FROM generate_series(1, 9) g;
            """)
        let folder = try PolicyFolder(["l.yaml": "name: loans\nversion: 1\ndescription: d\ntable: public.loans\nkey: id\n"
                                       + "age: returned_at\nretain: 30 days\naction: delete\npatron: patron_id\n"])
        #expect(try db.retention(place + ["--patron", "0001", "--policies", folder.url.path]).status == 0)
        try db.sql("ALTER TABLE loans ALTER patron_id TYPE bigint USING patron_id::bigint")
        let check = try db.retention(["check", "--catalog", "--policies", folder.url.path, "--log-format", "text"])
        #expect(check.status == 0 && check.stderr.contains("hold 1: its patron is not written as"), "\(check.stderr)")
        #expect(!check.output.contains("0001"))
        #expect(try db.plan(folder.url).policies[0].counts[.hold] == 3)
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)
        #expect(try db.int("SELECT count(*) FROM loans") == 3 && db.int("SELECT count(*) FROM loans WHERE patron_id = 1") == 3)
    }

    /// An enum library column names each library by its label: accepted, its library periods and
    /// a library hold apply as to text.
    @Test func anEnumLibraryColumnIsHeldByItsLabels() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TYPE library AS ENUM ('BANGOR', 'ORONO', 'AUGUSTA');
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, branch library);
            INSERT INTO visits SELECT g, now() - interval '100 days', (ARRAY['BANGOR', 'ORONO', 'AUGUSTA'])[1 + g % 3]::library
            FROM generate_series(1, 9) g;
            """)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                       + "retain: 30 days\naction: delete\nlibraries:\n  column: branch\n  retain:\n    ORONO: 1 year\n"])
        #expect(try db.retention(place + ["--library", "BANGOR", "--policies", folder.url.path]).status == 0)
        let run = try db.retention(["run", "--policies", folder.url.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try db.strings("SELECT DISTINCT branch::text FROM visits ORDER BY 1") == ["BANGOR", "ORONO"])
    }

    /// A window that starts on or after today's cutoff of every covered policy keeps nothing due
    /// now (a clerk who read --from/--until as how long the hold lasts): placed, with a warning that
    /// says so; a window over records that exist now gets none.
    @Test func aWindowThatHoldsNothingDueNowIsWarnedAbout() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, card text)")
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                       + "retain: 30 days\naction: delete\npatron: card\n"])
        let today = try #require(try db.strings("SELECT current_date::text").first ?? nil)
        let late = try db.retention(place + ["--patron", "A1", "--from", today, "--until", "2099-06-30", "--policies", folder.url.path])
        #expect(late.status == 0 && late.stderr.contains("keeps no record that is due now"), "\(late.stderr)")
        let early = try db.retention(place + ["--patron", "A1", "--from", "2020-01-01", "--until", "2099-06-30",
                                              "--policies", folder.url.path])
        #expect(early.status == 0 && !early.stderr.contains("due now"), "\(early.stderr)")
        #expect(try db.int("SELECT count(*) FROM retention.holds") == 2)
    }

    /// A trigger that deletes another policy's rows when a loan is deleted: undeclared, check, plan
    /// and run refuse (78) naming it; declared (`triggers:`), a batch whose trigger deleted rows of
    /// another table while a hold on another policy is active rolls back and the run fails (1),
    /// keeping the held notes; with no such hold the run goes on and counts what the trigger
    /// deleted, per table, in the ledger. A declared function no trigger runs is refused too.
    @Test func aTriggerThatDeletesHeldRowsElsewhereIsDeclaredCountedAndStopped() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE loans (id int PRIMARY KEY, patron_id int, returned_at date);
            CREATE TABLE loan_notes (id int PRIMARY KEY, loan_id int, patron_id int, written_at date);
            INSERT INTO loans SELECT g, g % 3, current_date - 100 FROM generate_series(1, 9) g;
            INSERT INTO loan_notes SELECT g, g, g % 3, current_date - 1 FROM generate_series(1, 9) g;
            CREATE FUNCTION public.del_notes() RETURNS trigger LANGUAGE plpgsql
                AS $$BEGIN DELETE FROM public.loan_notes WHERE loan_id = OLD.id; RETURN OLD; END$$;
            CREATE TRIGGER loans_del AFTER DELETE ON loans FOR EACH ROW EXECUTE FUNCTION public.del_notes();
            """)
        func policies(_ triggers: String) throws -> PolicyFolder {
            func policy(_ name: String, _ table: String, _ age: String, _ extra: String = "") -> String {
                "name: \(name)\nversion: 1\ndescription: d\ntable: public.\(table)\nkey: id\nage: \(age)\nretain: 30 days\n"
                    + "action: delete\npatron: patron_id\n" + extra
            }
            return try PolicyFolder(["loans.yaml": policy("loans", "loans", "returned_at", triggers),
                                     "notes.yaml": policy("notes", "loan_notes", "written_at")])
        }
        let undeclared = try policies("")
        #expect(try db.retention(place + ["--policy", "notes", "--patron", "1", "--policies", undeclared.url.path]).status == 0)
        for command in [["check", "--catalog"], ["plan"], ["run"]] {
            let refused = try db.retention(command + ["--policies", undeclared.url.path, "--log-format", "text"])
            #expect(refused.status == 78 && refused.stderr.contains("trigger loans_del on public.loans runs public.del_notes()"),
                    "\(refused.stderr)")
        }
        let wrong = try policies("triggers: [public.del_notes, public.nothing]\n")
        let check = try db.retention(["check", "--catalog", "--policies", wrong.url.path, "--log-format", "text"])
        #expect(check.status == 78 && check.stderr.contains("triggers lists public.nothing, but no enabled trigger runs it"),
                "\(check.stderr)")

        let declared = try policies("triggers: [public.del_notes]\n")
        let stopped = try db.retention(["run", "--policies", declared.url.path, "--only", "loans", "--log-format", "text"])
        #expect(stopped.status == 1 && stopped.stderr.contains("its declared triggers deleted or changed rows of public.loan_notes"),
                "\(stopped.stderr)")
        #expect(try db.int("SELECT count(*) FROM loans") == 9 && db.int("SELECT count(*) FROM loan_notes") == 9)
        #expect(try db.retention(["hold", "release", "1"]).status == 0)
        let run = try db.retention(["run", "--policies", declared.url.path, "--only", "loans"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM loans") == 0 && db.int("SELECT count(*) FROM loan_notes") == 0)
        #expect(try db.int("SELECT sum((cascaded->>'public.loan_notes')::int8) FROM retention.batches") == 9)
    }

    /// Declared triggers that reach held rows by other paths are stopped too (the batch rolls back,
    /// the run fails, 1, the held row stays): one deleting rows of a declared cascade's table, one
    /// truncating a table (which resets the row counters), a deferred constraint trigger (which
    /// would act at commit), and one on a partition deleting rows of a sibling partition that a hold
    /// on the partitioned table's policy keeps.
    @Test(arguments: ["cascade", "truncate", "deferred", "sibling"])
    func declaredTriggersCannotReachHeldRowsByAnotherPath(path: String) throws {
        let db = try TestDatabase(reference: false)
        func policy(_ name: String, _ table: String, _ extra: String = "", retain: String = "30 days") -> String {
            "name: \(name)\nversion: 1\ndescription: d\ntable: public.\(table)\nkey: id\nage: seen\nretain: \(retain)\n"
                + "action: delete\npatron: patron_id\n" + extra
        }
        let files: [String: String]
        let held: (policy: String, table: String)
        switch path {
        case "cascade":
            try db.sql("""
                CREATE TABLE loans (id bigint PRIMARY KEY, patron_id bigint, seen date);
                CREATE TABLE notes (id bigint PRIMARY KEY, loan_id bigint REFERENCES loans ON DELETE CASCADE, patron_id bigint, seen date);
                CREATE INDEX ON notes (loan_id);
                CREATE FUNCTION public.forget() RETURNS trigger LANGUAGE plpgsql
                    AS $$BEGIN DELETE FROM public.notes WHERE patron_id = OLD.patron_id; RETURN OLD; END$$;
                CREATE TRIGGER forget AFTER DELETE ON loans FOR EACH ROW EXECUTE FUNCTION public.forget();
                INSERT INTO loans VALUES (1, 4711, current_date - 400), (2, 4711, current_date);
                INSERT INTO notes VALUES (10, 2, 4711, current_date - 400);
                """)
            files = ["loans.yaml": policy("loans", "loans", "cascade: [public.notes]\ntriggers: [public.forget]\n"),
                     "notes.yaml": policy("notes", "notes", retain: "10 years")]
            held = ("notes", "notes")
        case "truncate":
            try db.sql("""
                CREATE TABLE loans (id bigint PRIMARY KEY, patron_id bigint, seen date);
                CREATE TABLE notes (id bigint PRIMARY KEY, patron_id bigint, seen date);
                CREATE FUNCTION public.forget() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN TRUNCATE public.notes; RETURN NULL; END$$;
                CREATE TRIGGER forget AFTER DELETE ON loans FOR EACH STATEMENT EXECUTE FUNCTION public.forget();
                INSERT INTO loans VALUES (1, 4711, current_date - 400);
                INSERT INTO notes VALUES (10, 4711, current_date);
                """)
            files = ["loans.yaml": policy("loans", "loans", "triggers: [public.forget]\n"), "notes.yaml": policy("notes", "notes")]
            held = ("notes", "notes")
        case "deferred":
            try db.sql("""
                CREATE TABLE loans (id bigint PRIMARY KEY, patron_id bigint, seen date);
                CREATE TABLE notes (id bigint PRIMARY KEY, patron_id bigint, seen date);
                CREATE FUNCTION public.forget() RETURNS trigger LANGUAGE plpgsql
                    AS $$BEGIN DELETE FROM public.notes WHERE patron_id = OLD.patron_id; RETURN NULL; END$$;
                CREATE CONSTRAINT TRIGGER forget AFTER DELETE ON loans DEFERRABLE INITIALLY DEFERRED
                    FOR EACH ROW EXECUTE FUNCTION public.forget();
                INSERT INTO loans VALUES (1, 4711, current_date - 400);
                INSERT INTO notes VALUES (10, 4711, current_date);
                """)
            files = ["loans.yaml": policy("loans", "loans", "triggers: [public.forget]\n"), "notes.yaml": policy("notes", "notes")]
            held = ("notes", "notes")
        default:
            try db.sql("""
                CREATE TABLE loans (id bigint PRIMARY KEY, patron_id bigint, item int, seen date) PARTITION BY RANGE (id);
                CREATE TABLE loans_a PARTITION OF loans FOR VALUES FROM (0) TO (100);
                CREATE TABLE loans_b PARTITION OF loans FOR VALUES FROM (100) TO (200);
                CREATE FUNCTION public.forget() RETURNS trigger LANGUAGE plpgsql
                    AS $$BEGIN DELETE FROM public.loans_b WHERE item = OLD.item; RETURN OLD; END$$;
                CREATE TRIGGER forget AFTER DELETE ON loans_a FOR EACH ROW EXECUTE FUNCTION public.forget();
                INSERT INTO loans VALUES (1, 4712, 9, current_date - 400), (101, 4711, 9, current_date - 20);
                """)
            files = ["loans-a.yaml": policy("loans-a", "loans_a", "triggers: [public.forget]\n"),
                     "loans.yaml": policy("loans", "loans", "triggers: [public.forget]\n", retain: "10 years")]
            held = ("loans", "loans_b")
        }
        let folder = try PolicyFolder(files)
        #expect(try db.retention(place + ["--policy", held.policy, "--patron", "4711", "--policies", folder.url.path]).status == 0)
        let run = try db.retention(["run", "--policies", folder.url.path] + (path == "sibling" ? ["--only", "loans-a"] : []))
        let said = path == "truncate" ? "truncated (or altered) public.notes" : "its declared triggers"
        #expect(run.status == 1 && run.stderr.contains(said), "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM \(held.table) WHERE patron_id = 4711") == 1)
    }

    /// Two policies purge the same loans but date them by different columns (an anonymize by return,
    /// a delete by due date): a hold with a window would keep the rows of one and let the other
    /// purge them, so check, plan and run refuse (78) while one is active; a hold without a window
    /// does not stop them.
    @Test func aWindowHoldOverPoliciesDatingRowsDifferentlyStopsTheRun() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE loans (id bigint PRIMARY KEY, patron_id bigint, returned_at date, due_at date, notes text);
            INSERT INTO loans VALUES (1, 4711, '2024-03-10', '2024-02-20', 'x'), (2, 4711, '2024-03-15', '2024-03-12', 'x'),
                                     (3, 4712, '2024-05-10', '2024-05-01', 'x');
            """)
        let folder = try PolicyFolder([
            "anon.yaml": "name: loan-anon\nversion: 1\ndescription: d\ntable: public.loans\nkey: id\nage: returned_at\n"
                + "retain: 30 days\naction: anonymize\nset: {notes: null}\npatron: patron_id\n",
            "delete.yaml": "name: loan-delete\nversion: 1\ndescription: d\ntable: public.loans\nkey: id\nage: due_at\n"
                + "retain: 60 days\naction: delete\npatron: patron_id\n",
        ])
        // hold place refuses such a window (64); one placed by an older version or by hand stops the run.
        let window = try db.retention(place + ["--policy", "loan-anon", "--from", "2024-03-01", "--until", "2024-04-01",
                                               "--policies", folder.url.path, "--log-format", "text"])
        #expect(window.status == 64 && window.stderr.contains("date them by different columns"), "\(window.stderr)")
        #expect(try db.int("SELECT count(*) FROM retention.holds") == 0)
        try db.sql("""
            INSERT INTO retention.holds (reference, policy, held_from, held_until, time_zone)
            VALUES ('CV', 'loan-anon', '2024-03-01', '2024-04-01', 'UTC')
            """)
        for command in [["check", "--catalog"], ["plan"], ["run"]] {
            let refused = try db.retention(command + ["--policies", folder.url.path, "--log-format", "text"])
            #expect(refused.status == 78 && refused.stderr.contains("date them by different columns (returned_at, due_at)")
                    || refused.stderr.contains("date them by different columns (due_at, returned_at)"), "\(refused.stderr)")
        }
        #expect(try db.int("SELECT count(*) FROM loans") == 3)
        #expect(try db.retention(["hold", "release", String(try db.int("SELECT max(id) FROM retention.holds"))]).status == 0)
        #expect(try db.retention(place + ["--policy", "loan-anon", "--patron", "4711", "--policies", folder.url.path]).status == 0)
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)
        #expect(try db.int("SELECT count(*) FROM loans WHERE patron_id = 4711") == 2)
    }

    /// A declared cascade into a partitioned table stays kept by a hold on the policy of one of its
    /// partitions, and a cascade declared on a leaf partition by a hold on the policy of the
    /// partitioned table: the policies that purge those rows are found by partition tree, not name.
    @Test(arguments: [(cascade: "public.loan_notes", fk: "loan_notes", held: "notes-a"),
                      (cascade: "public.ln_a", fk: "ln_a", held: "notes")])
    func aCascadeIntoAPartitionTreeHonoursHoldsOnAnyOfItsPolicies(cascade: String, fk: String, held: String) throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE loans (id int PRIMARY KEY, patron_id int, returned_at date);
            CREATE TABLE loan_notes (id int, loan_id int, patron_id int, written_at date, PRIMARY KEY (id)) PARTITION BY RANGE (id);
            CREATE TABLE ln_a PARTITION OF loan_notes FOR VALUES FROM (0) TO (100);
            CREATE TABLE ln_b PARTITION OF loan_notes FOR VALUES FROM (100) TO (200);
            ALTER TABLE \(fk) ADD FOREIGN KEY (loan_id) REFERENCES loans ON DELETE CASCADE;
            CREATE INDEX ON loan_notes (loan_id);
            INSERT INTO loans SELECT g, g % 3, current_date - 100 FROM generate_series(1, 9) g;
            INSERT INTO loan_notes SELECT g, g, g % 3, current_date - 1 FROM generate_series(1, 9) g;
            """)
        func policy(_ name: String, _ table: String, _ age: String, _ extra: String = "") -> String {
            "name: \(name)\nversion: 1\ndescription: d\ntable: public.\(table)\nkey: id\nage: \(age)\nretain: 30 days\naction: delete\n"
                + "patron: patron_id\n" + extra
        }
        let folder = try PolicyFolder([
            "loans.yaml": policy("loans", "loans", "returned_at", "cascade: [\(cascade)]\n"),
            "notes.yaml": policy("notes", "loan_notes", "written_at"),
            "notes-a.yaml": policy("notes-a", "ln_a", "written_at"),
        ])
        #expect(try db.retention(place + ["--policy", held, "--patron", "1", "--policies", folder.url.path]).status == 0)
        let run = try db.retention(["run", "--policies", folder.url.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM loan_notes WHERE patron_id = 1") == 3)
        #expect(try db.int("SELECT count(*) FROM loans") == 9)
    }

    /// A hold placed from a session whose PGCLIENTENCODING is LATIN1 is stored as typed (the tool's
    /// sessions speak UTF-8); a hold that waits past the lock timeout for a lock another session
    /// holds ends with 75 (nothing done, try again) and stores nothing.
    @Test func aHoldIsStoredAsTypedAndALockedHoldsTableSaysTryAgain() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, card text)")
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                       + "retain: 30 days\naction: delete\npatron: card\n"])
        let placed = try db.retention(place + ["--patron", "ZOË-4711", "--policies", folder.url.path],
                                      environment: ["PGCLIENTENCODING": "LATIN1"])
        #expect(placed.status == 0, "\(placed.stderr)")
        #expect(try db.strings("SELECT patron FROM retention.holds") == ["ZOË-4711"])
        let holder = try db.session()
        try holder.execute(unsafeSQL: "BEGIN; LOCK TABLE retention.holds IN ACCESS EXCLUSIVE MODE")
        let locked = try db.retention(place + ["--patron", "4712", "--policies", folder.url.path])
        try holder.execute(unsafeSQL: "ROLLBACK")
        #expect(locked.status == 75, "\(locked.stderr)")
        #expect(try db.int("SELECT count(*) FROM retention.holds") == 1)
    }
}
