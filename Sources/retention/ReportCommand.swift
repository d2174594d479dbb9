import ArgumentParser
import Foundation
import Logging
import RetentionCore

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Writes the compliance officer's report over a period: one self-contained HTML file, or JSON.",
        discussion: """
            Verifies every manifest as `verify` does, then reports the period: the verdict (verified, failed \
            naming what and where, or could not check without a public key), every night, what was purged and \
            kept and why, the schedule kept, legal holds and the policies with their changes (as the manifests \
            record them), what remains elsewhere, and an appendix for auditors; problems are named as evidence \
            altered or missing, or schedule not kept, in date order. Times to the minute in the timezone \
            setting's zone (default UTC). Counts and digests only, never a record of a patron. Exit: 0 written \
            (verified, or could not check), 1 written and the verdict is not verified, 64 bad command line, 69, \
            78 (no manifest folder, unwritable output).
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var folder: ManifestFolderOptions
    @OptionGroup var key: PublicKeyOptions
    @OptionGroup var policyFolder: PolicyOptions
    @OptionGroup var database: ConnectionOptions
    @OptionGroup var timestamps: TimestampCAOptions

    @Option(help: ArgumentHelp("First day of the period, like 2026-01-01 (default: the first manifest's day).", valueName: "date"))
    var since: String?

    @Option(help: ArgumentHelp("Last day of the period, like 2026-11-30 (default: the last manifest's day).", valueName: "date"))
    var until: String?

    @Flag(help: "Also check the manifests against the ledger (and, for manifests older than version 6, list the holds from the database).")
    var ledger = false

    @Option(help: ArgumentHelp("How long the library keeps its backups and WAL archives, printed as given, like \"35 days\".",
                               valueName: "text"))
    var backupRetention: String?

    @Option(help: "html or json.")
    var format: ReportFormat = .html

    @Option(help: ArgumentHelp("The compliance officer's public key, which signed the checkpoints.", valueName: "file"))
    var witnessKey: String?

    @Option(help: ArgumentHelp("The folder of the officer's checkpoints (retention witness --state): a manifest changed "
                               + "or removed after she witnessed it is evidence altered.", valueName: "dir"))
    var checkpoints: String?

    @Option(help: ArgumentHelp("The paper the page prints on: letter or a4.", valueName: "size"))
    var paper: ReportRendering.Paper = .letter

    @Option(help: ArgumentHelp("The report file to write.", valueName: "file"))
    var out: String

    enum ReportFormat: String, ExpressibleByArgument { case html, json }

    func validate() throws {
        do {
            try ReportRequest.checkDate(since, option: "--since")
            try ReportRequest.checkDate(until, option: "--until")
        } catch let error as UsageError {
            throw ValidationError(error.description)
        }
        if let since, let until, since > until { throw ValidationError("--since \(since) is after --until \(until)") }
        do { try ReportRequest.refuseFuture(until) } catch let error as UsageError { throw ValidationError(error.description) }
        try database.requireLedger(ledger, usage: "retention report --ledger [--db CONNINFO] ...")
        if (witnessKey == nil) != (checkpoints == nil) {
            throw ValidationError("--witness-key and --checkpoints go together: the officer's public key and her checkpoint folder")
        }
        if let backupRetention, backupRetention.unicodeScalars.contains(where: \.isControlCharacter) {
            throw ValidationError("--backup-retention holds a control character")
        }
    }

    func run() throws {
        let (settings, logger) = try global.begin(folder, key, policyFolder, database, timestamps)
        try perform(logger) {
            guard let manifests = settings.manifests else { throw ManifestSettings.noFolder }
            try ReportRendering.refuseOutput(out, over: [manifests] + (checkpoints.map { [$0] } ?? []),
                                             keys: [settings.publicKey, witnessKey].compactMap { $0 })
            // Descriptions are a courtesy of the register: a policy folder that cannot be read only loses them.
            var policies: [Policy] = []
            do { policies = try PolicyLoader.load(directory: settings.policies) } catch {
                // Manifests of version 6 record the words themselves: the files only help older ones.
                logger.debug("policy files not read for older manifests' descriptions: \(settings.policies) could not be read as policies")
            }
            let command = (["retention", "report", "--manifests", manifests]
                + (settings.publicKey.map { ["--public-key", $0] } ?? [])
                + (since.map { ["--since", $0] } ?? []) + (until.map { ["--until", $0] } ?? [])
                + (ledger ? ["--ledger"] : []) + (backupRetention.map { ["--backup-retention", $0] } ?? [])
                + (witnessKey.map { ["--witness-key", $0] } ?? []) + (checkpoints.map { ["--checkpoints", $0] } ?? [])
                + (settings.tsaCA.map { ["--tsa-ca", $0] } ?? [])
                + ["--format", format.rawValue] + (format == .html ? ["--paper", paper.rawValue] : [])
                + ["--out", out]).map(shellQuoted).joined(separator: " ")
            // Times to the minute in the consortium's zone (the timezone setting, which hold windows use too).
            var request = ReportRequest(manifestFolder: manifests, publicKeyPath: settings.publicKey, since: since, until: until,
                                        backupRetention: backupRetention, policies: policies, command: command,
                                        timeZone: settings.timezone ?? "UTC")
            request.witness = witnessKey.flatMap { key in checkpoints.map { (key, $0) } }
            request.timestampCA = settings.tsaCA
            let connection = ledger ? try Retention.connect(settings, logger: logger) : nil
            let report = try ReportBuilder.build(request, connection: connection)
            let text = format == .html ? try ReportRendering.html(report, paper: paper) : ReportRendering.json(report)
            try ReportRendering.write(text, to: out)
            print("\(report.verdict.state == .failed ? "not verified" : report.verdict.state.description): \(report.verdict.summary)")
            print("report written to \(visible(out))")
            if report.verdict.state == .failed { throw ExitCode(ExitStatus.failure.rawValue) }
        }
    }
}

extension ReportRendering.Paper: ExpressibleByArgument {}

/// A word as a POSIX shell reads it back: bare when safe, else in single quotes.
func shellQuoted(_ word: String) -> String {
    let safe = word.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_./=:,+@".unicodeScalars.contains($0) }
    return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
