import Foundation
import Testing
@testable import RetentionCore

/// The twelfth hostile pass: holds placed by an older version, a library column whose type changed,
/// a hold placed without --policy before a policy joined the folder, a library value no policy
/// names in signed evidence, and the report's and witness's inputs.
@Suite struct HostileInputVTests {
    static func policy(_ name: String, table: String, extra: String = "", version: Int = 1) -> String {
        "name: \(name)\nversion: \(version)\ndescription: d\ntable: \(table)\nkey: id\nage: at\nretain: 30 days\n"
            + "action: delete\npatron: card\n" + extra
    }

    /// A hold placed by an older version records no coverage: `setup` gives it the coverage of
    /// today's policies, and a later change of the patron column stops the run (78).
    @Test func setupRecordsWhatAnOlderHoldCoversSoAPolicyChangeStopsTheRun() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE public.visits (id int PRIMARY KEY, card text, card2 text, at timestamptz);
            INSERT INTO visits SELECT g, 'C' || g % 10, 'D' || g % 10, now() - interval '100 days' FROM generate_series(1, 100) g;
            """)
        let before = try PolicyFolder(["visits.yaml": Self.policy("visits", table: "public.visits")])
        #expect(try db.retention(["hold", "place", "--reference", "CV-1", "--reason", "r", "--patron", "C3", "--policy", "visits",
                                  "--policies", before.url.path]).status == 0)
        try db.sql("UPDATE retention.holds SET covered = NULL")
        #expect(try db.retention(["setup", "--policies", before.url.path]).status == 0)
        #expect(try db.int("SELECT count(*) FROM retention.holds WHERE covered IS NOT NULL") == 1)
        let after = try PolicyFolder(["visits.yaml": Self.policy("visits", table: "public.visits", version: 2)
            .replacingOccurrences(of: "patron: card\n", with: "patron: card2\n")])
        let run = try db.retention(["run", "--policies", after.url.path, "--log-format", "text"])
        #expect(run.status == 78 && run.stderr.contains("hold 1 was matched against column card of public.visits"), "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM visits") == 100)
    }

    /// A library column turned from text into integer: the hold on `04` no longer reads as the
    /// column writes it (`4`), so the run refuses (78) rather than purge the library's rows.
    @Test func aLibraryHoldTheColumnsNewTypeWritesOtherwiseStopsTheRun() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE public.logins (id int PRIMARY KEY, card text, branch text, at timestamptz);
            INSERT INTO logins SELECT g, 'C' || g, CASE WHEN g % 2 = 0 THEN '04' ELSE '07' END, now() - interval '100 days'
            FROM generate_series(1, 100) g;
            """)
        let text = try PolicyFolder(["l.yaml": Self.policy("logins", table: "public.logins", extra: "libraries:\n  column: branch\n  names: [\"04\", \"07\"]\n")])
        #expect(try db.retention(["hold", "place", "--reference", "CV-3", "--reason", "r", "--library", "04", "--policy", "logins",
                                  "--policies", text.url.path]).status == 0)
        try db.sql("ALTER TABLE logins ALTER COLUMN branch TYPE int USING branch::int")
        let number = try PolicyFolder(["l.yaml": Self.policy("logins", table: "public.logins", extra: "libraries:\n  column: branch\n  names: [4, 7]\n", version: 2)])
        let run = try db.retention(["run", "--policies", number.url.path, "--log-format", "text"])
        #expect(run.status == 78 && run.stderr.contains("hold 1's library no longer reads as a value of public.logins.branch"), "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM logins") == 100)
    }

    /// A hold placed without --policy while the clerk's folder held one policy, and a second policy
    /// whose column reads the value otherwise: the placement rule now, so the run refuses (78).
    @Test func aHoldPlacedWithoutAPolicyIsTestedAgainstAPolicyThatJoinedLater() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE public.icards (id int PRIMARY KEY, card bigint, at timestamptz);
            CREATE TABLE public.tcards (id int PRIMARY KEY, card text, at timestamptz);
            INSERT INTO icards SELECT g, 4711, now() - interval '100 days' FROM generate_series(1, 10) g;
            INSERT INTO tcards SELECT g, '04711', now() - interval '100 days' FROM generate_series(1, 10) g;
            """)
        let one = try PolicyFolder(["i.yaml": Self.policy("icards", table: "public.icards")])
        #expect(try db.retention(["hold", "place", "--reference", "CV-4", "--reason", "r", "--patron", "04711",
                                  "--policies", one.url.path]).status == 0)
        let both = try PolicyFolder(["i.yaml": Self.policy("icards", table: "public.icards"),
                                     "t.yaml": Self.policy("tcards", table: "public.tcards")])
        let run = try db.retention(["run", "--policies", both.url.path, "--log-format", "text"])
        #expect(run.status == 78 && run.stderr.contains("hold 1 was placed without --policy before policy tcards was in the folder"),
                "\(run.stderr)")
        #expect(try db.int("SELECT count(*) FROM tcards") == 10)
    }

    /// A library value no policy names (free text, maybe a patron's name) never reaches a manifest or
    /// the report: the hold's library reads "(other libraries)" there, as in the counts.
    @Test func aLibraryNoPolicyNamesIsNotSignedEvidence() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE public.sign (id int PRIMARY KEY, card text, branch text, at timestamptz);
            INSERT INTO sign SELECT g, 'C' || g, CASE WHEN g = 1 THEN 'Roe, Jane 207-555-0147' ELSE 'BANGOR' END,
                                    now() - interval '100 days' FROM generate_series(1, 10) g;
            """)
        let folder = try PolicyFolder(["s.yaml": Self.policy("sign", table: "public.sign", extra: "libraries:\n  column: branch\n  names: [BANGOR]\n")])
        #expect(try db.retention(["hold", "place", "--reference", "CV-11", "--reason", "r", "--library", "Roe, Jane 207-555-0147",
                                  "--policies", folder.url.path]).status == 0)
        #expect(try db.retention(["run", "--policies", folder.url.path, "--quiet"]).status == 0)
        let payload = String(decoding: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: try db.manifestFiles()[0]))).payload,
                             as: UTF8.self)
        #expect(!payload.contains("Roe") && payload.contains("\"library\":\"(other libraries)\""), "\(payload)")
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
    }

    /// The report refuses to write over its own evidence, a checkpoint folder that is not there,
    /// and nights to come; a manifest named twice is one manifest.
    @Test func theReportAndVerifyRefuseWhatWouldMisleadThem() throws {
        let (db, _) = try ManifestTests().withRuns(1)
        let manifest = try #require(try db.manifestFiles().first)
        let over = try db.retention(["report", "--manifests", db.manifestFolder, "--out", manifest])
        #expect(over.status == 64 && over.stderr.contains("would replace the evidence"), "\(over.stderr)")
        let key = try db.retention(["report", "--manifests", db.manifestFolder, "--out", db.publicKeyPath])
        #expect(key.status == 64)
        #expect(try Verifier.verify(paths: [db.manifestFolder], key: try SigningKeys.loadPublicKey(path: db.publicKeyPath)).isValid)
        let officer = try SigningKeys.generate(in: db.files.appendingPathComponent("officer").path)
        let typo = try db.retention(["report", "--manifests", db.manifestFolder, "--witness-key", officer.publicKeyPath,
                                     "--checkpoints", "/nonexistent/checkpoints", "--out", db.files.appendingPathComponent("r.html").path])
        #expect(typo.status == 78 && typo.stderr.contains("checkpoint folder /nonexistent/checkpoints does not exist"), "\(typo.stderr)")
        let future = try db.retention(["report", "--manifests", db.manifestFolder, "--until", "2999-12-31",
                                       "--out", db.files.appendingPathComponent("r.html").path])
        #expect(future.status == 64 && future.stderr.contains("is after today"), "\(future.stderr)")
        let twice = try db.retention(["verify", db.manifestFolder, manifest])
        #expect(twice.status == 0, "\(twice.stdout)")
    }

    /// With many holds the manifest outgrows the estimate made before connecting: the run proves
    /// room for what its holds take too, before anything is purged.
    @Test func theManifestsRoomCountsTheHoldsItWillRecord() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE public.visits (id int PRIMARY KEY, card text, at timestamptz);
            INSERT INTO visits SELECT g, 'C' || g % 10, now() - interval '100 days' FROM generate_series(1, 100) g;
            INSERT INTO retention.holds (reference, reason, patron, policy)
            SELECT 'CV-' || g, repeat('a reason that goes on ', 10), 'C3', 'visits' FROM generate_series(1, 120) g;
            """)
        let folder = try PolicyFolder(["visits.yaml": Self.policy("visits", table: "public.visits")])
        let policies = try PolicyLoader.load(directory: folder.url.path)
        let before = ManifestStore.reserve(for: policies)
        let holds = try #require(ManifestStore.holdReserve(on: db.connection))
        #expect(try db.retention(["run", "--policies", folder.url.path, "--quiet"]).status == 0)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: try db.manifestFiles()[0])[.size] as? Int)
        #expect(size > before, "the first estimate alone would not have sufficed: \(size) bytes, \(before) reserved")
        #expect(before + 2 * holds >= 2 * size, "\(size) bytes, \(before + 2 * holds) reserved")
    }

    /// The thirteenth pass: `--only` left out the holds of the folder's other policies. A hold whose
    /// policy now purges another table stops an `--only` run of the policy that purges its old rows,
    /// and an enum label renamed under a hold of a same-rows policy stops an `--only` run of the other.
    @Test func anOnlyRunStillRefusesForTheFoldersOtherPolicies() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE public.t1 (id int PRIMARY KEY, card int, at timestamptz);
            CREATE TABLE public.t2 (LIKE public.t1 INCLUDING ALL);
            INSERT INTO t1 SELECT g, g % 10, now() - interval '100 days' FROM generate_series(1, 100) g;
            CREATE TYPE public.kind AS ENUM ('ALPHA', 'BRAVO');
            CREATE TABLE public.v (id int PRIMARY KEY, card public.kind, note text, at timestamptz);
            INSERT INTO v SELECT g, (ARRAY['ALPHA', 'BRAVO'])[1 + g % 2]::public.kind, 'x', now() - interval '400 days'
            FROM generate_series(1, 30) g;
            """)
        let before = try PolicyFolder(["loans.yaml": Self.policy("loans", table: "public.t1")])
        #expect(try db.retention(["hold", "place", "--reference", "CV-1", "--reason", "r", "--patron", "3", "--policy", "loans",
                                  "--policies", before.url.path]).status == 0)
        let after = try PolicyFolder(["loans.yaml": Self.policy("loans", table: "public.t2", version: 2),
                                      "legacy.yaml": Self.policy("legacy", table: "public.t1")])
        let only = try db.retention(["run", "--policies", after.url.path, "--only", "legacy", "--log-format", "text"])
        #expect(only.status == 78 && only.stderr.contains("hold 1 was placed while policy loans purged public.t1"), "\(only.stderr)")
        #expect(try db.int("SELECT count(*) FROM t1") == 100)
        #expect(try db.retention(["hold", "release", "1"]).status == 0)

        let enums = try PolicyFolder([
            "a.yaml": Self.policy("v-anon", table: "public.v").replacingOccurrences(of: "action: delete\n", with: "action: anonymize\nset:\n  note: null\n"),
            "d.yaml": Self.policy("v-delete", table: "public.v").replacingOccurrences(of: "30 days", with: "300 days"),
        ])
        #expect(try db.retention(["hold", "place", "--reference", "CV-2", "--reason", "r", "--patron", "BRAVO", "--policy", "v-anon",
                                  "--policies", enums.url.path]).status == 0)
        try db.sql("ALTER TYPE public.kind RENAME VALUE 'BRAVO' TO 'BRAVO2'")
        let renamed = try db.retention(["run", "--policies", enums.url.path, "--only", "v-delete", "--log-format", "text"])
        #expect(renamed.status == 78 && renamed.stderr.contains("no label of its policies' enum column any more"), "\(renamed.stderr)")
        #expect(try db.int("SELECT count(*) FROM v") == 30)
    }

    /// `setup` gives an older hold no record when its policy is not in the folder (an empty record
    /// would read as "never tested"), and says so.
    @Test func setupLeavesAHoldWhosePolicyIsNotInTheFolderWithoutARecord() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("CREATE TABLE public.t1 (id int PRIMARY KEY, card int, at timestamptz)")
        try db.sql("INSERT INTO retention.holds (reference, reason, patron, policy) VALUES ('CV-OLD', 'old', '7', 'elsewhere')")
        let folder = try PolicyFolder(["loans.yaml": Self.policy("loans", table: "public.t1")])
        let setup = try db.retention(["setup", "--policies", folder.url.path, "--log-format", "text"])
        #expect(setup.status == 0 && setup.stderr.contains("1 legal holds placed by an older version name a policy that is not in"),
                "\(setup.stderr)")
        #expect(try db.int("SELECT count(*) FROM retention.holds WHERE covered IS NULL") == 1)
    }
}
