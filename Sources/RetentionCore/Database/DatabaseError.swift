/// An error from libpq or the server, carrying the SQLSTATE and the server's primary message only.
///
/// The server's DETAIL and CONTEXT fields can quote row values ("Key (id)=(42) already exists",
/// "Failing row contains (...)"), so they are never read; the primary message names objects, not rows.
public struct DatabaseError: RetentionError {
    public enum Kind: Sendable {
        /// The server could not be reached, or refused the login.
        case connection
        /// The server rejected a statement.
        case server
    }

    public let kind: Kind
    /// The five-character SQLSTATE, when the server sent one.
    public let sqlState: String?
    /// The server's primary message (or libpq's connection message), on one line.
    public let message: String

    public init(kind: Kind, sqlState: String?, message: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
    }

    public var description: String {
        guard let sqlState else { return "database error: \(message)" }
        return "database error \(sqlState): \(message)" + (Self.hints[sqlState].map { "; \($0)" } ?? "")
    }

    /// What a person can do about errors whose server message does not say it.
    static let hints = [
        "25006": "the database is read-only for this session (a hot standby, or default_transaction_read_only): "
            + "connect to the primary, or reset the setting; nothing was changed",
        "57014": "a statement ran past statement_timeout (the statement_timeout setting, "
            + "\(SettingKey.statementTimeout.builtIn) unless set) or was cancelled; nothing of it was done: try again, "
            + "or raise the setting",
    ]

    public var exitCode: ExitStatus {
        switch kind {
        case .connection: return .unavailable
        case .server:
            switch sqlState {
            case "42501": return .noPermission
            case "28000", "28P01": return .unavailable
            // Another session held a lock past lock_timeout, or a statement ran past statement_timeout:
            // nothing was done, try again.
            case "55P03", "57014": return .tempFail
            case "25006": return .unavailable
            case let s? where s.hasPrefix("08") || s.hasPrefix("57P"): return .unavailable
            case let s? where s.hasPrefix("42"): return .config
            default: return .failure
            }
        }
    }

    /// Whether the server refused a privilege (SQLSTATE 42501).
    public var isPermissionDenied: Bool { sqlState == "42501" }
}
