import Foundation

/// Instances: one config file per database, `/etc/retention/NAME.yaml`, each run by its own
/// `retention@NAME` units with its own manifest folder, metrics file and chain.
///
/// The default instance is `retention`: `/etc/retention/retention.yaml` and `retention.service`,
/// as on a machine with one database. `--instance NAME` (or `RETENTION_INSTANCE`) reads
/// `NAME.yaml` of the folder; `RETENTION_CONFIG_DIR` moves the folder (tests, a checkout).
public enum Instances {
    public static let defaultDirectory = "/etc/retention"
    /// The default instance's name, and so its config file's (`retention.yaml`).
    public static let defaultName = "retention"
    public static let longestName = 64

    /// One instance: its name and its config file.
    public struct Instance: Sendable, Equatable {
        public let name: String
        public let configFile: String
    }

    /// The config file chosen for a command, why that one, and the instance it is (`nil`: a file
    /// named by `--config` or `RETENTION_CONFIG`, which may be any).
    public struct Choice: Sendable {
        public let path: String
        public let chosenBy: String
        public let instance: String?
    }

    /// The folder of the config files: `RETENTION_CONFIG_DIR`, else `/etc/retention`.
    public static func directory(environment: [String: String]) -> String {
        nonEmpty(environment["RETENTION_CONFIG_DIR"]).map(absolute) ?? defaultDirectory
    }

    /// The config file of instance `name` in the folder, whether or not it exists.
    public static func configPath(_ name: String, environment: [String: String]) -> String {
        (directory(environment: environment) as NSString).appendingPathComponent(name + ".yaml")
    }

    /// Why `name` cannot name an instance (a systemd instance and a file name both), or `nil`:
    /// ASCII letters, digits, `-` and `_`, at most 64 characters, not starting with `-`.
    public static func problem(_ name: String) -> String? {
        let allowed = name.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_")
        }
        if name.isEmpty || !allowed || name.hasPrefix("-") || name.count > longestName {
            return "an instance name is letters, digits, - and _, at most \(longestName) characters, not starting with -; found '\(visible(String(name.prefix(80))))'"
        }
        return nil
    }

    /// The config file a command reads: `--instance` or `--config` (not both), else
    /// `RETENTION_INSTANCE` or `RETENTION_CONFIG` (not both), else the default instance's file when
    /// it exists; `nil`: no config file. An instance whose file does not exist is refused (78, one
    /// line): its name was mistyped, or its file is not written yet.
    public static func choose(configOption: String?, instanceOption: String?,
                              environment: [String: String]) throws -> Choice? {
        let configOption = nonEmpty(configOption), instanceOption = nonEmpty(instanceOption)
        if configOption != nil && instanceOption != nil {
            throw UsageError("--instance and --config name the config file both; give one", exitCode: .usage)
        }
        if let name = instanceOption { return try instance(name, chosenBy: "--instance", exitCode: .usage, environment: environment) }
        if let path = configOption { return Choice(path: absolute(path), chosenBy: "--config", instance: nil) }
        switch (nonEmpty(environment["RETENTION_INSTANCE"]), nonEmpty(environment["RETENTION_CONFIG"])) {
        case (.some, .some):
            throw UsageError("RETENTION_INSTANCE and RETENTION_CONFIG name the config file both; set one", exitCode: .config)
        case (.some(let name), nil):
            return try instance(name, chosenBy: "RETENTION_INSTANCE", exitCode: .config, environment: environment)
        case (nil, .some(let path)):
            return Choice(path: absolute(path), chosenBy: "RETENTION_CONFIG", instance: nil)
        case (nil, nil):
            let path = configPath(defaultName, environment: environment)
            return FileManager.default.fileExists(atPath: path) ? Choice(path: path, chosenBy: "default path", instance: defaultName) : nil
        }
    }

    private static func instance(_ name: String, chosenBy: String, exitCode: ExitStatus,
                                 environment: [String: String]) throws -> Choice {
        if let problem = problem(name) { throw UsageError("\(chosenBy): \(problem)", exitCode: exitCode) }
        let path = configPath(name, environment: environment)
        guard FileManager.default.fileExists(atPath: path) else {
            let known = (try? all(environment: environment).map(\.name)) ?? []
            throw UsageError("instance \(name): no config file \(visible(path)) (instances here: "
                             + (known.isEmpty ? "none" : known.joined(separator: ", ")) + ")", exitCode: .config)
        }
        return Choice(path: path, chosenBy: "\(chosenBy) \(name)", instance: name)
    }

    /// Every instance with a config file in the folder: the default one first when its file exists,
    /// then the others by name. Files whose name is no instance name (`retention.yaml.dpkg-dist`,
    /// `.north.yaml.swp`) are not instances.
    public static func all(environment: [String: String]) throws -> [Instance] {
        let folder = directory(environment: environment)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw UsageError("the instances' folder \(visible(folder)) cannot be read", exitCode: .config)
        }
        let instances = names.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(".yaml".count)) }
            .filter { problem($0) == nil }
            .map { Instance(name: $0, configFile: (folder as NSString).appendingPathComponent($0 + ".yaml")) }
            .filter { var folder: ObjCBool = false
                      return FileManager.default.fileExists(atPath: $0.configFile, isDirectory: &folder) && !folder.boolValue }
        return instances.sorted { ($0.name == defaultName ? 0 : 1, $0.name) < ($1.name == defaultName ? 0 : 1, $1.name) }
    }

    /// The timer that starts an instance's nightly run: `retention.timer` for the default instance
    /// (and a config file named by path), `retention@NAME.timer` for the others.
    public static func timer(of instance: String?) -> String {
        guard let instance, instance != defaultName else { return "retention.timer" }
        return "retention@\(instance).timer"
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
