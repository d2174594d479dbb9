import ArgumentParser
import Foundation
import Logging
import RetentionCore

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Says how the nightly purge stands: last run, its manifest, what is still due, holds, tonight's blockers.",
        discussion: """
            The first line is a verdict for a person or a Nagios-style check (`RETENTION OK: ...`). \
            Critical: the last run failed or died, its manifest is missing or not as the ledger recorded it, \
            no completed run with its manifest for 26 hours, or the policies, the catalog or the manifest \
            folder would stop tonight's run. Warning: the last run stopped or was interrupted, rows are still due, no run yet. \
            Exit (Nagios convention): 0 OK, 1 warning, 2 critical, 3 unknown (the database cannot be reached \
            or has no retention schema); 64 bad command line.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var policyFolder: PolicyOptions
    @OptionGroup var database: ConnectionOptions
    @OptionGroup var folder: ManifestFolderOptions

    @Flag(help: "Print the status as JSON.")
    var json = false

    func run() throws {
        let (settings, logger) = try global.begin(policyFolder, database, folder)
        var report: StatusReport
        do {
            let connection = try Retention.connect(settings, logger: logger)
            report = try StatusReport.read(on: connection)
            report.blockers = tonightsBlockers(settings, on: connection)
            if let manifests = settings.manifests { report.checkChain(in: manifests, on: connection) }
        } catch let error as RetentionError {
            // Nagios reads the first line of stdout: the cause, in one line, and 3.
            print("RETENTION UNKNOWN: \(error.description.split(separator: "\n").first ?? "")")
            throw ExitCode(Int32(StatusReport.Level.unknown.rawValue))
        }
        if let manifests = settings.manifests { report.checkManifest(in: manifests) }
        report.nextRun = Self.nextTimer()
        report.judge()
        print(json ? JSONOutput.text(StatusOutput(report: report)) : report.text, terminator: "")
        throw ExitCode(Int32(report.level.rawValue))
    }

    /// What `check --catalog` would find tonight: the policy folder and each policy against the catalog.
    func tonightsBlockers(_ settings: Settings, on connection: Connection) -> [String] {
        do {
            let policies = try Retention.loadPolicies(directory: settings.policies)
            _ = try Retention.resolve(policies, on: connection, lockTimeout: settings.lockTimeout)
            return []
        } catch let error as RetentionError {
            return [String(error.description.split(separator: "\n").first ?? "")]
        } catch {
            return ["\(error)"]
        }
    }

    /// The timer's next start as systemd says, on a machine run by systemd with the unit installed.
    static func nextTimer() -> String? {
        guard FileManager.default.fileExists(atPath: "/run/systemd/system"),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/systemctl") else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/systemctl")
        process.arguments = ["show", "retention.timer", "--property=NextElapseUSecRealtime", "--value"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && !text.isEmpty && text != "n/a" ? text : nil
    }
}

/// The JSON of `status --json`: the report and its level.
struct StatusOutput: Encodable {
    let report: StatusReport
    func encode(to encoder: any Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(report.level.word.lowercased(), forKey: .level)
    }
    enum Key: String, CodingKey { case level }
}
