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

    @Flag(help: ArgumentHelp("Report every instance: retention.yaml and each /etc/retention/NAME.yaml, a section each.",
                             discussion: "The first line and the exit status are the worst instance's (critical, then unknown, then warning)."))
    var allInstances = false

    func validate() throws {
        if allInstances && (nonEmpty(global.instance) ?? nonEmpty(global.config) ?? policyFolder.policies ?? database.conninfo
                            ?? folder.manifests) != nil {
            throw ValidationError("--all-instances reads each instance's own config file: not with --instance, --config, --db, --policies or --manifests")
        }
    }

    func run() throws {
        if allInstances {
            let logger = global.beginWithoutConfig()
            let status = InstancesStatus.gather(logger: logger) {
                try Settings(commandLine: global.given, configOption: $0.configFile)
            }
            print(json ? JSONOutput.text(status) : status.text, terminator: "")
            throw ExitCode(Int32(status.level.rawValue))
        }
        let (settings, logger) = try global.begin(policyFolder, database, folder)
        let report: StatusReport
        do {
            report = try StatusReport.gather(settings, logger: logger)
        } catch let error as RetentionError {
            // Nagios reads the first line of stdout: the cause, in one line, and 3.
            print("RETENTION UNKNOWN: \(error.description.split(separator: "\n").first ?? "")")
            throw ExitCode(Int32(StatusReport.Level.unknown.rawValue))
        }
        print(json ? JSONOutput.text(StatusOutput(report: report)) : report.text, terminator: "")
        throw ExitCode(Int32(report.level.rawValue))
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
