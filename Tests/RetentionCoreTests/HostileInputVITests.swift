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

    /// The officer's mix-ups: an empty folder to witness, her public key given as her key, a
    /// checkpoint folder whose only checkpoint another key signed; each said in words that fit.
    @Test func witnessMixUpsAreNamedForWhatTheyAre() throws {
        let (db, _) = try ManifestTests().withRuns(1)
        let officer = try SigningKeys.generate(in: db.files.appendingPathComponent("officer").path)
        let state = db.files.appendingPathComponent("checkpoints").path
        let empty = db.files.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let none = try db.retention(["witness", "--key", officer.privateKeyPath, "--state", state, empty])
        #expect(none.status == 1 && none.stdout.contains("no manifest files in ") && none.stdout.contains("nothing to witness"),
                "\(none.output)")
        let publicKey = try db.retention(["witness", "--key", officer.publicKeyPath, "--state", state, db.manifestFolder])
        #expect(publicKey.status == 78 && publicKey.stderr.contains("is a public key; give the private key"), "\(publicKey.output)")
        // A checkpoint signed by another key: not "nothing witnessed yet".
        let stranger = try SigningKeys.generate(in: db.files.appendingPathComponent("stranger").path)
        #expect(try db.retention(["witness", "--key", stranger.privateKeyPath, "--state", state, db.manifestFolder]).status == 0)
        let foreign = try db.retention(["verify", "--witness-key", officer.publicKeyPath, "--checkpoints", state, db.manifestFolder])
        #expect(foreign.status == 1 && foreign.stdout.contains("no checkpoint in the folder that this key signed")
                && !foreign.stdout.contains("nothing witnessed yet"), "\(foreign.output)")
    }
}
