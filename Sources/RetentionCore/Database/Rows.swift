import Foundation

/// One SQL statement and its bound parameters.
///
/// Fixed text comes in as a `StaticString`; text built at run time (with names from policies,
/// always through `quoteIdentifier`) must say so with `unsafeSQL:`, so a reader can find every
/// place where anything but a literal reaches the server.
public struct Statement: Sendable {
    public let sql: String
    public let params: [String?]
    /// Type OIDs of the parameters, to make the server parse each value as that type (`nil`: inferred).
    public let types: [UInt32]?

    public init(_ sql: StaticString, _ params: [String?] = [], types: [UInt32]? = nil) {
        self.sql = sql.description
        self.params = params
        self.types = types
    }

    /// A statement whose text was built at run time. Only the program's own fragments and names
    /// quoted by `quoteIdentifier` may be in it; every value goes in `params`.
    public init(unsafeSQL sql: String, _ params: [String?] = [], types: [UInt32]? = nil) {
        self.sql = sql
        self.params = params
        self.types = types
    }
}

/// A result row that decoding code reads by column name; a missing column is a programming error,
/// reported (not crashed on) as `RowDecodingError`.
public struct Row: Sendable {
    private let index: [String: Int]
    /// The values in column order, as text; NULL is `nil`. For the database layer and tests.
    let values: [String?]

    init(index: [String: Int], values: [String?]) {
        self.index = index
        self.values = values
    }

    /// The column's text, or `nil` for NULL.
    public func optional(_ column: String) throws -> String? {
        guard let position = index[column], position < values.count else {
            throw RowDecodingError(column: column, problem: "is not in the result")
        }
        return values[position]
    }

    /// The column's text; NULL is an error.
    public func string(_ column: String) throws -> String {
        guard let value = try optional(column) else { throw RowDecodingError(column: column, problem: "is NULL") }
        return value
    }

    /// The column as a whole number, or `nil` for NULL.
    public func optionalInt64(_ column: String) throws -> Int64? {
        guard let text = try optional(column) else { return nil }
        guard let number = Int64(text) else { throw RowDecodingError(column: column, problem: "is not a whole number") }
        return number
    }

    /// The column as a whole number; NULL is an error.
    public func int64(_ column: String) throws -> Int64 {
        guard let number = try optionalInt64(column) else { throw RowDecodingError(column: column, problem: "is NULL") }
        return number
    }

    /// The column as a list of text, sent as a JSON array (`array_to_json(array(...))::text`), so
    /// names with commas or quotes survive intact; NULL is an error.
    public func strings(_ column: String) throws -> [String] {
        guard let list = try? JSONValue.parse(Data(try string(column).utf8)).array,
              list.allSatisfy({ $0.string != nil }) else {
            throw RowDecodingError(column: column, problem: "is not a JSON array of text")
        }
        return list.compactMap(\.string)
    }

    /// The column as a boolean (`t` or `f`); NULL is an error.
    public func bool(_ column: String) throws -> Bool {
        switch try string(column) {
        case "t": return true
        case "f": return false
        default: throw RowDecodingError(column: column, problem: "is not a boolean")
        }
    }
}

/// A row type that a statement's result decodes into, by column name.
public protocol RowDecodable {
    init(row: Row) throws
}

/// The rows of one result.
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [Row]

    init(columns: [String], values: [[String?]]) {
        self.columns = columns
        var index: [String: Int] = [:]
        for (position, name) in columns.enumerated() where index[name] == nil { index[name] = position }
        rows = values.map { Row(index: index, values: $0) }
    }

    static let empty = QueryResult(columns: [], values: [])

    /// Every row decoded as `T`.
    public func decode<T: RowDecodable>(_ type: T.Type) throws -> [T] {
        try rows.map(T.init(row:))
    }

    /// The one row a statement returns (an aggregate, a `RETURNING` of one row).
    public func single() throws -> Row {
        guard let row = rows.first else { throw RowDecodingError(column: "*", problem: "has no row") }
        return row
    }
}

/// A result did not have the shape its decoder expects: a bug in the program, not the user's doing.
public struct RowDecodingError: RetentionError {
    public let column: String
    public let problem: String
    public var exitCode: ExitStatus { .failure }
    public var description: String { "internal error: result column \(column) \(problem)" }
}
