import Crypto
import Dispatch
import Foundation
import Synchronization
import SwiftASN1
@_spi(FixedExpiryValidationTime) import X509

/// An RFC 3161 time-stamp token: CMS signed data (RFC 5652) whose content is the authority's `TSTInfo`.
///
/// swift-certificates verifies CMS signatures only over plain data (`id-data`), not over a
/// `TSTInfo`, and keeps its CMS types internal; so the token's structure is read here with
/// swift-asn1, and everything cryptographic is left to swift-certificates and swift-crypto: the
/// certificates, the signature over the signed attributes, and the chain to the authority's CA.
struct TimeStampToken {
    var info: TSTInfo
    /// The DER bytes of the TSTInfo, which the signed attributes' message digest covers.
    private var content: ArraySlice<UInt8>
    private var certificates: [Certificate]
    private var signer: SignerInfo

    private struct SignerInfo {
        var issuer: DistinguishedName?
        var serial: Certificate.SerialNumber?
        var keyIdentifier: ArraySlice<UInt8>?
        var digestAlgorithm: ASN1ObjectIdentifier
        /// The signed attributes as signed: their DER with the SET tag in place of `[0]` (RFC 5652 §5.4).
        var signedAttributes: [UInt8]
        var attributes: [ASN1ObjectIdentifier: ASN1Node]
        var signatureAlgorithm: ASN1ObjectIdentifier
        var signature: ArraySlice<UInt8>
    }

    /// Reads a token (a CMS ContentInfo) without checking it.
    init(_ contentInfo: ASN1Node) throws {
        func malformed(_ what: String) -> ASN1Error { ASN1Error.invalidASN1Object(reason: what) }
        let signedData = try DER.sequence(contentInfo, identifier: .sequence) { nodes -> ASN1Node in
            guard try ASN1ObjectIdentifier(derEncoded: &nodes) == TimeStampOID.signedData else { throw malformed("not CMS signed data") }
            guard let content = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific, { $0 }) else {
                throw malformed("no signed data")
            }
            return content
        }
        var certificates: [Certificate] = []
        var signers: [ASN1Node] = []
        let content = try DER.sequence(signedData, identifier: .sequence) { nodes -> ArraySlice<UInt8> in
            _ = try Int(derEncoded: &nodes)
            _ = nodes.next()  // digestAlgorithms: the signer names its own
            let content = try DER.sequence(nodes.next() ?? signedData, identifier: .sequence) { encapsulated in
                guard try ASN1ObjectIdentifier(derEncoded: &encapsulated) == TimeStampOID.tstInfo else { throw malformed("not a TSTInfo") }
                guard let octets = try DER.optionalExplicitlyTagged(&encapsulated, tagNumber: 0, tagClass: .contextSpecific, {
                    try ASN1OctetString(derEncoded: $0)
                }) else { throw malformed("no TSTInfo") }
                return octets.bytes
            }
            while let node = nodes.next() {
                switch (node.identifier.tagClass, node.identifier.tagNumber, node.content) {
                case (.contextSpecific, 0, .constructed(let set)):
                    certificates = set.compactMap { try? Certificate(derEncoded: $0) }
                case (.contextSpecific, 1, _):
                    continue  // revocation lists: not used
                case (_, _, .constructed(let set)) where node.identifier == .set:
                    signers = Array(set)
                default:
                    throw malformed("unexpected field in signed data")
                }
            }
            return content
        }
        guard signers.count == 1 else { throw malformed("\(signers.count) signers; a token has one") }
        self.info = try TSTInfo(derEncoded: content)
        self.content = content
        self.certificates = certificates
        self.signer = try Self.signerInfo(signers[0])
    }

    private static func signerInfo(_ node: ASN1Node) throws -> SignerInfo {
        try DER.sequence(node, identifier: .sequence) { nodes in
            _ = try Int(derEncoded: &nodes)
            guard let sid = nodes.next() else { throw ASN1Error.invalidASN1Object(reason: "no signer identifier") }
            var issuer: DistinguishedName?, serial: Certificate.SerialNumber?, keyID: ArraySlice<UInt8>?
            if sid.identifier == .sequence {
                try DER.sequence(sid, identifier: .sequence) { parts in
                    guard let name = parts.next() else { throw ASN1Error.invalidASN1Object(reason: "no issuer") }
                    issuer = try DistinguishedName(derEncoded: name)
                    serial = Certificate.SerialNumber(bytes: try ArraySlice<UInt8>(derEncoded: &parts))
                }
            } else {
                keyID = try ASN1OctetString(derEncoded: sid, withIdentifier: sid.identifier).bytes
            }
            let digest = try AlgorithmID(derEncoded: &nodes).oid
            guard let attributesNode = nodes.next(), attributesNode.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific),
                  case .constructed(let attributeList) = attributesNode.content
            else { throw ASN1Error.invalidASN1Object(reason: "no signed attributes") }
            var attributes: [ASN1ObjectIdentifier: ASN1Node] = [:]
            for attribute in attributeList {
                try DER.sequence(attribute, identifier: .sequence) { parts in
                    let type = try ASN1ObjectIdentifier(derEncoded: &parts)
                    guard let values = parts.next(), case .constructed(let set) = values.content else { return }
                    var iterator = set.makeIterator()
                    attributes[type] = iterator.next()
                }
            }
            var signed = Array(attributesNode.encodedBytes)
            signed[0] = 0x31
            let algorithm = try AlgorithmID(derEncoded: &nodes).oid
            let signature = try ASN1OctetString(derEncoded: &nodes).bytes
            while nodes.next() != nil {}  // unsigned attributes
            return SignerInfo(issuer: issuer, serial: serial, keyIdentifier: keyID, digestAlgorithm: digest, signedAttributes: signed,
                              attributes: attributes, signatureAlgorithm: algorithm, signature: signature)
        }
    }

    /// Why the token is not a valid signature of an authority that chains to one of `authorities`, or `nil`.
    func problem(trusting authorities: [Certificate]) -> String? {
        guard let contentType = signer.attributes[TimeStampOID.contentTypeAttribute],
              (try? ASN1ObjectIdentifier(derEncoded: contentType)) == TimeStampOID.tstInfo else {
            return "its signed content type is not a time-stamp"
        }
        guard let digestNode = signer.attributes[TimeStampOID.messageDigestAttribute],
              let recorded = try? ASN1OctetString(derEncoded: digestNode), let actual = Self.digest(content, signer.digestAlgorithm) else {
            return "it names no message digest the tool can check"
        }
        guard recorded.bytes.elementsEqual(actual) else { return "its signed time-stamp information was altered" }
        guard let certificate = certificates.first(where: isSigner) else {
            return "it does not carry the certificate of the authority that signed it"
        }
        guard let algorithm = signatureAlgorithm else { return "its signature algorithm is not one the tool can check" }
        guard certificate.publicKey.isValidSignature(signer.signature, for: signer.signedAttributes, signatureAlgorithm: algorithm) else {
            return "its signature does not verify: the token was altered or forged"
        }
        let chain = Self.validate(certificate, intermediates: certificates, roots: authorities, at: info.genTime)
        return chain.map { "the authority's certificate is not trusted: \($0)" }
    }

    private func isSigner(_ certificate: Certificate) -> Bool {
        if let keyIdentifier = signer.keyIdentifier {
            return (try? certificate.extensions.subjectKeyIdentifier)??.keyIdentifier == keyIdentifier
        }
        return certificate.issuer == signer.issuer && certificate.serialNumber == signer.serial
    }

    /// The signature algorithm from the signer's: RSA is often named without its digest in CMS.
    private var signatureAlgorithm: Certificate.SignatureAlgorithm? {
        let digest = signer.digestAlgorithm
        switch signer.signatureAlgorithm.oidComponents {
        case [1, 2, 840, 113_549, 1, 1, 1], [1, 2, 840, 113_549, 1, 1, 11], [1, 2, 840, 113_549, 1, 1, 12], [1, 2, 840, 113_549, 1, 1, 13]:
            return [TimeStampOID.sha256: .sha256WithRSAEncryption, TimeStampOID.sha384: .sha384WithRSAEncryption,
                    TimeStampOID.sha512: .sha512WithRSAEncryption][digest]
        case [1, 2, 840, 10_045, 2, 1], [1, 2, 840, 10_045, 4, 3, 2], [1, 2, 840, 10_045, 4, 3, 3], [1, 2, 840, 10_045, 4, 3, 4]:
            return [TimeStampOID.sha256: .ecdsaWithSHA256, TimeStampOID.sha384: .ecdsaWithSHA384,
                    TimeStampOID.sha512: .ecdsaWithSHA512][digest]
        case [1, 3, 101, 112]:
            return .ed25519
        default:
            return nil
        }
    }

    static func digest(_ bytes: ArraySlice<UInt8>, _ algorithm: ASN1ObjectIdentifier) -> [UInt8]? {
        switch algorithm {
        case TimeStampOID.sha256: return Array(SHA256.hash(data: bytes))
        case TimeStampOID.sha384: return Array(SHA384.hash(data: bytes))
        case TimeStampOID.sha512: return Array(SHA512.hash(data: bytes))
        default: return nil
        }
    }

    /// Why `leaf` does not chain to `roots` as a time-stamping certificate valid at `time`, or `nil`.
    private static func validate(_ leaf: Certificate, intermediates: [Certificate], roots: [Certificate], at time: Date) -> String? {
        let outcome = Mutex<String??>(nil)
        let done = DispatchSemaphore(value: 0)
        // swift-certificates' verifier is async; the tool's commands are not: wait for it here. The
        // wait blocks its thread, so this is never called from a task of the cooperative pool.
        Task {
            var verifier = X509.Verifier(rootCertificates: CertificateStore(roots)) {
                RFC5280Policy(fixedExpiryValidationTime: time)
                TimeStampingUsage()
            }
            let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates))
            switch result {
            case .validCertificate: outcome.withLock { $0 = .some(nil) }
            case .couldNotValidate(let failures):
                // The verifier's reasons print whole certificates: said here in words instead.
                let reasons = failures.map { "\($0.policyFailureReason)".lowercased() }
                let words = reasons.contains { $0.contains("not yet valid") || $0.contains("expired") || $0.contains("notafter") || $0.contains("notbefore") }
                    ? "it was not valid at the token's time" : reasons.contains { $0.contains("time-stamping") }
                    ? "it is not for time-stamping (extended key usage)" : "it does not chain to the given CA certificate"
                outcome.withLock { $0 = .some(words) }
            }
            done.signal()
        }
        done.wait()
        return outcome.withLock { $0 ?? nil }
    }
}

/// The chain's end certificate must be a time-stamping authority's (RFC 3161 §2.3: extended key
/// usage `timeStamping`, which its issuer marks critical).
struct TimeStampingUsage: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [.X509ExtensionID.extendedKeyUsage]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        guard let usage = try? chain.leaf.extensions.extendedKeyUsage, usage.contains(.timeStamping) else {
            return .failsToMeetPolicy(reason: "the signing certificate is not for time-stamping (extended key usage)")
        }
        return .meetsPolicy
    }
}
