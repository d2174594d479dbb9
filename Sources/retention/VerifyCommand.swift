import ArgumentParser
import Foundation
import Logging
import RetentionCore

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Checks manifests: signatures, sequence numbers and the hash chain; with --ledger also the database's ledger.",
        discussion: """
            PATH is a manifest file or a folder of them. With --ledger (connecting with --db CONNINFO or libpq's \
            environment), every finished run in the ledger must have its manifest among the files, with equal counts. \
            With --expect-daily, every day (UTC) from the first manifest's to yesterday must have a run. \
            With --witness-key and --checkpoints, every manifest the compliance officer's checkpoints (`retention \
            witness`) saw must still be among the files, unchanged. \
            With --tsa-ca, the time-stamping authority's token beside each manifest (NAME.manifest.tsr, `run --tsa-url`) \
            must verify, be for the manifest's bytes and date from its run's night.
            Exit: 0 all hold, 1 any manifest fails a check (each bad file is named with what is wrong), \
            64 bad command line, 69 database unreachable, 78 missing public key.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var key: PublicKeyOptions

    @OptionGroup var database: ConnectionOptions
    @OptionGroup var timestamps: TimestampCAOptions

    @Flag(help: "Also check the manifests against the ledger in the database.")
    var ledger = false

    @Flag(help: "Also fail when a day (UTC) from the first manifest's to yesterday has no run: a missed night.")
    var expectDaily = false

    @Option(help: ArgumentHelp("The compliance officer's public key, which signed the checkpoints.", valueName: "file"))
    var witnessKey: String?

    @Option(help: ArgumentHelp("The folder of the officer's checkpoints (retention witness --state).", valueName: "dir"))
    var checkpoints: String?

    @Argument(help: "Manifest files or folders.")
    var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give one or more manifest files or folders") }
        try database.requireLedger(ledger, usage: "retention verify --ledger [--db CONNINFO] PATH...")
        if (witnessKey == nil) != (checkpoints == nil) {
            throw ValidationError("--witness-key and --checkpoints go together: the officer's public key and her checkpoint folder")
        }
    }

    func run() throws {
        let (settings, logger) = try global.begin(key, database, timestamps)
        try perform(logger) {
            let verifying = try SigningKeys.loadPublicKey(path: try requirePublicKey(settings.publicKey))
            let connection = ledger ? try Retention.connect(settings, logger: logger) : nil
            var report = try Verifier.verify(paths: paths, key: verifying, connection: connection,
                                             timestampAuthorities: try settings.tsaCA.map(TimestampAuthority.loadAuthorities))
            if expectDaily { Verifier.expectDaily(&report) }
            print(report.text, terminator: "")
            var witnessed = true
            if let witnessKey, let checkpoints {
                let findings = try RetentionCore.Witness.findings(folder: checkpoints, key: try SigningKeys.loadPublicKey(path: witnessKey),
                                                                  manifests: report, manifestKey: verifying)
                for problem in findings.folderProblems + findings.changes.map(\.text) { print("FAIL  \(problem)") }
                print(findings.isClean ? findings.summary : "the chain changed after it was witnessed: \(findings.summary)")
                witnessed = findings.isClean && findings.latest != nil
            }
            if !report.isValid || !witnessed { throw ExitCode(ExitStatus.failure.rawValue) }
        }
    }
}

/// The public key file, or a configuration error (78) saying how to give one.
func requirePublicKey(_ path: String?) throws -> String {
    guard let path, !path.isEmpty else {
        throw UsageError("no public key: give --public-key FILE, RETENTION_PUBLIC_KEY or public_key in the config file", exitCode: .config)
    }
    return path
}
