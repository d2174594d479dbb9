import ArgumentParser
import Foundation
import Logging
import RetentionCore

struct Setup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Creates or upgrades the tool's own schema (retention: runs, batch ledger, legal holds).",
        discussion: """
            Safe to run again: it changes nothing on an installed database. With --manifests and \
            --signing-key it also finds runs that died and writes their `recovered` manifests.
            With --after-restore, after the database was restored from a backup older than its newest \
            manifest, it writes a signed `restored` manifest that records the gap and continues the chain. \
            With the policy folder, it records what each active legal hold placed by an older version covers \
            (tables and columns), so a later policy change that would move the hold stops the run.
            Exit: 0, 69, 75 (a run is going: nothing was changed), 77, 78.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: ConnectionOptions
    @OptionGroup var signing: SigningOptions
    @OptionGroup var policyFolder: PolicyOptions

    @Flag(help: "The database was restored from a backup: record the gap to the manifest folder's chain in a signed manifest and go on from it.")
    var afterRestore = false

    func run() throws {
        let (settings, logger) = try global.begin(database, signing, policyFolder)
        try perform(logger) {
            if afterRestore {
                // Deliberate: the key and the folder are required, and the gap is signed.
                let manifests = try ManifestSettings(directory: settings.manifests, signingKeyPath: settings.signingKey)
                let connection = try Retention.connect(settings, logger: logger)
                try RetentionSchema.install(on: connection, logger: logger)
                if let path = try AfterRestore.continueChain(on: connection, settings: manifests, logger: logger) {
                    print("the chain goes on after the restore: \(visible(path)) records the gap")
                } else {
                    print("nothing to do: the manifest folder's chain and the database's ledger agree")
                }
                return
            }
            // Setup installs the schema; the manifest folder and key only serve finalizing runs that
            // died, so a folder that is not there yet is a note, not a refusal.
            // A user who may install the schema but not read the key (postgres) is no refusal either.
            var manifests: ManifestSettings?
            if let folder = settings.manifests, let key = settings.signingKey {
                do {
                    manifests = try ManifestSettings(directory: folder, signingKeyPath: key)
                } catch let error as RetentionError {
                    logger.notice("not finalizing runs that died (\(error.description)); the next run does")
                }
            }
            let connection = try Retention.connect(settings, logger: logger)
            try RetentionSchema.install(on: connection, logger: logger)
            try Retention.finalizeDeadRuns(on: connection, settings: manifests, logger: logger)
            // Holds placed before coverage was recorded get it from today's policies: a folder that
            // cannot be read leaves them as they are, and each run says so.
            if let policies = try? PolicyLoader.load(directory: settings.policies) {
                let adopted = try HoldCoverage.adoptUncovered(policies, on: connection)
                if adopted > 0 { logger.notice("recorded what \(adopted) legal holds placed by an older version cover") }
                let left = try Holds.uncovered(on: connection)
                if left > 0 {
                    let folder = settings.policies
                    logger.warning("\(left) legal holds placed by an older version name a policy that is not in \(folder): run setup again with the folder of every policy (--policies)")
                }
            } else if try Holds.uncovered(on: connection) > 0 {
                logger.warning("legal holds placed by an older version do not record what they cover: run setup again with --policies")
            }
        }
    }
}
