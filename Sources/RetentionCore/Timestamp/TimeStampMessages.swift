import Foundation
import SwiftASN1

/// The object identifiers of RFC 3161 time-stamping and the CMS signed data around its tokens.
enum TimeStampOID {
    static let signedData: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 2]
    static let tstInfo: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 16, 1, 4]
    static let contentTypeAttribute: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 3]
    static let messageDigestAttribute: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 4]
    static let sha256: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 1]
    static let sha384: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 2]
    static let sha512: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 3]
}

/// An AlgorithmIdentifier (RFC 5280): the algorithm; its parameters are not needed here.
struct AlgorithmID: DERImplicitlyTaggable, Hashable {
    static var defaultIdentifier: ASN1Identifier { .sequence }
    var oid: ASN1ObjectIdentifier

    init(_ oid: ASN1ObjectIdentifier) { self.oid = oid }

    init(derEncoded root: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        self = try DER.sequence(root, identifier: identifier) { nodes in
            let oid = try ASN1ObjectIdentifier(derEncoded: &nodes)
            while nodes.next() != nil {}
            return AlgorithmID(oid)
        }
    }

    func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        // SHA-2 identifiers go without parameters (RFC 5754).
        try coder.appendConstructedNode(identifier: identifier) { try $0.serialize(oid) }
    }
}

/// MessageImprint (RFC 3161 §2.4.1): the hash algorithm and the hash of what is stamped.
struct MessageImprint: DERImplicitlyTaggable, Hashable {
    static var defaultIdentifier: ASN1Identifier { .sequence }
    var algorithm: AlgorithmID
    var digest: [UInt8]

    init(sha256 digest: [UInt8]) {
        algorithm = AlgorithmID(TimeStampOID.sha256)
        self.digest = digest
    }

    init(derEncoded root: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        (algorithm, digest) = try DER.sequence(root, identifier: identifier) { nodes in
            (try AlgorithmID(derEncoded: &nodes), Array(try ASN1OctetString(derEncoded: &nodes).bytes))
        }
    }

    func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { coder in
            try coder.serialize(algorithm)
            try coder.serialize(ASN1OctetString(contentBytes: digest[...]))
        }
    }
}

/// TimeStampReq (RFC 3161 §2.4.1): version 1, the imprint, a nonce, and the authority's certificate asked for.
struct TimeStampRequest: DERSerializable {
    var imprint: MessageImprint
    var nonce: UInt64

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(1)
            try coder.serialize(imprint)
            try coder.serialize(nonce)
            // certReq: the token carries the signer's certificate, so a token can be checked from the CA alone.
            try coder.serialize(true)
        }
    }

    var derBytes: [UInt8] {
        var coder = DER.Serializer()
        // Serializing integers, an imprint and a boolean cannot fail.
        try! coder.serialize(self)
        return coder.serializedBytes
    }
}

/// TimeStampResp (RFC 3161 §2.4.2): the authority's status and, when granted, the token (a CMS ContentInfo).
struct TimeStampResponse {
    /// 0 granted, 1 granted with modifications, 2 rejection, 3 waiting, 4 revocation warning, 5 revocation notification.
    var status: Int
    /// The authority's words on a refusal (PKIFreeText), if any.
    var statusText: String?
    var token: ASN1Node?

    init(derEncoded bytes: [UInt8]) throws {
        let root = try DER.parse(bytes)
        var status = 0, text: String?, token: ASN1Node?
        try DER.sequence(root, identifier: .sequence) { nodes in
            try DER.sequence(nodes.next() ?? root, identifier: .sequence) { info in
                status = try Int(derEncoded: &info)
                if let free = info.next(), case .constructed(let strings) = free.content {
                    text = strings.compactMap { try? String(ASN1UTF8String(derEncoded: $0)) }.joined(separator: " ")
                }
                while info.next() != nil {}
            }
            token = nodes.next()
        }
        (self.status, statusText, self.token) = (status, text, token)
    }
}

/// TSTInfo (RFC 3161 §2.4.2): what the authority signed: its policy, the imprint, a serial number and the time.
struct TSTInfo {
    var policy: ASN1ObjectIdentifier
    var imprint: MessageImprint
    var serialNumber: [UInt8]
    var genTime: Date
    var nonce: UInt64?

    init(derEncoded bytes: ArraySlice<UInt8>) throws {
        let root = try DER.parse(bytes)
        var nonce: UInt64?
        (policy, imprint, serialNumber, genTime) = try DER.sequence(root, identifier: .sequence) { nodes in
            guard try Int(derEncoded: &nodes) == 1 else { throw ASN1Error.invalidASN1Object(reason: "TSTInfo version is not 1") }
            let policy = try ASN1ObjectIdentifier(derEncoded: &nodes)
            let imprint = try MessageImprint(derEncoded: &nodes)
            let serial = Array(try ArraySlice<UInt8>(derEncoded: &nodes))
            let time = try Date(try GeneralizedTime(derEncoded: &nodes))
            // accuracy, ordering, nonce, tsa and extensions are optional; only the nonce is read.
            while let node = nodes.next() {
                if node.identifier == .integer { nonce = try? UInt64(derEncoded: node) }
            }
            return (policy, imprint, serial, time)
        }
        self.nonce = nonce
    }
}

extension Date {
    /// The instant an ASN.1 GeneralizedTime names (always UTC in DER).
    init(_ time: GeneralizedTime) throws {
        var components = DateComponents()
        (components.year, components.month, components.day) = (time.year, time.month, time.day)
        (components.hour, components.minute, components.second) = (time.hours, time.minutes, time.seconds)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: components) else {
            throw ASN1Error.invalidASN1Object(reason: "GeneralizedTime out of range")
        }
        self = date + time.fractionalSeconds
    }
}
