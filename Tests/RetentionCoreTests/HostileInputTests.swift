import Foundation
import Testing
@testable import RetentionCore

/// Input an attacker or a careless operator would give: every case of the hostile-input review,
/// each with its exit code, nothing changed where nothing should change, and no canary anywhere.
@Suite struct HostileInputTests {
    /// The reference schema with the loan cases and the loan policy (patron 1 has due loans 1, 3 and 5).
    func loans() throws -> (TestDatabase, PolicyFolder) {
        let db = try TestDatabase()
        try db.sql(loanCases)
        return (db, try PolicyFolder(["loans.yaml": validLoanPolicy]))
    }

    // MARK: - 1. Holds are stored as the rows write their patron

    @Test(arguments: ["01", " 1", "+1", "1 ", "0001"])
    func holdOnAPatronWrittenOddlyStillHoldsTheirRows(form: String) throws {
        let (db, folder) = try loans()
        let place = try db.retention(["hold", "place", "--reference", "CV-7", "--reason", "court order", "--patron", form,
                                      "--policies", folder.url.path, "--log-format", "text"])
        #expect(place.status == 0, "\(place.stderr)")
        #expect(try db.strings("SELECT patron FROM retention.holds") == ["1"])
        #expect(place.stdout.contains("covers: patron 1"))
        let run = try db.retention(["run", "--policies", folder.url.path])
        #expect(run.status == 0, "\(run.stderr)")
        // Patron 1's due loans keep their patron link; without the hold they would be anonymized.
        #expect(try db.strings("SELECT id::text FROM loans WHERE id IN (1, 3, 5) AND patron_id = 1 ORDER BY id") == ["1", "3", "5"])
        // Kept by the hold first: patron 1's loans past their cutoff (1, 3, 5, and 7, 8 which keep_when keeps too).
        #expect(try db.int("SELECT sum(kept_hold) FROM retention.batches") == 5)
    }

    @Test func holdOnAPatronNoPolicyCanMatchIsRefused() throws {
        let (db, folder) = try loans()
        for patron in ["abc", "99999999999999999999", "1.5"] {
            let place = try db.retention(["hold", "place", "--reference", "CV-8", "--reason", "r", "--patron", patron,
                                          "--policies", folder.url.path, "--log-format", "text"])
            #expect(place.status == 64, "\(patron): \(place.stderr)")
            #expect(place.stderr.contains("matches no record"), "\(place.stderr)")
            // A patron identifier is personal data: the message names the option, not the value.
            #expect(!place.stderr.contains(patron), "\(place.stderr)")
        }
        let library = try db.retention(["hold", "place", "--reference", "CV-8", "--reason", "r", "--library", "BANGOR\u{1B}[2J",
                                        "--policies", folder.url.path, "--log-format", "text"])
        #expect(library.status == 64 && library.stderr.contains("control character"))
        #expect(try db.int("SELECT count(*) FROM retention.holds") == 0)
        // A hold written by hand (or by an older version) not as the column writes it is reported, without its patron.
        try db.sql("INSERT INTO retention.holds (reference, patron) VALUES ('CV-old', '0770000000011'), ('CV-ok', '4')")
        let check = try db.retention(["check", "--catalog", "--policies", folder.url.path, "--log-format", "text"])
        #expect(check.status == 0 && check.stderr.contains("hold 1: its patron is not written as"), "\(check.stderr)")
        #expect(!check.stderr.contains("hold 2") && !check.output.contains("0770000000011"))
    }

    @Test func holdWhoseTextMeansTwoDifferentPatronsIsRefused() throws {
        let (db, folder) = try loans()
        try db.sql("CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, card text)")
        try folder.write("visits.yaml", "name: visits\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 10 days\naction: delete\npatron: card\n")
        let ambiguous = try db.retention(["hold", "place", "--reference", "CV-9", "--reason", "r", "--patron", "01",
                                          "--policies", folder.url.path, "--log-format", "text"])
        #expect(ambiguous.status == 64 && ambiguous.stderr.contains("place one hold per policy"), "\(ambiguous.stderr)")
        let scoped = try db.retention(["hold", "place", "--reference", "CV-9", "--reason", "r", "--patron", "01",
                                       "--policy", "visits", "--policies", folder.url.path])
        #expect(scoped.status == 0, "\(scoped.stderr)")
        #expect(try db.strings("SELECT patron FROM retention.holds") == ["01"])
    }

    @Test func holdOnALibraryNoPolicyKnowsIsRefusedAndWholeFreezesAreNamed() throws {
        let (db, folder) = try loans()
        try db.sql("CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, card bigint)")
        try folder.write("visits.yaml", "name: visits\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 10 days\naction: delete\npatron: card\n")
        func place(_ library: String) throws -> ProcessResult {
            try db.retention(["hold", "place", "--reference", "CV-L", "--reason", "r", "--library", library,
                              "--policies", folder.url.path, "--log-format", "text"])
        }
        let typo = try place("NOWHERE")
        #expect(typo.status == 64, "\(typo.stderr)")
        #expect(typo.stderr.contains("no policy's libraries (retain or names) names it, no row of public.loans.library_code holds it"),
                "\(typo.stderr)")
        #expect(try db.int("SELECT count(*) FROM retention.holds") == 0)
        // Named in the policy's libraries map, or found in the column: placed, and the policy that
        // cannot tell libraries apart is named as frozen whole.
        for library in ["BANGOR", "AUGUSTA"] {
            let placed = try place(library)
            #expect(placed.status == 0, "\(placed.stderr)")
            #expect(placed.stdout.contains("keeps every row of visits: that policy cannot tell libraries apart"), "\(placed.stdout)")
        }
    }

    // MARK: - 2. The tool's own schema and PostgreSQL's catalogs are off limits

    @Test(arguments: [
        ("table: public.loans", "table: retention.holds"),
        ("table: public.loans", "table: retention.batches"),
        ("table: public.loans", "table: pg_catalog.pg_authid"),
        ("table: public.patrons", "table: information_schema.tables"),
        ("table: public.patrons", "table: pg_catalog.pg_roles"),
    ])
    func policyOnTheToolsOwnSchemaOrTheCatalogIsRefused(from: String, to: String) throws {
        let (db, _) = try loans()
        try db.sql("INSERT INTO retention.holds (reference, patron) VALUES ('CV-1', '1')")
        let folder = try PolicyFolder(["p.yaml": validLoanPolicy.replacingOccurrences(of: from, with: to)
            .replacingOccurrences(of: "age: returned_at", with: "age: placed_at")])
        for command in [["check"], ["check", "--catalog"], ["run"]] {
            let result = try db.retention(command + ["--policies", folder.url.path, "--log-format", "text"])
            #expect(result.status == 65, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("a policy may name neither"), "\(result.stderr)")
        }
        #expect(try db.int("SELECT count(*) FROM retention.holds") == 1)
        #expect(try db.int("SELECT count(*) FROM retention.runs") == 0)
    }

    // MARK: - 3. Server messages are untrusted

    /// Ways a failing batch's server error could carry a row's value: a trigger's message, a
    /// server message that quotes a value, and DETAIL lines (unique index, check constraint).
    static let leaks = [
        // A trigger raising with the old row's note.
        """
        CREATE FUNCTION guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'loan % (%)', OLD.id, OLD.notes; END $$;
        CREATE TRIGGER guard BEFORE UPDATE ON loans FOR EACH ROW EXECUTE FUNCTION guard();
        """,
        // The same with another SQLSTATE, which user code may choose freely.
        """
        CREATE FUNCTION guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE unique_violation USING MESSAGE = 'duplicate ' || OLD.notes; END $$;
        CREATE TRIGGER guard BEFORE UPDATE ON loans FOR EACH ROW EXECUTE FUNCTION guard();
        """,
        // A server error (class 42, whose messages are kept) on dynamic SQL a trigger built from the row.
        """
        CREATE FUNCTION guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN EXECUTE 'SELECT "' || OLD.notes || '"'; RETURN NEW; END $$;
        CREATE TRIGGER guard BEFORE UPDATE ON loans FOR EACH ROW EXECUTE FUNCTION guard();
        """,
        // The server's own message quotes the value it could not read.
        """
        ALTER TABLE loans ADD COLUMN n int
            GENERATED ALWAYS AS (CASE WHEN patron_id IS NULL AND id < 10 THEN ('CANARY-' || item_barcode)::int END) STORED;
        """,
        // A unique index's DETAIL names the key's values.
        """
        UPDATE loans SET item_barcode = 'CANARY-ITEM' WHERE id IN (1, 10);
        CREATE UNIQUE INDEX loans_dup ON loans (item_barcode, patron_id) NULLS NOT DISTINCT;
        """,
        // A check constraint's DETAIL holds the whole failing row.
        """
        UPDATE loans SET item_barcode = 'CANARY-' || item_barcode;
        ALTER TABLE loans ADD CONSTRAINT still_linked CHECK (patron_id IS NOT NULL OR item_barcode NOT LIKE 'CANARY%') NOT VALID;
        """,
        // A domain whose check calls a function that raises with the value.
        """
        CREATE FUNCTION nice(text) RETURNS bool LANGUAGE plpgsql AS $$
        BEGIN IF $1 LIKE 'CANARY%' THEN RAISE EXCEPTION 'bad value %', $1; END IF; RETURN true; END $$;
        CREATE DOMAIN shown AS text CHECK (nice(VALUE));
        ALTER TABLE loans ADD COLUMN shown shown
            GENERATED ALWAYS AS (CASE WHEN patron_id IS NULL AND id < 10 THEN 'CANARY-' || item_barcode END) STORED;
        """,
    ]

    @Test(arguments: 0..<leaks.count)
    func failingBatchShowsNoRowValueInLogsOrLedger(leak: Int) throws {
        let (db, folder) = try loans()
        try db.sql("UPDATE loans SET notes = 'CANARY-NOTE-' || id WHERE notes IS NULL")
        try db.sql(Self.leaks[leak])
        if Self.leaks[leak].contains("CREATE TRIGGER guard") {
            try folder.write("loans.yaml", validLoanPolicy + "\ntriggers: [public.guard]\n")
        }
        let before = try db.fingerprint()
        var outputs: [String] = []
        for format in ["text", "json"] {
            let run = try db.retention(["run", "--policies", folder.url.path, "--log-format", format, "--log-level", "trace"])
            #expect(run.status == 1, "\(run.stderr)")
            outputs.append(run.output)
        }
        let stored = try db.strings("SELECT error FROM retention.runs ORDER BY id").compactMap { $0 }
        #expect(stored.count == 2)
        for text in outputs + stored + (try db.manifestFiles().map { try String(contentsOfFile: $0, encoding: .utf8) }) {
            #expect(!text.contains("CANARY"), "\(text)")
        }
        #expect(stored.allSatisfy { $0.contains("database error") }, "\(stored)")
        // Nothing changed, and the ledger says so.
        #expect(try db.fingerprint().filter { !$0.hasPrefix("retention.") } == before.filter { !$0.hasPrefix("retention.") })
        #expect(try db.int("SELECT coalesce(sum(rows), 0) FROM retention.batches") == 0)
    }

    @Test func serverMessagesKeepNamesAndLoseValues() {
        let own = ServerErrorFields(sqlState: "22P02", sourceFile: "numutils.c", context: nil, schema: nil, table: nil,
                                    column: nil, dataType: nil, constraint: nil)
        #expect(own.safeMessage(#"invalid input syntax for type integer: "CANARY-1""#)
                == #"invalid input syntax for type integer: "...""#)
        let unique = ServerErrorFields(sqlState: "23505", sourceFile: "nbtinsert.c", context: nil, schema: "public",
                                       table: "loans", column: nil, dataType: nil, constraint: "loans_dup")
        #expect(unique.safeMessage(#"duplicate key value violates unique constraint "loans_dup""#)
                == #"duplicate key value violates unique constraint "loans_dup""#)
        #expect(unique.safeMessage(#"odd "CANARY" and Key (a, b)=(CANARY, 2) here"#)
                == #"odd "..." and Key (...)=(...) here (table public.loans, constraint loans_dup)"#)
        let raised = ServerErrorFields(sqlState: "23505", sourceFile: "pl_exec.c",
                                       context: "PL/pgSQL function public.guard() line 2 at RAISE", schema: nil,
                                       table: nil, column: nil, dataType: nil, constraint: nil)
        #expect(raised.raisedByDatabaseCode)
        let message = raised.safeMessage("duplicate CANARY")
        #expect(!message.contains("CANARY") && message.contains("function public.guard"))
        // Code can set the error's fields to anything (`RAISE ... USING TABLE = OLD.notes`): not shown.
        let fields = ServerErrorFields(sqlState: "23514", sourceFile: "pl_exec.c",
                                       context: "PL/pgSQL function public.valid_ref(bigint,text) line 1 at RAISE", schema: "CANARY-S",
                                       table: "CANARY-T", column: "CANARY-C", dataType: "CANARY-D", constraint: "CANARY-K")
        #expect(fields.safeMessage("bad") == "an error raised by code in the database (a trigger, rule or function); its message "
                + "is not shown as it may quote row values (function public.valid_ref)")
        // The server does not escape a quote inside a value it quotes: no pairing can be trusted.
        #expect(own.safeMessage(#"invalid input syntax for type integer: "called Robert "CANARY 207-555-0199" Smith""#)
                == #"invalid input syntax for type integer: "...""#)
        #expect(unique.safeMessage(#"constraint "loans_dup" on "a "CANARY" b" failed"#) == #"constraint "loans_dup" on "..." failed (table public.loans, constraint loans_dup)"#)
        // Translated messages (lc_messages) quote with the language's own marks.
        for translated in ["syntaxe en entrée invalide pour le type integer : « CNRY4711 »",
                           "ungültige Eingabesyntax für Typ integer: »CNRY4711«", "sintaxis de entrada no válida: «CNRY4711»",
                           "ungültige Eingabesyntax: „CNRY4711“", "無効な入力構文: 「CNRY4711」", "neplatná syntaxe: “CNRY4711”"] {
            #expect(!own.safeMessage(translated).contains("CNRY4711"), "\(translated)")
        }
        #expect(unique.safeMessage("la contrainte « loans_dup » a échoué")
                == #"la contrainte " loans_dup " a échoué (table public.loans, constraint loans_dup)"#)
        // A server error on dynamic SQL a trigger built from a row quotes the row: its CONTEXT names the function.
        let dynamic = ServerErrorFields(sqlState: "42601", sourceFile: "scan.l",
                                        context: "PL/pgSQL function audit_trigger() line 4 at EXECUTE", schema: nil,
                                        table: nil, column: nil, dataType: nil, constraint: nil)
        #expect(!dynamic.safeMessage(#"syntax error at or near "CANARY""#).contains("CANARY"))
        let planner = ServerErrorFields(sqlState: "XX000", sourceFile: "planner.c", context: nil, schema: nil,
                                        table: nil, column: nil, dataType: nil, constraint: nil)
        #expect(!planner.raisedByDatabaseCode)
        let catalog = ServerErrorFields(sqlState: "42P01", sourceFile: "parse_relation.c", context: nil, schema: nil,
                                        table: nil, column: nil, dataType: nil, constraint: nil)
        #expect(catalog.safeMessage(#"relation "public.nosuch" does not exist"#) == #"relation "public.nosuch" does not exist"#)
    }

    // MARK: - 4. A manifest folder that cannot take the manifest

    @Test func fullManifestFolderStopsTheRunBeforeAnyChange() throws {
        let (db, folder) = try loans()
        let before = try db.fingerprint()
        // Files of at most 4 KiB, as on an almost full disk (SIGXFSZ ignored: the write fails with EFBIG).
        let result = try runProcess("/bin/bash", ["-c", "trap '' XFSZ; ulimit -f 4; exec \"$0\" \"$@\"", retentionBinary,
                                                  "run", "--policies", folder.url.path, "--log-format", "text"],
                                    environment: db.environment())
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("cannot take a manifest of"), "\(result.stderr)")
        #expect(try db.fingerprint() == before)
        #expect(try db.manifestFiles().isEmpty)
    }

    @Test func manifestThatCannotBeWrittenAfterThePurgeLeavesTheStateExact() throws {
        let (db, folder) = try loans()
        let settings = try db.manifestSettings()
        let policies = try db.resolve(folder.url)
        // The folder goes away between the preflight and the end of the run.
        try FileManager.default.removeItem(atPath: db.manifestFolder)
        let summary = try Runner(connection: db.connection, logger: quietLogger).run(policies, options: RunOptions(),
                                                                                     manifests: settings)
        #expect(summary.status == .completed && summary.manifestPath == nil)
        #expect(summary.manifestError?.exitCode == .config)
        #expect(summary.policies[0].rows == 3)
        #expect(try db.int("SELECT sum(rows) FROM retention.batches WHERE run_id = $1::int8", [String(summary.runID)]) == 3)
        #expect(try db.int("SELECT count(*) FROM retention.runs WHERE sequence IS NULL AND status = 'completed'") == 1)
        // The next run writes the missing manifest first, then its own.
        try FileManager.default.createDirectory(atPath: db.manifestFolder, withIntermediateDirectories: true)
        try db.run(folder.url)
        #expect(try db.manifestFiles().count == 2)
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
    }

    // MARK: - 5, 12. Options are checked before anything connects

    @Test(arguments: [
        ["--max-runtime", "inf"], ["--max-runtime", "1e300"], ["--max-runtime", "nan"], ["--max-runtime", "9999h"],
        ["--lock-timeout", "garbage"], ["--statement-timeout", "-5s"], ["--lock-timeout", "5 fortnights"],
        ["--db", "dbname='x"], ["--db", "postgresql://[::1"],
    ])
    func badOptionIsABadCommandLineAndChangesNothing(option: [String]) throws {
        let (db, folder) = try loans()
        let before = try db.fingerprint()
        let result = try db.retention(["run", "--policies", folder.url.path, "--log-format", "text"] + option)
        #expect(result.status == 64, "\(option): \(result.stderr)")
        #expect(try db.fingerprint() == before)
        #expect(try db.int("SELECT count(*) FROM retention.runs") == 0)
    }

    @Test func malformedConninfoIsABadCommandLineEverywhere() throws {
        let (db, folder) = try loans()
        for command in [["plan", "--db", "dbname='x"], ["check", "--catalog", "--db", "dbname='x"], ["setup", "--db", "dbname='x"],
                        ["verify", "--ledger", "--db", "dbname='x", db.manifestFolder]] {
            let result = try db.retention(command + ["--policies", folder.url.path])
            #expect(result.status == 64, "\(command): \(result.stderr)")
        }
    }

    @Test func earlierSpellingsOfTheLiveChecksAreRefusedWithTheNewOnes() throws {
        let (db, folder) = try loans()
        for (command, new) in [(["check", "--db"], "check --catalog"), (["verify", "--db", db.manifestFolder], "verify --ledger"),
                               (["verify", db.manifestFolder, "--db"], "verify --ledger"),
                               (["verify", "--db", "--conninfo", "dbname=x", db.manifestFolder], "verify --ledger")] {
            let result = try db.retention(command + ["--policies", folder.url.path])
            #expect(result.status == 64 && result.stderr.contains("is now `\(new)`"), "\(command): \(result.stderr)")
        }
        let help = try db.retention(["help", "nosuch"])
        #expect(help.status == 64 && help.stderr.contains("no command nosuch"))
        #expect(try db.retention(["check", "--catalog", "--db", db.conninfo, "--policies", folder.url.path]).status == 0)
    }

    // MARK: - 6, 7. The live check proves set values and periods as the run uses them

    @Test(arguments: [
        ("  notes: null", "  notes: null\n  fines_owed: 99999999", "numeric(8,2)"),
        ("  notes: null", "  notes: null\n  status: bogus", "loans_status_check"),
        ("  notes: null", "  notes: null\n  item_barcode: ''", "barcode"),
        ("retain: 30 days", "retain: 7000 years", "reaches before the earliest"),
        ("retain: 30 days", "retain: P999999Y999999M", "reaches before the earliest"),
        ("BANGOR: 14 days", "BANGOR: 9000 years", "library 'BANGOR'"),
    ])
    func valueOrPeriodTheServerRefusesFailsTheLiveCheck(from: String, to: String, named: String) throws {
        let (db, _) = try loans()
        try db.sql("CREATE DOMAIN barcode AS text CHECK (VALUE <> ''); ALTER TABLE loans ALTER COLUMN item_barcode TYPE barcode")
        let folder = try PolicyFolder(["loans.yaml": validLoanPolicy.replacingOccurrences(of: from, with: to)])
        #expect(try db.retention(["check", "--policies", folder.url.path]).status == 0)
        let before = try db.fingerprint()
        for command in [["check", "--catalog"], ["plan"], ["run"]] {
            let result = try db.retention(command + ["--policies", folder.url.path, "--log-format", "text"])
            #expect(result.status == 78, "\(command): \(result.stderr)")
            #expect(result.stderr.contains(named), "\(result.stderr)")
        }
        #expect(try db.fingerprint() == before)
    }

    @Test func checkConstraintOnOtherColumnsIsLeftToTheRowsAndValidValuesPass() throws {
        let (db, _) = try loans()
        try db.sql("ALTER TABLE loans ADD CONSTRAINT fines_fit CHECK (fines_owed >= 0)")
        let folder = try PolicyFolder(["loans.yaml": validLoanPolicy.replacingOccurrences(
            of: "  notes: null", with: "  notes: null\n  fines_owed: 0\n  status: returned")])
        let check = try db.retention(["check", "--catalog", "--policies", folder.url.path])
        #expect(check.status == 0, "\(check.stderr)")
    }

    // MARK: - 8. Control characters in policy files

    @Test(arguments: [
        ("BANGOR: 14 days", #""BANGOR\0x": 1 day"#),
        ("BANGOR: 14 days", #""BANGOR\nx": 1 day"#),
        ("name: loan-history", #"name: "loan-history\e[2J""#),
        ("table: public.loans", #"table: "public.loans\u0085""#),
        ("  notes: null", #"  notes: "x\ty""#),
        ("retain: 30 days", #"retain: "30\rdays""#),
    ])
    func controlCharacterInAPolicyStringIsRefused(from: String, to: String) throws {
        let folder = try PolicyFolder(["loans.yaml": validLoanPolicy.replacingOccurrences(of: from, with: to)])
        let error = try #require(throws: PolicyErrors.self) { try PolicyLoader.load(directory: folder.url.path) }
        #expect(error.exitCode == .dataError)
        #expect(error.description.contains("holds a control character"), "\(error.description)")
        #expect(!error.description.contains("\0") && error.description.split(separator: "\n").count == 1)
    }

    @Test func descriptionMayHoldLineBreaks() throws {
        let folder = try PolicyFolder(["loans.yaml": validLoanPolicy.replacingOccurrences(
            of: "description: Kept 30 days after return for disputes.",
            with: "description: |\n  Kept 30 days after return\n  \tfor disputes.")])
        #expect(try PolicyLoader.load(directory: folder.url.path).first?.description.contains("\n") == true)
    }

    // MARK: - 9. Signals during maintenance

    @Test(arguments: [(SIGTERM, Int32(143)), (SIGINT, Int32(130))])
    func signalDuringVacuumCancelsItAndRecordsInterrupted(signal: Int32, exit: Int32) throws {
        let (db, folder) = try loans()
        // A session holding a lock VACUUM needs (and the batches do not) keeps it waiting.
        let blocker = try db.session()
        try blocker.execute(unsafeSQL: "BEGIN; LOCK TABLE loans IN SHARE UPDATE EXCLUSIVE MODE;")
        let child = try db.startRetention(["run", "--vacuum", "--policies", folder.url.path, "--lock-timeout", "30s"])
        var waiting = false
        for _ in 0..<600 where !waiting {
            waiting = try db.int("""
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND query LIKE 'VACUUM %' AND wait_event_type = 'Lock'
                """) > 0
            if !waiting { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(waiting)
        let sent = ContinuousClock.now
        kill(child.process.processIdentifier, signal)
        let result = child.wait()
        #expect(ContinuousClock.now - sent < .seconds(10))
        try blocker.execute(unsafeSQL: "ROLLBACK")
        #expect(result.status == exit, "\(result.stderr)")
        #expect(try db.strings("SELECT status FROM retention.runs") == ["interrupted"])
        // The purge itself was done and recorded.
        #expect(try db.int("SELECT sum(rows) FROM retention.batches") == 3)
        #expect(try db.int("SELECT count(*) FROM loans WHERE id IN (1, 3, 5) AND patron_id IS NULL") == 3)
        let manifest = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: try #require(try db.manifestFiles().first)))).payload)
        #expect(manifest.status == "interrupted" && manifest.policies[0].maintenance == nil)
        #expect(try db.int("""
            SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'VACUUM %' AND state = 'active'
            """) == 0)
    }

    // MARK: - 10. The whole envelope is checked

    @Test(arguments: ["zeroed keyid", "second signature", "duplicated signature"])
    func editedSignatureBlockFailsVerify(edit: String) throws {
        let (db, folder) = try loans()
        try db.run(folder.url)
        try db.run(folder.url)
        let newest = try #require(try db.manifestFiles().last)
        var envelope = try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: newest)))
        switch edit {
        case "zeroed keyid": envelope.signatures[0].keyid = String(repeating: "0", count: 64)
        case "second signature": envelope.signatures.append(.init(keyid: "other", sig: Data(repeating: 7, count: 64)))
        default: envelope.signatures.append(envelope.signatures[0])
        }
        try envelope.fileData().write(to: URL(fileURLWithPath: newest))
        let verify = try db.retention(["verify", db.manifestFolder])
        #expect(verify.status == 1, "\(verify.stdout)")
        #expect(verify.stdout.contains("FAIL  \(newest)"), "\(verify.stdout)")
    }

    // MARK: - 11. Names are escaped in text output

    @Test func namesWithControlCharactersCannotForgeOutputLines() throws {
        let (db, folder) = try loans()
        try db.run(folder.url)
        let original = try #require(try db.manifestFiles().first)
        let forged = db.manifestFolder + "/x\nOK    forged.json"
        try FileManager.default.copyItem(atPath: original, toPath: forged)
        let verify = try db.retention(["verify", db.manifestFolder])
        #expect(verify.status == 1)
        #expect(!verify.stdout.split(separator: "\n").contains { $0.hasPrefix("OK    forged") }, "\(verify.stdout)")
        #expect(verify.stdout.contains("x\\u{a}OK    forged.json"))

        let policies = try PolicyFolder(["bad\nretention: error: forged.yaml": "name: x\n"])
        let check = try db.retention(["check", "--policies", policies.url.path, "--log-format", "text"])
        #expect(check.status == 65)
        #expect(check.stderr.split(separator: "\n").allSatisfy { $0.hasPrefix("retention: ") }, "\(check.stderr)")
        #expect(check.stderr.contains("bad\\u{a}retention"))

        let hold = try db.retention(["hold", "place", "--reference", "CV\nplaced hold 99: forged", "--reason", "r",
                                     "--policy", "loan-history", "--policies", folder.url.path])
        #expect(hold.status == 0, "\(hold.stderr)")
        #expect(!hold.stdout.split(separator: "\n").contains("placed hold 99: forged"), "\(hold.stdout)")
    }
}
