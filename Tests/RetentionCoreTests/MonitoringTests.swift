import Foundation
import Testing
import Yams
@testable import RetentionCore

/// The metrics file for Prometheus, the alert rules, the missed-night check and the systemd units.
@Suite struct MonitoringTests {
    /// One sample of a Prometheus text-format file.
    struct Sample: Hashable {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    /// Parses the text exposition format strictly: `# HELP`/`# TYPE` lines, then `name{label="value",...} number`
    /// samples of declared gauges; anything else is an error.
    static func parse(_ text: String) throws -> [Sample] {
        var declared: Set<String> = [], samples: [Sample] = []
        let sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if line.hasPrefix("# HELP ") { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, parts[3] == "gauge" else { throw JSONFormatError("bad TYPE line: \(line)") }
                declared.insert(String(parts[2]))
                continue
            }
            guard let match = try sample.wholeMatch(in: String(line)), let value = Double(match.3) else {
                throw JSONFormatError("not a sample: \(line)")
            }
            guard declared.contains(String(match.1)) else { throw JSONFormatError("sample before its TYPE: \(line)") }
            var labels: [String: String] = [:]
            for pair in (match.2 ?? "").matches(of: /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/) {
                labels[String(pair.1)] = String(pair.2)
            }
            samples.append(Sample(name: String(match.1), labels: labels, value: value))
        }
        return samples
    }

    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }

    func bigTable(_ db: TestDatabase) throws -> PolicyFolder {
        try visitsTable(db, canary: "METRICS-CANARY-")
    }

    @Test func metricsFileAfterCompletedFailedAndInterruptedRunsMatchesTheLedger() throws {
        let db = try TestDatabase(reference: false)
        let folder = try bigTable(db)
        let path = db.files.appendingPathComponent("node-exporter/retention.prom").path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let run = ["run", "--policies", folder.url.path, "--metrics-file", path, "--log-format", "text"]

        // Completed.
        #expect(try db.retention(run).status == 0)
        var text = try String(contentsOfFile: path, encoding: .utf8)
        var samples = try Self.parse(text)
        #expect(Self.value(samples, "retention_run_status", ["status": "completed"]) == 1)
        #expect(Self.value(samples, "retention_run_status", ["status": "failed"]) == 0)
        #expect(Self.value(samples, "retention_rows_purged", ["policy": "v", "library": "", "action": "delete"]) == 30000)
        #expect(Double(try db.int("SELECT sum(rows) FROM retention.batches")) == 30000)
        #expect(Self.value(samples, "retention_rows_kept", ["policy": "v", "reason": "hold"]) == 0)
        #expect(Self.value(samples, "retention_rows_still_due", ["policy": "v"]) == 0)
        #expect(Self.value(samples, "retention_manifest_sequence") == 1)
        #expect((Self.value(samples, "retention_batch_seconds_max", ["policy": "v"]) ?? 0) > 0)
        #expect((Self.value(samples, "retention_run_duration_seconds") ?? 0) > 0)
        #expect(Self.value(samples, "retention_replica_lag_pauses") == 0)
        let success = try #require(Self.value(samples, "retention_last_success_timestamp_seconds"))
        #expect(success == Self.value(samples, "retention_last_run_timestamp_seconds"))
        #expect(abs(success - Date().timeIntervalSince1970) < 120)
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o644)

        // Failed: a trigger refuses the deletes; the last success stays that of the run before.
        try db.sql("""
            INSERT INTO visits SELECT g, now() - interval '100 days', 'METRICS-CANARY-' || g FROM generate_series(30001, 30100) g;
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'no'; END$$;
            CREATE TRIGGER refuse BEFORE DELETE ON visits FOR EACH ROW EXECUTE FUNCTION refuse();
            """)
        try folder.write("v.yaml", "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 10 days\naction: delete\npatron: id\ntriggers: [public.refuse]\n")
        #expect(try db.retention(run).status == 1)
        text = try String(contentsOfFile: path, encoding: .utf8)
        samples = try Self.parse(text)
        #expect(Self.value(samples, "retention_run_status", ["status": "failed"]) == 1)
        #expect(Self.value(samples, "retention_run_status", ["status": "completed"]) == 0)
        #expect(Self.value(samples, "retention_last_success_timestamp_seconds") == success)
        #expect((Self.value(samples, "retention_last_run_timestamp_seconds") ?? 0) > success)
        // A failed run still counts what it left: the 100 rows the trigger refused.
        #expect(Self.value(samples, "retention_rows_still_due", ["policy": "v"]) == 100)
        #expect(Self.value(samples, "retention_manifest_sequence") == 2)
        try db.sql("DROP TRIGGER refuse ON visits")
        try folder.write("v.yaml", "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 10 days\naction: delete\npatron: id\n")

        // Interrupted by SIGTERM after a few batches.
        try db.sql("INSERT INTO visits SELECT g, now() - interval '100 days', 'x' FROM generate_series(40000, 70000) g")
        let child = try db.startRetention(run + ["--batch-size", "20"])
        for _ in 0..<500 where try db.int("SELECT count(DISTINCT batch) FROM retention.batches b JOIN retention.runs r ON r.id = b.run_id WHERE r.status = 'running'") < 3 {
            Thread.sleep(forTimeInterval: 0.01)
        }
        kill(child.process.processIdentifier, SIGTERM)
        #expect(child.wait().status == 143)
        samples = try Self.parse(try String(contentsOfFile: path, encoding: .utf8))
        #expect(Self.value(samples, "retention_run_status", ["status": "interrupted"]) == 1)
        #expect(Self.value(samples, "retention_last_success_timestamp_seconds") == success)
        let purged = try db.int("SELECT sum(rows) FROM retention.batches WHERE run_id = (SELECT max(id) FROM retention.runs)")
        #expect(Self.value(samples, "retention_rows_purged", ["policy": "v"]) == Double(purged))

        // Killed: no metrics are written, and the file is still the last whole one.
        let killed = try db.startRetention(run + ["--batch-size", "20"])
        for _ in 0..<500 where try db.int("SELECT count(DISTINCT batch) FROM retention.batches b JOIN retention.runs r ON r.id = b.run_id WHERE r.status = 'running'") < 3 {
            Thread.sleep(forTimeInterval: 0.01)
        }
        kill(killed.process.processIdentifier, SIGKILL)
        _ = killed.wait()
        samples = try Self.parse(try String(contentsOfFile: path, encoding: .utf8))
        #expect(Self.value(samples, "retention_run_status", ["status": "interrupted"]) == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent) == ["retention.prom"])
        #expect(!text.contains("CANARY"))

        // Refused before it began (the database out of reach): failed, the last success kept.
        let refused = try db.retention(run + ["--db", "host=/nonexistent port=1"])
        #expect(refused.status == 69)
        samples = try Self.parse(try String(contentsOfFile: path, encoding: .utf8))
        #expect(Self.value(samples, "retention_run_status", ["status": "failed"]) == 1)
        #expect(Self.value(samples, "retention_last_success_timestamp_seconds") == success)

        // Another run holds the lock (75): skipped, neither a failure nor a success.
        let other = try db.session()
        _ = try other.query(unsafeSQL: "SELECT pg_advisory_lock(\(RunLock.classID), \(RunLock.runID))")
        #expect(try db.retention(run).status == 75)
        samples = try Self.parse(try String(contentsOfFile: path, encoding: .utf8))
        #expect(Self.value(samples, "retention_run_status", ["status": "skipped"]) == 1)
        #expect(Self.value(samples, "retention_run_status", ["status": "failed"]) == 0)
        #expect(Self.value(samples, "retention_last_success_timestamp_seconds") == success)
        _ = try other.query(unsafeSQL: "SELECT pg_advisory_unlock(\(RunLock.classID), \(RunLock.runID))")

        // Stopped at its time limit with rows left: stopped, and no success (the backlog stays past its period).
        try db.sql("INSERT INTO visits SELECT g, now() - interval '100 days', 'x' FROM generate_series(100000, 160000) g")
        #expect(try db.retention(run + ["--batch-size", "20", "--max-runtime", "1s"]).status == 0)
        samples = try Self.parse(try String(contentsOfFile: path, encoding: .utf8))
        #expect(Self.value(samples, "retention_run_status", ["status": "stopped"]) == 1)
        #expect(Self.value(samples, "retention_last_success_timestamp_seconds") == success)
        #expect((Self.value(samples, "retention_rows_still_due", ["policy": "v"]) ?? 0) > 0)
    }

    /// A metrics file in a missing or unwritable folder stops the run before anything changes (78),
    /// as a manifest folder does: a night whose monitoring cannot report it must not pass unseen.
    @Test func anUnwritableMetricsFolderStopsTheRunBeforeAnyChange() throws {
        let db = try TestDatabase(reference: false)
        let folder = try bigTable(db)
        let readOnly = db.files.appendingPathComponent("read-only").path
        try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: true)
        chmod(readOnly, 0o555)
        defer { chmod(readOnly, 0o755) }
        for (path, problem) in [("/nonexistent/retention.prom", "metrics file folder /nonexistent does not exist"),
                                (readOnly + "/retention.prom", "metrics file folder \(readOnly) is not writable")]
        where problem.hasPrefix("metrics file folder /nonexistent") || getuid() != 0 {
            let result = try db.retention(["run", "--policies", folder.url.path, "--metrics-file", path, "--log-format", "text"])
            #expect(result.status == 78, "\(result.stderr)")
            #expect(result.stderr.contains(problem), "\(result.stderr)")
        }
        #expect(try db.int("SELECT count(*) FROM visits") == 30000)
        #expect(try db.manifestFiles().isEmpty)
    }

    /// Runs `retention ARGS` with stderr appended to `log`, and JOURNAL_STREAM naming `stream`.
    func runLoggingTo(_ log: String, stream: String, _ db: TestDatabase, _ arguments: [String],
                      environment extra: [String: String] = [:]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: retentionBinary)
        process.arguments = arguments
        var environment = db.environment(extra)
        environment["JOURNAL_STREAM"] = stream
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try handle.seekToEnd()
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func logLinesCarryTheirSyslogPriorityWhenStderrIsTheJournal() throws {
        let db = try TestDatabase(reference: false)
        let folder = try bigTable(db)
        let log = db.files.appendingPathComponent("journal.log").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        var status = stat()
        #expect(stat(log, &status) == 0)
        let stream = "\(status.st_dev):\(status.st_ino)"
        // The journal's stream: info at 6, an error at 3, JSON and text alike.
        #expect(try runLoggingTo(log, stream: stream, db, ["check", "--catalog", "--policies", folder.url.path]) == 0)
        #expect(try runLoggingTo(log, stream: stream, db, ["check", "--policies", "/nonexistent-folder", "--log-format", "text"]) == 78)
        var lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(!lines.isEmpty)
        #expect(lines.allSatisfy { $0.hasPrefix("<6>{") || $0.hasPrefix("<3>retention: error: ") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("<6>{") } && lines.contains { $0.hasPrefix("<3>retention: error: policy folder") })
        // Another stream (stderr redirected from the unit's to a file): no prefix.
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        #expect(try runLoggingTo(log, stream: "1:\(status.st_ino)", db, ["check", "--policies", "/nonexistent-folder"]) == 78)
        lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(!lines.isEmpty && lines.allSatisfy { $0.hasPrefix("{") }, "\(lines)")
    }

    @Test func alertRulesParseAndNameOnlyMetricsARunWrites() throws {
        let rules = repositoryRoot.appendingPathComponent("scripts/retention.rules.yml").path
        let yaml = try #require(try Yams.load(yaml: String(contentsOfFile: rules, encoding: .utf8)) as? [String: Any])
        let group = try #require((yaml["groups"] as? [[String: Any]])?.first)
        let list = group["rules"] as? [[String: Any]] ?? []
        #expect(Set(list.compactMap { $0["alert"] as? String })
                == ["RetentionNoSuccessfulRun", "RetentionMetricsMissing", "RetentionRunFailed", "RetentionRowsStillDue",
                    "RetentionRunStoppedTwice", "RetentionRowsOverdueForADay"])
        let written = ["retention_last_run_timestamp_seconds", "retention_last_success_timestamp_seconds", "retention_run_status",
                       "retention_rows_still_due"]
        for rule in list {
            let expr = try #require(rule["expr"] as? String)
            for name in expr.matches(of: /retention_[a-z_]+/).map({ String($0.0) }) {
                #expect(written.contains(name), "\(name) in \(expr)")
            }
            #expect((rule["annotations"] as? [String: Any])?["summary"] is String)
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") {
            let checked = try runProcess("/usr/bin/promtool", ["check", "rules", rules])
            #expect(checked.status == 0, "\(checked.output)")
        }
    }

    /// The systemd units as the package installs them, with the binary's path put in, pass `systemd-analyze verify`.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "needs systemd-analyze"))
    func systemdUnitsVerify() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("retention-units-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var paths: [String] = []
        // A template is verified as an instance of itself: the notify unit as each service's, the
        // instances' as `north`.
        for (name, instance) in [("retention.service", "retention.service"), ("retention.timer", "retention.timer"),
                                 ("retention-notify@.service", "retention-notify@retention.service.service"),
                                 ("retention@.service", "retention@north.service"), ("retention@.timer", "retention@north.timer"),
                                 ("retention-notify@.service", "retention-notify@retention@north.service.service")] {
            let text = try String(contentsOf: repositoryRoot.appendingPathComponent("scripts/\(name)"), encoding: .utf8)
                .replacingOccurrences(of: "/usr/bin/retention", with: retentionBinary)
            let file = folder.appendingPathComponent(instance)
            try text.write(to: file, atomically: true, encoding: .utf8)
            paths.append(file.path)
        }
        // The man page is checked by the package test, where it is installed.
        let verified = try runProcess("/usr/bin/systemd-analyze", ["verify", "--man=no"] + paths)
        #expect(verified.status == 0, "\(verified.output)")
        // The timer starts at 02:15 plus at most its random delay; max_runtime then ends the run by 05:10.
        let timer = try String(contentsOfFile: paths[1], encoding: .utf8)
        #expect(timer.contains("OnCalendar=*-*-* 02:15:00") && timer.contains("RandomizedDelaySec=10min") && timer.contains("Persistent=true"))
        let config = try String(contentsOf: repositoryRoot.appendingPathComponent("scripts/deb/retention.yaml"), encoding: .utf8)
        #expect(config.contains("\nmax_runtime: 2h45m\n"))
        let start = 2 * 60 + 15, delay = 10, runtime = 2 * 60 + 45
        #expect(start + delay + runtime == 5 * 60 + 10)
        let service = try String(contentsOfFile: paths[0], encoding: .utf8)
        #expect(service.contains("OnFailure=retention-notify@%n.service"))
        // An instance's unit is the default one but for its config file and its manifest folder;
        // its timer, the default's schedule.
        func directives(_ path: String, without: [String]) throws -> [String] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
                .filter { !$0.hasPrefix("#") && !$0.isEmpty && !without.contains(where: $0.hasPrefix) }
        }
        let instance = try String(contentsOfFile: paths[3], encoding: .utf8)
        #expect(instance.contains("\nExecStart=\(retentionBinary) run --instance %i\n"))
        #expect(instance.contains("\nReadWritePaths=-/var/lib/retention/manifests/%i\n"))
        let differing = ["Description=", "Environment=RETENTION_CONFIG=", "ExecStart=", "ReadWritePaths=/var/lib/retention/manifests",
                         "ReadWritePaths=-/var/lib/retention/manifests/%i"]
        #expect(try directives(paths[3], without: differing) == (try directives(paths[0], without: differing)))
        #expect(try directives(paths[4], without: ["Description="]) == (try directives(paths[1], without: ["Description="])))
    }
}

/// `--max-replica-lag` against a real streaming standby whose replay is paused.
@Suite struct ReplicaPacingTests {
    @Test func aLaggingReplicaHoldsTheRunUntilItCatchesUpAndTheCountsStayExact() throws {
        let primary = try OwnServer()
        let standby = try OwnServer(standbyOf: primary)
        let db = try TestDatabase(reference: false, server: primary)
        let folder = try visitsTable(db, canary: "REPLICA-CANARY-")
        let replica = try Connection(conninfo: standby.conninfo + " dbname=postgres")
        var streaming: Int64 = 0
        for _ in 0..<200 where streaming == 0 {
            streaming = try db.int("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
            if streaming == 0 { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(streaming == 1)
        let metrics = db.files.appendingPathComponent("retention.prom").path

        // Replay paused: the lag passes the limit and the run stops purging until replay resumes.
        try replica.execute(unsafeSQL: "SELECT pg_wal_replay_pause()")
        let child = try db.startRetention(["run", "--policies", folder.url.path, "--batch-size", "50", "--jobs", "1",
                                           "--max-replica-lag", "1s", "--metrics-file", metrics, "--log-format", "text"])
        var held = false
        for _ in 0..<60 where !held {
            Thread.sleep(forTimeInterval: 0.5)
            let before = try db.int("SELECT count(*) FROM retention.batches")
            Thread.sleep(forTimeInterval: 1.5)
            let after = try db.int("SELECT count(*) FROM retention.batches")
            held = before > 0 && before == after && after < 600
        }
        #expect(held, "the run did not stop while the replica lagged")
        #expect(try db.int("SELECT count(*) FROM visits") > 0)
        try replica.execute(unsafeSQL: "SELECT pg_wal_replay_resume()")
        let result = child.wait()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("more than --max-replica-lag 1 s; waiting until it is under 0.5 s"), "\(result.stderr)")
        #expect(result.stderr.contains("the replica caught up after"))
        #expect(try db.int("SELECT count(*) FROM visits") == 0)
        #expect(try db.int("SELECT sum(rows) FROM retention.batches") == 30000)
        let manifest = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: try db.manifestFiles()[0]))).payload)
        #expect(manifest.policies.first?.rows == 30000)
        #expect(manifest.options["max_replica_lag_seconds"] == .int(1))
        #expect((manifest.options["paused_ms"]?.int ?? 0) > 1000)
        let samples = try MonitoringTests.parse(try String(contentsOfFile: metrics, encoding: .utf8))
        #expect((MonitoringTests.value(samples, "retention_replica_lag_pauses") ?? 0) >= 1)

        // Without the limit a paused replica holds nothing.
        try db.sql("INSERT INTO visits SELECT g, now() - interval '100 days', 'x' FROM generate_series(1, 3000) g")
        try replica.execute(unsafeSQL: "SELECT pg_wal_replay_pause()")
        let unpaced = try db.retention(["run", "--policies", folder.url.path, "--batch-size", "50", "--jobs", "1", "--log-format", "text"])
        #expect(unpaced.status == 0 && !unpaced.stderr.contains("waiting"), "\(unpaced.stderr)")
        #expect(try db.int("SELECT count(*) FROM visits") == 0)
        try replica.execute(unsafeSQL: "SELECT pg_wal_replay_resume()")

        // A role that cannot read the replicas' lag is refused before the first batch.
        try db.sql("INSERT INTO visits SELECT g, now() - interval '100 days', 'x' FROM generate_series(1, 100) g")
        let role = "pacer_\(db.name.suffix(8))"
        try db.sql("""
            CREATE ROLE \(role) LOGIN;
            GRANT USAGE ON SCHEMA retention TO \(role);
            GRANT SELECT ON retention.schema_version, retention.holds TO \(role);
            GRANT SELECT, INSERT, UPDATE ON retention.runs, retention.run_policies TO \(role);
            GRANT SELECT, INSERT ON retention.batches, retention.run_remaining TO \(role);
            GRANT SELECT (id, seen), DELETE ON visits TO \(role);
            """)
        defer { try? db.sql("DROP OWNED BY \(role); DROP ROLE IF EXISTS \(role)") }
        let refused = try db.retention(["run", "--policies", folder.url.path, "--max-replica-lag", "30s", "--log-format", "text"],
                                       environment: ["PGUSER": role])
        #expect(refused.status == 77, "\(refused.stderr)")
        #expect(refused.stderr.contains("GRANT pg_monitor TO \(role)"))
        #expect(try db.int("SELECT count(*) FROM visits") == 100)
    }
}

extension ReplicaPacingTests {
    /// `--max-wal-rate` makes the run wait when it writes WAL faster than allowed; the counts stay exact.
    @Test func aWALRateLimitPacesTheRunAndIsRecorded() throws {
        let db = try TestDatabase(reference: false)
        let folder = try visitsTable(db, canary: "WAL-CANARY-")
        let result = try db.retention(["run", "--policies", folder.url.path, "--max-wal-rate", "1", "--jobs", "1", "--log-format", "text"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try db.int("SELECT count(*) FROM visits") == 0)
        let manifest = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: try db.manifestFiles()[0]))).payload)
        #expect(manifest.policies.first?.rows == 30000)
        #expect(manifest.options["max_wal_rate_mb_per_s"] == .int(1))
        #expect(manifest.options["max_replica_lag_seconds"] == .null)
        #expect((manifest.options["paused_ms"]?.int ?? 0) > 0)
    }
}
