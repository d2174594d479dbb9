import ArgumentParser
import Foundation
import Logging
import RetentionCore

/// The `retention` command line: parses arguments and calls RetentionCore; no logic lives here.
@main
struct RetentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Applies retention policies to a PostgreSQL database and proves what was purged.",
        discussion: """
            Connects with libpq's conventions: --db CONNINFO, or PGHOST, PGPORT, PGDATABASE, PGUSER, \
            PGSERVICE, PGPASSFILE, PGSSLMODE, ... Never put a password on the command line.

            Exit status: 0 done, 1 failed during the purge, 64 bad command line, 65 invalid policy file, \
            69 database unreachable, 75 another run holds the lock, 77 permission denied, \
            78 configuration error, 130/143 interrupted.
            """,
        version: RetentionVersion.current,
        subcommands: [Setup.self, Check.self, Plan.self, Run.self, Verify.self, Show.self, Report.self, HoldCommand.self, Keygen.self,
                      AuditCommand.self, Config.self, Status.self, Witness.self]
    )
}

extension RetentionCommand {
    /// Refuses the spellings of earlier versions (64) before parsing, then runs the command.
    static func main() {
        // The sessions keep the server's time zone (or the `timezone` setting): a clerk's PGTZ must not
        // move which days a hold's window covers, nor a timestamp column's cutoff.
        unsetenv("PGTZ")
        let arguments = Array(CommandLine.arguments.dropFirst())
        // `help NAME` for a NAME that is no command would print the top help and exit 0.
        if arguments.first == "help", arguments.count > 1 {
            let names = configuration.subcommands.map { $0._commandName }
            if !names.contains(arguments[1]) {
                FileHandle.standardError.write(Data("retention: error: no command \(visible(arguments[1])); the commands are: \(names.joined(separator: ", "))\n".utf8))
                Foundation.exit(ExitStatus.usage.rawValue)
            }
        }
        if let message = RenamedOptions.refusal(arguments) {
            FileHandle.standardError.write(Data("retention: error: \(message)\n".utf8))
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        main(nil)
    }
}

extension ArgumentHelp {
    /// Help for an option that is also a setting, as `SettingKey.definition` declares it: its
    /// discussion names the setting's environment variable and config file key.
    static func setting(_ key: SettingKey) -> ArgumentHelp {
        ArgumentHelp(key.helpAbstract, discussion: key.helpDiscussion, valueName: key.definition.valueName)
    }
}

/// Option groups whose options are also settings of the config file and the environment.
protocol SettingOptions: ParsableArguments {
    /// The options given on the command line, by setting.
    var given: [SettingKey: String] { get }
}

/// The database to connect to.
struct ConnectionOptions: SettingOptions {
    @Option(name: .customLong("db"), help: .setting(.db))
    var conninfo: String?

    var given: [SettingKey: String] { [.db: conninfo].compactMapValues { $0 } }

    /// On a command whose only use of the database is its `--ledger` flag, `--db` without the flag is a mistake.
    func requireLedger(_ ledger: Bool, usage: String) throws {
        if conninfo != nil && !ledger { throw ValidationError("--db is the connection for --ledger; to use the ledger: \(usage)") }
    }
}

/// Spellings of earlier versions that now mean something else, refused with the new one.
///
/// `--db` is the connection on every command; the live checks have flags of their own.
enum RenamedOptions {
    static func refusal(_ arguments: [String]) -> String? {
        guard let command = arguments.first, ["check", "verify"].contains(command),
              let index = arguments.firstIndex(of: "--db") else { return nil }
        let next = arguments.index(after: index) < arguments.endIndex ? arguments[index + 1] : nil
        let valueless = next == nil || next!.hasPrefix("-")
        let pathLike = next.map { Connection.conninfoProblem($0) != nil && !$0.contains("=") } ?? false
        switch command {
        case "check" where valueless:
            return "`check --db` is now `check --catalog` (the connection, when not libpq's environment, is --db CONNINFO)"
        case "verify" where valueless || pathLike || arguments.contains("--conninfo"):
            return "`verify --db` is now `verify --ledger` (the connection, when not libpq's environment, is --db CONNINFO)"
        default:
            return nil
        }
    }
}

/// The manifest folder.
struct ManifestFolderOptions: SettingOptions {
    @Option(help: .setting(.manifests))
    var manifests: String?

    var given: [SettingKey: String] { [.manifests: manifests].compactMapValues { $0 } }
}

/// The manifest folder and signing key of `run` (and of `setup`, which finalizes runs that died).
struct SigningOptions: SettingOptions {
    @OptionGroup var folder: ManifestFolderOptions

    @Option(help: .setting(.signingKey))
    var signingKey: String?

    var given: [SettingKey: String] { folder.given.merging([.signingKey: signingKey].compactMapValues { $0 }) { $1 } }
}

/// The time-stamping authority `run` asks for a token over each manifest, and its CA.
struct TimestampOptions: SettingOptions {
    @Option(help: .setting(.tsaURL))
    var tsaURL: String?

    @OptionGroup var authority: TimestampCAOptions

    var given: [SettingKey: String] { authority.given.merging([.tsaURL: tsaURL].compactMapValues { $0 }) { $1 } }
}

/// The time-stamping authority's CA, which checks the tokens beside the manifests.
struct TimestampCAOptions: SettingOptions {
    @Option(help: .setting(.tsaCA))
    var tsaCA: String?

    var given: [SettingKey: String] { [.tsaCA: tsaCA].compactMapValues { $0 } }
}

/// The public key that verifies manifests.
struct PublicKeyOptions: SettingOptions {
    @Option(help: .setting(.publicKey))
    var publicKey: String?

    var given: [SettingKey: String] { [.publicKey: publicKey].compactMapValues { $0 } }
}

/// The policy folder, for the commands that read policies.
struct PolicyOptions: SettingOptions {
    @Option(help: .setting(.policies))
    var policies: String?

    var given: [SettingKey: String] { [.policies: policies].compactMapValues { $0 } }
}

/// How `run` sizes, spreads, bounds and times its batches.
struct BatchOptions: SettingOptions {
    @Option(help: .setting(.batchSize))
    var batchSize: Int?

    @Option(help: .setting(.jobs))
    var jobs: Int?

    @Option(help: .setting(.maxRuntime))
    var maxRuntime: String?

    @Option(help: .setting(.maxRows))
    var maxRows: Int64?

    @Option(help: .setting(.lockTimeout))
    var lockTimeout: String?

    @Option(help: .setting(.statementTimeout))
    var statementTimeout: String?

    @Option(help: .setting(.metricsFile))
    var metricsFile: String?

    @Option(help: .setting(.maxReplicaLag))
    var maxReplicaLag: String?

    @Option(help: .setting(.maxWALRate))
    var maxWalRate: Int?

    @Option(help: .setting(.maxClockSkew))
    var maxClockSkew: String?

    var given: [SettingKey: String] {
        [.batchSize: batchSize.map(String.init), .jobs: jobs.map(String.init), .maxRuntime: maxRuntime,
         .maxRows: maxRows.map(String.init),
         .lockTimeout: lockTimeout, .statementTimeout: statementTimeout, .metricsFile: metricsFile,
         .maxReplicaLag: maxReplicaLag, .maxWALRate: maxWalRate.map(String.init),
         .maxClockSkew: maxClockSkew].compactMapValues { $0 }
    }
}

/// Options every command takes: the config file (or the instance) and how it logs.
struct GlobalOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Config file of shared settings (default: /etc/retention/retention.yaml when it exists).",
                               discussion: "Also: RETENTION_CONFIG. `retention config` shows every effective setting.",
                               valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("The instance (one database each) whose config file is read: /etc/retention/NAME.yaml.",
                               discussion: """
                                   Also: RETENTION_INSTANCE. Letters, digits, - and _, at most 64; the file must exist (78). \
                                   The default instance is retention (retention.yaml). Not with --config.
                                   """,
                               valueName: "name"))
    var instance: String?

    @Option(help: .setting(.logFormat))
    var logFormat: LogFormat?

    @Option(help: .setting(.logLevel))
    var logLevel: Logger.Level?

    @Flag(help: "Warnings and errors only (for cron).")
    var quiet = false

    func validate() throws {
        if let instance, let problem = Instances.problem(instance) { throw ValidationError("--instance: \(problem)") }
        if nonEmpty(instance) != nil && nonEmpty(config) != nil {
            throw ValidationError("--instance and --config name the config file both; give one")
        }
    }

    /// The logging options given, as settings.
    var given: [SettingKey: String] {
        [.logFormat: logFormat?.rawValue, .logLevel: logLevel?.rawValue].compactMapValues { $0 }
    }

    /// Merges the command line with the environment and the config file, then sets up logging
    /// (once; only the executable does this). A bad setting is logged and ends the command.
    func begin(_ groups: any SettingOptions...) throws -> (Settings, Logger) {
        var given = self.given
        for group in groups { given.merge(group.given) { $1 } }
        do {
            let settings = try Settings(commandLine: given, configOption: config, instanceOption: instance)
            // A person at a terminal reads text whatever the config file (written for the nightly
            // unit) says; the command line or the environment still choose.
            var format = settings.setting(.logFormat)
            if case .file = format?.source, isatty(STDERR_FILENO) == 1 { format = nil }
            return (settings, makeLogger(format: format.flatMap { LogFormat(rawValue: $0.value) },
                                         level: Logger.Level(rawValue: settings.logLevel) ?? .info))
        } catch let error as RetentionError {
            makeLogger(format: logFormat, level: logLevel ?? .info).error("\(error.description)")
            throw ExitCode(error.exitCode.rawValue)
        }
    }

    /// Sets up logging from the command line and the environment alone, for a command that reads
    /// the config files of every instance (`status --all-instances`).
    func beginWithoutConfig() -> Logger {
        let environment = ProcessInfo.processInfo.environment
        return makeLogger(format: logFormat ?? nonEmpty(environment[SettingKey.logFormat.environmentName]).flatMap { LogFormat(rawValue: $0) },
                          level: logLevel ?? nonEmpty(environment[SettingKey.logLevel.environmentName]).flatMap { Logger.Level(rawValue: $0) } ?? .info)
    }

    private func makeLogger(format: LogFormat?, level: Logger.Level) -> Logger {
        let format = format ?? (isatty(STDERR_FILENO) == 1 ? .text : .json)
        LoggingBootstrap.once(format: format, level: quiet ? max(level, .warning) : level)
        return Logger(label: "retention")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

enum LogFormat: String, ExpressibleByArgument, Sendable {
    case text, json
}

/// An empty option counts as not given.
func nonEmpty(_ text: String?) -> String? {
    guard let text, !text.isEmpty else { return nil }
    return text
}

/// Runs a command body, turning a user-facing error into its message and exit status.
func perform(_ logger: Logger, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as RetentionError {
        for line in error.description.split(separator: "\n") {
            logger.error("\(line)")
        }
        throw ExitCode(error.exitCode.rawValue)
    }
}
