import Foundation
import Testing
@testable import RetentionCore

/// The compliance officer's routine as the README shows it, run as written: its commands are read
/// from the README's "Your own countersignature" and "A timestamp from outside" blocks, with her
/// folders and files in a test folder, the batch folder and key this test's, and a local authority.
@Suite struct OfficerRoutineTests {
    /// The shell commands of the first `sh` block after the paragraph that begins with `lead`, one
    /// per command (continuation lines joined, comments dropped), split into words.
    func commands(after lead: String) throws -> [[String]] {
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: lead))
        let block = try #require(readme[start.upperBound...].range(of: "```sh\n"))
        let end = try #require(readme[block.upperBound...].range(of: "```"))
        let text = readme[block.upperBound..<end.lowerBound].replacingOccurrences(of: "\\\n", with: " ")
        return text.split(separator: "\n").map { line in
            String(line.split(separator: "#", maxSplits: 1).first ?? "").split(separator: " ").map(String.init)
        }.filter { !$0.isEmpty }
    }

    @Test func theOfficersRoutineInTheReadmeWorksAsWritten() throws {
        let (db, policies) = try ManifestTests().withRuns(0)
        let authority = try TestAuthority(in: db.files)
        let home = db.files.appendingPathComponent("officer").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let paths = ["~": home, "retention-public.pem": db.publicKeyPath, "/mnt/retention-manifests": db.manifestFolder,
                     "tsa-ca.pem": authority.ca, "report.html": home + "/report.html"]
        func resolved(_ word: String) -> String {
            for (name, path) in paths where word == name || word.hasPrefix(name + "/") { return path + word.dropFirst(name.count) }
            return word
        }
        func perform(_ command: [String]) throws -> ProcessResult {
            let words = command.map(resolved)
            if words[0] == "sh" { return try runProcess("/bin/sh", [repositoryRoot.appendingPathComponent(words[1]).path] + words.dropFirst(2)) }
            #expect(words[0] == "retention")
            return try db.retention(Array(words.dropFirst()))
        }
        // The nightly runs, with the authority the administrator configured.
        func night() throws {
            let result = try db.retention(["run", "--policies", policies.url.path, "--quiet", "--tsa-url", authority.url, "--tsa-ca", authority.ca])
            #expect(result.status == 0, "\(result.output)")
        }
        let routine = try commands(after: "**Your own countersignature.**")
        #expect(routine.map { $0.prefix(2) } == [["retention", "keygen"], ["retention", "witness"], ["retention", "report"]])
        // Once: her key. Weekly: a checkpoint. Quarterly: the report, with her checkpoints.
        #expect(try perform(routine[0]).status == 0)
        for week in 1...2 {
            for _ in 0..<2 { try night() }
            let witnessed = try perform(routine[1])
            #expect(witnessed.status == 0 && witnessed.stdout.hasPrefix("checkpoint \(week) written to "), "\(witnessed.output)")
        }
        let report = try perform(routine[2])
        #expect(report.status == 0 && report.stdout.hasPrefix("verified: "), "\(report.output)")
        #expect(try String(contentsOfFile: home + "/report.html", encoding: .utf8).contains("witnessed up to manifest 4"))

        // The timestamps: verify, OpenSSL alone on one manifest, and the report with everything.
        let stamped = try commands(after: "**A timestamp from outside.**")
        #expect(stamped.map { $0.prefix(2) } == [["retention", "verify"], ["sh", "scripts/verify-manifest.sh"], ["retention", "report"]])
        let verify = try perform(stamped[0])
        #expect(verify.status == 0 && verify.stdout.contains("timestamps from sequence 1 on"), "\(verify.output)")
        // The README names a manifest of its own; this folder's newest takes its place.
        do {
            var openssl = stamped[1]
            openssl[3] = try #require(try Verifier.files(in: [db.manifestFolder]).last)
            let result = try perform(openssl)
            #expect(result.status == 0 && result.stdout.contains("Timestamp: OK, "), "\(result.output)")
        }
        let full = try perform(stamped[2])
        #expect(full.status == 0 && full.stdout.hasPrefix("verified: "), "\(full.output)")
    }
}
