import Foundation
import Testing
@testable import RetentionCore

/// The real `retention` binary: exit statuses of SPEC §5, one-line messages, and no change on error.
@Suite struct CommandLineTests {
    /// A reference database with the hand-made loans and the shipped policies.
    func prepared() throws -> (TestDatabase, PolicyFolder) {
        let db = try TestDatabase()
        try db.sql(loanCases)
        return (db, try PolicyFolder.shipped())
    }

    @Test func badCommandLineExits64() throws {
        let (db, policies) = try prepared()
        let before = try db.fingerprint()
        for arguments in [["frobnicate"], ["run", "--batch-size", "0"], ["run", "--jobs", "0"], ["run", "--jobs", "17"],
                          ["run", "--max-runtime", "soon"],
                          ["run", "--policies", policies.url.path, "--only", "no-such-policy"], ["plan", "--bogus"]] {
            let result = try db.retention(arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(!result.stderr.isEmpty)
        }
        // The report's and the pacing's own values.
        let out = db.files.appendingPathComponent("r.html").path
        for (arguments, message) in [
            (["report", "--since", "2026-13-01", "--out", out], "--since must be a date like 2026-01-31; found '2026-13-01'"),
            (["report", "--since", "2026-06-02", "--until", "2026-06-01", "--out", out], "--since 2026-06-02 is after --until 2026-06-01"),
            (["report", "--backup-retention", "35 days\u{1B}[2J", "--out", out], "--backup-retention holds a control character"),
            (["run", "--max-wal-rate", "0"], "--max-wal-rate must be a whole number of MB per second, 1 or more; found '0'"),
            (["run", "--max-replica-lag", "soon"], "--max-replica-lag must be a duration like 30s or 2m, at most a week; found 'soon'"),
        ] {
            let result = try db.retention(arguments + ["--log-format", "text"])
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
        // --db on a command that uses the database only with --ledger, without the flag.
        for arguments in [["verify", "--db", "dbname=\(db.name)", db.manifestFolder],
                          ["report", "--db", "dbname=\(db.name)", "--out", db.files.appendingPathComponent("r.html").path]] {
            let result = try db.retention(arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("--db is the connection for --ledger; to use the ledger: retention \(arguments[0]) --ledger"))
        }
        #expect(try db.fingerprint() == before)
    }

    @Test func invalidPolicyFileExits65AndChangesNothing() throws {
        let (db, _) = try prepared()
        let folder = try PolicyFolder(["bad.yaml": validLoanPolicy.replacingOccurrences(of: "retain: 30 days", with: "retain: forever")])
        let before = try db.fingerprint()
        for command in ["check", "plan", "run"] {
            let result = try db.retention([command, "--policies", folder.url.path, "--log-format", "text"])
            #expect(result.status == 65, "\(command)")
            #expect(result.stderr.contains("bad.yaml:7:9: retain must be"), "\(result.stderr)")
        }
        #expect(try db.fingerprint() == before)
    }

    @Test func missingTableExits78AndChangesNothing() throws {
        let (db, _) = try prepared()
        let folder = try PolicyFolder(["bad.yaml": validLoanPolicy.replacingOccurrences(of: "public.loans", with: "public.gone")])
        let before = try db.fingerprint()
        #expect(try db.retention(["check", "--policies", folder.url.path]).status == 0)
        for arguments in [["check", "--catalog"], ["plan"], ["run"]] {
            let result = try db.retention(arguments + ["--policies", folder.url.path, "--log-format", "text"])
            #expect(result.status == 78, "\(arguments)")
            #expect(result.stderr.contains("table public.gone does not exist"))
        }
        #expect(try db.fingerprint() == before)
    }

    @Test func runBeforeSetupExits78() throws {
        let db = try TestDatabase(setup: false)
        let policies = try PolicyFolder.shipped()
        let result = try db.retention(["run", "--policies", policies.url.path, "--log-format", "text"])
        #expect(result.status == 78)
        #expect(result.stderr.contains("run `retention setup` first"))
        #expect(try db.int("SELECT count(*) FROM pg_namespace WHERE nspname = 'retention'") == 0)
        #expect(try db.retention(["setup"]).status == 0)
        #expect(try db.retention(["setup"]).status == 0)
        #expect(try db.retention(["plan", "--policies", policies.url.path]).status == 0)
    }

    @Test func unreachableDatabaseExits69() throws {
        let (db, policies) = try prepared()
        let result = try db.retention(["plan", "--policies", policies.url.path, "--db", "host=/nonexistent port=1",
                                       "--log-format", "text"])
        #expect(result.status == 69)
        #expect(result.stderr.contains("database error"))
        // One line of error; beside it only the warning that --db overrides the test's PGHOST and PGPORT.
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.filter { $0.contains("error") }.count == 1, "\(result.stderr)")
        #expect(lines.allSatisfy { $0.contains("error") || $0.contains("set but not used") }, "\(result.stderr)")
    }

    @Test func passwordInConninfoIsWarnedAboutAndNeverPrinted() throws {
        let (db, policies) = try prepared()
        let result = try db.retention(["plan", "--policies", policies.url.path, "--db",
                                       "dbname=\(db.name) password=S3cr3tPassw0rd", "--log-format", "text"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("the connection string holds a password"))
        #expect(!result.output.contains("S3cr3tPassw0rd"))
    }

    @Test func runWhileAnotherHoldsTheLockExits75AndChangesNothing() throws {
        let (db, policies) = try prepared()
        try db.connection.query("SELECT pg_advisory_lock($1::int4, $2::int4)", [String(RunLock.classID), String(RunLock.runID)])
        let before = try db.fingerprint()
        let result = try db.retention(["run", "--policies", policies.url.path, "--log-format", "text"])
        #expect(result.status == 75)
        #expect(result.stderr.contains("another retention run holds the lock"))
        #expect(try db.fingerprint() == before)
    }

    @Test func twoRunsAtOnceOneExits75AndNothingIsDoubleCounted() throws {
        let (db, policies) = try prepared()
        // A clerk's open transaction locks a due loan, so the first run waits inside its first batch.
        let clerk = try db.session()
        try clerk.execute(unsafeSQL: "BEGIN; SELECT * FROM loans WHERE id = 1 FOR UPDATE;")
        let first = try db.startRetention(["run", "--policies", policies.url.path, "--only", "loan-history"])
        var waiting = false
        for _ in 0..<100 where !waiting {
            waiting = try db.int("""
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%purged AS (%'
                """) == 1
            if !waiting { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(waiting)
        let second = try db.retention(["run", "--policies", policies.url.path, "--only", "loan-history", "--log-format", "text"])
        #expect(second.status == 75)
        try clerk.execute(unsafeSQL: "COMMIT")
        let firstResult = first.wait()
        #expect(firstResult.status == 0, "\(firstResult.stderr)")
        #expect(try db.int("SELECT count(*) FROM retention.runs") == 1)
        #expect(try db.int("SELECT sum(rows) FROM retention.batches") == 3)
        #expect(try db.int(independentLoanDueCount) == 0)
    }

    @Test func planIsReadOnlyAndItsJSONMatchesTheRun() throws {
        let (db, policies) = try prepared()
        let before = try db.fingerprint()
        let text = try db.retention(["plan", "--policies", policies.url.path])
        #expect(text.status == 0)
        #expect(text.stdout.contains("loan-history v2: anonymize public.loans (retain 30 days)"))
        #expect(text.stdout.contains("nothing was changed"))
        let json = try db.retention(["plan", "--json", "--policies", policies.url.path])
        #expect(json.status == 0)
        #expect(try db.fingerprint() == before)
        let report = try JSONDecoder().decode(PlanReport.self, from: Data(json.stdout.utf8))
        let loans = try #require(report.policies.first { $0.name == "loan-history" })
        #expect(loans.due == 3 && loans.counts[.consent] == 1 && loans.counts[.keepWhen] == 2)
        let run = try db.retention(["run", "--policies", policies.url.path, "--quiet"])
        #expect(run.status == 0)
        #expect(run.output.isEmpty, "quiet run prints nothing on success: \(run.output)")
        #expect(try db.int("SELECT sum(rows) FROM retention.batches WHERE policy = 'loan-history'") == loans.due)
    }

    @Test func noPersonalDataInAnyOutput() throws {
        let (db, policies) = try prepared()
        try db.sql("""
            WITH e AS (INSERT INTO events (library_code, title, starts_at) VALUES ('AUGUSTA', 'Story time', now())
                       RETURNING id)
            INSERT INTO event_attendance (event_id, patron_id, attendee_name, library_code, attended_at)
            SELECT e.id, NULL, 'CANARY-WALKIN-' || g, 'AUGUSTA', now() - interval '200 days'
            FROM e, generate_series(1, 5) g;
            INSERT INTO computer_signups (library_code, computer, guest_name, started_at)
            SELECT 'BANGOR', 'PC-1', 'CANARY-GUEST-' || g, now() - interval '100 days' FROM generate_series(1, 5) g;
            """)
        var output = ""
        for arguments in [["check", "--catalog"], ["plan"], ["plan", "--json"], ["run", "--log-level", "trace"],
                          ["run", "--log-level", "trace", "--log-format", "text"], ["plan"]] {
            let result = try db.retention(arguments + ["--policies", policies.url.path])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            output += result.output
        }
        #expect(try db.int("SELECT count(*) FROM event_attendance") == 0)
        #expect(!output.isEmpty)
        #expect(!output.contains("CANARY"))
        #expect(!output.contains("canary"))
        #expect(!output.contains("I11"))
    }
}

/// Password authentication over the socket, for one role of the test server's own.
/// Serialized: the role and the pg_hba.conf line are the cluster's, created by whichever test comes first.
@Suite(.serialized) struct AuthenticationTests {
    /// Creates a role that must log in with a password, and makes the server ask for it.
    func passwordRole(on db: TestDatabase) throws -> String {
        let role = "retention_pw_test"
        try db.sql("""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '\(role)') THEN
                    CREATE ROLE \(role) LOGIN PASSWORD 'right-horse-battery';
                END IF;
            END $$;
            GRANT CONNECT ON DATABASE \(db.name) TO \(role);
            """)
        let hba = try #require(try db.strings("SHOW hba_file").first ?? nil)
        let text = try String(contentsOfFile: hba, encoding: .utf8)
        let line = "local all \(role) scram-sha-256\n"
        if !text.hasPrefix(line) {
            try (line + text).write(toFile: hba, atomically: false, encoding: .utf8)
            try db.sql("SELECT pg_reload_conf()")
            Thread.sleep(forTimeInterval: 0.3)
        }
        return role
    }

    @Test func wrongPasswordExits69WithoutEchoingIt() throws {
        let db = try TestDatabase()
        let role = try passwordRole(on: db)
        let policies = try PolicyFolder.shipped()
        let result = try db.retention(["plan", "--policies", policies.url.path, "--log-format", "text",
                                       "--db", "dbname=\(db.name) user=\(role) password=wrong-horse"])
        #expect(result.status == 69)
        #expect(result.stderr.contains("password authentication failed"))
        #expect(!result.output.contains("wrong-horse"))
    }

    @Test func passwordFromPgpassFileIsUsedAndAMissingPrivilegeExits77() throws {
        let db = try TestDatabase()
        let role = try passwordRole(on: db)
        let policies = try PolicyFolder.shipped()
        let host = ProcessInfo.processInfo.environment["PGHOST"] ?? "/var/run/postgresql"
        let port = ProcessInfo.processInfo.environment["PGPORT"] ?? "5432"
        let pgpass = policies.url.appendingPathComponent("pgpass")
        try "\(host):\(port):*:\(role):right-horse-battery\n".write(to: pgpass, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: pgpass.path)
        // The login succeeds with the password from the file (else 69); the role has no privilege on the
        // tool's schema, which is a permission error (77), reported with its SQLSTATE.
        let result = try db.retention(["check", "--catalog", "--policies", policies.url.path, "--log-format", "text"],
                                      environment: ["PGUSER": role, "PGPASSFILE": pgpass.path])
        #expect(result.status == 77, "\(result.stderr)")
        #expect(result.stderr.contains("permission denied: USAGE on schema retention"))
        #expect(!result.output.contains("right-horse-battery"))
    }
}
