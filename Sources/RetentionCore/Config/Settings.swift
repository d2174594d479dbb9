import Configuration
import Foundation
import Synchronization
import Yams

extension SettingKey {
    /// The key's name for swift-configuration; its environment provider spells it `environmentName`.
    var configKey: ConfigKey { ConfigKey(["retention", rawValue]) }
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
/// The config file is `--config FILE` or `--instance NAME`, else `RETENTION_CONFIG` or
/// `RETENTION_INSTANCE`, else `/etc/retention/retention.yaml` when it exists (`Instances.choose`).
/// Every value is checked here, whatever its source, and a bad one names where it came from.
public struct Settings: Sendable {
    /// The config file read, and why that one (`--config`, `--instance north`, `RETENTION_CONFIG`, or the default path).
    public let configFile: (path: String, chosenBy: String)?
    /// The instance whose config file was read (`retention` for the default one); `nil`: none, or a
    /// file named by path.
    public let instance: String?
    private let values: [SettingKey: (value: String, source: SettingSource)]

    /// Merges the sources; `commandLine` holds the options given, by key.
    public init(commandLine: [SettingKey: String], configOption: String?, instanceOption: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let environment = environment.filter { !$0.value.isEmpty }
        let choice = try Instances.choose(configOption: configOption, instanceOption: instanceOption, environment: environment)
        configFile = choice.map { ($0.path, $0.chosenBy) }
        instance = choice?.instance
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
        // An instance's file names its database; another source winning over it is worth a word.
        if let instance, file.values[.db] != nil, let source = merged[.db]?.1, !Self.isFile(source) {
            dbOverride = "instance \(instance)'s config file names its database, but \(source) names another: connecting there"
        } else {
            dbOverride = nil
        }
        try validate()
    }

    private static func isFile(_ source: SettingSource) -> Bool {
        if case .file = source { return true }
        return false
    }

    /// Set when `--db` or `RETENTION_DB` overrides the chosen instance's `db`: the warning to log.
    public let dbOverride: String?

    private static func values(_ pairs: [SettingKey: String]) -> [AbsoluteConfigKey: ConfigValue] {
        Dictionary(uniqueKeysWithValues: pairs.filter { !$0.value.isEmpty }.map {
            (AbsoluteConfigKey($0.key.configKey), ConfigValue(.string($0.value), isSecret: $0.key == .db))
        })
    }

    /// The value in effect and where it came from; nil when no source sets it and it has no default.
    public func setting(_ key: SettingKey) -> (value: String, source: SettingSource)? {
        if let given = values[key] { return given }
        return key.definition.builtIn.map { ($0, .builtIn) }
    }

    public func string(_ key: SettingKey) -> String? { setting(key)?.value }

    /// The value of a setting that has a default (`SettingDefinition.builtIn`), so always one.
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
    public var maxRows: Int64? { string(.maxRows).flatMap { Int64($0) } }
    public var lockTimeout: String { defaulted(.lockTimeout) }
    public var statementTimeout: String { defaulted(.statementTimeout) }
    public var metricsFile: String? { string(.metricsFile) }
    public var maxReplicaLag: Double? { string(.maxReplicaLag).flatMap(DurationText.seconds) }
    public var maxWALRate: Int? { string(.maxWALRate).flatMap { Int($0) } }
    /// The time zone whose calendar days hold windows mean; `nil`: the server's `TimeZone`.
    public var timezone: String? { string(.timezone) }
    public var tsaURL: String? { string(.tsaURL) }
    public var tsaCA: String? { string(.tsaCA) }

    /// The time-stamping authority the runs ask, with its CA when `tsa_ca` is set; `nil` when `tsa_url` is not.
    public func timestampAuthority() throws -> TimestampAuthority? {
        guard let url = tsaURL else { return nil }
        return try TimestampAuthority(url: url, authorities: try tsaCA.map(TimestampAuthority.loadAuthorities) ?? [])
    }
    /// `nil`: off (the database clock is not compared with this machine's).
    public var maxClockSkew: Double? {
        let value = defaulted(.maxClockSkew)
        return value == "off" ? nil : DurationText.seconds(value) ?? RunOptions.defaultMaxClockSkew
    }

    /// Checks every value that is set, whatever its source, before any command uses one.
    private func validate() throws {
        for (key, (value, source)) in values {
            var problem = key.definition.check(value)
            if key == .db {
                if problem == nil, case .file = source, Connection.conninfoHasPassword(value) {
                    problem = "holds a password; put it in the .pgpass file (PGPASSFILE) or a service file of the user that runs retention"
                }
            } else if let found = problem {
                problem = found + "; found '\(visible(key == .tsaURL ? TimestampAuthority.withoutCredentials(value) : value))'"
            }
            if let problem {
                throw UsageError("\(source.naming(key)) \(problem)", exitCode: source.exitCode)
            }
        }
    }
}

/// Records which provider answered each lookup, so `retention config` can say where a value came from.
///
/// An access reporter is swift-configuration's own way to watch lookups (its `AccessLogger` is
/// one); the reader's merge stays the library's, and this only notes which provider won.
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
///
/// Read here rather than by swift-configuration's YAML file provider, whose values reach
/// `Settings` through an `InMemoryProvider` instead: the provider reports neither the line a value
/// is on (every message about a bad value names it) nor keys nobody asks for (which must be
/// refused), resolves no path against the file's folder, and reads any file whole, where this one
/// refuses aliases and anything but a regular file under 1 MiB before it parses (`BoundedFile`).
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
