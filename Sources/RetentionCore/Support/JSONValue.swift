import Foundation

/// A JSON value that serializes to RFC 8785 (JCS) canonical form, for manifest payloads and envelopes.
///
/// Floating-point numbers are deliberately not supported: manifests hold only integers and strings,
/// and leaving doubles out spares us the ECMAScript number formatting of RFC 8785 §3.2.2.3.
/// Integers are written as exact decimals, which equals the JCS form for |n| ≤ 2^53
/// (larger values are outside I-JSON, and no count or timestamp here comes near them).
///
/// Swift compares strings by canonical equivalence, so `==` and dictionary keys treat "é" and
/// "e\u{301}" as equal even though their bytes differ; the parser rejects such a pair of keys as a duplicate.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The member `key` of an object, or nil for a missing member or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The string, if this is a string.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The integer, if this is an integer.
    public var int: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The Boolean, if this is a Boolean.
    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements, if this is an array.
    public var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members, if this is an object.
    public var object: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }
}

/// A JSON text that cannot be read: malformed, not UTF-8, a duplicate key, a non-integer number, or the wrong shape.
public struct JSONFormatError: RetentionError {
    public let description: String
    public var exitCode: ExitStatus { .dataError }

    public init(_ description: String) {
        self.description = description
    }
}
