import Foundation
import Testing
@testable import RetentionCore

/// Hostile pass 14: a nightly `run --only` that purged some policies and never the others, while
/// status said OK and the report said verified.
@Suite struct HostileInputVITests {
    @Test func aNightlyRunWithOnlyIsNotReportedAsAKeptSchedule() throws {
        let (db, policies) = try ManifestTests().withRuns(0)
        let only = try db.retention(["run", "--policies", policies.url.path, "--only", "event-attendance", "--quiet"])
        #expect(only.status == 0, "\(only.output)")
        // The manifest names what --only left out.
        let manifest = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath:
            try #require(try Verifier.files(in: [db.manifestFolder]).last)))).payload)
        #expect(manifest.leftOut == ["computer-signups", "loan-history"], "\(manifest.options)")
        let status = try db.retention(["status", "--policies", policies.url.path, "--log-format", "text"])
        #expect(status.status == 1, "\(status.output)")
        #expect(status.stdout.hasPrefix("RETENTION WARNING: policy computer-signups of the policy folder has not been applied by any run ever")
                && status.stdout.contains("warning: policy loan-history of the policy folder has not been applied by any run ever"),
                "\(status.stdout)")
        let out = db.files.appendingPathComponent("report.json").path
        let report = try db.retention(["report", "--manifests", db.manifestFolder, "--format", "json", "--out", out])
        #expect(report.status == 1 && report.stdout.hasPrefix("not verified: "), "\(report.output)")
        #expect(try String(contentsOfFile: out, encoding: .utf8).contains(
            "policies computer-signups, loan-history left out of the night's run (run --only): not purged that night"))

        // A full run the same night applies them: the schedule is kept after all, and status no longer warns of them.
        #expect(try db.retention(["run", "--policies", policies.url.path, "--quiet"]).status == 0)
        let after = try db.retention(["status", "--policies", policies.url.path, "--log-format", "text"])
        #expect(!after.stdout.contains("has not been applied"), "\(after.stdout)")
        let again = try db.retention(["report", "--manifests", db.manifestFolder, "--format", "json", "--out", out])
        #expect(!(try String(contentsOfFile: out, encoding: .utf8)).contains("left out of the night's run"), "\(again.output)")
    }
}
