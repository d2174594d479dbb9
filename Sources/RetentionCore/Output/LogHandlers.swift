import Foundation
import Logging

/// Writes one JSON object per line to stderr: time, level, message and dotted metadata keys.
///
/// Messages and metadata are the program's own words and counts; callers never log row values.
public struct JSONLinesLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
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
        guard var data = try? JSONOutput.encoder(pretty: false).encode(object) else { return }
        data.append(0x0A)
        FileHandle.standardError.write(data)
    }
}

/// Writes readable lines to stderr for a person at a terminal: `level: message (key=value ...)`.
public struct TextLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]

    public init(label: String, level: Logger.Level) {
        self.logLevel = level
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
        FileHandle.standardError.write(Data("retention: \(prefix)\(visible("\(event.message)"))\(details)\n".utf8))
    }
}
