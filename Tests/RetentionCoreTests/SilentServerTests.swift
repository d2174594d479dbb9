import Foundation
import Testing
@testable import RetentionCore

/// A server that stops answering (a stopped process, a link that drops every packet) ends every
/// wait in bounded time: connecting, a batch in flight, and a stop signal during either.
@Suite struct SilentServerTests {
    /// A Unix socket that accepts connections and never answers, like a server frozen after `listen`.
    final class MuteSocket {
        let folder: String
        let port = "5999"
        private let descriptor: Int32

        init() throws {
            folder = "/tmp/rt-mute-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let path = Array("\(folder)/.s.PGSQL.\(port)".utf8CString)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: path.map { UInt8(bitPattern: $0) })
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0, listen(descriptor, 16) == 0 else { throw UsageError("cannot listen", exitCode: .failure) }
        }

        deinit {
            close(descriptor)
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// Connecting to a server that accepts and never answers gives up after 15 s by default (libpq
    /// alone waits for ever), and after `PGCONNECT_TIMEOUT` when that is set: 69, libpq's message.
    @Test func connectingToAServerThatNeverAnswersGivesUp() throws {
        let mute = try MuteSocket()
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") && !$0.key.hasPrefix("RETENTION_") }
        environment["RETENTION_CONFIG"] = "/dev/null"
        let arguments = ["hold", "list", "--db", "host=\(mute.folder) port=\(mute.port) dbname=library user=clerk"]
        for (timeout, bound) in [(nil, 15.0...30.0), ("2", 2.0...10.0)] as [(String?, ClosedRange<Double>)] {
            var env = environment
            env["PGCONNECT_TIMEOUT"] = timeout
            let began = Date()
            let result = try runProcess(retentionBinary, arguments, environment: env)
            let took = Date().timeIntervalSince(began)
            #expect(result.status == 69 && result.stderr.contains("timeout expired"), "\(result.stderr)")
            #expect(bound.contains(took), "took \(took) s with PGCONNECT_TIMEOUT=\(timeout ?? "unset")")
        }
    }

    /// A stop signal while `run` is still connecting (a server that accepts and never answers, with
    /// no connect timeout: a service file's own, or `connect_timeout=0`) ends it at once with the
    /// signal's exit status: nothing is done yet. Every session turns the database's
    /// idle_session_timeout off, so a batch's retry wait cannot end it.
    @Test func aStopSignalWhileConnectingEndsTheRunAtOnce() throws {
        let mute = try MuteSocket()
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") && !$0.key.hasPrefix("RETENTION_") }
        environment["RETENTION_CONFIG"] = "/dev/null"
        let files = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                      + "retain: 10 days\naction: delete\n"])
        let keys = files.url.appendingPathComponent("keys")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: files.url.appendingPathComponent("manifests"), withIntermediateDirectories: true)
        let key = try SigningKeys.generate(in: keys.path)
        environment["RETENTION_SIGNING_KEY"] = key.privateKeyPath
        environment["RETENTION_MANIFESTS"] = files.url.appendingPathComponent("manifests").path
        let child = try startProcess(retentionBinary, ["run", "--policies", files.url.path, "--db",
                                                       "host=\(mute.folder) port=\(mute.port) dbname=library connect_timeout=0"],
                                     environment: environment)
        Thread.sleep(forTimeInterval: 1.5)
        child.process.terminate()
        let (result, took) = waitBounded(child, seconds: 20)
        #expect(result.status == 143 && took < 5, "exit \(result.status) after \(took) s: \(result.stderr)")

        let db = try TestDatabase(reference: false, setup: false)
        try db.sql("ALTER DATABASE \(quoteIdentifier(db.name)) SET idle_session_timeout = '1500ms'")
        #expect(try Connection(conninfo: db.conninfo).query("SELECT current_setting('idle_session_timeout') AS t").single().string("t") == "0")
    }

    /// The tool's defaults yield to the connection string's own values, to `PGCONNECT_TIMEOUT`, and
    /// wholly to a service file (libpq would let them win over the file's values).
    @Test func connectionDefaultsYieldToTheUsersOwn() throws {
        let plain = Connection.protectiveDefaults(for: "dbname=x", environment: [:])
        #expect(plain.map(\.0) == ["connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count"])
        #expect(plain.first?.1 == "15")
        #expect(!Connection.protectiveDefaults(for: nil, environment: ["PGCONNECT_TIMEOUT": "3"]).map(\.0).contains("connect_timeout"))
        #expect(Connection.protectiveDefaults(for: "service=library", environment: [:]).isEmpty)
        #expect(Connection.protectiveDefaults(for: nil, environment: ["PGSERVICE": "library"]).isEmpty)
        // The connection string's own connect_timeout wins (libpq expands it after the defaults).
        let db = try TestDatabase(reference: false, setup: false)
        let connection = try Connection(conninfo: db.conninfo + " connect_timeout=7")
        #expect(connection.conninfoWithoutPassword.contains("connect_timeout='7'"))
        #expect(try Connection(conninfo: db.conninfo).conninfoWithoutPassword.contains("connect_timeout='15'"))
    }

    /// A table whose delete sleeps 2 s per statement, 100 rows all due, on a server of the test's own.
    func sleepyTable(_ db: TestDatabase) throws -> PolicyFolder {
        try db.sql("""
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz);
            INSERT INTO visits SELECT g, now() - interval '100 days' FROM generate_series(1, 100) g;
            CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(2); RETURN NULL; END $$;
            CREATE TRIGGER slow BEFORE DELETE ON visits FOR EACH STATEMENT EXECUTE FUNCTION slow();
            """)
        return try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                 + "retain: 10 days\naction: delete\ntriggers: [public.slow]\n"])
    }

    /// Stops every process of `server` (`SIGSTOP`) once a batch is inside its delete; returns the
    /// process ids to continue.
    func freezeDuringDelete(_ server: OwnServer, watching db: TestDatabase,
                            when waiting: String = "wait_event = 'PgSleep'") throws -> [String] {
        let deadline = Date().addingTimeInterval(60)
        while try db.int("SELECT count(*) FROM pg_stat_activity WHERE \(waiting) AND datname = current_database() AND pid <> pg_backend_pid()") == 0 {
            guard Date() < deadline else { throw UsageError("the run never reached its delete", exitCode: .failure) }
            usleep(50_000)
        }
        let postmaster = try String(contentsOfFile: "\(server.directory)/data/postmaster.pid", encoding: .utf8)
            .split(separator: "\n")[0]
        let children = runShell("pgrep -P \(postmaster)").stdout.split(separator: "\n").map(String.init)
        let all = [String(postmaster)] + children
        _ = runShell("kill -STOP \(all.joined(separator: " "))")
        return all
    }

    /// Waits at most `seconds` for `child` to end; kills it after that (so a hang fails the test, never the suite).
    func waitBounded(_ child: ChildProcess, seconds: Double) -> (ProcessResult, Double) {
        let began = Date()
        let watchdog = DispatchWorkItem { child.process.terminate(); kill(child.process.processIdentifier, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: watchdog)
        let result = child.wait()
        watchdog.cancel()
        return (result, Date().timeIntervalSince(began))
    }

    /// A server that stops answering in the middle of a batch: the run waits its statement timeout
    /// and a margin (3 s + 5 s), gives the connection up, cannot reach the server again, and fails
    /// (1) saying why; nothing was purged, and the next run, with the server back, finalizes the lost
    /// run (recovered from its ledger) and purges.
    @Test func aRunWhoseServerStopsAnsweringGivesUpInBoundedTime() throws {
        let server = try OwnServer()
        let db = try TestDatabase(reference: false, server: server)
        let folder = try sleepyTable(db)
        let run = try db.startRetention(["run", "--policies", folder.url.path, "--statement-timeout", "3s", "--log-format", "text"],
                                        environment: ["PGCONNECT_TIMEOUT": "2"])
        let frozen = try freezeDuringDelete(server, watching: db)
        let (result, took) = waitBounded(run, seconds: 120)
        _ = runShell("kill -CONT \(frozen.joined(separator: " "))")
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("the server did not answer for"), "\(result.stderr)")
        #expect(took < 60, "took \(took) s")
        #expect(try db.int("SELECT count(*) FROM visits") == 100)
        let next = try db.retention(["run", "--policies", folder.url.path])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try db.strings("SELECT status FROM retention.runs ORDER BY id") == ["recovered", "completed"], "\(next.stderr)")
        #expect(try db.int("SELECT count(*) FROM visits") == 0)
    }

    /// SIGTERM to a run whose server stopped answering mid-batch (statement timeout 60 s, so the run
    /// alone would wait 90 s): 10 s for the batch, then a cancel the server cannot answer, 5 s for
    /// that, and the run ends without trying to reconnect: well inside a service manager's 90 s.
    @Test func aStopSignalEndsARunWhoseServerStoppedAnswering() throws {
        let server = try OwnServer()
        let db = try TestDatabase(reference: false, server: server)
        let folder = try sleepyTable(db)
        let run = try db.startRetention(["run", "--policies", folder.url.path, "--log-format", "text"])
        let frozen = try freezeDuringDelete(server, watching: db)
        usleep(500_000)
        let signalled = Date()
        run.process.terminate()
        let (result, _) = waitBounded(run, seconds: 120)
        let took = Date().timeIntervalSince(signalled)
        _ = runShell("kill -CONT \(frozen.joined(separator: " "))")
        #expect(result.status != 0, "\(result.stderr)")
        #expect(result.stderr.contains("did not end a cancelled statement"), "\(result.stderr)")
        #expect((14...30).contains(took), "took \(took) s after SIGTERM")
        #expect(try db.int("SELECT count(*) FROM visits") == 100)
    }

    /// Every command's statements are bounded, not only a run's batches: `plan` over a consent view
    /// that sleeps, its server stopped mid-count, gives up after its statement timeout and a margin
    /// (2 s + 5 s) instead of waiting for ever.
    @Test func planGivesUpOnAServerThatStoppedAnswering() throws {
        let server = try OwnServer()
        let db = try TestDatabase(reference: false, server: server)
        try db.sql("""
            CREATE TABLE patrons (id int PRIMARY KEY, keep boolean);
            INSERT INTO patrons VALUES (1, true);
            CREATE VIEW consenting AS SELECT id, keep FROM patrons WHERE pg_sleep(3) IS NOT NULL;
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, patron int);
            INSERT INTO visits SELECT g, now() - interval '100 days', 1 FROM generate_series(1, 10) g;
            """)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\n"
                                       + "retain: 10 days\naction: delete\npatron: patron\n"
                                       + "consent: {table: public.consenting, key: id, keep_if: keep}\n"])
        let plan = try db.startRetention(["plan", "--policies", folder.url.path, "--log-format", "text"],
                                         environment: ["RETENTION_STATEMENT_TIMEOUT": "2s"])
        let frozen = try freezeDuringDelete(server, watching: db)
        let (result, took) = waitBounded(plan, seconds: 120)
        _ = runShell("kill -CONT \(frozen.joined(separator: " "))")
        #expect(result.status == 69 && result.stderr.contains("the server did not answer for"), "\(result.stderr)")
        #expect(took < 30, "took \(took) s")
    }

    /// SIGTERM to a run that waits for a table lock before its first batch, its server stopped:
    /// the wait is cancelled 10 s after the signal, the cancel goes unanswered, and the run ends.
    @Test func aStopSignalEndsARunWaitingForALockOnASilentServer() throws {
        let server = try OwnServer()
        let db = try TestDatabase(reference: false, server: server)
        let folder = try sleepyTable(db)
        let holder = try db.session()
        try holder.execute(unsafeSQL: "BEGIN; LOCK TABLE visits IN ACCESS EXCLUSIVE MODE")
        let run = try db.startRetention(["run", "--policies", folder.url.path, "--lock-timeout", "10min", "--log-format", "text"])
        let frozen = try freezeDuringDelete(server, watching: db, when: "wait_event_type = 'Lock'")
        let signalled = Date()
        run.process.terminate()
        let (result, _) = waitBounded(run, seconds: 120)
        let took = Date().timeIntervalSince(signalled)
        _ = runShell("kill -CONT \(frozen.joined(separator: " "))")
        try holder.execute(unsafeSQL: "ROLLBACK")
        #expect(result.status != 0, "\(result.stderr)")
        #expect((9...40).contains(took), "took \(took) s after SIGTERM")
        #expect(try db.int("SELECT count(*) FROM visits") == 100)
    }
}
