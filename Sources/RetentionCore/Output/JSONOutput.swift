import Foundation

/// The one JSON configuration of the program: what `--json` prints, and manifests before they are
/// made canonical.
///
/// Keys are sorted and slashes left alone; types with camelCase property names get snake_case
/// keys, and types with explicit `CodingKeys` (manifests, plans, counts) keep theirs.
public enum JSONOutput {
    /// The encoder: pretty for `--json` output, one line for log lines and manifests.
    static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                                          : [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    /// A value as pretty JSON text for people and programs, ending in a newline.
    public static func text<T: Encodable>(_ value: T) -> String {
        // Encoding the program's own report types cannot fail: strings, numbers, arrays and objects.
        let data = (try? encoder(pretty: true).encode(value)) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// A value as canonical JSON (RFC 8785) bytes: encoded, then written in canonical form.
    static func canonical<T: Encodable>(_ value: T, userInfo: [CodingUserInfoKey: any Sendable] = [:]) throws -> Data {
        let encoder = encoder(pretty: false)
        encoder.userInfo = userInfo
        // Manifests name every key themselves; nothing is converted.
        encoder.keyEncodingStrategy = .useDefaultKeys
        return try JSONValue.parse(try encoder.encode(value)).canonicalData()
    }

    /// Decodes JSON text; a shape error reads as one line naming the field (`policies[0].rows`).
    static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String,
                                      userInfo: [CodingUserInfoKey: any Sendable] = [:]) throws -> T {
        do {
            let decoder = JSONDecoder()
            decoder.userInfo = userInfo
            return try decoder.decode(type, from: data)
        } catch let error as DecodingError {
            func path(_ context: DecodingError.Context, _ key: CodingKey? = nil) -> String {
                let keys = context.codingPath + (key.map { [$0] } ?? [])
                let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                return text.hasPrefix(".") ? String(text.dropFirst()) : text
            }
            switch error {
            case .keyNotFound(let key, let context):
                throw JSONFormatError("\(what) has no \(path(context, key))")
            case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
                throw JSONFormatError("\(what): \(path(context)) is not \(type == Int64.self ? "a whole number" : type == String.self ? "text" : "of the expected kind")")
            case .dataCorrupted(let context):
                throw JSONFormatError("\(what): \(path(context)) is not valid: \(context.debugDescription)")
            @unknown default:
                throw JSONFormatError("\(what) is not valid")
            }
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
