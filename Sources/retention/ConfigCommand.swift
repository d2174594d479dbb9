import ArgumentParser
import Foundation
import Logging
import RetentionCore

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prints every shared setting in effect and where it came from (never a password).",
        discussion: """
            Precedence: command line, then environment (RETENTION_DB, RETENTION_POLICIES, ...), then the \
            config file (--config, RETENTION_CONFIG, or /etc/retention/retention.yaml when it exists), then the \
            default. A relative path in the config file is read from the file's folder. \
            Exit: 0, 64 bad option value, 78 bad config file or environment value.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var policyFolder: PolicyOptions
    @OptionGroup var database: ConnectionOptions
    @OptionGroup var signing: SigningOptions
    @OptionGroup var key: PublicKeyOptions
    @OptionGroup var batches: BatchOptions

    @Flag(help: "Print the settings as JSON.")
    var json = false

    func run() throws {
        let (settings, _) = try global.begin(policyFolder, database, signing, key, batches)
        print(json ? SettingsRendering.json(settings) : SettingsRendering.text(settings), terminator: "")
    }
}
