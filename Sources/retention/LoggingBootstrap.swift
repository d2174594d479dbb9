import Logging
import RetentionCore

/// Bootstraps swift-log once per process; only the executable does this.
enum LoggingBootstrap {
    nonisolated(unsafe) private static var done = false

    static func once(format: LogFormat, level: Logger.Level) {
        guard !done else { return }
        done = true
        let journal = Journal.isStandardError()
        LoggingSystem.bootstrap { label in
            switch format {
            case .json: return JSONLinesLogHandler(label: label, level: level, journal: journal)
            case .text: return TextLogHandler(label: label, level: level, journal: journal)
            }
        }
    }
}
