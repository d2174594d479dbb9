import Foundation

/// One option the commands share, settable on the command line, in the environment and in the config file.
///
/// The config file's key is the raw value (`signing_key`), the environment variable is
/// `RETENTION_` and the key in capitals (`RETENTION_SIGNING_KEY`), the option is `--signing-key`.
/// Everything else about a setting (its help, its default, how a value is checked) is declared
/// once, in `definition`.
public enum SettingKey: String, CaseIterable, Sendable {
    case db, policies, manifests
    case signingKey = "signing_key", publicKey = "public_key"
    case logFormat = "log_format", logLevel = "log_level"
    case batchSize = "batch_size", jobs, maxRuntime = "max_runtime", maxRows = "max_rows"
    case lockTimeout = "lock_timeout", statementTimeout = "statement_timeout"
    case metricsFile = "metrics_file"
    case maxReplicaLag = "max_replica_lag", maxWALRate = "max_wal_rate"
    case maxClockSkew = "max_clock_skew"
    case timezone
    case tsaURL = "tsa_url", tsaCA = "tsa_ca"

    public var environmentName: String { "RETENTION_" + rawValue.uppercased() }
    public var option: String { "--" + rawValue.replacingOccurrences(of: "_", with: "-") }

    /// A path in the config file is read from the file's folder, as a person reading the file expects.
    var isPath: Bool { [.policies, .manifests, .signingKey, .publicKey, .metricsFile, .tsaCA].contains(self) }

    /// The value when no source sets one, for a setting that has one (`definition.builtIn`).
    public var builtIn: String {
        guard let value = definition.builtIn else { preconditionFailure("setting \(rawValue) has no default") }
        return value
    }

    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// The setting's help, default and check: the one place each is written.
    public var definition: SettingDefinition {
        switch self {
        case .db:
            return .init("libpq conninfo string or postgresql:// URI", valueName: "conninfo", builtIn: nil,
                         meaning: "libpq's environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGSERVICE, PGPASSFILE, ...)",
                         shown: .inDiscussion, check: Self.conninfo)
        case .policies:
            return .init("Folder of policy files", valueName: "dir", builtIn: "policies")
        case .manifests:
            return .init("Folder of the signed manifests", valueName: "dir", builtIn: nil,
                         meaning: "none: `run` refuses to start without it", shown: .no)
        case .signingKey:
            return .init("Ed25519 private key (PKCS#8 PEM, mode 0600) that signs manifests", valueName: "file", builtIn: nil,
                         meaning: "none: `run` refuses to start without it", shown: .no)
        case .publicKey:
            return .init("Ed25519 public key (SPKI PEM) that verifies manifests", valueName: "file", builtIn: nil,
                         meaning: "none: `verify` refuses, `show` does not check the signature", shown: .no)
        case .logFormat:
            return .init("Log format on stderr: text or json", builtIn: nil, meaning: "text on a terminal, whatever the config file says; else json",
                         check: { ["text", "json"].contains($0) ? nil : "must be text or json" })
        case .logLevel:
            return .init("Lowest log level", builtIn: "info", check: {
                Self.logLevels.contains($0) ? nil : "must be one of \(Self.logLevels.joined(separator: ", "))"
            })
        case .batchSize:
            return .init("How many rows (keys) each batch spans; it purges the due ones among them", builtIn: nil,
                         meaning: "sized so each batch takes about 60 ms, or ten times its fixed cost where rows are dear",
                         check: { (Int($0) ?? 0) >= 1 ? nil : "must be a whole number, 1 or more" })
        case .jobs:
            return .init("How many sessions purge a table at once, each in its own part of the key space", builtIn: "2",
                         check: { (1...16).contains(Int($0) ?? 0) ? nil : "must be between 1 and 16" })
        case .maxRuntime:
            return .init("Stop cleanly after the batch that passes this duration, like 30m, 2h or 90s", builtIn: nil,
                         meaning: "no limit", shown: .no,
                         check: { DurationText.seconds($0) != nil ? nil : "must be a duration like 90s, 30m or 2h, at most a week" })
        case .maxRows:
            return .init("Stop cleanly once this many rows are purged (the first nights of a large backlog)", builtIn: nil,
                         meaning: "no limit", shown: .no,
                         check: { (Int64($0) ?? 0) >= 1 ? nil : "must be a whole number, 1 or more" })
        case .lockTimeout:
            return .init("How long a batch waits for a row lock before it is tried again, like 5s, 500ms or 2min",
                         builtIn: "5s", check: Self.postgresTime)
        case .statementTimeout:
            return .init("How long one batch statement may take before it is tried again, like 5s, 500ms or 2min",
                         builtIn: "60s", check: Self.postgresTime)
        case .metricsFile:
            return .init("Write a node_exporter textfile-collector file with the run's outcome at its end, whatever the status",
                         valueName: "file", builtIn: nil, meaning: "none: no metrics file is written", shown: .no)
        case .maxReplicaLag:
            return .init("Before each batch, wait while a streaming replica's replay lag is above this, like 30s, until it is under half",
                         valueName: "duration", more: ". Needs pg_monitor", builtIn: nil,
                         meaning: "off: no waiting for replicas (30s is a good start)", shown: .no,
                         check: { DurationText.seconds($0) != nil ? nil : "must be a duration like 30s or 2m, at most a week" })
        case .maxWALRate:
            return .init("Hold batches while the server writes more than this many MB of WAL per second (all of its WAL), "
                         + "for servers whose WAL archiving is the bottleneck", valueName: "MB/s", builtIn: nil,
                         meaning: "off: WAL as fast as the batches write it", shown: .no,
                         check: { (Int($0) ?? 0) >= 1 ? nil : "must be a whole number of MB per second, 1 or more" })
        case .maxClockSkew:
            return .init("Refuse to start when the database clock and this machine's differ by more than this, like 5m or 90s, or off",
                         valueName: "duration", builtIn: "5m", check: {
                $0 == "off" || DurationText.seconds($0) != nil ? nil : "must be a duration like 5m, 90s or 1h, at most a week, or off"
            })
        case .timezone:
            // Checked against the server's time zone names, by the commands that use it.
            return .init("The time zone whose calendar days hold windows mean", builtIn: nil,
                         meaning: "the server's TimeZone setting", shown: .no)
        case .tsaURL:
            return .init("Ask this RFC 3161 time-stamping authority for a token over each manifest, kept beside it as NAME.manifest.tsr",
                         valueName: "url", builtIn: nil, meaning: "none: manifests are not timestamped", shown: .no, check: { value in
                ["http://", "https://"].contains { value.lowercased().hasPrefix($0) } && !(URL(string: value)?.host ?? "").isEmpty
                    ? nil : "must be an http:// or https:// address"
            })
        case .tsaCA:
            return .init("The time-stamping authority's CA certificates (PEM), which its tokens must chain to", valueName: "file",
                         builtIn: nil, meaning: "none: `run` checks a token's hash and nonce only, `verify` no tokens", shown: .no)
        }
    }

    private static func conninfo(_ value: String) -> String? {
        guard let parse = Connection.conninfoProblem(value) else { return nil }
        // libpq quotes the token it could not read, which may be a password: left out.
        let quoteless = parse.replacingOccurrences(of: #""[^"]*""#, with: "\"...\"", options: .regularExpression)
        return "is not a libpq connection string or URI: \(quoteless)"
    }

    private static func postgresTime(_ value: String) -> String? {
        PostgresDuration.isValid(value) ? nil : "must be a PostgreSQL time like 5s, 500ms or 2min (at most 1d)"
    }
}

/// Everything about one setting but its names: the option's help, the value when none is set and
/// what that means, and how a value is checked.
public struct SettingDefinition: Sendable {
    /// Where the option's help says the default.
    public enum Shown: Sendable {
        /// `(default: 5s)` at the end of the first line.
        case inAbstract
        /// `Default: ...` at the end of the discussion.
        case inDiscussion
        /// Not at all: "not set" means nothing is done (`retention config` says what).
        case no
    }

    /// The option's help, one sentence without its final period.
    public let abstract: String
    public let valueName: String?
    /// More of the discussion, after where the setting may also be set.
    public let more: String
    /// The value when no source sets one; `nil`: none.
    public let builtIn: String?
    /// What the default means, in words (the value itself, when it has one and no other words).
    public let meaning: String
    public let shown: Shown
    /// Why a value is not one of the setting's (`must be ...`), or `nil` when it is.
    let check: @Sendable (String) -> String?

    init(_ abstract: String, valueName: String? = nil, more: String = "", builtIn: String?, meaning: String? = nil,
         shown: Shown = .inAbstract, check: @escaping @Sendable (String) -> String? = { _ in nil }) {
        self.abstract = abstract
        self.valueName = valueName
        self.more = more
        self.builtIn = builtIn
        self.meaning = meaning ?? builtIn ?? "none"
        self.shown = shown
        self.check = check
    }
}

extension SettingKey {
    /// The option's help, first line: the abstract, with the default where it is shown there.
    public var helpAbstract: String {
        let definition = definition
        return definition.abstract + (definition.shown == .inAbstract ? " (default: \(definition.meaning))." : ".")
    }

    /// The option's help, discussion: where else the setting may be set, and more.
    public var helpDiscussion: String {
        let definition = definition
        let relative = isPath ? " (relative to the file's folder)" : ""
        let fallback = definition.shown == .inDiscussion ? ". Default: \(definition.meaning)" : ""
        return "Also: \(environmentName), `\(rawValue)` in the config file\(relative)\(definition.more)\(fallback)."
    }
}
