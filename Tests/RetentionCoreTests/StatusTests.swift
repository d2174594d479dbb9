import Foundation
import Testing
@testable import RetentionCore

/// `retention status`: the verdict line and Nagios exit status for each way a night can stand.
@Suite struct StatusTests {
    func status(_ db: TestDatabase, _ folder: PolicyFolder, json: Bool = false) throws -> ProcessResult {
        try db.retention(["status", "--policies", folder.url.path, "--log-format", "text"] + (json ? ["--json"] : []))
    }

    @Test func statusNamesEachWayANightCanStandWithItsNagiosExitStatus() throws {
        let db = try TestDatabase(reference: false)
        let folder = try visitsTable(db, canary: "STATUS-CANARY-")
        #expect(try db.retention(["setup", "--quiet"]).status == 0)

        // No run yet: a warning.
        var result = try status(db, folder)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stdout.hasPrefix("RETENTION WARNING: no run recorded yet\n"), "\(result.stdout)")

        // A night stopped at its cap: a warning, with what it left due; with no completed run yet, critical.
        #expect(try db.retention(["run", "--policies", folder.url.path, "--max-rows", "1000"]).status == 0)
        result = try status(db, folder)
        #expect(result.status == 2)
        #expect(result.stdout.hasPrefix("RETENTION CRITICAL: no run has completed with its manifest yet\n"), "\(result.stdout)")
        #expect(result.stdout.contains("run 1 stopped before it finished"), "\(result.stdout)")
        #expect(result.stdout.contains("v: 29,000 rows still due after run 1, the oldest 100 days old"), "\(result.stdout)")

        // A completed night: OK, its manifest in the folder as recorded.
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)
        result = try status(db, folder)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.hasPrefix("RETENTION OK: the last night completed and nothing is due\n"))
        #expect(result.stdout.contains("manifest:     sequence 2, "), "\(result.stdout)")
        #expect(result.stdout.contains(", in the folder as recorded"))
        #expect(result.stdout.contains("last success: run 2, finished "))
        let json = try JSONSerialization.jsonObject(with: Data(try status(db, folder, json: true).stdout.utf8)) as? [String: Any]
        #expect(json?["level"] as? String == "ok")
        #expect((json?["last_run"] as? [String: Any])?["manifest_intact"] as? Bool == true)

        // `show` of the folder shows its newest manifest.
        let manifest = try #require(try db.manifestFiles().last)
        let shownFolder = try db.retention(["show", db.manifestFolder])
        #expect(shownFolder.status == 0)
        #expect(shownFolder.stdout == (try db.retention(["show", manifest])).stdout)
        #expect(shownFolder.stdout.contains("completed"))
        let empty = db.files.appendingPathComponent("no-manifests").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let none = try db.retention(["show", empty, "--log-format", "text"])
        #expect(none.status == 78 && none.stderr.contains("no manifest in the folder"), "\(none.stderr)")

        // Evidence altered or missing: critical, naming the run and the sequence.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: manifest))
        try (bytes + Data(" ".utf8)).write(to: URL(fileURLWithPath: manifest))
        result = try status(db, folder)
        #expect(result.status == 2)
        #expect(result.stdout.hasPrefix("RETENTION CRITICAL: the manifest of run 2 (sequence 2) differs from the one the ledger recorded\n"),
                "\(result.stdout)")
        try FileManager.default.removeItem(atPath: manifest)
        result = try status(db, folder)
        #expect(result.stdout.hasPrefix("RETENTION CRITICAL: the manifest of run 2 (sequence 2) is not in the manifest folder\n"))
        try bytes.write(to: URL(fileURLWithPath: manifest))
        #expect(try status(db, folder).status == 0)

        // A failed night, and a success too old: critical, the failure first with its cause.
        try db.sql("""
            UPDATE retention.runs SET finished_at = now() - interval '30 hours' WHERE id = 2;
            INSERT INTO retention.runs (status, tool_version, finished_at, error, sequence, manifest_sha256)
            VALUES ('failed', 'test', now(), '57014: statement timeout', NULL, NULL);
            """)
        result = try status(db, folder)
        #expect(result.status == 2)
        #expect(result.stdout.hasPrefix("RETENTION CRITICAL: run 3 failed: 57014: statement timeout\n"), "\(result.stdout)")
        #expect(result.stdout.contains("critical: no completed run with its manifest for 30 hours"), "\(result.stdout)")
        #expect(result.stdout.contains("critical: run 3 has no manifest"))
        // An error text written into the ledger cannot forge a line or move the terminal.
        try db.sql("UPDATE retention.runs SET error = E'x\\nRETENTION OK: FORGED\\u001b[2J' WHERE id = 3")
        result = try status(db, folder)
        #expect(!result.stdout.contains("\u{1B}") && !result.stdout.contains("\nRETENTION OK"), "\(result.stdout)")

        // Tonight's run would stop: a policy naming a missing table.
        let broken = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.gone\nkey: id\nage: seen\nretain: 10 days\naction: delete\n"])
        result = try status(db, broken)
        #expect(result.stdout.contains("critical: tonight's run would stop: "), "\(result.stdout)")
        #expect(result.stdout.contains("public.gone"))

        // A stray file named like a newer manifest would make tonight's run refuse: status says so.
        try db.sql("UPDATE retention.runs SET status = 'completed', finished_at = now() WHERE id = 3")
        let stray = db.manifestFolder + "/20991231T000000Z-000099.manifest.json"
        try Data("{}".utf8).write(to: URL(fileURLWithPath: stray))
        result = try status(db, folder)
        #expect(result.status == 2)
        #expect(result.stdout.contains("critical: tonight's run would stop: ") || result.stdout.hasPrefix("RETENTION CRITICAL: tonight's run"),
                "\(result.stdout)")
        try FileManager.default.removeItem(atPath: stray)

        // No patron value anywhere.
        #expect(!result.output.contains("STATUS-CANARY"))

        // The database out of reach: unknown (3), one line.
        result = try db.retention(["status", "--policies", folder.url.path], environment: ["PGDATABASE": "no_such_database_here"])
        #expect(result.status == 3)
        #expect(result.stdout.hasPrefix("RETENTION UNKNOWN: "), "\(result.stdout)")
        #expect(result.stdout.split(separator: "\n").count == 1)
    }

    @Test func checkWarnsWhenAPolicyFileChangedButItsVersionDidNot() throws {
        let db = try TestDatabase(reference: false)
        let folder = try visitsTable(db, canary: "VERSION-CANARY-")
        #expect(try db.retention(["run", "--policies", folder.url.path]).status == 0)
        var check = try db.retention(["check", "--catalog", "--policies", folder.url.path, "--log-format", "text"])
        #expect(check.status == 0)
        #expect(!check.stderr.contains("raise version"))
        // The period shortened, the version kept: a warning naming the run that applied the old file.
        let shorter = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 5 days\naction: delete\npatron: id\n"])
        check = try db.retention(["check", "--catalog", "--policies", shorter.url.path, "--log-format", "text"])
        #expect(check.status == 0)
        #expect(check.stderr.contains("warning: policy v: the file changed since run 1 applied it, but its version is still 1; raise version"),
                "\(check.stderr)")
        // With the version raised: no warning.
        let raised = try PolicyFolder(["v.yaml": "name: v\nversion: 2\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 5 days\naction: delete\npatron: id\n"])
        check = try db.retention(["check", "--catalog", "--policies", raised.url.path, "--log-format", "text"])
        #expect(!check.stderr.contains("raise version"))
    }
}
