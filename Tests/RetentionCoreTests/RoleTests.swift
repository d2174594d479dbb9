import Foundation
import Testing
@testable import RetentionCore

/// The least-privilege roles of `sql/roles.sql`: enough for plan and run, and no look at personal data.
///
/// Serialized: the roles are the cluster's, shared by every database of the test server.
@Suite(.serialized) struct RoleTests {
    /// The reference database with demo data, the roles applied, and a login role in retention_purger.
    func prepared() throws -> TestDatabase {
        let db = try TestDatabase(demoLoans: 2000)
        try db.sql(try String(contentsOf: repositoryRoot.appendingPathComponent("sql/roles.sql"), encoding: .utf8))
        try loginRole("nightly_job", in: "retention_purger", db)
        return db
    }

    /// A login role (the cluster's: made once) in `group`, allowed to connect to `db`.
    func loginRole(_ name: String, in group: String, _ db: TestDatabase) throws {
        try db.sql("""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '\(name)') THEN
                    CREATE ROLE \(name) LOGIN IN ROLE \(group);
                END IF;
            END $$;
            GRANT CONNECT ON DATABASE \(db.name) TO \(name);
            """)
    }

    @Test func purgerRunsTheShippedPoliciesAndCannotReadPersonalData() throws {
        let db = try prepared()
        let policies = try PolicyFolder.shipped()
        let asPurger = ["PGUSER": "nightly_job"]
        let expected = [
            "loan-history": try db.int(independentLoanDueCount),
            "event-attendance": try db.int(independentAttendanceDueCount),
            "computer-signups": try db.int(independentSignupDueCount),
        ]
        #expect(try db.retention(["check", "--catalog", "--policies", policies.url.path], environment: asPurger).status == 0)
        let plan = try db.retention(["plan", "--json", "--policies", policies.url.path], environment: asPurger)
        #expect(plan.status == 0, "\(plan.stderr)")
        let report = try JSONDecoder().decode(PlanReport.self, from: Data(plan.stdout.utf8))
        let run = try db.retention(["run", "--policies", policies.url.path, "--batch-size", "300"], environment: asPurger)
        #expect(run.status == 0, "\(run.stderr)")
        if run.status != 0 { print(run.stderr) }
        for policy in report.policies {
            #expect(policy.due == expected[policy.name], "\(policy.name)")
            #expect(try db.int("SELECT sum(rows) FROM retention.batches WHERE policy = $1", [policy.name]) == policy.due)
        }
        #expect(try db.int(independentLoanDueCount) == 0)
        let manifest = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: try db.manifestFiles()[0]))).payload)
        #expect(manifest.systemIdentifier != nil)
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder], environment: asPurger).status == 0)

        let purger = try Connection(conninfo: "dbname=\(db.name) user=nightly_job")
        for query in ["SELECT first_name FROM public.patrons LIMIT 1", "SELECT email FROM public.patrons LIMIT 1",
                      "SELECT notes FROM public.loans LIMIT 1", "SELECT attendee_name FROM public.event_attendance LIMIT 1",
                      "SELECT guest_name FROM public.computer_signups LIMIT 1", "SELECT * FROM public.loans LIMIT 1"] {
            let error = try #require(throws: DatabaseError.self) { try purger.query(unsafeSQL: query) }
            #expect(error.sqlState == "42501", "\(query)")
            #expect(error.exitCode == .noPermission)
        }
    }

    @Test func missingPrivilegeIsNamedByCheckBeforeARunAndNothingChanges() throws {
        let db = try prepared()
        try db.sql("REVOKE SELECT (fines_owed) ON public.loans FROM retention_purger; REVOKE DELETE ON public.event_attendance FROM retention_purger;")
        defer { try? db.sql("GRANT SELECT (fines_owed) ON public.loans TO retention_purger") }
        let policies = try PolicyFolder.shipped()
        let before = try db.fingerprint()
        for command in ["check", "run"] {
            let arguments = command == "check" ? ["check", "--catalog"] : ["run"]
            let result = try db.retention(arguments + ["--policies", policies.url.path, "--log-format", "text"],
                                          environment: ["PGUSER": "nightly_job"])
            #expect(result.status == 77, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("permission denied: SELECT on column public.loans.fines_owed (policy loan-history)"))
            #expect(result.stderr.contains("permission denied: DELETE on table public.event_attendance (policy event-attendance)"))
        }
        // A plan only reads: the missing DELETE does not stop it, the missing SELECT does.
        let plan = try db.retention(["plan", "--policies", policies.url.path, "--log-format", "text"],
                                    environment: ["PGUSER": "nightly_job"])
        #expect(plan.status == 77)
        #expect(!plan.stderr.contains("DELETE"))
        #expect(try db.fingerprint() == before)
        #expect(try db.manifestFiles().isEmpty)
    }

    /// Row-level security that the purging role does not bypass hides due rows from the purge and
    /// its counts (a manifest would say nothing is due): check, plan and run refuse it (78) on a
    /// policy's table and on its consent table, naming the table, its row policies and the fix.
    @Test func rowLevelSecurityThePurgerDoesNotBypassIsRefused() throws {
        let db = try prepared()
        let policies = try PolicyFolder.shipped()
        let asPurger = ["PGUSER": "nightly_job"]
        try db.sql("""
            ALTER TABLE computer_signups ENABLE ROW LEVEL SECURITY;
            CREATE POLICY not_bangor ON computer_signups USING (library_code <> 'BANGOR');
            ALTER TABLE patrons ENABLE ROW LEVEL SECURITY;
            """)
        let before = try db.fingerprint()
        for command in [["check", "--catalog"], ["plan"], ["run"]] {
            let result = try db.retention(command + ["--policies", policies.url.path, "--log-format", "text"], environment: asPurger)
            #expect(result.status == 78, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("row-level security on public.computer_signups applies to role nightly_job "
                                           + "(row policies: not_bangor)"), "\(result.stderr)")
            #expect(result.stderr.contains("row-level security on public.patrons applies to role nightly_job (row policies: none, "
                                           + "so every row is hidden)") && result.stderr.contains("its consent table"), "\(result.stderr)")
        }
        #expect(try db.fingerprint() == before)
        #expect(try db.manifestFiles().isEmpty)
        // The superuser bypasses it: the same tables are no refusal for it.
        #expect(try db.retention(["check", "--catalog", "--policies", policies.url.path]).status == 0)
    }

    @Test func vacuumNeedsTheOwnerAndIsRefusedBeforeAnyChange() throws {
        let db = try prepared()
        let policies = try PolicyFolder.shipped()
        let before = try db.fingerprint()
        let result = try db.retention(["run", "--vacuum", "--policies", policies.url.path, "--log-format", "text"],
                                      environment: ["PGUSER": "nightly_job"])
        #expect(result.status == 77)
        #expect(result.stderr.contains("--vacuum: VACUUM of public.loans needs its owner's role"))
        #expect(try db.fingerprint() == before)
    }

    @Test func holdListShowsThePatronOnlyToHoldStaff() throws {
        let db = try prepared()
        try loginRole("clerk_jane", in: "retention_holds", db)
        let placed = try db.retention(["hold", "place", "--reference", "CV-7", "--reason", "order", "--patron", "4711"],
                                      environment: ["PGUSER": "clerk_jane"])
        #expect(placed.status == 0, "\(placed.stderr)")
        #expect(try db.strings("SELECT placed_by FROM retention.holds") == ["clerk_jane"])
        let staff = try db.retention(["hold", "list"], environment: ["PGUSER": "clerk_jane"])
        #expect(staff.stdout.contains("covers:   patron 4711"))
        // The nightly job may read holds (it must honour them) but is not hold staff.
        let job = try db.retention(["hold", "list", "--json"], environment: ["PGUSER": "nightly_job"])
        #expect(job.status == 0, "\(job.stderr)")
        #expect(!job.stdout.contains("4711"))
        #expect(job.stdout.contains("\"patron_hidden\" : true"))
        // Hold staff cannot purge: no DELETE on the tables, and the run says so before doing anything.
        let policies = try PolicyFolder.shipped()
        let run = try db.retention(["run", "--policies", policies.url.path], environment: ["PGUSER": "clerk_jane"])
        #expect(run.status == 77)
        // And releases it, recorded with the person who ran the command.
        let released = try db.retention(["hold", "release", "1"], environment: ["PGUSER": "clerk_jane"])
        #expect(released.status == 0, "\(released.stderr)")
        #expect(try db.strings("SELECT released_by || ' ' || released_by_user FROM retention.holds") == ["clerk_jane \(SystemUser.current)"])
    }

    @Test func holdStaffPlaceEveryKindOfHoldTheReadmeShows() throws {
        let db = try prepared()
        try loginRole("clerk_tom", in: "retention_holds", db)
        let policies = try PolicyFolder.shipped()
        // A library no policy names, found only in the rows: staff must read the library column.
        try db.sql("""
            INSERT INTO public.libraries (code, name) VALUES ('CARIBOU', 'Caribou Public Library');
            INSERT INTO public.computer_signups (library_code, computer, started_at)
            SELECT 'CARIBOU', computer, started_at FROM public.computer_signups ORDER BY id LIMIT 1;
            """)
        let patron = String(try db.int("SELECT patron_id FROM public.loans WHERE patron_id IS NOT NULL ORDER BY id LIMIT 1"))
        let library = try #require(try db.strings("SELECT library_code FROM public.computer_signups ORDER BY id LIMIT 1").first ?? nil)
        // As the README's staff section shows: a library's records of one policy, a patron's, a window.
        for scope in [["--policy", "computer-signups", "--library", library],
                      ["--policy", "computer-signups", "--library", "CARIBOU"],
                      ["--patron", patron, "--policy", "loan-history"],
                      ["--patron", patron],
                      ["--policy", "event-attendance", "--from", "2026-03-01", "--until", "2026-03-02"]] {
            let placed = try db.retention(["hold", "place", "--policies", policies.url.path, "--reference", "CV-8",
                                           "--reason", "court order", "--log-format", "text"] + scope,
                                          environment: ["PGUSER": "clerk_tom"])
            #expect(placed.status == 0, "\(scope): \(placed.stderr)")
            #expect(!placed.stderr.contains("may not read"), "\(scope): \(placed.stderr)")
        }
        #expect(try db.int("SELECT count(*) FROM retention.holds WHERE placed_by = 'clerk_tom'") == 5)
        // Staff still read no personal column beyond what a hold names.
        let names = try db.retention(["hold", "list"], environment: ["PGUSER": "clerk_tom"])
        #expect(names.status == 0)
        #expect(try db.strings("SELECT has_column_privilege('clerk_tom', 'public.patrons', 'last_name', 'SELECT')::text") == ["false"])
    }

    /// Row-level security on a table the purge reads for its foreign keys (a declared cascade, a
    /// table whose rows point into the policy's) would hide the rows that keep a due row: refused
    /// (78) by check, plan and run, `--only` included, naming the table; nothing changes.
    @Test func rowSecurityOnATableThePurgeReadsForItsForeignKeysIsRefused() throws {
        let db = try prepared()
        try db.sql("""
            CREATE TABLE public.rl_loans (id int PRIMARY KEY, at timestamptz);
            CREATE TABLE public.rl_links (id int PRIMARY KEY, loan_id int REFERENCES public.rl_loans ON DELETE CASCADE);
            CREATE TABLE public.rl_fines (id int PRIMARY KEY, loan_id int REFERENCES public.rl_loans);
            INSERT INTO rl_loans SELECT g, now() - interval '100 days' FROM generate_series(1, 10) g;
            INSERT INTO rl_links VALUES (1, 1);
            INSERT INTO rl_fines VALUES (1, 2);
            GRANT SELECT (id, at), DELETE ON public.rl_loans TO retention_purger;
            GRANT SELECT (loan_id) ON public.rl_links, public.rl_fines TO retention_purger;
            ALTER TABLE public.rl_links ENABLE ROW LEVEL SECURITY;
            CREATE POLICY see_some ON public.rl_links USING (id <> 1);
            ALTER TABLE public.rl_fines ENABLE ROW LEVEL SECURITY;
            """)
        let folder = try PolicyFolder(["rl.yaml": "name: rl\nversion: 1\ndescription: d\ntable: public.rl_loans\nkey: id\nage: at\n"
                                       + "retain: 30 days\naction: delete\ncascade: [public.rl_links]\n"])
        for command in [["check", "--catalog"], ["plan"], ["run"], ["run", "--only", "rl"]] {
            let result = try db.retention(command + ["--policies", folder.url.path, "--log-format", "text"],
                                          environment: ["PGUSER": "nightly_job"])
            #expect(result.status == 78, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("policy rl reads public.rl_links for its foreign keys, and row-level security on public.rl_links applies"),
                    "\(result.stderr)")
            #expect(result.stderr.contains("row-level security on public.rl_fines applies"), "\(result.stderr)")
        }
        #expect(try db.int("SELECT count(*) FROM public.rl_loans") == 10)
    }

    /// A delete policy with declared triggers lists the rows it leaves to them by place (tableoid,
    /// ctid) and locks them (FOR UPDATE, which takes UPDATE on a column): check names the missing
    /// privileges (77) before any run.
    @Test func declaredTriggersNeedUpdateToLockTheirRowsAndCheckSaysSo() throws {
        let db = try prepared()
        try db.sql("""
            CREATE TABLE public.tr_visits (id int PRIMARY KEY, at timestamptz);
            INSERT INTO tr_visits SELECT g, now() - interval '100 days' FROM generate_series(1, 10) g;
            CREATE FUNCTION public.tr_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$;
            CREATE TRIGGER tr_noop AFTER DELETE ON public.tr_visits FOR EACH ROW EXECUTE FUNCTION public.tr_noop();
            GRANT SELECT (id, at), DELETE ON public.tr_visits TO retention_purger;
            """)
        let folder = try PolicyFolder(["tr.yaml": "name: tr\nversion: 1\ndescription: d\ntable: public.tr_visits\nkey: id\nage: at\n"
                                       + "retain: 30 days\naction: delete\ntriggers: [public.tr_noop]\n"])
        let check = try db.retention(["check", "--catalog", "--policies", folder.url.path, "--log-format", "text"],
                                     environment: ["PGUSER": "nightly_job"])
        #expect(check.status == 77, "\(check.stderr)")
        #expect(check.stderr.contains("UPDATE on some column of public.tr_visits"), "\(check.stderr)")
        #expect(check.stderr.contains("SELECT on column public.tr_visits.ctid"), "\(check.stderr)")
        try db.sql("GRANT UPDATE (id), SELECT (tableoid, ctid) ON public.tr_visits TO retention_purger")
        let run = try db.retention(["run", "--policies", folder.url.path], environment: ["PGUSER": "nightly_job"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM public.tr_visits") == 0)
    }
}
