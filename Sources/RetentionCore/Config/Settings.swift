import Configuration
import Foundation
import Synchronization
import Yams

/// One option the commands share, settable on the command line, in the environment and in the config file.
///
/// The config file's key is the raw value (`signing_key`), the environment variable is
/// `RETENTION_` and the key in capitals (`RETENTION_SIGNING_KEY`), the option is `--signing-key`.
public enum SettingKey: String, CaseIterable, Sendable {
    case db, policies, manifests
    case signingKey = "signing_key", publicKey = "public_key"
    case logFormat = "log_format", logLevel = "log_level"
    case batchSize = "batch_size", jobs, maxRuntime = "max_runtime"
    case lockTimeout = "lock_timeout", statementTimeout = "statement_timeout"
    case metricsFile = "metrics_file"
    case maxReplicaLag = "max_replica_lag", maxWALRate = "max_wal_rate"
    case maxClockSkew = "max_clock_skew"
    case timezone

    public var environmentName: String { "RETENTION_" + rawValue.uppercased() }
    public var option: String { "--" + rawValue.replacingOccurrences(of: "_", with: "-") }

    /// A path in the config file is read from the file's folder, as a person reading the file expects.
    var isPath: Bool { [.policies, .manifests, .signingKey, .publicKey, .metricsFile].contains(self) }

    /// The key's name for swift-configuration; its environment provider spells it `environmentName`.
    var configKey: ConfigKey { ConfigKey(["retention", rawValue]) }

    /// The value when no source sets one, and what that means in words (for `retention config`).
    var fallback: (value: String?, meaning: String) {
        switch self {
        case .db: (nil, "libpq's environment (PGHOST, PGDATABASE, PGUSER, PGSERVICE, ...)")
        case .policies: ("policies", "the folder `policies` of the current folder")
        case .manifests: (nil, "none: `run` refuses to start without it")
        case .signingKey: (nil, "none: `run` refuses to start without it")
        case .publicKey: (nil, "none: `verify` refuses, `show` does not check the signature")
        case .logFormat: (nil, "text on a terminal, json otherwise")
        case .logLevel: ("info", "info")
        case .batchSize: (nil, "sized so each batch takes about 60 ms")
        case .jobs: (String(RunOptions.defaultJobs), String(RunOptions.defaultJobs))
        case .maxRuntime: (nil, "no limit")
        case .lockTimeout: ("5s", "5s")
        case .statementTimeout: ("60s", "60s")
        case .metricsFile: (nil, "none: no metrics file is written")
        case .maxReplicaLag: (nil, "off: no waiting for replicas (30s is a good start)")
        case .maxWALRate: (nil, "off: WAL as fast as the batches write it")
        case .maxClockSkew: ("5m", "5m")
        case .timezone: (nil, "the server's TimeZone setting")
        }
    }
}

/// Where an effective setting came from.
public enum SettingSource: Sendable, Equatable, CustomStringConvertible {
    case commandLine(String)
    case environment(String)
    case file(path: String, line: Int)
    case builtIn

    public var description: String {
        switch self {
        case .commandLine(let option): "command line (\(option))"
        case .environment(let name): "environment (\(name))"
        case .file(let path, let line): "config file (\(path) line \(line))"
        case .builtIn: "default"
        }
    }

    /// How a message names the setting: `--jobs`, `RETENTION_JOBS`, `config file FILE line 3: jobs`.
    func naming(_ key: SettingKey) -> String {
        switch self {
        case .commandLine(let option): option
        case .environment(let name): name
        case .file(let path, let line): "config file \(visible(path)) line \(line): \(key.rawValue)"
        case .builtIn: key.rawValue
        }
    }

    /// A bad value on the command line is a usage error (64); in the environment or the file, configuration (78).
    var exitCode: ExitStatus { if case .commandLine = self { .usage } else { .config } }
}

/// The options every command shares, merged from the command line, the environment, the config file
/// and the defaults, in that order of precedence (swift-configuration's `ConfigReader` does the merging).
///
/// The config file is `--config FILE`, else `RETENTION_CONFIG`, else `/etc/retention/retention.yaml`
/// when it exists. Every value is checked here, whatever its source, and a bad one names where it came from.
public struct Settings: Sendable {
    public static let defaultConfigFile = "/etc/retention/retention.yaml"

    /// The config file read, and why that one (`--config`, `RETENTION_CONFIG`, or the default path).
    public let configFile: (path: String, chosenBy: String)?
    private let values: [SettingKey: (value: String, source: SettingSource)]

    /// Merges the sources; `commandLine` holds the options given, by key.
    public init(commandLine: [SettingKey: String], configOption: String?,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let environment = environment.filter { !$0.value.isEmpty }
        if let path = configOption.flatMap({ $0.isEmpty ? nil : $0 }) {
            configFile = (Self.absolute(path), "--config")
        } else if let path = environment["RETENTION_CONFIG"] {
            configFile = (Self.absolute(path), "RETENTION_CONFIG")
        } else if FileManager.default.fileExists(atPath: Self.defaultConfigFile) {
            configFile = (Self.defaultConfigFile, "default path")
        } else {
            configFile = nil
        }
        let file = try configFile.map { try ConfigFile(path: $0.path) } ?? ConfigFile()

        let commandLine = InMemoryProvider(name: "command line", values: Self.values(commandLine))
        let fromFile = InMemoryProvider(name: "config file", values: Self.values(file.values.mapValues(\.value)))
        let answered = AnsweringProviders()
        let reader = ConfigReader(
            providers: [
                commandLine,
                EnvironmentVariablesProvider(environmentVariables: environment,
                                             secretsSpecifier: .specific(["RETENTION_DB"])),
                fromFile,
            ],
            accessReporter: answered)
        var merged: [SettingKey: (String, SettingSource)] = [:]
        for key in SettingKey.allCases {
            guard let value = reader.string(forKey: key.configKey) else { continue }
            let source: SettingSource = switch answered.provider(of: key.configKey) {
            case commandLine.providerName: .commandLine(key.option)
            case fromFile.providerName: .file(path: configFile?.path ?? "", line: file.values[key]?.line ?? 0)
            default: .environment(key.environmentName)
            }
            merged[key] = (value, source)
        }
        self.values = merged
        try validate()
    }

    private static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    private static func values(_ pairs: [SettingKey: String]) -> [AbsoluteConfigKey: ConfigValue] {
        Dictionary(uniqueKeysWithValues: pairs.filter { !$0.value.isEmpty }.map {
            (AbsoluteConfigKey($0.key.configKey), ConfigValue(.string($0.value), isSecret: $0.key == .db))
        })
    }

    /// The value in effect and where it came from; nil when no source sets it and it has no default.
    public func setting(_ key: SettingKey) -> (value: String, source: SettingSource)? {
        if let given = values[key] { return given }
        return key.fallback.value.map { ($0, .builtIn) }
    }

    public func string(_ key: SettingKey) -> String? { setting(key)?.value }

    /// The value of a setting that has a default (`SettingKey.fallback`), so always one.
    private func defaulted(_ key: SettingKey) -> String {
        guard let value = string(key) else { preconditionFailure("setting \(key.rawValue) has no default") }
        return value
    }

    public var db: String? { string(.db) }
    public var policies: String { defaulted(.policies) }
    public var manifests: String? { string(.manifests) }
    public var signingKey: String? { string(.signingKey) }
    public var publicKey: String? { string(.publicKey) }
    public var logFormat: String? { string(.logFormat) }
    public var logLevel: String { defaulted(.logLevel) }
    public var batchSize: Int? { string(.batchSize).flatMap { Int($0) } }
    public var jobs: Int { Int(defaulted(.jobs)) ?? RunOptions.defaultJobs }
    public var maxRuntime: Double? { string(.maxRuntime).flatMap(DurationText.seconds) }
    public var lockTimeout: String { defaulted(.lockTimeout) }
    public var statementTimeout: String { defaulted(.statementTimeout) }
    public var metricsFile: String? { string(.metricsFile) }
    public var maxReplicaLag: Double? { string(.maxReplicaLag).flatMap(DurationText.seconds) }
    public var maxWALRate: Int? { string(.maxWALRate).flatMap { Int($0) } }
    /// The time zone whose calendar days hold windows mean; `nil`: the server's `TimeZone`.
    public var timezone: String? { string(.timezone) }
    /// `nil`: off (the database clock is not compared with this machine's).
    public var maxClockSkew: Double? {
        let value = defaulted(.maxClockSkew)
        return value == "off" ? nil : DurationText.seconds(value) ?? RunOptions.defaultMaxClockSkew
    }

    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Checks every value that is set, whatever its source, before any command uses one.
    private func validate() throws {
        for (key, (value, source)) in values {
            var problem: String?
            switch key {
            case .db:
                if let parse = Connection.conninfoProblem(value) {
                    // libpq quotes the token it could not read, which may be a password: left out.
                    let quoteless = parse.replacingOccurrences(of: #""[^"]*""#, with: "\"...\"", options: .regularExpression)
                    problem = "is not a libpq connection string or URI: \(quoteless)"
                } else if case .file = source, Connection.conninfoHasPassword(value) {
                    problem = "holds a password; put it in the .pgpass file (PGPASSFILE) or a service file of the user that runs retention"
                }
            case .logFormat where !["text", "json"].contains(value):
                problem = "must be text or json; found '\(visible(value))'"
            case .logLevel where !Self.logLevels.contains(value):
                problem = "must be one of \(Self.logLevels.joined(separator: ", ")); found '\(visible(value))'"
            case .batchSize where (Int(value) ?? 0) < 1:
                problem = "must be a whole number, 1 or more; found '\(visible(value))'"
            case .jobs where !(1...16).contains(Int(value) ?? 0):
                problem = "must be between 1 and 16; found '\(visible(value))'"
            case .maxReplicaLag where DurationText.seconds(value) == nil:
                problem = "must be a duration like 30s or 2m, at most a week; found '\(visible(value))'"
            case .maxWALRate where (Int(value) ?? 0) < 1:
                problem = "must be a whole number of MB per second, 1 or more; found '\(visible(value))'"
            case .maxClockSkew where DurationText.seconds(value) == nil && value != "off":
                problem = "must be a duration like 5m, 90s or 1h, at most a week, or off; found '\(visible(value))'"
            case .maxRuntime where DurationText.seconds(value) == nil:
                problem = "must be a duration like 90s, 30m or 2h, at most a week; found '\(visible(value))'"
            case .lockTimeout where !PostgresDuration.isValid(value), .statementTimeout where !PostgresDuration.isValid(value):
                problem = "must be a PostgreSQL time like 5s, 500ms or 2min (at most 1d); found '\(visible(value))'"
            default:
                break
            }
            if let problem {
                throw UsageError("\(source.naming(key)) \(problem)", exitCode: source.exitCode)
            }
        }
    }
}

/// Records which provider answered each lookup, so `retention config` can say where a value came from.
private final class AnsweringProviders: AccessReporter, Sendable {
    private let answers = Mutex<[AbsoluteConfigKey: String]>([:])

    func report(_ event: AccessEvent) {
        let answer = event.providerResults.first { result in
            if case .success(let lookup) = result.result { return lookup.value != nil }
            return false
        }
        guard let answer else { return }
        answers.withLock { $0[event.metadata.key] = answer.providerName }
    }

    func provider(of key: ConfigKey) -> String? {
        answers.withLock { $0[AbsoluteConfigKey(key)] }
    }
}

/// The config file: a YAML mapping of setting keys to values, each with the line it is on.
///
/// Unknown keys are refused (a misspelt `manifest:` must not be ignored); a relative path is read from
/// the file's folder; an empty value counts as not set.
struct ConfigFile {
    var values: [SettingKey: (value: String, line: Int)] = [:]

    init() {}

    init(path: String) throws {
        func fail(_ message: String, line: Int? = nil) -> UsageError {
            UsageError("config file \(visible(path))\(line.map { " line \($0)" } ?? ""): \(message)", exitCode: .config)
        }
        guard FileManager.default.fileExists(atPath: path) else { throw fail("no such file") }
        let data: Data
        switch BoundedFile.read(path, atMost: BoundedFile.largestSettings) {
        case .success(let read): data = read
        case .failure(let problem): throw fail(problem.description)
        }
        guard let text = String(data: data, encoding: .utf8) else { throw fail("is not UTF-8 text") }
        let root: Node?
        do {
            root = try BoundedFile.composeYAML(text)
        } catch let error as BoundedFile.AnchorRefused {
            throw fail(error.message, line: error.position.line)
        } catch let error as YamlError {
            throw fail(NodeReader.describe(error), line: NodeReader.mark(of: error)?.line)
        }
        guard let root else { return }
        if root.null != nil || root.scalar?.string.isEmpty == true { return }
        guard let mapping = root.mapping else {
            throw fail("expected a mapping of settings (db, policies, manifests, ...)", line: root.mark?.line)
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        for (keyNode, valueNode) in mapping {
            let line = keyNode.mark?.line ?? 0
            guard let name = keyNode.string, let key = SettingKey(rawValue: name) else {
                throw fail("unknown setting '\(visible(keyNode.string ?? "?"))'; the settings are: "
                            + SettingKey.allCases.map(\.rawValue).joined(separator: ", "), line: line)
            }
            guard let scalar = valueNode.scalar else {
                throw fail("\(name) must be a single value, not a list or mapping", line: line)
            }
            if valueNode.null != nil || scalar.string.isEmpty { continue }
            guard !scalar.string.unicodeScalars.contains(where: \.isControlCharacter) else {
                throw fail("\(name) holds a control character", line: line)
            }
            var value = scalar.string
            if key.isPath, !value.hasPrefix("/") {
                value = folder.appendingPathComponent(value).standardizedFileURL.path
            }
            values[key] = (value, line)
        }
    }
}
