import CLibPQ
import Foundation
import Synchronization

/// One libpq connection: the only place in the program that calls libpq.
///
/// Not `Sendable`: use it from one task at a time. Every value goes to the server as a bound
/// parameter (`query(_:_:)`); `execute(unsafeSQL:)` runs fixed scripts of the program's own.
public final class Connection {
    private let conn: OpaquePointer

    /// How long a statement may go without a word from the server before the connection is given up
    /// (`nil`: as long as the server takes). Follows the session's statement timeout
    /// (`setStatementTimeout`): the server ends a statement at its timeout, so a server silent well
    /// past it has stopped answering (a stopped process, a link that drops every packet).
    public private(set) var patience: Duration?

    /// Asked about ten times a second while a statement waits for the server: when it says so, the
    /// statement is cancelled (it fails with SQLSTATE 57014), and if the server does not answer the
    /// cancel within `cancelGrace` either, the connection is given up.
    public var interruption: (@Sendable () -> Bool)?

    /// How long a cancelled statement may take to end before the connection is given up.
    public static let cancelGrace: Duration = .seconds(5)

    /// Connects with libpq's conventions: a conninfo string or URI, or libpq's environment when `nil`.
    ///
    /// Where neither the connection string, `PGCONNECT_TIMEOUT` nor a service file says otherwise,
    /// connecting waits at most 15 s (libpq would wait for ever on a server that accepts and never
    /// answers) and TCP keepalives find a dropped link within about a minute, not two hours.
    public init(conninfo: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        // The defaults come before the connection string (libpq expands it as `dbname`), so its own values win.
        let parameters = Connection.protectiveDefaults(for: conninfo, environment: environment) + [("dbname", conninfo ?? "")]
        // Both arrays end with a NULL entry.
        let made: OpaquePointer? = withCStrings(parameters.map(\.0) + [nil]) { keywords in
            withCStrings(parameters.map(\.1) + [nil]) { values in
                PQconnectdbParams(keywords, values, 1)
            }
        }
        guard let conn = made else {
            throw DatabaseError(kind: .connection, sqlState: nil, message: "out of memory")
        }
        if PQstatus(conn) != CONNECTION_OK {
            let message = Connection.libpqMessage(String(cString: PQerrorMessage(conn)))
            PQfinish(conn)
            throw DatabaseError(kind: .connection, sqlState: nil, message: message)
        }
        // NOTICEs would go straight to stderr; they can quote values from PL/pgSQL code, so drop them.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        self.conn = conn
        try fixSessionSettings()
    }

    /// Values are read and stored as text (a hold's patron, a cutoff), and compared as text where a
    /// type has no equality of its own: every session, a run's parallel ones and a reconnected one
    /// included, writes them in one form whatever a database's, role's or PGOPTIONS' settings say
    /// (a bytea patron as `\x...`, never in `escape` form), and in UTF-8, as the program's strings are,
    /// whatever PGCLIENTENCODING says.
    ///
    /// Code in the database (a function a consent view or a trigger calls) can change them with
    /// `set_config`: a run sets them again before every batch and checks them after it (`SessionGuard`).
    ///
    /// The search path is `pg_catalog, pg_temp`, whatever the database's or role's: the tool's SQL
    /// names every table by its schema, so a function or an operator (`=`) that a user with CREATE
    /// on a schema placed ahead of `pg_catalog`'s cannot stand in for the built-in one and make a
    /// hold's test false. (A type's own operators outside `pg_catalog`, citext's, are named with
    /// their schema: `Catalog.operatorSchemas`.)
    func fixSessionSettings() throws {
        try query("""
            SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false),
                   -- A batch's retry waits idle between transactions: a database's idle_session_timeout
                   -- must not end the session then (PostgreSQL 14 and later have it).
                   (SELECT pg_catalog.set_config(name, '0', false) FROM pg_catalog.pg_settings WHERE name = 'idle_session_timeout'),
                   -- A statement the tool gave up on (a trigger that never ends) must not outlive the
                   -- connection and hold the run lock for ever: the server checks for the client (14 and later).
                   (SELECT pg_catalog.set_config(name, '10s', false) FROM pg_catalog.pg_settings
                    WHERE name = 'client_connection_check_interval'),
                   pg_catalog.set_config('bytea_output', 'hex', false), pg_catalog.set_config('DateStyle', 'ISO, MDY', false),
                   pg_catalog.set_config('IntervalStyle', 'postgres', false), pg_catalog.set_config('client_encoding', 'UTF8', false),
                   -- Numbers read back as text (the clock's epoch) in full, whatever a database says.
                   pg_catalog.set_config('extra_float_digits', '1', false)
            """)
    }

    /// The tool's defaults for the waits libpq leaves unbounded, as keyword and value: none when a
    /// service file is named (libpq would let these win over the file's own values).
    static func protectiveDefaults(for conninfo: String?, environment: [String: String]) -> [(String, String)] {
        let named = conninfo.map { keywords(setIn: $0).contains("service") } ?? false
        if named || !(environment["PGSERVICE"] ?? "").isEmpty { return [] }
        var defaults: [(String, String)] = []
        if (environment["PGCONNECT_TIMEOUT"] ?? "").isEmpty { defaults.append(("connect_timeout", "15")) }
        defaults += [("keepalives_idle", "30"), ("keepalives_interval", "10"), ("keepalives_count", "3")]
        return defaults
    }

    deinit { PQfinish(conn) }

    /// The database's name and the cluster's system identifier, which together name the database in manifests.
    public var databaseName: String { String(cString: PQdb(conn)) }

    /// Where this session is, for the first log line and `plan`'s header: database, user, host (or
    /// socket folder) and port; never a password.
    public var target: String {
        let host = PQhost(conn).map { String(cString: $0) } ?? ""
        let port = PQport(conn).map { String(cString: $0) } ?? ""
        let user = PQuser(conn).map { String(cString: $0) } ?? ""
        return "database \(visible(databaseName)) as \(visible(user)) on \(visible(host.isEmpty ? "localhost" : host)) port \(visible(port))"
    }

    /// The parameters this connection was made with, as a conninfo string without the password,
    /// for a helper program (pg_repack) that must reach the same database as the same user.
    public var conninfoWithoutPassword: String { conninfo(withPassword: false) }

    /// Opens one more session to the same database as the same user (for a run's parallel workers).
    public func another() throws -> Connection {
        try Connection(conninfo: conninfo(withPassword: true))
    }

    private func conninfo(withPassword: Bool) -> String {
        guard let options = PQconninfo(conn) else { return "dbname=\(databaseName)" }
        defer { PQconninfoFree(options) }
        return Self.text(of: options, password: withPassword ? .keep : .drop)
    }

    /// The password the connection used, if one was given (conninfo or PGPASSWORD), for a helper's environment.
    public var password: String? {
        guard let value = PQpass(conn), value.pointee != 0 else { return nil }
        return String(cString: value)
    }

    /// Runs one statement with bound parameters and returns its rows.
    @discardableResult
    public func query(_ statement: Statement) throws -> QueryResult {
        let params = statement.params
        let sent = withCStrings(params) { values in
            if let types = statement.types {
                precondition(types.count == params.count)
                return types.withUnsafeBufferPointer { oids in
                    PQsendQueryParams(conn, statement.sql, Int32(params.count), oids.baseAddress, values, nil, nil, 0)
                }
            }
            return PQsendQueryParams(conn, statement.sql, Int32(params.count), nil, values, nil, nil, 0)
        }
        return try consume(try awaitResult(sent: sent))
    }

    /// Runs one fixed statement with bound parameters (`$1`, `$2`, ...; `nil` is SQL NULL).
    @discardableResult
    public func query(_ sql: StaticString, _ params: [String?] = [], types: [UInt32]? = nil) throws -> QueryResult {
        try query(Statement(sql, params, types: types))
    }

    /// Runs one statement whose text was built at run time (see `Statement(unsafeSQL:)`).
    @discardableResult
    public func query(unsafeSQL sql: String, _ params: [String?] = []) throws -> QueryResult {
        try query(Statement(unsafeSQL: sql, params))
    }

    /// Checks a statement on the server without running it: names, types and operators are resolved.
    public func prepareCheck(_ statement: Statement) throws {
        _ = try consume(try awaitResult(sent: PQsendPrepare(conn, "", statement.sql, 0, nil)))
    }

    /// Runs a fixed script of the program's own (several statements, no parameters).
    ///
    /// Named so that a reader sees the risk: nothing from a user or a policy may ever reach `unsafeSQL`.
    public func execute(unsafeSQL sql: String) throws {
        _ = try consume(try awaitResult(sent: PQsendQuery(conn, sql)))
    }

    /// Connects again with the same parameters after the connection broke; true when it is back.
    ///
    /// Session state (settings, advisory locks) is gone with the old session.
    public func reset() -> Bool {
        PQreset(conn)
        if PQstatus(conn) == CONNECTION_OK {
            PQsetNoticeProcessor(conn, { _, _ in }, nil)
            return (try? fixSessionSettings()) != nil
        }
        return false
    }

    /// Runs `body`, and cancels the statement it is running on the server as soon as `shouldCancel`
    /// says so; the statement then fails with SQLSTATE 57014.
    ///
    /// For statements that may run long and cannot be split (VACUUM, VACUUM FULL).
    public func cancelling<T>(when shouldCancel: @escaping @Sendable () -> Bool, _ body: () throws -> T) throws -> T {
        let before = interruption
        interruption = shouldCancel
        defer { interruption = before }
        return try body()
    }

    /// Sets the session's `statement_timeout` (PostgreSQL's syntax: `60s`, `5min`; `0` for none)
    /// and waits for a statement's answer at most half as long again and 5 s more (`patience`).
    public func setStatementTimeout(_ timeout: String) throws {
        try query("SELECT pg_catalog.set_config('statement_timeout', $1, false)", [timeout])
        patience = PostgresDuration.seconds(timeout).map { .seconds($0 + max(5, $0 / 2)) }
    }

    /// Whether the connection to the server is still up.
    public var isAlive: Bool { PQstatus(conn) == CONNECTION_OK }

    /// Waits for the answer to the statement just sent (`sent`: what the `PQsend...` call returned),
    /// never longer than `patience` without a word from the server, and cancels it when
    /// `interruption` says so; returns the last result, or the first error.
    ///
    /// A connection given up is shut down, so libpq sees it broken and a later `reset()` connects anew.
    private func awaitResult(sent: Int32) throws -> OpaquePointer? {
        guard sent == 1 else { return nil }
        let clock = ContinuousClock()
        var lastWord = clock.now
        var cancelledAt: ContinuousClock.Instant?
        var gaveUp: String?
        // Sends what libpq could not send at once (a long statement), then reads until the answer is whole.
        func wait(for events: Int16) {
            var descriptor = pollfd(fd: PQsocket(conn), events: events, revents: 0)
            if poll(&descriptor, 1, 100) > 0 { lastWord = clock.now }
            if let interruption, cancelledAt == nil, interruption() {
                cancelledAt = clock.now
                sendCancel()
            }
            let silence = clock.now - lastWord
            if let cancelledAt, clock.now - cancelledAt > Connection.cancelGrace {
                gaveUp = "the server did not end a cancelled statement within \(seconds(Connection.cancelGrace)) s; the connection was given up"
            } else if let patience, silence > patience {
                gaveUp = "the server did not answer for \(seconds(silence)) s (statement timeout plus a margin); the connection was given up"
            }
            // libpq then reads end of file and marks the connection broken, as after a server's crash.
            if gaveUp != nil { shutdown(PQsocket(conn), Int32(SHUT_RDWR)) }
        }
        var flushing = PQflush(conn)
        while flushing == 1 && gaveUp == nil {
            wait(for: Int16(POLLOUT | POLLIN))
            if PQconsumeInput(conn) == 0 { break }
            flushing = PQflush(conn)
        }
        var kept: OpaquePointer?
        while true {
            while PQisBusy(conn) == 1 {
                wait(for: Int16(POLLIN))
                if PQconsumeInput(conn) == 0 { break }
            }
            guard let result = PQgetResult(conn) else { break }
            // As PQexec does: the last result, unless one failed (a script stops at its first error).
            if let held = kept, PQresultStatus(held) == PGRES_FATAL_ERROR {
                PQclear(result)
            } else {
                if let held = kept { PQclear(held) }
                kept = result
            }
        }
        if let gaveUp {
            if let kept { PQclear(kept) }
            throw DatabaseError(kind: .connection, sqlState: "08006", message: gaveUp)
        }
        return kept
    }

    /// Asks the server to cancel the running statement, from a thread of its own: a server that does
    /// not answer would hold the caller in `PQcancel` for ever.
    private func sendCancel() {
        guard let handle = PQgetCancel(conn) else { return }
        let cancel = CancelRequest(handle)
        Thread.detachNewThread { cancel.send() }
    }

    private func consume(_ result: OpaquePointer?) throws -> QueryResult {
        guard let result else {
            throw DatabaseError(kind: .connection, sqlState: nil,
                                message: Connection.libpqMessage(String(cString: PQerrorMessage(conn))))
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return .empty
        case PGRES_TUPLES_OK:
            let columnCount = PQnfields(result)
            let rowCount = PQntuples(result)
            let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
            var rows: [[String?]] = []
            rows.reserveCapacity(Int(rowCount))
            for row in 0..<rowCount {
                rows.append((0..<columnCount).map { column in
                    PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
                })
            }
            return QueryResult(columns: columns, values: rows)
        default:
            throw error(from: result)
        }
    }

    private func error(from result: OpaquePointer) -> DatabaseError {
        let field = { (code: UInt8) -> String? in
            guard let value = PQresultErrorField(result, Int32(code)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field(UInt8(ascii: "C"))
        if let primary = field(UInt8(ascii: "M")) {
            let kind: DatabaseError.Kind = PQstatus(conn) == CONNECTION_OK ? .server : .connection
            let fields = ServerErrorFields(
                sqlState: sqlState, sourceFile: field(UInt8(ascii: "F")), context: field(UInt8(ascii: "W")),
                schema: field(UInt8(ascii: "s")), table: field(UInt8(ascii: "t")), column: field(UInt8(ascii: "c")),
                dataType: field(UInt8(ascii: "d")), constraint: field(UInt8(ascii: "n")))
            return DatabaseError(kind: kind, sqlState: sqlState, message: fields.safeMessage(Connection.oneLine(primary)))
        }
        // No server message: libpq lost the connection (server restart, network).
        return DatabaseError(kind: .connection, sqlState: sqlState ?? "08006",
                             message: Connection.libpqMessage(String(cString: PQerrorMessage(conn))))
    }

    /// libpq's own message (a failed login, a connection the server ended) on one line, without the
    /// server's CONTEXT, DETAIL, QUERY or LINE sections, which can quote a statement a trigger ran
    /// with row values in it (a backend terminated inside a PL/pgSQL function).
    static func libpqMessage(_ text: String) -> String {
        let sections = ["CONTEXT:", "DETAIL:", "HINT:", "QUERY:", "STATEMENT:", "LINE ", "WHERE:"]
        var kept: [Substring] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if sections.contains(where: { trimmed.hasPrefix($0) }) { break }
            kept.append(line)
        }
        return oneLine(kept.joined(separator: "\n"))
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: "; ")
    }
}

/// One cancel request, sent from a thread of its own, which then frees it.
///
/// Unchecked `Sendable`: the `PGcancel` object is made for use from another thread (libpq documents
/// `PQcancel` as safe there), and only that thread touches it.
private final class CancelRequest: @unchecked Sendable {
    private let handle: OpaquePointer

    init(_ handle: OpaquePointer) { self.handle = handle }

    func send() {
        var message = [CChar](repeating: 0, count: 256)
        _ = PQcancel(handle, &message, Int32(message.count))
        PQfreeCancel(handle)
    }
}

/// Whole seconds of a duration, rounded up, for a message.
private func seconds(_ duration: Duration) -> Int64 {
    duration.components.seconds + (duration.components.attoseconds > 0 ? 1 : 0)
}

/// Calls `body` with C strings for `values` that live through the call (`nil` stays a NULL pointer).
private func withCStrings<T>(
    _ values: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> T
) -> T {
    let copies: [UnsafeMutablePointer<CChar>?] = values.map { $0.map { strdup($0) } }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer($0) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
