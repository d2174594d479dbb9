import Foundation

/// Renders the effective settings for `retention config`: each value and where it came from, never a password.
public enum SettingsRendering {
    public static func text(_ settings: Settings) -> String {
        var out = "Config file: "
        if let file = settings.configFile {
            out += "\(visible(file.path)) (\(file.chosenBy))\n"
        } else {
            let file = Instances.configPath(Instances.defaultName, environment: ProcessInfo.processInfo.environment)
            out += "none (\(visible(file)) does not exist; --config FILE, --instance NAME or RETENTION_CONFIG names another)\n"
        }
        let rows = SettingKey.allCases.map { key -> [String] in
            let entry = shown(settings, key)
            return [key.rawValue, entry.value ?? "-", entry.from]
        }
        out += "Target:      \(Connection.target(of: settings.db)) (as libpq resolves db and its environment; not connected)\n"
        return out + "\n" + TextTable.render(header: ["setting", "value", "from"], rows: rows, rightAligned: [])
    }

    public static func json(_ settings: Settings) -> String {
        struct File: Encodable { let path, chosenBy: String }
        struct Entry: Encodable { let key: String; let value: String?; let from, environment, option: String }
        struct Shown: Encodable { let configFile: File?; let target: String; let settings: [Entry] }
        return JSONOutput.text(Shown(
            configFile: settings.configFile.map { File(path: $0.path, chosenBy: $0.chosenBy) },
            target: Connection.target(of: settings.db),
            settings: SettingKey.allCases.map { key in
                let entry = shown(settings, key)
                return Entry(key: key.rawValue, value: entry.value, from: entry.from,
                             environment: key.environmentName, option: key.option)
            }))
    }

    /// The value as it may be shown (a conninfo's password masked) and its source in words.
    private static func shown(_ settings: Settings, _ key: SettingKey) -> (value: String?, from: String) {
        guard let (value, source) = settings.setting(key) else { return (nil, "not set: \(key.definition.meaning)") }
        let text = key == .db ? Connection.maskingPassword(value) : key == .tsaURL ? visible(TimestampAuthority.withoutCredentials(value)) : visible(value)
        return (text, source == .builtIn ? "default" : source.description)
    }
}
