import Foundation
import Testing
@testable import RetentionCore

/// The second hostile pass: holds that must protect under every column type and time zone, files
/// that must not hang or exhaust the program, runs that must not wait unseen, and a run that says
/// where it is.
@Suite struct HostileInputIITests {
    /// A policy over `public.cards` (`patron` column of `type`), 30 days, every row 100 days old.
    func cardsTable(_ db: TestDatabase, type: String, values: [String]) throws -> PolicyFolder {
        try db.sql("""
            CREATE EXTENSION IF NOT EXISTS citext;
            CREATE DOMAIN card_number AS citext;
            CREATE TABLE cards (id int PRIMARY KEY, seen timestamptz, patron \(type));
            INSERT INTO cards SELECT g, now() - interval '100 days', (ARRAY[\(values.map { "'\($0)'" }.joined(separator: ", "))])[1 + g % \(values.count)]
            FROM generate_series(1, 100) g;
            """)
        return try PolicyFolder(["c.yaml": "name: c\nversion: 1\ndescription: d\ntable: public.cards\nkey: id\nage: seen\n"
                                 + "retain: 30 days\naction: delete\npatron: patron\n"])
    }

    /// A hold on `LIB0042X` keeps the rows of card `lib0042x` in a citext column (and in a domain
    /// over citext), in the plan and the run: the column's own equality, not text's.
    @Test(arguments: ["citext", "card_number"])
    func aHoldComparesAsItsColumnCompares(type: String) throws {
        let db = try TestDatabase(reference: false)
        let folder = try cardsTable(db, type: type, values: ["lib0042x", "LIB0043Y"])
        let place = try db.retention(["hold", "place", "--reference", "Case 42", "--reason", "order", "--patron", "LIB0042X",
                                      "--policies", folder.url.path])
        #expect(place.status == 0, "\(place.stderr)")
        let plan = try db.plan(folder.url)
        #expect(plan.policies[0].counts[.hold] == 50 && plan.policies[0].due == 50)
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)
        #expect(try db.int("SELECT count(*) FROM cards WHERE patron = 'LIB0042X'") == 50)
        #expect(try db.int("SELECT count(*) FROM cards") == 50)
    }

    /// A patron longer than its column is refused (64), never cut into another card; nothing is stored.
    @Test(arguments: ["varchar(5)", "char(5)"])
    func aPatronLongerThanItsColumnIsRefused(type: String) throws {
        let db = try TestDatabase(reference: false)
        let folder = try cardsTable(db, type: type, values: ["12345", "23456"])
        let place = try db.retention(["hold", "place", "--reference", "Case 1", "--reason", "order", "--patron", "1234567",
                                      "--policies", folder.url.path, "--log-format", "text"])
        #expect(place.status == 64, "\(place.stderr)")
        #expect(place.stderr.contains("--patron matches no record") && !place.output.contains("1234567"), "\(place.stderr)")
        #expect(try db.int("SELECT count(*) FROM retention.holds") == 0)
        // A control character: the message names the option, never the value.
        let control = try db.retention(["hold", "place", "--reference", "Case 2", "--reason", "order", "--patron", "CNRY4711\t",
                                        "--policies", folder.url.path, "--log-format", "text"])
        #expect(control.status == 64 && control.stderr.contains("--patron holds a control character"), "\(control.stderr)")
        #expect(!control.output.contains("CNRY4711"))
    }

    /// A hold window is whole calendar days in one declared zone: the clerk (PGTZ Europe/Berlin), the
    /// run (PGTZ UTC) and the server (Asia/Tokyo) in three zones, the declared one America/New_York,
    /// across its daylight-saving change on 2026-03-08 (a 23-hour day): exactly that day is held,
    /// in a date column and in a timestamptz column.
    @Test func aHoldWindowHoldsItsCalendarDaysWhateverTheSessionsZones() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            ALTER DATABASE \(quoteIdentifier(db.name)) SET timezone = 'Asia/Tokyo';
            CREATE TABLE dated (id int PRIMARY KEY, day date);
            INSERT INTO dated SELECT g, date '2026-03-06' + g FROM generate_series(0, 4) g;
            CREATE TABLE stamped (id int PRIMARY KEY, at timestamptz);
            INSERT INTO stamped SELECT g, timestamptz '2026-03-07 00:00:00+00' + g * interval '1 hour' FROM generate_series(0, 95) g;
            """)
        let folder = try PolicyFolder([
            "d.yaml": "name: d\nversion: 1\ndescription: d\ntable: public.dated\nkey: id\nage: day\nretain: 10 days\naction: delete\n",
            "s.yaml": "name: s\nversion: 1\ndescription: d\ntable: public.stamped\nkey: id\nage: at\nretain: 10 days\naction: delete\n",
        ])
        let zone = ["RETENTION_TIMEZONE": "America/New_York"]
        let place = try db.retention(["hold", "place", "--reference", "Case 3", "--reason", "order", "--from", "2026-03-08",
                                      "--until", "2026-03-09"], environment: zone.merging(["PGTZ": "Europe/Berlin"]) { $1 })
        #expect(place.status == 0, "\(place.stderr)")
        #expect(place.stdout.contains("records dated from 2026-03-08 until 2026-03-09 (days in America/New_York)"), "\(place.stdout)")
        #expect(try db.strings("SELECT time_zone FROM retention.holds") == ["America/New_York"])
        let newYorkDay = "(at AT TIME ZONE 'America/New_York')::date = date '2026-03-08'"
        #expect(try db.int("SELECT count(*) FROM stamped WHERE \(newYorkDay)") == 23)
        let run = try db.retention(["run", "--policies", folder.url.path], environment: ["PGTZ": "UTC"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try db.strings("SELECT day::text FROM dated") == ["2026-03-08"])
        #expect(try db.int("SELECT count(*) FROM stamped") == 23)
        #expect(try db.int("SELECT count(*) FROM stamped WHERE NOT (\(newYorkDay))") == 0)
        // Without the setting, the server's zone (the database's Asia/Tokyo), not the clerk's PGTZ.
        let plain = try db.retention(["hold", "place", "--reference", "Case 4", "--reason", "order", "--from", "2026-01-01"],
                                     environment: ["PGTZ": "Europe/Berlin"])
        #expect(plain.status == 0 && plain.stdout.contains("(days in Asia/Tokyo)"), "\(plain.stdout)")
        let timestamp = try db.retention(["hold", "place", "--reference", "Case 5", "--reason", "order", "--from", "2026-01-01 12:00",
                                          "--log-format", "text"])
        #expect(timestamp.status == 64 && timestamp.stderr.contains("give a calendar date like 2026-03-01"), "\(timestamp.stderr)")
        let badZone = try db.retention(["hold", "place", "--reference", "Case 6", "--reason", "order", "--from", "2026-01-01",
                                        "--log-format", "text"], environment: ["RETENTION_TIMEZONE": "Mars/Olympus"])
        #expect(badZone.status == 78 && badZone.stderr.contains("time zone Mars/Olympus"), "\(badZone.stderr)")
    }

    /// Ten levels of YAML aliases (533 bytes that expand to ten billion nodes) are refused at once
    /// in a policy file (65) and a config file (78); a FIFO or a device as config, a policy file over
    /// 1 MiB and a manifest larger than any manifest can be are refused without being read.
    @Test func filesThatWouldHangOrExhaustTheProgramAreRefusedAtOnce() throws {
        let db = try TestDatabase(reference: false)
        var bomb = "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 10 days\naction: delete\n"
        bomb += "keep_when:\n  - &a0 {column: id, op: \"=\", value: 1}\n"
        for level in 1...10 { bomb += "  - &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let folder = try PolicyFolder(["v.yaml": bomb])
        let clock = ContinuousClock()
        let began = clock.now
        let check = try db.retention(["check", "--policies", folder.url.path, "--log-format", "text"])
        #expect(clock.now - began < .seconds(10))
        #expect(check.status == 65)
        #expect(check.stderr.contains("v.yaml:10:") && check.stderr.contains("uses a YAML anchor or alias"), "\(check.stderr)")

        let config = db.files.appendingPathComponent("alias.yaml").path
        try "policies: &p policies\nmanifests: *p\n".write(toFile: config, atomically: true, encoding: .utf8)
        let aliased = try db.retention(["config", "--config", config, "--log-format", "text"])
        #expect(aliased.status == 78 && aliased.stderr.contains("line 1: uses a YAML anchor or alias"), "\(aliased.stderr)")
        let fifo = db.files.appendingPathComponent("fifo.yaml").path
        #expect(mkfifo(fifo, 0o600) == 0)
        for path in [fifo, "/dev/zero"] {
            let result = try db.retention(["config", "--config", path, "--log-format", "text"])
            #expect(result.status == 78 && result.stderr.contains("is not a regular file"), "\(path): \(result.stderr)")
        }
        let big = try PolicyFolder()
        try (String(repeating: "# padding\n", count: 110_000) + "name: v\n").write(to: big.url.appendingPathComponent("v.yaml"),
                                                                                   atomically: true, encoding: .utf8)
        let large = try db.retention(["check", "--policies", big.url.path, "--log-format", "text"])
        #expect(large.status == 65 && large.stderr.contains("is larger (1100008 bytes) than such a file can be"), "\(large.stderr)")

        let manifests = db.files.appendingPathComponent("huge").path
        try FileManager.default.createDirectory(atPath: manifests, withIntermediateDirectories: true)
        let huge = manifests + "/20260101T000000Z-000001.manifest.json"
        #expect(FileManager.default.createFile(atPath: huge, contents: nil))
        #expect(truncate(huge, 1_500_000_000) == 0)
        let started = clock.now
        let verify = try db.retention(["verify", manifests])
        #expect(verify.status == 1 && verify.stdout.contains("is larger (1500000000 bytes) than such a file can be"), "\(verify.stdout)")
        let show = try db.retention(["show", huge, "--log-format", "text"])
        #expect(show.status == 78 && show.stderr.contains("is larger"), "\(show.stderr)")
        #expect(clock.now - started < .seconds(10))
    }

    /// A policy's table held in ACCESS EXCLUSIVE mode by another session: `plan` gives up after
    /// --lock-timeout (75) naming the holder's process; `run` does too and records itself (a failed
    /// run row, a signed manifest with the cause, the metrics file), exit 1, nothing purged.
    @Test func aLockedTableEndsTheRunBeforeItsFirstBatchAndTheRunIsRecorded() throws {
        let db = try TestDatabase(reference: false)
        let folder = try visitsTable(db, canary: "LOCK-CANARY-")
        let holder = try db.session()
        try holder.execute(unsafeSQL: "BEGIN; LOCK TABLE visits IN ACCESS EXCLUSIVE MODE")
        let pid = try holder.query("SELECT pg_backend_pid()::text AS pid").single().string("pid")
        let metrics = db.files.appendingPathComponent("retention.prom").path
        let clock = ContinuousClock()
        let began = clock.now
        let plan = try db.retention(["plan", "--policies", folder.url.path, "--log-format", "text"],
                                    environment: ["RETENTION_LOCK_TIMEOUT": "1s"])
        #expect(plan.status == 75, "\(plan.stderr)")
        #expect(plan.stderr.contains("public.visits held by server process \(pid) (AccessExclusiveLock)"), "\(plan.stderr)")
        let run = try db.retention(["run", "--policies", folder.url.path, "--lock-timeout", "1s", "--max-runtime", "10s",
                                    "--metrics-file", metrics, "--log-format", "text"])
        #expect(clock.now - began < .seconds(30))
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("gave up") && run.stderr.contains("server process \(pid)"), "\(run.stderr)")
        try holder.execute(unsafeSQL: "ROLLBACK")
        #expect(try db.int("SELECT count(*) FROM visits") == 30000)
        #expect(try db.strings("SELECT status FROM retention.runs") == ["failed"])
        let manifest = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: try #require(try db.manifestFiles().first)))).payload)
        #expect(manifest.status == "failed" && manifest.error?.contains("gave up") == true && manifest.policies.isEmpty)
        #expect(try String(contentsOfFile: metrics, encoding: .utf8).contains("retention_run_status{status=\"failed\"} 1"))
        #expect(!run.output.contains("LOCK-CANARY-"))
    }

    /// Every command that connects says first where it is; a connection string that overrides libpq
    /// variables set in the shell says so in one warning (names, never values); `config` shows the
    /// target without connecting and `plan` names it in its header.
    @Test func aCommandSaysWhichDatabaseItReached() throws {
        let db = try TestDatabase(reference: false)
        let folder = try visitsTable(db, canary: "TARGET-CANARY-")
        let plan = try db.retention(["plan", "--policies", folder.url.path, "--log-format", "text", "--db", "dbname=\(db.name)"],
                                    environment: ["PGDATABASE": "postgres"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let lines = plan.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("PGDATABASE is set but not used: the connection string") }, "\(plan.stderr)")
        #expect(lines.contains { $0.contains("connected to database \(db.name) as ") }, "\(plan.stderr)")
        #expect(plan.stdout.hasPrefix("Plan for database \(db.name) as "), "\(plan.stdout)")
        let config = try db.retention(["config"])
        #expect(config.stdout.contains("Target:      database \(db.name) as "), "\(config.stdout)")
    }

    /// A declared cascade never deletes a row a hold on another policy keeps: while the hold is
    /// active the loan it points to stays (`referenced`); released, the cascade goes on as declared.
    @Test func aCascadeDoesNotDeleteARowAnotherPolicysHoldKeeps() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE loans (id int PRIMARY KEY, returned date, patron int);
            CREATE TABLE fines (id int PRIMARY KEY, loan_id int REFERENCES loans ON DELETE CASCADE, assessed date, patron int);
            CREATE INDEX ON fines (loan_id);
            INSERT INTO loans VALUES (1, '2020-01-01', 7), (2, '2020-01-01', 8), (3, '2020-01-01', 9);
            INSERT INTO fines VALUES (10, 1, current_date, 7), (11, 2, current_date, 8);
            """)
        let folder = try PolicyFolder([
            "loans.yaml": "name: loans\nversion: 1\ndescription: d\ntable: public.loans\nkey: id\nage: returned\nretain: 30 days\n"
                + "action: delete\ncascade: [public.fines]\n",
            "fines.yaml": "name: fines\nversion: 1\ndescription: d\ntable: public.fines\nkey: id\nage: assessed\nretain: 5 years\n"
                + "action: delete\npatron: patron\n",
        ])
        for only in [["--only", "loans"], []] {
            // Released, not deleted: a hold the last run recorded in force and then deleted stops the run.
            try db.sql("UPDATE retention.holds SET released_by = 'x', released_at = now() WHERE released_at IS NULL")
            let place = try db.retention(["hold", "place", "--reference", "CV", "--reason", "order", "--policy", "fines", "--patron", "7",
                                          "--policies", folder.url.path])
            #expect(place.status == 0, "\(place.stderr)")
            #expect(try db.retention(["run", "--policies", folder.url.path] + only).status == 0)
            #expect(try db.int("SELECT count(*) FROM fines WHERE id = 10") == 1, "\(only)")
            #expect(try db.int("SELECT count(*) FROM loans WHERE id = 1") == 1)
        }
        // Loan 3 has no fine: it went at once; loan 2's fine is not held, but while any hold may cover
        // the fines, the cascade waits (a court order wins where the tool cannot tell rows apart).
        #expect(try db.int("SELECT count(*) FROM loans WHERE id = 3") == 0)
        try db.sql("UPDATE retention.holds SET released_by = 'x', released_at = now()")
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)
        #expect(try db.int("SELECT count(*) FROM loans") == 0 && db.int("SELECT count(*) FROM fines") == 0)
    }

    /// A numeric patron column holds `4711.0` and `4711.00` with a hold on `4711`, as the column says
    /// they are one patron; a consent view over a table with row-level security is refused (78).
    @Test func numericPatronsCompareAsNumbersAndConsentViewsOverRowSecurityAreRefused() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, patron numeric);
            INSERT INTO visits VALUES (1, now() - interval '100 days', 4711), (2, now() - interval '100 days', 4711.0),
                                      (3, now() - interval '100 days', 4711.00), (4, now() - interval '100 days', 4712);
            CREATE TABLE prefs (patron numeric PRIMARY KEY, keep boolean);
            """)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                       + "retain: 30 days\naction: delete\npatron: patron\n"])
        #expect(try db.retention(["hold", "place", "--reference", "CV", "--reason", "order", "--patron", "4711",
                                  "--policies", folder.url.path]).status == 0)
        // Another policy's hold on a text patron must not break the numeric cast.
        try db.sql("INSERT INTO retention.holds (reference, patron) VALUES ('other', 'LIB-X')")
        #expect(try db.plan(folder.url).policies[0].counts[.hold] == 3)
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)
        #expect(try db.int("SELECT count(*) FROM visits") == 3)

        try db.sql("ALTER TABLE prefs ENABLE ROW LEVEL SECURITY; CREATE VIEW consent AS SELECT patron, keep FROM prefs")
        try folder.write("v.yaml", "name: v\nversion: 2\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                         + "retain: 30 days\naction: delete\npatron: patron\nconsent: {table: public.consent, key: patron, keep_if: keep}\n")
        let refused = try db.retention(["check", "--catalog", "--policies", folder.url.path, "--log-format", "text"])
        #expect(refused.status == 78 && refused.stderr.contains("consent view public.consent reads public.prefs, which has row-level security"),
                "\(refused.stderr)")
    }

    /// An anonymize that a BEFORE UPDATE trigger undoes is not counted as done: the batch rolls back
    /// and the run fails (1), instead of signing "anonymized" for rows still linked every night.
    @Test func anAnonymizeATriggerUndoesFailsTheBatch() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE loans (id int PRIMARY KEY, returned timestamptz, patron int);
            INSERT INTO loans SELECT g, now() - interval '100 days', g FROM generate_series(1, 50) g;
            CREATE FUNCTION keep() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.patron := OLD.patron; RETURN NEW; END$$;
            CREATE TRIGGER keep BEFORE UPDATE ON loans FOR EACH ROW EXECUTE FUNCTION keep();
            """)
        let folder = try PolicyFolder(["l.yaml": "name: l\nversion: 1\ndescription: d\ntable: public.loans\nkey: id\nage: returned\n"
                                       + "retain: 30 days\naction: anonymize\nset: {patron: null}\npatron: patron\ntriggers: [public.keep]\n"])
        let run = try db.retention(["run", "--policies", folder.url.path, "--log-format", "text"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("still hold what it clears") && run.stderr.contains("BEFORE UPDATE trigger"), "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM loans WHERE patron IS NOT NULL") == 50)
        #expect(try db.int("SELECT coalesce(sum(rows), 0) FROM retention.batches") == 0)
    }

    /// Small things a hostile pass found: a hold scoped to a renamed policy keeps nothing, so check,
    /// plan and run refuse (78) naming it until it is released; a renamed database is not a restore; a forged manifest's text cannot move the
    /// terminal's cursor; a connection the server ended never quotes a trigger's statement.
    @Test func renamedPoliciesAndDatabasesForgedTextAndEndedConnections() throws {
        let db = try TestDatabase(reference: false)
        let folder = try visitsTable(db, canary: "RENAME-CANARY-")
        try db.sql("INSERT INTO retention.holds (reference, policy) VALUES ('CV', 'old-name')")
        for command in [["check", "--catalog"], ["plan"], ["run"]] {
            let refused = try db.retention(command + ["--policies", folder.url.path, "--log-format", "text"])
            #expect(refused.status == 78 && refused.stderr.contains("hold 1 names policy old-name, which no policy file of the folder defines"),
                    "\(refused.stderr)")
        }
        #expect(try db.int("SELECT count(*) FROM visits") == 30000 && db.int("SELECT count(*) FROM retention.runs") == 0)
        #expect(try db.retention(["hold", "release", "1"]).status == 0)
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)

        let here = ManifestDatabase(name: "library", systemIdentifier: "7", oid: "16384")
        #expect(!here.differs(from: ManifestDatabase(name: "library_2026", systemIdentifier: "7", oid: "16384")))
        #expect(here.differs(from: ManifestDatabase(name: "library", systemIdentifier: "7", oid: "16999")))
        #expect(here.differs(from: ManifestDatabase(name: "other", systemIdentifier: nil)))

        let file = try #require(try db.manifestFiles().first)
        var manifest = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: file))).payload)
        manifest.status = "completed\u{1B}[1A\u{1B}[2KSignature:  verified"
        manifest.policies[0].name = "v\nSignature:  verified"
        let shown = ManifestRendering.text(manifest, path: file, signature: .failed("bad signature"))
        #expect(!shown.contains("\u{1B}") && !shown.contains("\nSignature:  verified"), "\(shown)")

        let ended = "FATAL:  terminating connection due to administrator command\nCONTEXT:  SQL statement \"INSERT INTO log SELECT 'Jane Doe'\"\nPL/pgSQL function f() line 3"
        #expect(Connection.libpqMessage(ended) == "FATAL:  terminating connection due to administrator command")
    }

    /// A citext library column: a library hold on `BANGOR` keeps `Bangor`'s rows, `Bangor` takes
    /// BANGOR's period and is counted under that name, not as another library.
    @Test func aCitextLibraryColumnComparesAsItsColumnCompares() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE EXTENSION IF NOT EXISTS citext;
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, branch citext);
            INSERT INTO visits SELECT g, now() - interval '100 days', (ARRAY['BANGOR', 'Bangor', 'ORONO', 'orono'])[1 + g % 4]
            FROM generate_series(1, 80) g;
            """)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                       + "retain: 30 days\naction: delete\nlibraries:\n  column: branch\n  retain:\n    ORONO: 7000 days\n"
                                       + "  names: [BANGOR]\n"])
        #expect(try db.retention(["hold", "place", "--reference", "CV", "--reason", "order", "--library", "BANGOR",
                                  "--policies", folder.url.path]).status == 0)
        let plan = try db.plan(folder.url)
        #expect(plan.policies[0].libraries.compactMap(\.period.library).sorted() == ["BANGOR", "ORONO"], "\(plan.policies[0].libraries)")
        #expect(plan.policies[0].counts[.hold] == 40 && plan.policies[0].due == 0)
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)
        #expect(try db.int("SELECT count(*) FROM visits") == 80)
    }

    /// The hostile pass's smaller finds: a table with inheritance children and an array patron column
    /// are refused (78); a patron with a trailing space is held as written; a POSIX offset as the
    /// hold zone is refused (78); a report period over ten years is refused (64) at once.
    @Test func inheritanceArraysSpacesOffsetsAndLongPeriodsAreRefusedOrKeptExactly() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, patron text);
            CREATE TABLE visits_2025 () INHERITS (visits);
            CREATE TABLE listed (id int PRIMARY KEY, seen timestamptz, patrons bigint[]);
            CREATE TABLE cards (id int PRIMARY KEY, seen timestamptz, patron text);
            INSERT INTO cards VALUES (1, now() - interval '100 days', 'A4711 '), (2, now() - interval '100 days', 'A4711');
            """)
        let folder = try PolicyFolder([
            "v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 30 days\naction: delete\n",
            "l.yaml": "name: l\nversion: 1\ndescription: d\ntable: public.listed\nkey: id\nage: seen\nretain: 30 days\naction: delete\n"
                + "patron: patrons\n",
        ])
        let check = try db.retention(["check", "--catalog", "--policies", folder.url.path, "--log-format", "text"])
        #expect(check.status == 78)
        #expect(check.stderr.contains("public.visits has inheritance children (public.visits_2025)"), "\(check.stderr)")
        #expect(check.stderr.contains("patron column patrons of public.listed is an array (bigint[])"), "\(check.stderr)")

        let cards = try PolicyFolder(["c.yaml": "name: c\nversion: 1\ndescription: d\ntable: public.cards\nkey: id\nage: seen\n"
                                      + "retain: 30 days\naction: delete\npatron: patron\n"])
        #expect(try db.retention(["hold", "place", "--reference", "CV", "--reason", "order", "--patron", "A4711 ",
                                  "--policies", cards.url.path]).status == 0)
        #expect(try db.retention(["run", "--policies", cards.url.path]).status == 0)
        #expect(try db.strings("SELECT patron FROM cards") == ["A4711 "])
        let offset = try db.retention(["hold", "place", "--reference", "CV", "--reason", "order", "--from", "2026-01-01",
                                       "--log-format", "text"], environment: ["RETENTION_TIMEZONE": "UTC+5"])
        #expect(offset.status == 78 && offset.stderr.contains("not a zone name the server knows"), "\(offset.stderr)")

        let report = try db.retention(["report", "--manifests", db.manifestFolder, "--since", "0001-01-01", "--until", "2026-01-01",
                                       "--format", "json", "--out", db.files.appendingPathComponent("r.json").path, "--log-format", "text"])
        #expect(report.status == 64 && report.stderr.contains("more than ten years"), "\(report.stderr)")
    }

    /// The second hostile pass: two policies reading the patron from different columns of one table
    /// are refused (65); a hold scoped to a policy reached through two declared cascades keeps it; a
    /// window's first day starts at its first midnight where the clocks go back at midnight
    /// (America/Havana, 2025-11-02); a clerk's bytea_output does not change how a hold is stored.
    @Test func secondPassHoldsProtectWhatTheyName() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, patron_id int, guarantor_id int);
            CREATE TABLE events (id int PRIMARY KEY, held date);
            CREATE TABLE sessions (id int PRIMARY KEY, event_id int REFERENCES events ON DELETE CASCADE);
            CREATE TABLE attendance (id int PRIMARY KEY, session_id int REFERENCES sessions ON DELETE CASCADE, patron int, at date);
            CREATE INDEX ON sessions (event_id); CREATE INDEX ON attendance (session_id);
            INSERT INTO events VALUES (1, current_date - 400), (2, current_date - 400);
            INSERT INTO sessions VALUES (10, 1), (20, 2);
            INSERT INTO attendance VALUES (100, 10, 3, current_date - 400), (200, 20, 4, current_date - 400);
            CREATE TABLE stamped (id int PRIMARY KEY, at timestamptz);
            INSERT INTO stamped VALUES (1, '2025-11-02 04:10+00'), (2, '2025-11-02 04:50+00'), (3, '2025-11-02 12:00+00'),
                                       (4, '2025-11-01 12:00+00');
            CREATE TABLE tokens (id int PRIMARY KEY, seen timestamptz, patron bytea);
            INSERT INTO tokens VALUES (1, now() - interval '100 days', '\\xdeadbeef');
            """)
        let twice = try PolicyFolder([
            "a.yaml": "name: a\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 30 days\naction: delete\npatron: patron_id\n",
            "b.yaml": "name: b\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 60 days\naction: delete\npatron: guarantor_id\n",
        ])
        let refused = try db.retention(["check", "--policies", twice.url.path, "--log-format", "text"])
        #expect(refused.status == 65 && refused.stderr.contains("policies a and b both purge public.visits but read the patron from different columns"),
                "\(refused.stderr)")

        let cascades = try PolicyFolder([
            "events.yaml": "name: events\nversion: 1\ndescription: d\ntable: public.events\nkey: id\nage: held\nretain: 1 year\n"
                + "action: delete\ncascade: [public.sessions, public.attendance]\n",
            "attendance.yaml": "name: attendance\nversion: 1\ndescription: d\ntable: public.attendance\nkey: id\nage: at\n"
                + "retain: 5 years\naction: delete\npatron: patron\n",
            "stamped.yaml": "name: stamped\nversion: 1\ndescription: d\ntable: public.stamped\nkey: id\nage: at\nretain: 30 days\naction: delete\n",
            "tokens.yaml": "name: tokens\nversion: 1\ndescription: d\ntable: public.tokens\nkey: id\nage: seen\nretain: 30 days\n"
                + "action: delete\npatron: patron\n",
        ])
        #expect(try db.retention(["hold", "place", "--reference", "CV", "--reason", "order", "--policy", "attendance", "--patron", "3",
                                  "--policies", cascades.url.path]).status == 0)
        let havana = try db.retention(["hold", "place", "--reference", "CV2", "--reason", "order", "--policy", "stamped", "--from", "2025-11-02",
                                       "--until", "2025-11-03", "--policies", cascades.url.path],
                                      environment: ["RETENTION_TIMEZONE": "America/Havana"])
        #expect(havana.status == 0, "\(havana.stderr)")
        try db.sql("ALTER DATABASE \(quoteIdentifier(db.name)) SET bytea_output = 'escape'")
        let bytes = try db.retention(["hold", "place", "--reference", "CV3", "--reason", "order", "--policy", "tokens", "--patron", "\\xdeadbeef",
                                      "--policies", cascades.url.path])
        #expect(bytes.status == 0, "\(bytes.stderr)")
        #expect(try db.retention(["run", "--policies", cascades.url.path]).status == 0)
        #expect(try db.int("SELECT count(*) FROM attendance WHERE patron = 3") == 1)
        #expect(try db.strings("SELECT id::text FROM stamped ORDER BY id") == ["1", "2", "3"])
        #expect(try db.int("SELECT count(*) FROM tokens") == 1)
    }

    /// An `=` of a user's own cannot make a hold's test false: one in `public` for varchar (an
    /// exact match of the argument types wins over pg_catalog's text equality), one for (text,
    /// varchar), and a database search path that puts a schema with `=(bigint, bigint)` ahead of
    /// pg_catalog. Nor does a `now()` of its own there (which would move every cutoff and note its
    /// call), nor `intarray`'s array operators (which make pg_catalog's `smallint[] @> smallint[]`
    /// ambiguous in the foreign-key query). The tool's sessions search pg_catalog alone: every held
    /// row stays, in plan and run, and no decoy is ever called.
    @Test func operatorsAUserCreatesCannotVoidAHold() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE EXTENSION intarray;
            CREATE TABLE public.decoy_calls (at timestamptz);
            CREATE FUNCTION public.never(varchar, varchar) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT false';
            CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.never);
            CREATE FUNCTION public.never(text, varchar) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT false';
            CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = varchar, FUNCTION = public.never);
            CREATE SCHEMA evil;
            CREATE FUNCTION evil.never(bigint, bigint) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT false';
            CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.never);
            CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql VOLATILE
                AS 'INSERT INTO public.decoy_calls VALUES (pg_catalog.now()) RETURNING at + interval ''1000 years''';
            ALTER DATABASE \(quoteIdentifier(db.name)) SET search_path = evil, pg_catalog, public;
            CREATE TABLE cards (id int PRIMARY KEY, seen timestamptz, patron varchar(20));
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, patron bigint);
            INSERT INTO cards SELECT g, now() - interval '100 days', 'CNRY' || (4711 + g % 2) FROM generate_series(1, 10) g;
            INSERT INTO visits SELECT g, now() - interval '100 days', 4711 + g % 2 FROM generate_series(1, 10) g;
            INSERT INTO visits VALUES (11, now(), 4712);
            CREATE TABLE notes (id int PRIMARY KEY, visit int REFERENCES visits (id));
            CREATE INDEX ON notes (visit);
            """)
        func policy(_ name: String) -> String {
            "name: \(name)\nversion: 1\ndescription: d\ntable: public.\(name)\nkey: id\nage: seen\nretain: 30 days\naction: delete\npatron: patron\n"
        }
        let folder = try PolicyFolder(["cards.yaml": policy("cards"), "visits.yaml": policy("visits")])
        for (policy, patron) in [("cards", "CNRY4711"), ("visits", "4711")] {
            let placed = try db.retention(["hold", "place", "--reference", "Case 5", "--reason", "order", "--patron", patron,
                                           "--policy", policy, "--policies", folder.url.path])
            #expect(placed.status == 0, "\(placed.stderr)")
        }
        let plan = try db.plan(folder.url)
        #expect(plan.policies.map { $0.counts[.hold] } == [5, 5] && plan.policies.map(\.due) == [5, 5], "\(plan.policies)")
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)
        #expect(try db.int("SELECT count(*) FROM cards WHERE patron::text = 'CNRY4711'") == 5 && db.int("SELECT count(*) FROM cards") == 5)
        #expect(try db.int("SELECT count(*) FROM visits WHERE patron = 4711") == 5 && db.int("SELECT count(*) FROM visits") == 6)
        #expect(try db.retention(["check", "--catalog", "--policies", folder.url.path]).status == 0)
        #expect(try db.int("SELECT count(*) FROM public.decoy_calls") == 0)
    }

    /// A trigger whose function names a table without its schema cannot find it under the tool's
    /// search path: the batch rolls back, and the run fails (1) saying why and what to change.
    @Test func aTriggerRelyingOnTheSearchPathFailsTheRunWithItsCause() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz);
            CREATE TABLE gone (id int);
            INSERT INTO visits SELECT g, now() - interval '100 days' FROM generate_series(1, 10) g;
            CREATE FUNCTION note_gone() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN INSERT INTO gone VALUES (OLD.id); RETURN OLD; END$$;
            CREATE TRIGGER note_gone AFTER DELETE ON visits FOR EACH ROW EXECUTE FUNCTION note_gone();
            """)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                       + "retain: 30 days\naction: delete\ntriggers: [public.note_gone]\n"])
        let run = try db.retention(["run", "--policies", folder.url.path, "--log-format", "text"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("(function public.note_gone); it names something the session cannot find: "
                                    + "retention's sessions search pg_catalog alone"), "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM visits") == 10 && db.int("SELECT count(*) FROM gone") == 0)
        // With a search path of its own, the same trigger runs.
        try db.sql("ALTER FUNCTION note_gone() SET search_path = public")
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)
        #expect(try db.int("SELECT count(*) FROM visits") == 0 && db.int("SELECT count(*) FROM gone") == 10)
    }

    /// What the fourth pass on hangs and errors found, each refused before anything changes:
    /// `session_replication_role = replica` (cascades and triggers would not fire) is 78; a column
    /// of the tool's own schema dropped by hand is 78 naming it, and `setup` repairs it; `setup`
    /// while a run holds the run lock is 75; a read-only database says so (69).
    @Test func sessionsThatWouldPurgeWronglyOrFailLateAreRefusedFirst() throws {
        let db = try TestDatabase(reference: false)
        let folder = try visitsTable(db, canary: "FOURTH-CANARY-")
        try db.sql("ALTER DATABASE \(quoteIdentifier(db.name)) SET session_replication_role = replica")
        for command in [["check", "--catalog"], ["plan"], ["run"]] {
            let refused = try db.retention(command + ["--policies", folder.url.path, "--log-format", "text"])
            #expect(refused.status == 78 && refused.stderr.contains("session_replication_role is replica"), "\(refused.stderr)")
        }
        try db.sql("ALTER DATABASE \(quoteIdentifier(db.name)) RESET session_replication_role")

        try db.sql("ALTER TABLE retention.runs DROP COLUMN gap")
        let damaged = try db.retention(["run", "--policies", folder.url.path, "--log-format", "text"])
        #expect(damaged.status == 78 && damaged.stderr.contains("lacks retention.runs.gap"), "\(damaged.stderr)")
        #expect(try db.int("SELECT count(*) FROM visits") == 30000 && db.int("SELECT count(*) FROM retention.runs") == 0)

        let holder = try db.session()
        try holder.query("SELECT pg_advisory_lock($1::int4, $2::int4)", [String(RunLock.classID), String(RunLock.runID)])
        let busy = try db.retention(["setup", "--log-format", "text"])
        #expect(busy.status == 75 && busy.stderr.contains("a run is going"), "\(busy.stderr)")
        try holder.query("SELECT pg_advisory_unlock_all()")
        #expect(try db.retention(["setup"]).status == 0)
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)

        try db.sql("ALTER DATABASE \(quoteIdentifier(db.name)) SET default_transaction_read_only = on")
        let readOnly = try db.retention(["hold", "place", "--reference", "R", "--reason", "r", "--all", "--log-format", "text"])
        #expect(readOnly.status == 69 && readOnly.stderr.contains("the database is read-only for this session"), "\(readOnly.stderr)")
        try db.sql("ALTER DATABASE \(quoteIdentifier(db.name)) RESET default_transaction_read_only")
    }

    /// A table locked by a prepared transaction (two-phase commit), which no session holds and which
    /// outlives restarts: the run gives up before its first batch (recorded, 1) naming the
    /// transaction and what ends it, not a process to terminate.
    @Test func aLockHeldByAPreparedTransactionIsNamedWithWhatEndsIt() throws {
        let db = try TestDatabase(reference: false)
        let folder = try visitsTable(db, canary: "PREPARED-CANARY-")
        let holder = try db.session()
        try holder.execute(unsafeSQL: "BEGIN; LOCK visits IN SHARE MODE; PREPARE TRANSACTION 'nightly-import'")
        defer { _ = try? db.sql("ROLLBACK PREPARED 'nightly-import'") }
        let run = try db.retention(["run", "--policies", folder.url.path, "--lock-timeout", "1s", "--log-format", "text"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("public.visits held by prepared transaction 'nightly-import' (ShareLock), which only COMMIT "
                                    + "PREPARED or ROLLBACK PREPARED 'nightly-import' ends"), "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM visits") == 30000)
    }

    /// Code in the database that changes another policy's rows during a purge without being a
    /// declared trigger (a check constraint's function here; a domain's or a consent view's function,
    /// a trigger enabled or a foreign key added mid-run act the same way) fails the batch (1), and
    /// the held rows stay; a trigger on the tool's own ledger is refused (78); an empty `--patron`
    /// is a mistake (64), not a patron left out; sessions ask the server to notice a client gone.
    @Test func codeInTheDatabaseCannotReachAnotherPolicysRowsUndeclared() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE ev (id int PRIMARY KEY, patron_id int, at date);
            INSERT INTO ev SELECT g, 7, current_date - 400 FROM generate_series(1, 5) g;
            CREATE TABLE loans (id int PRIMARY KEY, patron_id int, returned_at date);
            INSERT INTO loans SELECT g, 8, current_date - 400 FROM generate_series(1, 5) g;
            CREATE FUNCTION public.loan_ok(p int) RETURNS boolean LANGUAGE plpgsql AS $$
              BEGIN IF p IS NULL THEN DELETE FROM public.ev WHERE patron_id = 7; END IF; RETURN true; END $$;
            ALTER TABLE loans ADD CONSTRAINT ok CHECK (public.loan_ok(patron_id) AND returned_at IS NOT NULL);
            """)
        let folder = try PolicyFolder([
            "ev.yaml": "name: ev\nversion: 1\ndescription: d\ntable: public.ev\nkey: id\nage: at\nretain: 30 days\n"
                + "action: delete\npatron: patron_id\n",
            "loans.yaml": "name: loans-anon\nversion: 1\ndescription: d\ntable: public.loans\nkey: id\nage: returned_at\n"
                + "retain: 30 days\naction: anonymize\nset: {patron_id: null}\npatron: patron_id\n",
        ])
        #expect(try db.retention(["hold", "place", "--reference", "R1", "--reason", "court", "--patron", "7", "--policy", "ev",
                                  "--policies", folder.url.path]).status == 0)
        let run = try db.retention(["run", "--policies", folder.url.path, "--only", "loans-anon", "--log-format", "text"])
        #expect(run.status == 1 && run.stderr.contains("something in the database deleted or changed rows of public.ev"),
                "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM ev") == 5 && db.int("SELECT count(*) FROM loans WHERE patron_id IS NULL") == 0)

        try db.sql("""
            ALTER TABLE loans DROP CONSTRAINT ok;
            CREATE FUNCTION public.ledger_hook() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
            CREATE TRIGGER ledger_hook AFTER INSERT ON retention.batches FOR EACH STATEMENT EXECUTE FUNCTION public.ledger_hook();
            """)
        let hooked = try db.retention(["run", "--policies", folder.url.path, "--log-format", "text"])
        #expect(hooked.status == 78 && hooked.stderr.contains("has a trigger ledger_hook on retention.batches"), "\(hooked.stderr)")

        let empty = try db.retention(["hold", "place", "--reference", "R2", "--reason", "court", "--patron", "", "--policy", "ev",
                                      "--policies", folder.url.path, "--log-format", "text"])
        #expect(empty.status == 64 && empty.stderr.contains("--patron is empty"), "\(empty.stderr)")
        #expect(try db.session().query("SELECT current_setting('client_connection_check_interval') AS v").single().string("v") == "10s")
    }

    /// A library column of a case-insensitive collation counts `bangor` and `Bangor` under the
    /// name the policy gives, BANGOR, with its period, in plan, ledger and manifest.
    @Test func aCaseInsensitiveLibraryColumnCountsRowsUnderTheNamedLibrary() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, lib text COLLATE ci);
            INSERT INTO visits SELECT g, now() - interval '20 days', (ARRAY['bangor', 'BANGOR', 'Bangor'])[1 + g % 3]
            FROM generate_series(1, 9) g;
            """)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                       + "retain: 30 days\naction: delete\nlibraries:\n  column: lib\n  retain:\n    BANGOR: 10 days\n"])
        let plan = try db.plan(folder.url)
        #expect(plan.policies[0].libraries.map(\.period.library) == ["BANGOR"] && plan.policies[0].due == 9,
                "\(plan.policies[0].libraries)")
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)
        #expect(try db.strings("SELECT DISTINCT library FROM retention.batches WHERE rows > 0") == ["BANGOR"])
        #expect(try db.int("SELECT count(*) FROM visits") == 0)
    }

    /// A consent key and a patron column of different collations (`C`, a case-insensitive ICU
    /// one) cannot be compared by PostgreSQL: check, plan and run refuse (78) at the consent key
    /// instead of failing the first batch.
    @Test func aConsentKeyOfAnotherCollationIsRefused() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
            CREATE TABLE prefs (card text COLLATE ci PRIMARY KEY, keep boolean);
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, card text COLLATE "C");
            INSERT INTO visits VALUES (1, now() - interval '100 days', 'A1');
            """)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                       + "retain: 30 days\naction: delete\npatron: card\n"
                                       + "consent: {table: public.prefs, key: card, keep_if: keep}\n"])
        for command in [["check", "--catalog"], ["plan"], ["run"]] {
            let refused = try db.retention(command + ["--policies", folder.url.path, "--log-format", "text"])
            #expect(refused.status == 78 && refused.stderr.contains("have different collations"), "\(refused.stderr)")
        }
        #expect(try db.int("SELECT count(*) FROM visits") == 1 && db.int("SELECT count(*) FROM retention.runs") == 0)
    }

    /// With the sessions searching pg_catalog alone, a citext column still compares as citext in
    /// every test: a mixed-case citext key walked in batches of 3 (no row skipped), `keep_when` with
    /// `in` and `=`, and a consent table whose key is text (`anna` consents for `ANNA`).
    @Test func citextColumnsCompareAsCitextInEveryTest() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE EXTENSION IF NOT EXISTS citext;
            CREATE TABLE members (card text PRIMARY KEY, keep boolean);
            INSERT INTO members VALUES ('anna', true), ('bob', false);
            CREATE TABLE visits (code citext PRIMARY KEY, seen timestamptz, card citext, kind citext);
            INSERT INTO visits SELECT (ARRAY['a', 'B', 'c', 'D', 'e'])[1 + g % 5] || g, now() - interval '100 days',
                                      (ARRAY['ANNA', 'bob', 'Carl'])[1 + g % 3], (ARRAY['Fine', 'NOTE', 'loan', 'x'])[1 + g % 4]
            FROM generate_series(1, 24) g;
            """)
        let folder = try PolicyFolder(["v.yaml": """
            name: v
            version: 1
            description: d
            table: public.visits
            key: code
            age: seen
            retain: 30 days
            action: delete
            patron: card
            consent: {table: public.members, key: card, keep_if: keep}
            keep_when:
              - {column: kind, op: in, value: [fine, note]}
              - {column: kind, op: "=", value: LOAN}
            """])
        // Of 24 rows: 8 of ANNA (consent), then 8 fine or note and 4 loan (keep_when), 4 others due.
        let plan = try db.plan(folder.url)
        #expect(plan.policies[0].counts[.consent] == 8 && plan.policies[0].counts[.keepWhen] == 12 && plan.policies[0].due == 4,
                "\(plan.policies[0].counts)")
        #expect(try db.retention(["run", "--policies", folder.url.path, "--batch-size", "3"]).status == 0)
        #expect(try db.int("SELECT count(*) FROM visits") == 20)
        #expect(try db.int("SELECT count(*) FROM visits WHERE lower(kind::text) = 'x' AND lower(card::text) <> 'anna'") == 0)
    }
}
