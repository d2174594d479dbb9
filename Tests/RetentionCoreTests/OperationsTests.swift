import Foundation
import Testing
@testable import RetentionCore

/// The nightly job as cron and systemd see it: logs, signals, timeouts and a server that goes away.
@Suite struct OperationsTests {
    /// A table of 30,000 old visits with canary names, and a policy that deletes them all.
    func bigTable(_ db: TestDatabase) throws -> PolicyFolder {
        try visitsTable(db, canary: "OPS-CANARY-")
    }

    /// Waits until the run has committed `batches` batches.
    func waitForBatches(_ db: TestDatabase, _ batches: Int64) throws -> Bool {
        for _ in 0..<500 {
            if try db.int("SELECT count(DISTINCT batch) FROM retention.batches") >= batches { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }

    func manifests(_ db: TestDatabase) throws -> [Manifest] {
        try db.manifestFiles().map { try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: $0))).payload) }
    }

    @Test func jsonLogsParseLineByLineCarryTheSummaryAndNoPersonalData() throws {
        let db = try TestDatabase(reference: false)
        let folder = try bigTable(db)
        let result = try db.retention(["run", "--policies", folder.url.path, "--log-format", "json", "--log-level", "trace",
                                       "--batch-size", "5000"])
        #expect(result.status == 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count > 5)
        var messages: [String] = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(line)")
            #expect(object["time"] != nil && object["level"] != nil)
            messages.append(object["message"] ?? "")
        }
        #expect(messages.contains { $0.hasPrefix("run completed in ") && $0.hasSuffix("v deleted 30000") })
        // One line per batch: 30,000 keys in batches of 5,000 (two sessions may split one more).
        let batches = try db.int("SELECT count(DISTINCT batch) FROM retention.batches")
        #expect(batches >= 6 && messages.filter { $0 == "batch committed" }.count == batches)
        #expect(!result.output.contains("CANARY"))
        // No progress display in a pipe: no carriage returns, no rates.
        #expect(!result.output.contains("\r") && !result.output.contains("rows/s"))
        #expect(result.stdout.isEmpty)
    }

    @Test(arguments: [(SIGTERM, Int32(143)), (SIGINT, Int32(130))])
    func signalFinishesTheBatchAndWritesAnInterruptedManifest(signal: Int32, exit: Int32) throws {
        let db = try TestDatabase(reference: false)
        let folder = try bigTable(db)
        let child = try db.startRetention(["run", "--policies", folder.url.path, "--batch-size", "20"])
        #expect(try waitForBatches(db, 3))
        kill(child.process.processIdentifier, signal)
        let result = child.wait()
        #expect(result.status == exit, "\(result.stderr)")
        let gone = 30000 - (try db.int("SELECT count(*) FROM visits"))
        #expect(gone > 0 && gone < 30000)
        let written = try manifests(db)
        #expect(written.map(\.status) == ["interrupted"])
        #expect(written.first?.policies.first?.rows == gone)
        #expect(try db.int("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())") == 0)
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
        let rest = try db.retention(["run", "--policies", folder.url.path])
        #expect(rest.status == 0)
        #expect(try db.int("SELECT count(*) FROM visits") == 0)
    }

    /// A completed run counts what it left due (0, no age), and so does a stopped one (what it left,
    /// never read as 0); the count itself, taken before any batch, finds every due row and the oldest
    /// age, per library, in the manifest.
    @Test func everyRunRecordsWhatIsStillDueStoppedOrNot() throws {
        let db = try TestDatabase(reference: false)
        let folder = try bigTable(db)
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)
        var written = try manifests(db)
        #expect(written.last?.status == "completed")
        #expect(written.last?.policies.first?.remaining == Remaining(stillDue: 0, oldestDueDays: nil))

        // A run stopped at --max-runtime did not finish: it counts what it left, exactly what is in the table.
        try db.sql("INSERT INTO visits SELECT g, now() - interval '100 days', 'x' FROM generate_series(50000, 80000) g")
        let stopped = try db.retention(["run", "--policies", folder.url.path, "--batch-size", "20", "--max-runtime", "1s"])
        #expect(stopped.status == 0, "\(stopped.stderr)")
        written = try manifests(db)
        #expect(written.last?.status == "stopped")
        let leftDue = try db.int("SELECT count(*) FROM visits WHERE seen < now() - interval '10 days'")
        #expect(leftDue > 0)
        #expect(written.last?.policies.first?.remaining == Remaining(stillDue: leftDue, oldestDueDays: 100))
        let shown = try db.retention(["show", try #require(try db.manifestFiles().last)])
        #expect(shown.stdout.contains("still due after the run: \(TextTable.grouped(leftDue)), the oldest 100 days old"), "\(shown.stdout)")
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)

        // The count on its own, as if the run had purged nothing: every due row, and the oldest's age.
        let left = try db.int("SELECT count(*) FROM visits")
        try db.sql("UPDATE visits SET seen = now() - interval '45 days' WHERE id > 79000")
        let resolved = try db.resolve(folder.url)
        let runner = Runner(connection: db.connection, logger: quietLogger)
        var summary = try runner.start(resolved, options: RunOptions())
        runner.recordRemaining(resolved, summary: &summary, within: "0")
        #expect(summary.policies.first?.stillDue == left)
        try db.sql("UPDATE retention.runs SET status = 'completed', finished_at = now() WHERE id = \(summary.runID)")
        let manifest = try ManifestStore(connection: db.connection, settings: try ManifestSettings(
            directory: db.manifestFolder, signingKeyPath: db.signingKeyPath), logger: quietLogger).build(runID: summary.runID)
        #expect(manifest.policies.first?.remaining == Remaining(stillDue: left, oldestDueDays: 100))
        #expect(manifest.policies.first?.libraries.map(\.remaining) == [Remaining(stillDue: left, oldestDueDays: 100)])
    }

    /// `--max-rows` caps a night of a large backlog: the run stops (status `stopped`, exit 0) close
    /// to the cap, in any number of sessions, records what it left due, and the next night goes on.
    @Test func maxRowsStopsTheNightAtItsCapAndTheNextNightGoesOn() throws {
        let db = try TestDatabase(reference: false)
        let folder = try visitsTable(db, canary: "MAXROWS-CANARY-")
        let first = try db.retention(["run", "--policies", folder.url.path, "--max-rows", "1000", "--jobs", "2", "--log-format", "text"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("stopped at --max-rows"), "\(first.stderr)")
        var written = try manifests(db)
        #expect(written.last?.status == "stopped")
        let purged = 30000 - (try db.int("SELECT count(*) FROM visits"))
        // The sessions reserve their batches' keys from the cap: a row a key, exactly the cap here.
        #expect(purged == 1000, "\(purged)")
        #expect(written.last?.policies.first?.rows == purged)
        #expect(written.last?.policies.first?.remaining == Remaining(stillDue: 30000 - purged, oldestDueDays: 100))
        #expect(written.last?.options["max_rows"] == .int(1000))
        // RETENTION_MAX_ROWS the same; a bad value is refused before anything changes.
        let bad = try db.retention(["run", "--policies", folder.url.path, "--max-rows", "0"])
        #expect(bad.status == 64)
        let badEnvironment = try db.retention(["run", "--policies", folder.url.path], environment: ["RETENTION_MAX_ROWS": "many"])
        #expect(badEnvironment.status == 78)
        #expect(try db.int("SELECT count(*) FROM visits") == 30000 - purged)
        let second = try db.retention(["run", "--policies", folder.url.path], environment: ["RETENTION_MAX_ROWS": "5000"])
        #expect(second.status == 0)
        #expect(try db.int("SELECT count(*) FROM visits") == 30000 - purged - 5000)
        // Without a cap the night finishes the backlog.
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)
        written = try manifests(db)
        #expect(written.map(\.status) == ["stopped", "stopped", "completed"])
        #expect(try db.int("SELECT count(*) FROM visits") == 0)
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
    }

    @Test func lockedRowTimesOutIsRetriedAndNothingIsDoubleCounted() throws {
        let db = try TestDatabase(reference: false)
        let folder = try bigTable(db)
        let clerk = try db.session()
        try clerk.execute(unsafeSQL: "BEGIN; SELECT * FROM visits WHERE id = 15000 FOR UPDATE;")
        let child = try db.startRetention(["run", "--policies", folder.url.path, "--batch-size", "1000",
                                           "--lock-timeout", "100ms", "--log-format", "text"])
        // Let the batch time out at least once, then the clerk finishes.
        for _ in 0..<300 {
            if try db.int("SELECT count(DISTINCT batch) FROM retention.batches") >= 15 { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        Thread.sleep(forTimeInterval: 1.2)
        try clerk.execute(unsafeSQL: "COMMIT")
        let result = child.wait()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("batch waited past the lock timeout; trying again"))
        #expect(try db.int("SELECT count(*) FROM visits") == 0)
        #expect(try db.int("SELECT sum(rows) FROM retention.batches") == 30000)
        #expect(try db.int("SELECT count(*) FROM (SELECT batch FROM retention.batches GROUP BY batch HAVING count(*) > 1) d") == 0)
        #expect(try manifests(db).first?.policies.first?.rows == 30000)
    }

    /// One session stops at the locked batch; with two, the other session's half is purged meanwhile.
    @Test(arguments: [1, 2]) func lockHeldThroughEveryRetryFailsCleanly(jobs: Int) throws {
        let db = try TestDatabase(reference: false)
        let folder = try bigTable(db)
        let clerk = try db.session()
        try clerk.execute(unsafeSQL: "BEGIN; SELECT * FROM visits WHERE id = 15000 FOR UPDATE;")
        let result = try db.retention(["run", "--policies", folder.url.path, "--batch-size", "1000",
                                       "--lock-timeout", "50ms", "--log-format", "text", "--jobs", String(jobs)])
        try clerk.execute(unsafeSQL: "ROLLBACK")
        #expect(result.status == 1)
        #expect(result.stderr.contains("failed: database error 55P03"))
        let gone = 30000 - (try db.int("SELECT count(*) FROM visits"))
        #expect(try db.int("SELECT count(*) FROM visits WHERE id = 15000") == 1)
        if jobs == 1 {
            #expect(gone == 14000)
            #expect(try db.int("SELECT count(*) FROM visits WHERE id BETWEEN 14001 AND 15000") == 1000)
        } else {
            // Two sessions split the keys near 15,000 (by the key's histogram): the session that meets
            // the lock stops there; the other purges its whole slice meanwhile.
            #expect(gone >= 14000)
            #expect(try db.int("SELECT count(*) FROM visits WHERE id <= 14000") == 0)
        }
        let written = try manifests(db)
        #expect(written.map(\.status) == ["failed"])
        #expect(written.first?.policies.first?.rows == gone)
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
    }

    @Test func serverRestartMidRunExits1AndTheNextRunRecovers() throws {
        // This test owns a server of its own, so stopping it disturbs no other test.
        let dir = "/tmp/rt-own-\(UUID().uuidString.prefix(8))"
        let pg = repositoryRoot.appendingPathComponent("scripts/pg.sh").path
        let started = runShell("bash '\(pg)' start '\(dir)'")
        #expect(started.status == 0, "\(started.stderr)")
        defer { _ = runShell("bash '\(pg)' stop '\(dir)'") }
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RETENTION_") }
        for line in started.stdout.split(separator: "\n") {
            let parts = line.replacingOccurrences(of: "export ", with: "").split(separator: "=", maxSplits: 1)
            if parts.count == 2 { environment[String(parts[0])] = String(parts[1]) }
        }
        let conninfo = "host=\(environment["PGHOST"]!) port=\(environment["PGPORT"]!) user=postgres dbname=postgres"
        let db = try Connection(conninfo: conninfo)
        try db.execute(unsafeSQL: """
            CREATE TABLE public.visits (id int PRIMARY KEY, seen timestamptz);
            INSERT INTO public.visits SELECT g, now() - interval '100 days' FROM generate_series(1, 30000) g;
            """)
        try RetentionSchema.install(on: db, logger: quietLogger)
        let files = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 10 days\naction: delete\n"])
        let keys = files.url.appendingPathComponent("keys")
        let manifestFolder = files.url.appendingPathComponent("manifests")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: manifestFolder, withIntermediateDirectories: true)
        let key = try SigningKeys.generate(in: keys.path)
        environment["RETENTION_SIGNING_KEY"] = key.privateKeyPath
        environment["RETENTION_PUBLIC_KEY"] = key.publicKeyPath
        environment["RETENTION_MANIFESTS"] = manifestFolder.path
        environment["RETENTION_CONFIG"] = "/dev/null"
        environment["PGDATABASE"] = "postgres"
        let arguments = ["run", "--policies", files.url.path, "--log-format", "text"]

        let child = try startProcess(retentionBinary, arguments + ["--batch-size", "20"], environment: environment)
        var batches: Int64 = 0
        for _ in 0..<500 where batches < 3 {
            Thread.sleep(forTimeInterval: 0.01)
            batches = Int64(try db.query("SELECT count(DISTINCT batch) FROM retention.batches").rows[0][0] ?? "") ?? 0
        }
        #expect(batches >= 3)
        let restarted = runShell("bash '\(pg)' restart '\(dir)'")
        #expect(restarted.status == 0, "\(restarted.stderr)")
        let result = child.wait()
        #expect(result.status == 1, "\(result.stderr)")

        let after = try Connection(conninfo: conninfo)
        let gone = 30000 - (Int64(try after.query("SELECT count(*) FROM public.visits").rows[0][0] ?? "") ?? 0)
        #expect(gone > 0 && gone < 30000)
        let next = try runProcess(retentionBinary, arguments, environment: environment)
        #expect(next.status == 0, "\(next.stderr)")
        let verify = try runProcess(retentionBinary, ["verify", "--ledger", manifestFolder.path], environment: environment)
        #expect(verify.status == 0, "\(verify.output)")
        let written = try FileManager.default.contentsOfDirectory(atPath: manifestFolder.path).sorted().map {
            try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: manifestFolder.appendingPathComponent($0))).payload)
        }
        #expect(written.count == 2)
        #expect(["failed", "recovered"].contains(written[0].status))
        #expect(written[0].policies[0].rows == gone)
        #expect(written[1].policies[0].rows == 30000 - gone)
    }
}
