import Foundation
import Testing
@testable import RetentionCore

/// Manifests that cannot be made to lie: what the database does behind the purge (rules, triggers),
/// backups, a shared folder, the clock, free text in a library column, library keys of another
/// type, and what a run that did not finish left due. Each case ends in a clear refusal or a true
/// manifest.
@Suite struct EvidenceTests {
    /// The manifests of a database's folder, oldest first.
    func manifests(_ db: TestDatabase) throws -> [Manifest] {
        try db.manifestFiles().map { try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: $0))).payload) }
    }

    /// A `DO INSTEAD` rule that turns the delete into an update is refused by check, plan and run
    /// (78, naming the rule and the fix) before anything changes; so is row-level security on a
    /// consent table a purging role does not bypass (covered with roles in `RoleTests`).
    @Test func aRuleOnAPolicyTableIsRefusedBeforeAnythingChanges() throws {
        let db = try TestDatabase(demoLoans: 500)
        try db.sql("""
            ALTER TABLE event_attendance ADD COLUMN deleted boolean NOT NULL DEFAULT false;
            CREATE RULE soft_delete AS ON DELETE TO event_attendance
                DO INSTEAD UPDATE event_attendance SET deleted = true WHERE id = old.id RETURNING *;
            """)
        let policies = try PolicyFolder.shipped()
        let before = try db.fingerprint()
        for command in [["check", "--catalog"], ["plan"], ["run"]] {
            let result = try db.retention(command + ["--policies", policies.url.path, "--log-format", "text"])
            #expect(result.status == 78, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("rule soft_delete on public.event_attendance rewrites what is done to the table"),
                    "\(result.stderr)")
            #expect(result.stderr.contains(#"DROP RULE "soft_delete" ON "public"."event_attendance""#))
        }
        #expect(try db.fingerprint() == before)
        #expect(try db.manifestFiles().isEmpty)
    }

    /// Whatever makes the server's count differ from the statement's (a trigger that puts the rows
    /// back, one that deletes others of the same table): the batch rolls back, the run fails (1)
    /// naming both counts, and the failed manifest claims nothing for it but counts what is still due.
    @Test(arguments: ["reinsert", "cascade-by-hand"])
    func aBatchWhoseCountTheServerContradictsRollsBackAndFails(trigger: String) throws {
        let db = try TestDatabase(reference: false)
        let folder = try visitsTable(db, canary: "EVIDENCE-CANARY-")
        let body = trigger == "reinsert"
            ? "INSERT INTO public.visits VALUES ((OLD).*)"
            : "DELETE FROM public.visits WHERE id = OLD.id + 100000"
        try db.sql("""
            INSERT INTO visits SELECT g + 100000, now(), 'KEEP' FROM generate_series(1, 30000) g;
            CREATE FUNCTION behind() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN \(body); RETURN OLD; END$$;
            CREATE TRIGGER behind AFTER DELETE ON visits FOR EACH ROW EXECUTE FUNCTION behind();
            """)
        try folder.write("v.yaml", "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 10 days\n"
                         + "action: delete\npatron: id\ntriggers: [public.behind]\n")
        let before = try db.fingerprint().filter { !$0.hasPrefix("retention.") }
        let result = try db.retention(["run", "--policies", folder.url.path, "--log-format", "text", "--jobs", "1"])
        #expect(result.status == 1, "\(result.stderr)")
        let claimed = trigger == "reinsert" ? "deleted, 0 updated and" : "deleted, 0 updated and 0 inserted"
        #expect(result.stderr.contains("batch 1 of policy v: the purge statement reported"), "\(result.stderr)")
        #expect(result.stderr.contains(claimed) && result.stderr.contains("the batch was rolled back"), "\(result.stderr)")
        #expect(!result.output.contains("EVIDENCE-CANARY-"))
        #expect(try db.fingerprint().filter { !$0.hasPrefix("retention.") } == before)
        let manifest = try #require(try manifests(db).last)
        #expect(manifest.status == "failed")
        #expect(manifest.policies.first?.rows == 0)
        #expect(try db.int("SELECT count(*) FROM retention.batches") == 0)
        // What the failed run left due is counted, not left for a reader to take as 0.
        #expect(manifest.policies.first?.remaining.stillDue == 30000)
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
    }

    /// The server's counters against a batch's claim, on the statement alone: equal passes; a rule's
    /// update for a delete, or more rows than claimed, does not, even with a cascade into the table
    /// itself (which the catalog check refuses anyway).
    @Test func theCountProofComparesTheClaimWithEveryCounter() throws {
        let exact = TableCounters.expected(5, action: .delete)
        #expect(exact == TableCounters(deleted: 5))
        #expect(TableCounters.expected(5, action: .anonymize) == TableCounters(updated: 5))
        #expect(TableCounters(deleted: 9, updated: 4, inserted: 2) - TableCounters(deleted: 4, updated: 4) == TableCounters(deleted: 5, inserted: 2))
        let policy = try PolicyLoader.parse(
            yaml: "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 10 days\naction: delete\n",
            file: "v.yaml").get()
        var resolved = ResolvedPolicy(policy: policy, tableOID: "1", keyType: "integer", ageType: .timestamptz)
        let sql = PurgeSQL(resolved)
        #expect(throws: Never.self) { try Runner.prove(5, counted: exact, sql: sql, batch: 1) }
        for wrong in [TableCounters(updated: 5), TableCounters(deleted: 6), TableCounters(deleted: 5, inserted: 5), TableCounters()] {
            #expect(throws: CountNotProven.self) { try Runner.prove(5, counted: wrong, sql: sql, batch: 1) }
        }
        // No declared cascade reaches the policy's own table (a cycle is refused), so none may add deletions there.
        resolved.cascades = [CascadeTable(table: policy.table, leafOIDs: ["1"])]
        #expect(throws: CountNotProven.self) { try Runner.prove(5, counted: TableCounters(deleted: 8), sql: PurgeSQL(resolved), batch: 1) }
    }

    /// A database restored from a backup taken before its last two runs: the next run refuses (78,
    /// saying what was found and what to do) and changes nothing; `setup --after-restore` writes a
    /// signed `restored` manifest that records the gap and continues the chain, which then verifies
    /// whole, ledger included, with no run id twice.
    @Test func aRestoredDatabaseStopsTheRunUntilTheGapIsRecorded() throws {
        let db = try TestDatabase(demoLoans: 500)
        let policies = try PolicyFolder.shipped()
        let run = ["run", "--policies", policies.url.path, "--log-format", "text"]
        #expect(try db.retention(run).status == 0)
        let dump = db.files.appendingPathComponent("backup.dump").path
        #expect(try runProcess("/usr/bin/env", ["pg_dump", "-Fc", "-d", db.name, "-f", dump]).status == 0)
        try db.sql("INSERT INTO event_attendance (event_id, library_code, attended_at) SELECT id, library_code, now() - interval '1 year' FROM events LIMIT 5")
        #expect(try db.retention(run).status == 0)
        #expect(try db.retention(run).status == 0)
        let restore = try runProcess("/usr/bin/env", ["pg_restore", "--clean", "--if-exists", "-d", db.name, dump])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try db.int("SELECT max(sequence) FROM retention.runs") == 1)

        let before = try db.fingerprint()
        let refused = try db.retention(run)
        #expect(refused.status == 78)
        #expect(refused.stderr.contains("the manifest folder's chain is ahead of the database"), "\(refused.stderr)")
        #expect(refused.stderr.contains("sequence 3") && refused.stderr.contains("up to sequence 1"))
        #expect(refused.stderr.contains("retention setup --after-restore"))
        #expect(try db.fingerprint() == before)
        #expect(try db.manifestFiles().count == 3)

        let continued = try db.retention(["setup", "--after-restore", "--log-format", "text"])
        #expect(continued.status == 0, "\(continued.stderr)")
        #expect(continued.stdout.contains("records the gap"))
        #expect(try db.retention(run).status == 0)
        let written = try manifests(db)
        #expect(written.map(\.status) == ["completed", "completed", "completed", "restored", "completed"])
        let gap = try #require(written[3].gap)
        #expect(gap.ledgerSequence == 1 && gap.chainSequence == 3 && gap.runsLost == 2)
        #expect(gap.chainSHA256 == sha256Hex(try Data(contentsOf: URL(fileURLWithPath: try db.manifestFiles()[2]))))
        #expect(written[3].policies.isEmpty && written[3].database.oid != nil)
        #expect(Set(written.map(\.runID)).count == 5)
        let verify = try db.retention(["verify", "--ledger", db.manifestFolder])
        #expect(verify.status == 0, "\(verify.stdout)")
        let shown = try db.retention(["show", try db.manifestFiles()[3]])
        #expect(shown.stdout.contains("The database was restored from a backup"), "\(shown.stdout)")
        // Nothing to do a second time.
        let again = try db.retention(["setup", "--after-restore"])
        #expect(again.status == 0 && again.stdout.contains("nothing to do"))
        #expect(try ManifestTests.schemaFailures(try db.manifestFiles()).isEmpty)
    }

    /// An emptied manifest folder, or one that lacks the ledger's newest manifests, stops the run (78)
    /// before anything changes; `--after-restore` cannot paper over it.
    @Test func aFolderMissingTheLedgersManifestsStopsTheRun() throws {
        let db = try TestDatabase(demoLoans: 500)
        let policies = try PolicyFolder.shipped()
        let run = ["run", "--policies", policies.url.path, "--log-format", "text"]
        #expect(try db.retention(run).status == 0)
        #expect(try db.retention(run).status == 0)
        let files = try db.manifestFiles()
        try FileManager.default.removeItem(atPath: files[1])
        let before = try db.fingerprint()
        let missing = try db.retention(run)
        #expect(missing.status == 78)
        #expect(missing.stderr.contains("ends at sequence 1") && missing.stderr.contains("manifests 2 to 2 are missing"), "\(missing.stderr)")
        try FileManager.default.removeItem(atPath: files[0])
        let emptied = try db.retention(run)
        #expect(emptied.status == 78)
        #expect(emptied.stderr.contains("holds no manifest, but the ledger of database"), "\(emptied.stderr)")
        let restore = try db.retention(["setup", "--after-restore", "--log-format", "text"])
        #expect(restore.status == 78)
        #expect(try db.fingerprint() == before)
        #expect(try db.manifestFiles().isEmpty)
    }

    /// Two databases with one manifest folder (one config in two cron lines): the second refuses (78)
    /// and writes nothing; a manifest file is never replaced, even by one of the same name.
    @Test func twoDatabasesCannotShareAManifestFolder() throws {
        let first = try TestDatabase(demoLoans: 300)
        let second = try TestDatabase(demoLoans: 300)
        let policies = try PolicyFolder.shipped()
        #expect(try first.retention(["run", "--policies", policies.url.path]).status == 0)
        let before = try second.fingerprint()
        let shared = try second.retention(["run", "--policies", policies.url.path, "--log-format", "text"],
                                          environment: ["RETENTION_MANIFESTS": first.manifestFolder])
        #expect(shared.status == 78)
        #expect(shared.stderr.contains("holds another database's chain") && shared.stderr.contains(first.name), "\(shared.stderr)")
        #expect(try second.fingerprint() == before)
        #expect(try first.manifestFiles().count == 1)
        // Verify names the other database's manifest in a mixed folder.
        #expect(try second.retention(["run", "--policies", policies.url.path]).status == 0)
        let mixed = first.files.appendingPathComponent("mixed").path
        try FileManager.default.createDirectory(atPath: mixed, withIntermediateDirectories: true)
        let theirs = try second.manifestFiles()[0]
        try FileManager.default.copyItem(atPath: try first.manifestFiles()[0], toPath: mixed + "/" + (try first.manifestFiles()[0] as NSString).lastPathComponent)
        var envelope = try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: theirs)))
        var payload = try Manifest(payload: envelope.payload)
        payload.sequence = 2
        payload.previousSHA256 = sha256Hex(try Data(contentsOf: URL(fileURLWithPath: try first.manifestFiles()[0])))
        payload.startedAt = "2099-01-01T00:00:00.000000Z"
        payload.finishedAt = "2099-01-01T00:00:01.000000Z"
        envelope = try SigningKeys.loadPrivateKey(path: first.signingKeyPath).sign(payloadType: Manifest.payloadType, payload: payload.payload)
        try envelope.fileData().write(to: URL(fileURLWithPath: mixed + "/" + payload.fileName))
        let verify = try first.retention(["verify", mixed])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("two databases' chains in one folder"), "\(verify.stdout)")

        // Exclusive creation: the same bytes again are the same manifest; other bytes are refused.
        let path = first.files.appendingPathComponent("x.manifest.json").path
        try ManifestStore.writeExclusively(Data("one".utf8), to: path)
        try ManifestStore.writeExclusively(Data("one".utf8), to: path)
        let error = try #require(throws: UsageError.self) { try ManifestStore.writeExclusively(Data("two".utf8), to: path) }
        #expect(error.exitCode == .config && error.description.contains("manifests are never replaced"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "one")
    }

    /// A database clock far from the machine's (NTP jumped on the database host), or set back behind
    /// the previous run, stops the run (78) before any change; `verify` fails a manifest that starts
    /// before its predecessor finished.
    @Test func aClockJumpStopsTheRunAndABackwardManifestFailsVerify() throws {
        let db = try TestDatabase(demoLoans: 500)
        let policies = try PolicyFolder.shipped()
        let run = ["run", "--policies", policies.url.path, "--log-format", "text"]
        #expect(try db.retention(run).status == 0)
        let before = try db.fingerprint().filter { !$0.hasPrefix("retention.") }
        // A database host whose clock jumped 400 days ahead (an NTP fault): refused before any change.
        if let server = try OwnServer(clockOffset: "+400d") {
            let jumped = try TestDatabase(demoLoans: 300, server: server)
            let untouched = try jumped.fingerprint()
            let result = try jumped.retention(run)
            #expect(result.status == 78, "\(result.stderr)")
            #expect(result.stderr.contains("is 400 days ahead of this machine's") && result.stderr.contains("--max-clock-skew 5 min"),
                    "\(result.stderr)")
            #expect(try jumped.fingerprint() == untouched)
            #expect(try jumped.manifestFiles().isEmpty)
            // Off, the comparison is skipped (a test server on a fake clock on purpose).
            #expect(try jumped.retention(run + ["--max-clock-skew", "off"]).status == 0)
        }
        let ended = try db.int("SELECT max(id) FROM retention.runs")
        try db.sql("UPDATE retention.runs SET finished_at = now() + interval '3 days' WHERE id = \(ended)")
        let behind = try db.retention(run)
        #expect(behind.status == 78)
        #expect(behind.stderr.contains("before the end of the previous run"), "\(behind.stderr)")
        try db.sql("UPDATE retention.runs SET finished_at = started_at WHERE id = \(ended)")
        #expect(try db.fingerprint().filter { !$0.hasPrefix("retention.") } == before)
        #expect(try db.int("SELECT count(*) FROM retention.runs") == 1)
        #expect(try db.retention(run + ["--max-clock-skew", "soon"]).status == 64)

        // Two manifests re-signed so the second starts before the first finished.
        #expect(try db.retention(run).status == 0)
        let files = try db.manifestFiles()
        let key = try SigningKeys.loadPrivateKey(path: db.signingKeyPath)
        var first = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: files[files.count - 2]))).payload)
        var last = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: files[files.count - 1]))).payload)
        first.finishedAt = "2099-01-01T00:00:00.000000Z"
        let firstData = try key.sign(payloadType: Manifest.payloadType, payload: first.payload).fileData()
        try firstData.write(to: URL(fileURLWithPath: files[files.count - 2]))
        last.previousSHA256 = sha256Hex(firstData)
        try key.sign(payloadType: Manifest.payloadType, payload: last.payload).fileData().write(to: URL(fileURLWithPath: files[files.count - 1]))
        let verify = try db.retention(["verify", db.manifestFolder])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("before the manifest before it finished (2099-01-01T00:00:00.000000Z): the database clock was set back"),
                "\(verify.stdout)")
    }

    /// Free text in a library column (a name and a phone number typed into a branch field) never
    /// becomes evidence: the manifest, ledger, metrics, plan and report count it as "(other
    /// libraries)"; `check --catalog` says how many rows carry an unnamed value, never the value.
    @Test func freeTextInALibraryColumnNeverLeavesTheDatabase() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, branch text);
            INSERT INTO visits SELECT g, now() - interval '100 days',
                   CASE WHEN g % 3 = 0 THEN 'NORTH' WHEN g % 3 = 1 THEN 'SOUTH' ELSE 'Jane Doe 207-555-0199' END
            FROM generate_series(1, 300) g;
            """)
        let folder = try PolicyFolder(["v.yaml": """
            name: v
            version: 1
            description: d
            table: public.visits
            key: id
            age: seen
            retain: 10 days
            action: delete
            libraries:
              column: branch
              retain:
                NORTH: 60 days
              names: [SOUTH]
            """])
        let metrics = db.files.appendingPathComponent("retention.prom").path
        let check = try db.retention(["check", "--catalog", "--policies", folder.url.path, "--log-format", "text"])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stderr.contains("policy v: 100 rows of public.visits have a value of branch that the policy does not name"),
                "\(check.stderr)")
        let plan = try db.retention(["plan", "--policies", folder.url.path])
        #expect(plan.stdout.contains("(other libraries)"), "\(plan.stdout)")
        let result = try db.retention(["run", "--policies", folder.url.path, "--metrics-file", metrics, "--log-format", "json",
                                       "--log-level", "trace"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = db.files.appendingPathComponent("report.html").path
        #expect(try db.retention(["report", "--manifests", db.manifestFolder, "--out", report]).status == 0)
        let manifest = try #require(try manifests(db).first)
        let libraries = try #require(manifest.policies.first?.libraries)
        #expect(Dictionary(uniqueKeysWithValues: libraries.map { ($0.library ?? "-", $0.counts.rows) })
                == ["NORTH": 100, "SOUTH": 100, "(other libraries)": 100])
        var evidence = [plan.output, result.output, check.output, try String(contentsOfFile: metrics, encoding: .utf8),
                        try String(contentsOfFile: report, encoding: .utf8)]
        evidence += try db.manifestFiles().map { String(decoding: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: $0))).payload, as: UTF8.self) }
        evidence += try db.strings("SELECT coalesce(library, '') FROM retention.batches").compactMap { $0 }
        for text in evidence {
            #expect(!text.contains("Jane") && !text.contains("555-0199"))
        }
        #expect(try db.int("SELECT count(*) FROM visits") == 0)
    }

    /// Library keys are values of the column's type: `"04"` and `"+4"` are branch 4 of a smallint
    /// column and keep its 365 days; two keys for one value, or a key the column cannot hold
    /// unchanged, are refused (78) before anything changes.
    @Test func libraryKeysAreReadAsTheColumnsType() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, branch smallint, code varchar(5));
            INSERT INTO visits SELECT g, now() - interval '100 days', g % 5, 'B' || g % 5 FROM generate_series(1, 500) g;
            """)
        func policy(_ libraries: String) -> String {
            "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 30 days\naction: delete\n"
                + "libraries:\n" + libraries
        }
        let before = try db.fingerprint()
        for (libraries, problem) in [
            ("  column: branch\n  retain:\n    \"04\": 365 days\n    \"+4\": 90 days\n", "libraries '04' and '+4' are the same value '4' of branch"),
            ("  column: branch\n  retain:\n    \"x\": 365 days\n", "library 'x' does not fit the type smallint of branch"),
            ("  column: code\n  retain:\n    BANGORX: 365 days\n", "does not fit character varying(5) without being cut or rounded"),
            ("  column: branch\n  names: [\"1\", \"01\"]\n", "libraries '1' and '01' are the same value '1' of branch"),
        ] {
            let folder = try PolicyFolder(["v.yaml": policy(libraries)])
            let result = try db.retention(["run", "--policies", folder.url.path, "--log-format", "text"])
            #expect(result.status == 78, "\(libraries): \(result.stderr)")
            #expect(result.stderr.contains(problem), "\(result.stderr)")
        }
        #expect(try db.fingerprint() == before)
        let folder = try PolicyFolder(["v.yaml": policy("  column: branch\n  retain:\n    \"04\": 365 days\n")])
        let result = try db.retention(["run", "--policies", folder.url.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try db.int("SELECT count(*) FROM visits WHERE branch = 4") == 100)
        #expect(try db.int("SELECT count(*) FROM visits") == 100)
        let manifest = try #require(try manifests(db).first)
        #expect(manifest.policies.first?.libraries.first { $0.library == "4" }?.period.retain == "365 days")
    }

    /// The report takes what remains due from the latest run, whatever its status: after a stopped
    /// night it shows that night's backlog, not an earlier completed run's 0.
    @Test func theReportShowsTheBacklogOfTheLatestRunNotTheLastCompletedOne() throws {
        let db = try TestDatabase(reference: false)
        let folder = try visitsTable(db, canary: "BACKLOG-CANARY-")
        try db.sql("DELETE FROM visits WHERE id > 100")
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)
        try db.sql("INSERT INTO visits SELECT g, now() - interval '100 days', 'x' FROM generate_series(200, 40000) g")
        let stopped = try db.retention(["run", "--policies", folder.url.path, "--batch-size", "20", "--max-runtime", "1s"])
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(try manifests(db).last?.status == "stopped")
        let left = try db.int("SELECT count(*) FROM visits")
        let report = db.files.appendingPathComponent("report.json").path
        let result = try db.retention(["report", "--manifests", db.manifestFolder, "--format", "json", "--out", report])
        // Rows past their period after the latest run: the schedule was not kept, so not verified.
        #expect(result.status == 1 && result.stdout.hasPrefix("not verified: "), "\(result.output)")
        let text = try String(contentsOfFile: report, encoding: .utf8)
        #expect(text.range(of: #""still_due"\s*:\s*\#(left)[,\s}]"#, options: .regularExpression) != nil, "\(left): \(text.prefix(4000))")
    }
}

/// libfaketime's preload library, when the machine has it (Debian `faketime`, which install-deps.sh installs).
let fakeTimeLibrary: String? = {
    let folders = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib")) ?? []
    return folders.map { "/usr/lib/\($0)/faketime/libfaketime.so.1" }.first { FileManager.default.fileExists(atPath: $0) }
}()
