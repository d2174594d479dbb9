import Foundation

/// A DSSE envelope (https://github.com/secure-systems-lab/dsse): a payload, its type, and signatures over its pre-authentication encoding.
///
/// On disk the envelope is canonical JSON (RFC 8785) plus a trailing newline, so its members appear
/// in the order `payload`, `payloadType`, `signatures` with no whitespace; `scripts/verify-manifest.sh` relies on that.
public struct DSSEEnvelope: Sendable, Equatable {
    /// One signature: the key's identifier (a hint, not trusted) and the raw signature bytes.
    public struct Signature: Sendable, Equatable {
        public var keyid: String
        public var sig: Data

        public init(keyid: String, sig: Data) {
            self.keyid = keyid
            self.sig = sig
        }
    }

    public var payloadType: String
    /// The exact payload bytes that were signed.
    public var payload: Data
    public var signatures: [Signature]

    public init(payloadType: String, payload: Data, signatures: [Signature]) {
        self.payloadType = payloadType
        self.payload = payload
        self.signatures = signatures
    }

    /// The DSSE v1 pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes as ASCII decimal.
    public static func pae(type: String, body: Data) -> Data {
        let typeBytes = Data(type.utf8)
        var out = Data("DSSEv1 \(typeBytes.count) ".utf8)
        out.append(typeBytes)
        out.append(contentsOf: Array(" \(body.count) ".utf8))
        out.append(body)
        return out
    }

    /// The bytes that the signatures cover.
    public var preAuthenticationEncoding: Data {
        Self.pae(type: payloadType, body: payload)
    }

    /// The envelope as a JSON value, with base64 payload and signatures.
    public var json: JSONValue {
        .object([
            "payloadType": .string(payloadType),
            "payload": .string(payload.base64EncodedString()),
            "signatures": .array(signatures.map {
                .object(["keyid": .string($0.keyid), "sig": .string($0.sig.base64EncodedString())])
            }),
        ])
    }

    /// The file contents: canonical JSON and a newline.
    public func fileData() -> Data {
        var data = json.canonicalData()
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Reads an envelope file strictly: exactly the three members, at least one signature of exactly `keyid` and `sig`, canonical base64.
    public init(fileData: Data) throws {
        let value = try JSONValue.parse(fileData)
        guard let members = value.object else { throw JSONFormatError("the DSSE envelope is not a JSON object") }
        try Self.requireKeys(members, ["payload", "payloadType", "signatures"], in: "the DSSE envelope")
        guard let payloadType = members["payloadType"]?.string else { throw JSONFormatError("payloadType is not a string") }
        let payload = try Self.base64(members["payload"], name: "payload")
        guard let list = members["signatures"]?.array, !list.isEmpty else {
            throw JSONFormatError("signatures is not a non-empty array")
        }
        // DSSE sets no limit; a reader must, or a forged file of many signatures costs seconds to refuse.
        guard list.count <= 16 else { throw JSONFormatError("signatures holds \(list.count) entries; at most 16 are read") }
        let signatures = try list.map { element -> Signature in
            guard let signature = element.object else { throw JSONFormatError("a signature is not a JSON object") }
            try Self.requireKeys(signature, ["keyid", "sig"], in: "a signature")
            guard let keyid = signature["keyid"]?.string else { throw JSONFormatError("keyid is not a string") }
            return Signature(keyid: keyid, sig: try Self.base64(signature["sig"], name: "sig"))
        }
        self.init(payloadType: payloadType, payload: payload, signatures: signatures)
    }

    private static func requireKeys(_ members: [String: JSONValue], _ expected: Set<String>, in place: String) throws {
        let keys = Set(members.keys)
        if let missing = expected.subtracting(keys).sorted().first {
            throw JSONFormatError("\(place) lacks the member \(missing)")
        }
        if let unknown = keys.subtracting(expected).sorted().first {
            // The name comes from the file, so it is quoted as JSON to keep the message on one line.
            throw JSONFormatError("\(place) has an unknown member \(JSONValue.string(unknown).canonicalString)")
        }
    }

    private static func base64(_ value: JSONValue?, name: String) throws -> Data {
        // Re-encoding must give the same text: otherwise two spellings of the same bytes would both be accepted.
        guard let text = value?.string, let data = Data(base64Encoded: text), data.base64EncodedString() == text else {
            throw JSONFormatError("\(name) is not canonical base64")
        }
        return data
    }
}
