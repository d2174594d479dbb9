/// The exit statuses of SPEC §5 (sysexits), which cron and systemd read.
public enum ExitStatus: Int32, Sendable {
    case ok = 0
    case failure = 1
    case usage = 64
    case dataError = 65
    case unavailable = 69
    case tempFail = 75
    case noPermission = 77
    case config = 78
    case interrupted = 130
    case terminated = 143
}

/// An error a user can cause: one line of text that holds no row data, and the exit status it maps to.
public protocol RetentionError: Error, CustomStringConvertible, Sendable {
    var exitCode: ExitStatus { get }
}

/// A configuration or usage problem found before anything was changed.
public struct UsageError: RetentionError {
    public let description: String
    public let exitCode: ExitStatus

    public init(_ description: String, exitCode: ExitStatus) {
        self.description = description
        self.exitCode = exitCode
    }
}
