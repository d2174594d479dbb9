import Foundation
import Testing

/// Every command's help, as a person sees it on an 80-column terminal, against a checked-in text
/// (`Tests/ExpectedHelp/`), so a change to a command's words or layout shows in review.
/// `RETENTION_UPDATE_HELP=1 scripts/test.sh --filter HelpTests` writes the texts anew.
@Suite struct HelpTests {
    static let commands: [[String]] = [
        [], ["setup"], ["check"], ["plan"], ["run"], ["verify"], ["show"], ["keygen"], ["audit"], ["config"], ["report"], ["status"], ["witness"],
        ["hold"], ["hold", "place"], ["hold", "list"], ["hold", "release"],
    ]

    @Test(arguments: commands)
    func helpMatchesTheCheckedInText(command: [String]) throws {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RETENTION_") }
        environment["COLUMNS"] = "80"
        let result = try runProcess(retentionBinary, command + ["--help"], environment: environment)
        #expect(result.status == 0)
        let name = (["retention"] + command).joined(separator: "-") + ".txt"
        let file = repositoryRoot.appendingPathComponent("Tests/ExpectedHelp/\(name)")
        if ProcessInfo.processInfo.environment["RETENTION_UPDATE_HELP"] == "1" {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try result.stdout.write(to: file, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(result.stdout == expected, "help of `retention \(command.joined(separator: " "))` changed; see \(name)")
        // No stray escapes or runs of spaces inside sentences.
        #expect(!result.stdout.contains("\\"))
        for line in result.stdout.split(separator: "\n") where !line.hasPrefix(" ") {
            #expect(!line.contains("   "), "\(line)")
        }
    }
}
