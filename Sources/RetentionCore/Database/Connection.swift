import CLibPQ
import Foundation
import Synchronization

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
        if let sqlState { return "database error \(sqlState): \(message)" }
        return "database error: \(message)"
    }

    public var exitCode: ExitStatus {
        switch kind {
        case .connection: return .unavailable
        case .server:
            switch sqlState {
            case "42501": return .noPermission
            case "28000", "28P01": return .unavailable
            case let s? where s.hasPrefix("08") || s.hasPrefix("57P"): return .unavailable
            case let s? where s.hasPrefix("42"): return .config
            default: return .failure
            }
        }
    }

    /// Whether the server refused a privilege (SQLSTATE 42501).
    public var isPermissionDenied: Bool { sqlState == "42501" }
}

/// One libpq connection: the only place in the program that calls libpq.
///
/// Not `Sendable`: use it from one task at a time. Every value goes to the server as a bound
/// parameter (`query(_:_:)`); `execute(unsafeSQL:)` runs fixed scripts of the program's own.
public final class Connection {
    private let conn: OpaquePointer

    /// Connects with libpq's conventions: a conninfo string or URI, or libpq's environment when `nil`.
    public init(conninfo: String?) throws {
        guard let conn = PQconnectdb(conninfo ?? "") else {
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
    }

    deinit { PQfinish(conn) }

    /// Why libpq cannot parse a conninfo string or URI (`dbname='x` with its quote open), or `nil`
    /// when it can: a bad command line (64), told before anything connects.
    public static func conninfoProblem(_ conninfo: String) -> String? {
        var errmsg: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errmsg) else {
            defer { if let errmsg { PQfreemem(errmsg) } }
            return errmsg.map { oneLine(String(cString: $0)) } ?? "not a connection string"
        }
        PQconninfoFree(options)
        return nil
    }

    /// Whether a conninfo string or URI carries a password or sslpassword (which belong in a .pgpass file
    /// or a service file instead).
    public static func conninfoHasPassword(_ conninfo: String) -> Bool {
        parsed(conninfo) { text(of: $0, password: .mask) != text(of: $0, password: .drop) } ?? false
    }

    /// A conninfo string or URI as `keyword='value'` pairs with any password masked, for showing to a person.
    public static func maskingPassword(_ conninfo: String) -> String {
        parsed(conninfo) { text(of: $0, password: .mask) } ?? "(not a connection string)"
    }

    private static func parsed<T>(_ conninfo: String, _ body: (UnsafeMutablePointer<PQconninfoOption>) -> T) -> T? {
        var errmsg: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errmsg) else {
            if let errmsg { PQfreemem(errmsg) }
            return nil
        }
        defer { PQconninfoFree(options) }
        return body(options)
    }

    private enum PasswordText { case keep, drop, mask }

    /// The options that are set, as a conninfo string of quoted values.
    private static func text(of options: UnsafeMutablePointer<PQconninfoOption>, password: PasswordText) -> String {
        var parts: [String] = []
        var option = options
        while let keyword = option.pointee.keyword {
            let name = String(cString: keyword)
            // sslpassword unlocks the client key: as secret as the password.
            let secret = name == "password" || name == "sslpassword"
            if let value = option.pointee.val, value.pointee != 0, !(secret && password == .drop) {
                let text = secret && password == .mask ? "********" : String(cString: value)
                let quoted = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
                parts.append("\(name)='\(quoted)'")
            }
            option += 1
        }
        return parts.joined(separator: " ")
    }

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

    /// Where a connection with `conninfo` (and libpq's environment and defaults) would go, without
    /// connecting: database, user, host and port as libpq resolves them; never a password.
    public static func target(of conninfo: String?) -> String {
        var values: [String: String] = [:]
        func collect(_ options: UnsafeMutablePointer<PQconninfoOption>) {
            var option = options
            while let keyword = option.pointee.keyword {
                let name = String(cString: keyword)
                if values[name] == nil, let value = option.pointee.val, value.pointee != 0 { values[name] = String(cString: value) }
                option += 1
            }
        }
        // The string's own values first, then the environment's and libpq's defaults.
        if let conninfo { _ = parsed(conninfo) { collect($0) } }
        if let defaults = PQconndefaults() {
            collect(defaults)
            PQconninfoFree(defaults)
        }
        let host = values["host"] ?? values["hostaddr"] ?? "localhost"
        return "database \(visible(values["dbname"] ?? values["user"] ?? "?")) as \(visible(values["user"] ?? "?")) "
            + "on \(visible(host)) port \(visible(values["port"] ?? "5432"))"
    }

    /// The libpq environment variables a conninfo string sets again (with a value of its own), so
    /// the environment's value is not the one used: `PGHOST` when the string names `host`, and so
    /// on. Names only, never values.
    public static func overriddenEnvironment(by conninfo: String, environment: [String: String]) -> [String] {
        let variables = ["host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE",
                         "user": "PGUSER", "service": "PGSERVICE"]
        let set = parsed(conninfo) { options -> Set<String> in
            var names = Set<String>()
            var option = options
            while let keyword = option.pointee.keyword {
                if let value = option.pointee.val, value.pointee != 0 { names.insert(String(cString: keyword)) }
                option += 1
            }
            return names
        } ?? []
        return variables.filter { set.contains($0.key) && !(environment[$0.value] ?? "").isEmpty }.map(\.value).sorted()
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
        let result = withCStrings(params) { values in
            if let types = statement.types {
                precondition(types.count == params.count)
                return types.withUnsafeBufferPointer { oids in
                    PQexecParams(conn, statement.sql, Int32(params.count), oids.baseAddress, values, nil, nil, 0)
                }
            }
            return PQexecParams(conn, statement.sql, Int32(params.count), nil, values, nil, nil, 0)
        }
        return try consume(result)
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
        let result = PQprepare(conn, "", statement.sql, 0, nil)
        _ = try consume(result)
    }

    /// Runs a fixed script of the program's own (several statements, no parameters).
    ///
    /// Named so that a reader sees the risk: nothing from a user or a policy may ever reach `unsafeSQL`.
    public func execute(unsafeSQL sql: String) throws {
        _ = try consume(PQexec(conn, sql))
    }

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws.
    public func transaction<T>(readOnly: Bool = false, _ body: () throws -> T) throws -> T {
        try transaction(begin: readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN", body)
    }

    /// Runs `body` in a `REPEATABLE READ` transaction that may write: every query sees the data as
    /// of the transaction's first one (a `LOCK TABLE` before it takes no snapshot, so the data the
    /// body reads is what was committed when its locks were granted).
    public func repeatableReadTransaction<T>(_ body: () throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ", body)
    }

    /// How a read-only transaction shares its snapshot with other sessions.
    public enum SharedSnapshot {
        /// Export the transaction's snapshot; the body gets its name.
        case export
        /// See the data exactly as the transaction that exported this snapshot sees it.
        case importing(String)
    }

    /// Runs `body` in a `REPEATABLE READ READ ONLY` transaction that exports or imports a snapshot,
    /// so several sessions see the same data; `body` gets the snapshot's name.
    public func transaction<T>(snapshot: SharedSnapshot, _ body: (String) throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
            switch snapshot {
            case .export:
                return try body(try query("SELECT pg_export_snapshot() AS snapshot").single().string("snapshot"))
            case .importing(let name):
                // `SET TRANSACTION SNAPSHOT` takes no parameter; a name from `pg_export_snapshot()` is hex and dashes.
                guard !name.isEmpty, name.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
                    throw DatabaseError(kind: .connection, sqlState: nil, message: "not a snapshot name")
                }
                try execute(unsafeSQL: "SET TRANSACTION SNAPSHOT '\(name)'")
                return try body(name)
            }
        }
    }

    private func transaction<T>(begin: String, _ body: () throws -> T) throws -> T {
        try execute(unsafeSQL: begin)
        do {
            let value = try body()
            try execute(unsafeSQL: "COMMIT")
            return value
        } catch {
            // A broken connection cannot roll back; the server does it when the session ends.
            if PQstatus(conn) == CONNECTION_OK { _ = try? execute(unsafeSQL: "ROLLBACK") }
            throw error
        }
    }

    /// Connects again with the same parameters after the connection broke; true when it is back.
    ///
    /// Session state (settings, advisory locks) is gone with the old session.
    public func reset() -> Bool {
        PQreset(conn)
        if PQstatus(conn) == CONNECTION_OK {
            PQsetNoticeProcessor(conn, { _, _ in }, nil)
            return true
        }
        return false
    }

    /// Runs `body`, and cancels the statement it is running on the server (`PQcancel`) as soon as
    /// `shouldCancel` says so; the statement then fails with SQLSTATE 57014.
    ///
    /// For statements that may run long and cannot be split (VACUUM, VACUUM FULL): a watcher thread
    /// asks `shouldCancel` every 50 ms while `body` runs.
    public func cancelling<T>(when shouldCancel: @escaping @Sendable () -> Bool, _ body: () throws -> T) throws -> T {
        guard let handle = PQgetCancel(conn) else { return try body() }
        let watcher = CancelWatcher(handle)
        Thread.detachNewThread { watcher.watch(shouldCancel) }
        defer { watcher.stop() }
        return try body()
    }

    /// Whether the connection to the server is still up.
    public var isAlive: Bool { PQstatus(conn) == CONNECTION_OK }

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

/// Sends a cancel request for a connection's running statement when asked to, from its own thread.
///
/// Unchecked `Sendable`: the `PGcancel` object is made for use from another thread (libpq documents
/// `PQcancel` as safe there), and it is freed only after the watching thread has ended.
private final class CancelWatcher: @unchecked Sendable {
    private let handle: OpaquePointer
    private let done = Atomic<Bool>(false)
    private let ended = DispatchSemaphore(value: 0)

    init(_ handle: OpaquePointer) { self.handle = handle }

    func watch(_ shouldCancel: @Sendable () -> Bool) {
        defer { ended.signal() }
        while !done.load(ordering: .acquiring) {
            if shouldCancel() {
                var message = [CChar](repeating: 0, count: 256)
                _ = PQcancel(handle, &message, Int32(message.count))
                return
            }
            usleep(50_000)
        }
    }

    func stop() {
        done.store(true, ordering: .releasing)
        ended.wait()
        PQfreeCancel(handle)
    }
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
