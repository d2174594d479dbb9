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

/// An error with a message of the program's own words and the exit status it maps to: a bad
/// command line, configuration, file or value, found before anything changed (64, 65, 77, 78).
/// (A failure after the purge began is `WorkFailed`.)
public struct UsageError: RetentionError {
    public let description: String
    public let exitCode: ExitStatus

    public init(_ description: String, exitCode: ExitStatus) {
        self.description = description
        self.exitCode = exitCode
    }
}

/// A failure after the purge began, in the program's own words (exit 1): the table maintenance
/// that follows a run (`--erase`), a run the ledger lacks. What was purged is recorded.
public struct WorkFailed: RetentionError {
    public let description: String
    public var exitCode: ExitStatus { .failure }

    public init(_ description: String) { self.description = description }
}
