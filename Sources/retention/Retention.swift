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
        subcommands: [Setup.self, Check.self, Plan.self, Run.self, Verify.self, Show.self, HoldCommand.self, Keygen.self, AuditCommand.self]
    )
}

extension RetentionCommand {
    /// Refuses the spellings of earlier versions (64) before parsing, then runs the command.
    static func main() {
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

/// The database to connect to.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp(
        "libpq conninfo string or postgresql:// URI.",
        discussion: "Default: libpq's environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGSERVICE, PGPASSFILE, ...).",
        valueName: "conninfo"))
    var conninfo: String?

    func validate() throws {
        try validateConninfo(conninfo)
    }
}

/// A conninfo libpq cannot parse is a bad command line (64), found before anything connects.
func validateConninfo(_ conninfo: String?) throws {
    if let conninfo, let problem = Connection.conninfoProblem(conninfo) {
        throw ValidationError("--db: not a libpq connection string or URI: \(problem)")
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

/// The manifest folder and signing key of `run` (and of `setup`, which finalizes runs that died).
struct SigningOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Folder the signed manifests go to.", discussion: "Environment: RETENTION_MANIFESTS.",
                               valueName: "dir"))
    var manifests: String?

    @Option(help: ArgumentHelp("Ed25519 private key (PKCS#8 PEM, mode 0600) that signs manifests.",
                               discussion: "Environment: RETENTION_SIGNING_KEY.", valueName: "file"))
    var signingKey: String?

    var manifestFolder: String? { nonEmpty(manifests ?? ProcessInfo.processInfo.environment["RETENTION_MANIFESTS"]) }
    var signingKeyFile: String? { nonEmpty(signingKey ?? ProcessInfo.processInfo.environment["RETENTION_SIGNING_KEY"]) }
    var isComplete: Bool { manifestFolder != nil && signingKeyFile != nil }
}

/// The public key that verifies manifests.
struct PublicKeyOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Ed25519 public key (SPKI PEM) that verifies manifests.",
                               discussion: "Environment: RETENTION_PUBLIC_KEY.", valueName: "file"))
    var publicKey: String?

    var publicKeyFile: String? { nonEmpty(publicKey ?? ProcessInfo.processInfo.environment["RETENTION_PUBLIC_KEY"]) }
}

/// An empty option or environment variable counts as not given (`RETENTION_SIGNING_KEY=` unsets it).
func nonEmpty(_ text: String?) -> String? {
    guard let text, !text.isEmpty else { return nil }
    return text
}

/// The policy folder, for the commands that read policies.
struct PolicyOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Folder of policy files.", discussion: "Environment: RETENTION_POLICIES."))
    var policies: String = nonEmpty(ProcessInfo.processInfo.environment["RETENTION_POLICIES"]) ?? "policies"
}

/// Options every command takes: how it logs.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Log format on stderr: text or json (default: json when stderr is not a terminal).")
    var logFormat: LogFormat?

    @Option(help: "Lowest log level.")
    var logLevel: Logger.Level = .info

    @Flag(help: "Warnings and errors only (for cron).")
    var quiet = false

    /// Sets up logging once; only the executable does this.
    func makeLogger() -> Logger {
        let format = logFormat ?? (isatty(STDERR_FILENO) == 1 ? .text : .json)
        let level = quiet ? max(logLevel, .warning) : logLevel
        LoggingBootstrap.once(format: format, level: level)
        return Logger(label: "retention")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

enum LogFormat: String, ExpressibleByArgument, Sendable {
    case text, json
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
