import Foundation
import Logging

/// Writes one JSON object per line to stderr: time, level, message and dotted metadata keys.
///
/// Messages and metadata are the program's own words and counts; callers never log row values.
public struct JSONLinesLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let journal: Bool

    /// `journal`: each line starts with its syslog priority (`Journal`).
    public init(label: String, level: Logger.Level, journal: Bool = false) {
        self.label = label
        self.logLevel = level
        self.journal = journal
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: String] = [
            "time": Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date()),
            "level": event.level.rawValue,
            "message": "\(event.message)",
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = "\(value)"
        }
        guard let json = try? JSONOutput.encoder(pretty: false).encode(object) else { return }
        var data = journal ? Data(Journal.prefix(event.level).utf8) : Data()
        data.append(json)
        data.append(0x0A)
        FileHandle.standardError.write(data)
    }
}

/// Writes readable lines to stderr for a person at a terminal: `level: message (key=value ...)`.
public struct TextLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let journal: Bool

    /// `journal`: each line starts with its syslog priority (`Journal`).
    public init(label: String, level: Logger.Level, journal: Bool = false) {
        self.logLevel = level
        self.journal = journal
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 })
        // Escaped like every name in text output: a file or table name with a newline cannot forge a line.
        let details = all.isEmpty ? "" : " (" + all.sorted { $0.key < $1.key }.map { "\(visible($0.key))=\(visible("\($0.value)"))" }
            .joined(separator: " ") + ")"
        let prefix = event.level >= .warning ? "\(event.level.rawValue): " : ""
        let priority = journal ? Journal.prefix(event.level) : ""
        FileHandle.standardError.write(Data("\(priority)retention: \(prefix)\(visible("\(event.message)"))\(details)\n".utf8))
    }
}

/// The systemd journal as the log's reader: when standard error is the journal's stream, each line
/// starts with its syslog priority, `<3>` for an error to `<7>` for debug (sd-daemon(3)), so
/// `journalctl -p err` finds the errors; without it, every line is logged at info.
public enum Journal {
    /// Whether standard error is the journal's stream: `JOURNAL_STREAM` names its device and inode
    /// (systemd sets it for a unit's output; a program whose stderr was redirected elsewhere keeps
    /// the variable but not the stream, so both are compared).
    public static func isStandardError(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"] else { return false }
        var status = stat()
        guard fstat(STDERR_FILENO, &status) == 0 else { return false }
        return stream == "\(status.st_dev):\(status.st_ino)"
    }

    /// The line's priority prefix for a swift-log level.
    static func prefix(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "<7>"
        case .info: "<6>"
        case .notice: "<5>"
        case .warning: "<4>"
        case .error: "<3>"
        case .critical: "<2>"
        }
    }
}
