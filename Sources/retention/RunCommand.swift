import ArgumentParser
import Foundation
import Logging
import RetentionCore

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Purges what the policies say is due, in batches, and records every batch in the ledger.",
        discussion: """
            One run at a time per database (advisory lock). Quiet on success with --quiet.
            SIGTERM / SIGINT finish the current batch, write an `interrupted` manifest and exit 143 / 130.
            Exit: 0 done (also when nothing was due or stopped at --max-runtime), 1 failed during the purge, \
            64, 65, 69, 75 another run holds the lock, 77 permission denied, 78 configuration error \
            (missing signing key or manifest folder: --signing-key, --manifests or their settings).
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var policyFolder: PolicyOptions
    @OptionGroup var database: ConnectionOptions
    @OptionGroup var signing: SigningOptions

    @OptionGroup var batches: BatchOptions
    @OptionGroup var timestamps: TimestampOptions

    @Option(name: .customLong("only"), help: "Apply only this policy (repeatable).")
    var only: [String] = []

    @Flag(help: "Run plain VACUUM on each purged table after the last batch (needs the table owner's role).")
    var vacuum = false

    @Flag(help: "Rewrite each purged table so no byte of a purged row stays in its files (pg_repack when installed).")
    var erase = false

    @Flag(help: "Let --erase use VACUUM FULL when pg_repack is not available; it blocks each table while it is rewritten.")
    var allowExclusiveLock = false

    func validate() throws {
        if allowExclusiveLock && !erase { throw ValidationError("--allow-exclusive-lock goes with --erase") }
    }

    func run() throws {
        let (settings, logger) = try global.begin(policyFolder, database, signing, batches, timestamps)
        try perform(logger) {
            var job = RunJob(settings: settings)
            job.only = only
            job.vacuum = vacuum
            job.erase = erase
            job.allowExclusiveLock = allowExclusiveLock
            job.stopRequested = StopSignals.received
            job.connected = StopSignals.connected
            if isatty(STDERR_FILENO) == 1 && !global.quiet { job.progress = TerminalProgress() }
            StopSignals.install()
            let status = try job.run(logger: logger)
            if status != .ok { throw ExitCode(status.rawValue) }
        }
    }
}
