/// A piece of SQL and the values bound in it, written by interpolation, as postgres-nio's
/// `PostgresQuery` is: `"\(column) < \(bind: cutoff)::date"`.
///
/// Values become `$1`, `$2`, ... only when a whole statement is made (`statement`), so fragments
/// nest in one another freely and no builder threads a parameter list by hand. What may go in
/// as text: literals of the program's own, names through `\(name:)` (quoted) or a `QualifiedName`,
/// other fragments, and `\(unsafe:)` for text the program made itself (a type name from the catalog).
struct SQL: Sendable, Equatable, ExpressibleByStringInterpolation {
    /// A list of texts as a `text[]` literal to bind: every element double-quoted, with `\` and `"`
    /// escaped (the array input's own quoting rules).
    static func arrayLiteral(_ values: [String]) -> String {
        "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }

    enum Part: Sendable, Equatable {
        case text(String)
        case value(String?)
    }

    private(set) var parts: [Part]

    init(parts: [Part]) { self.parts = parts }

    /// A fragment written in place: `SQL("SELECT \(column) FROM \(table)").statement`.
    init(_ fragment: SQL) { self = fragment }

    init(stringLiteral value: String) { parts = value.isEmpty ? [] : [.text(value)] }

    init(stringInterpolation: StringInterpolation) { parts = stringInterpolation.parts }

    struct StringInterpolation: StringInterpolationProtocol {
        fileprivate var parts: [Part] = []

        init(literalCapacity: Int, interpolationCount: Int) {}

        mutating func appendLiteral(_ literal: String) {
            if !literal.isEmpty { parts.append(.text(literal)) }
        }

        /// Another fragment, with its values.
        mutating func appendInterpolation(_ fragment: SQL) { parts += fragment.parts }

        /// A value, as a bound parameter (`nil` is SQL NULL).
        mutating func appendInterpolation(bind value: String?) { parts.append(.value(value)) }

        /// A list of texts as one bound `text[]` value.
        mutating func appendInterpolation(bind array: [String]) {
            parts.append(.value(SQL.arrayLiteral(array)))
            parts.append(.text("::text[]"))
        }

        /// A name from a policy or the catalog, quoted (`quoteIdentifier`).
        mutating func appendInterpolation(name: String) { parts.append(.text(quoteIdentifier(name))) }

        /// A schema-qualified name, quoted.
        mutating func appendInterpolation(_ name: QualifiedName) { parts.append(.text(name.sql)) }

        /// A number of the program's own (a position, a count of digits), as text.
        mutating func appendInterpolation(_ number: Int) { parts.append(.text(String(number))) }

        /// Text the program made itself: never a value, never a name from a policy unquoted.
        mutating func appendInterpolation(unsafe text: String) { parts.append(.text(text)) }
    }

    /// A comparison operator (`=`, `<`, ...): bare, found in `pg_catalog` by the session's search
    /// path, or from `schema` as `OPERATOR(schema.=)` (a type's own, like citext's).
    static func op(_ symbol: String, in schema: String?) -> SQL {
        guard let schema else { return "\(unsafe: symbol)" }
        return "OPERATOR(\(name: schema).\(unsafe: symbol))"
    }

    /// Whether the fragment is exactly `text` with no value in it (a constant like `false`).
    func isText(_ text: String) -> Bool { self == SQL(parts: [.text(text)]) }

    /// The fragment as one statement: values numbered in order of appearance.
    var statement: Statement {
        var sql = ""
        var values: [String?] = []
        for part in parts {
            switch part {
            case .text(let text): sql += text
            case .value(let value):
                values.append(value)
                sql += "$\(values.count)"
            }
        }
        return Statement(unsafeSQL: sql, values)
    }

    static func + (lhs: SQL, rhs: SQL) -> SQL { SQL(parts: lhs.parts + rhs.parts) }

    static func += (lhs: inout SQL, rhs: SQL) { lhs.parts += rhs.parts }
}

extension Array where Element == SQL {
    /// The fragments one after another with `separator` between them.
    func joined(separator: SQL) -> SQL {
        var joined = SQL(parts: [])
        for (index, fragment) in enumerated() {
            if index > 0 { joined += separator }
            joined += fragment
        }
        return joined
    }
}
