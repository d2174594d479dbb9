/// Quotes an identifier for SQL: the one function that puts a name from a policy into a statement.
///
/// Names are also checked against the catalog before any statement runs; quoting makes a name
/// with quotes, semicolons or look-alike characters a name and nothing else.
public func quoteIdentifier(_ name: String) -> String {
    precondition(!name.contains("\0"), "identifier with NUL")
    return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// A schema-qualified name, as `schema.table` in a policy.
public struct QualifiedName: Hashable, Sendable, CustomStringConvertible {
    public let schema: String
    public let name: String

    public init(schema: String, name: String) {
        self.schema = schema
        self.name = name
    }

    /// The quoted form for SQL.
    public var sql: String { quoteIdentifier(schema) + "." + quoteIdentifier(name) }

    /// The name for messages, with characters outside printable ASCII escaped so look-alikes show.
    public var description: String { visible(schema) + "." + visible(name) }
}

/// Shows a name in a message with non-ASCII and control characters as `\u{...}` escapes.
///
/// A Cyrillic "а" in `pаtrons` then reads `p\u{430}trons`, and a newline cannot forge a log line.
public func visible(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        if scalar.value >= 0x20 && scalar.value < 0x7F {
            out.unicodeScalars.append(scalar)
        } else {
            out += "\\u{" + String(scalar.value, radix: 16) + "}"
        }
    }
    return out
}

extension Unicode.Scalar {
    /// A C0 or C1 control character or DEL: what no name, value or period from a person may hold
    /// (a NUL cuts the text where libpq reads it; a newline or escape would forge output).
    public var isControlCharacter: Bool { value < 0x20 || (0x7F...0x9F).contains(value) }
}

extension QualifiedName {
    /// Whether the name is in the tool's own schema or PostgreSQL's catalogs, which no policy may
    /// purge, read consent from or cascade into: a policy on `retention.holds` would delete the
    /// legal holds, one on `retention.batches` the ledger.
    public var isReserved: Bool {
        schema == "retention" || schema == "information_schema" || schema.hasPrefix("pg_")
    }
}
