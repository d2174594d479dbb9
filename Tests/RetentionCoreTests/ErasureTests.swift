import Foundation
import Testing
@testable import RetentionCore

/// `run --erase`: no byte of a purged row left in the table's heap, TOAST or index files (SPEC §7).
@Suite struct ErasureTests {
    /// 200 due rows and 100 kept ones; each carries a unique canary in an indexed column and in a
    /// TOASTed, uncompressed one, so the bytes can be found in every kind of file.
    func prepared(extensions: [String], server: OwnServer? = nil) throws -> (TestDatabase, PolicyFolder) {
        let db = try TestDatabase(reference: false, server: server)
        for name in extensions { try db.sql("CREATE EXTENSION \(name)") }
        try db.sql("""
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, name text, note text);
            ALTER TABLE visits ALTER COLUMN note SET STORAGE EXTERNAL;
            CREATE INDEX visits_name ON visits (name);
            INSERT INTO visits
            SELECT g, CASE WHEN g <= 200 THEN now() - interval '100 days' ELSE now() END,
                   CASE WHEN g <= 200 THEN 'NAME-CANARY-' ELSE 'NAME-KEPT-' END || lpad(g::text, 5, '0'),
                   CASE WHEN g <= 200 THEN 'NOTE-CANARY-' ELSE 'NOTE-KEPT-' END || lpad(g::text, 5, '0') || repeat(md5(g::text), 80)
            FROM generate_series(1, 300) g;
            """)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 10 days\naction: delete\n"])
        return (db, folder)
    }

    static let purged = (1...200).flatMap { ["NAME-CANARY-" + String(format: "%05d", $0), "NOTE-CANARY-" + String(format: "%05d", $0)] }
    static let kept = (201...300).flatMap { ["NAME-KEPT-" + String(format: "%05d", $0), "NOTE-KEPT-" + String(format: "%05d", $0)] }

    /// Copies of each string in the table's files by `scripts/forensic-check.sh`: file kind -> copies.
    func forensic(_ db: TestDatabase, _ needles: [String]) throws -> [String: Int] {
        let script = repositoryRoot.appendingPathComponent("scripts/forensic-check.sh").path
        let quoted = needles.map { "'\($0)'" }.joined(separator: " ")
        let server = db.server.map { "PGHOST='\($0.host)' PGPORT='\($0.port)' PGUSER=postgres " } ?? ""
        let result = runShell("\(server)PGDATABASE='\(db.name)' bash '\(script)' public.visits \(quoted)")
        #expect(result.status == 0 || result.status == 1, "\(result.stderr)")
        var copies: [String: Int] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            guard fields.count == 3, let count = Int(fields[2].split(separator: " ")[0]) else { continue }
            let kind = fields[0].hasPrefix("index:") ? "index" : String(fields[0])
            copies[kind, default: 0] += count
        }
        return copies
    }

    /// Purged rows that pg_dirtyread still returns (only purged rows have canary names; the TOASTed
    /// column is left out, its chunks are dead too).
    func deadRowsWithCanaries(_ db: TestDatabase) throws -> Int64 {
        try db.int("""
            SELECT count(*) FROM pg_dirtyread('visits') AS t(id int, seen timestamptz, name text)
            WHERE name LIKE 'NAME-CANARY-%'
            """)
    }

    @Test(.enabled(if: serverOffers("pg_dirtyread"), "needs pg_dirtyread"))
    func runAloneLeavesThePurgedRowsReadableInTheFiles() throws {
        let (db, folder) = try prepared(extensions: ["pg_dirtyread"])
        // A reader whose snapshot predates the purge (a report, a backup) keeps the server from pruning
        // the dead versions, as happens on any busy database; pg_dirtyread can then read every one.
        let reader = try db.session()
        try reader.execute(unsafeSQL: "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM visits;")
        let summary = try db.run(folder.url)
        #expect(summary.policies[0].rows == 200)
        let copies = try forensic(db, Self.purged)
        #expect(copies["heap"] == 200)
        #expect(copies["toast"] == 200)
        #expect((copies["index"] ?? 0) >= 200)
        #expect(try deadRowsWithCanaries(db) == 200)
        try reader.execute(unsafeSQL: "COMMIT")
    }

    @Test(.enabled(if: serverOffers("pg_dirtyread") && serverOffers("pg_repack"), "needs pg_dirtyread and pg_repack"))
    func eraseWithPgRepackLeavesNoByteOfAPurgedRow() throws {
        let (db, folder) = try prepared(extensions: ["pg_dirtyread", "pg_repack"])
        let keptBefore = try db.strings("SELECT md5(string_agg(v::text, ',' ORDER BY id)) FROM visits v WHERE id > 200")
        var options = RunOptions()
        options.erase = true
        let summary = try db.run(folder.url, options: options)
        #expect(summary.policies[0].rows == 200)
        #expect(try forensic(db, Self.purged).values.reduce(0, +) == 0)
        #expect(try deadRowsWithCanaries(db) == 0)
        let kept = try forensic(db, Self.kept)
        #expect(kept["heap"] == 100 && kept["toast"] == 100)
        #expect(try db.strings("SELECT md5(string_agg(v::text, ',' ORDER BY id)) FROM visits v") == keptBefore)
        let manifest = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: try db.manifestFiles()[0]))).payload)
        #expect(manifest.policies[0].maintenance?.method == "erase (pg_repack)")
    }

    @Test(.enabled(if: serverOffers("pg_dirtyread"), "needs pg_dirtyread"))
    func vacuumFullFallbackOnlyWithTheFlagAndRefusedBeforeAnyChangeWithout() throws {
        // VACUUM FULL keeps row versions an older snapshot may still see. On the shared test server,
        // other tests' sessions now and then hold the horizon back for a moment (in ways pg_stat_activity
        // does not show), so this test gets a quiet server of its own, as a nightly window would be.
        let server = try OwnServer()
        let (db, folder) = try prepared(extensions: ["pg_dirtyread"], server: server)
        let before = try db.fingerprint()
        let refused = try db.retention(["run", "--erase", "--policies", folder.url.path, "--log-format", "text"])
        #expect(refused.status == 78)
        #expect(refused.stderr.contains("--erase cannot rewrite online: the pg_repack extension is not installed"))
        #expect(refused.stderr.contains("--allow-exclusive-lock"))
        #expect(try db.fingerprint() == before)
        #expect(try db.manifestFiles().isEmpty)
        let check = try db.retention(["check", "--catalog", "--policies", folder.url.path])
        #expect(check.stdout.contains("--erase on public.visits: needs --allow-exclusive-lock"))

        let erased = try db.retention(["run", "--erase", "--allow-exclusive-lock", "--policies", folder.url.path])
        #expect(erased.status == 0, "\(erased.stderr)")
        #expect(try forensic(db, Self.purged).values.reduce(0, +) == 0)
        #expect(try deadRowsWithCanaries(db) == 0)
        #expect(try forensic(db, Self.kept)["heap"] == 100)
        let manifest = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: try db.manifestFiles()[0]))).payload)
        #expect(manifest.policies[0].maintenance?.method == "erase (VACUUM FULL)")
        let shown = try db.retention(["show", try db.manifestFiles()[0]])
        #expect(shown.stdout.contains("afterwards: erase (VACUUM FULL)"))
    }

    @Test(.enabled(if: serverOffers("pg_repack"), "needs pg_repack"))
    func anonymizeWithEraseRemovesTheOldPatronLinksFromTheFiles() throws {
        let (db, _) = try prepared(extensions: ["pg_repack"])
        try db.sql("ALTER TABLE visits ADD COLUMN patron text; UPDATE visits SET patron = 'PATRON-CANARY-' || lpad(id::text, 5, '0');")
        let folder = try PolicyFolder(["v.yaml": """
            name: v
            version: 1
            description: d
            table: public.visits
            key: id
            age: seen
            retain: 10 days
            action: anonymize
            patron: patron
            set:
              patron: null
            """])
        let links = (1...200).map { "PATRON-CANARY-" + String(format: "%05d", $0) }
        #expect(try forensic(db, links)["heap"] ?? 0 >= 200)
        var options = RunOptions()
        options.erase = true
        let summary = try db.run(folder.url, options: options)
        #expect(summary.policies[0].rows == 200)
        #expect(try db.int("SELECT count(*) FROM visits") == 300)
        #expect(try forensic(db, links).values.reduce(0, +) == 0)
        #expect(try forensic(db, (201...300).map { "PATRON-CANARY-" + String(format: "%05d", $0) })["heap"] == 100)
    }
}
