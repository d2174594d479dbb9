import Crypto
import CryptoExtras
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An Ed25519 private key that signs manifests, with the identifier of its public half.
public struct SigningKey: Sendable {
    public let privateKey: Curve25519.Signing.PrivateKey
    public let verifyingKey: VerifyingKey

    public init(_ privateKey: Curve25519.Signing.PrivateKey) {
        self.privateKey = privateKey
        self.verifyingKey = VerifyingKey(privateKey.publicKey)
    }

    /// The hex SHA-256 of the public key's SPKI DER.
    public var keyID: String { verifyingKey.keyID }

    /// Signs `payload` as a DSSE envelope: Ed25519 over the pre-authentication encoding of the exact bytes.
    public func sign(payloadType: String, payload: Data) throws -> DSSEEnvelope {
        let signature = try privateKey.signature(for: DSSEEnvelope.pae(type: payloadType, body: payload))
        return DSSEEnvelope(payloadType: payloadType, payload: payload,
                            signatures: [.init(keyid: keyID, sig: Data(signature))])
    }
}

/// An Ed25519 public key that verifies manifests.
public struct VerifyingKey: Sendable {
    public let publicKey: Curve25519.Signing.PublicKey
    /// The hex SHA-256 of the public key's SPKI DER.
    public let keyID: String

    public init(_ publicKey: Curve25519.Signing.PublicKey) {
        self.publicKey = publicKey
        self.keyID = SigningKeys.keyID(publicKey)
    }

    /// Whether any signature of the envelope verifies under this key.
    ///
    /// The `keyid` is not consulted: DSSE treats it as an unauthenticated hint, so the signature alone decides.
    public func verify(_ envelope: DSSEEnvelope) -> Bool {
        let message = envelope.preAuthenticationEncoding
        return envelope.signatures.contains { publicKey.isValidSignature($0.sig, for: message) }
    }
}

/// Key files: generating a key pair on disk and loading keys with the permission checks of SPEC §5.
public enum SigningKeys {
    public static let privateKeyFileName = "retention-signing.pem"
    public static let publicKeyFileName = "retention-public.pem"

    /// Where `generate` wrote the key pair, and the key's identifier.
    public struct Generated: Sendable {
        public let privateKeyPath: String
        public let publicKeyPath: String
        public let keyID: String
    }

    /// The lowercase hex SHA-256 of the public key's SPKI DER, the DSSE `keyid`.
    public static func keyID(_ publicKey: Curve25519.Signing.PublicKey) -> String {
        sha256Hex(publicKey.derRepresentation)
    }

    /// Makes a new key pair in `directory` (created, mode 0700, when missing): PKCS#8 private key
    /// (mode 0600 from creation) and SPKI public key (0644 regardless of the umask); never overwrites.
    public static func generate(in directory: String) throws -> Generated {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard mkdir(directory, 0o700) == 0 else {
                throw UsageError("cannot create the key folder \(visible(directory)) (\(String(cString: strerror(errno))))",
                                 exitCode: .config)
            }
        } else if !isDirectory.boolValue {
            throw UsageError("\(visible(directory)) is not a folder", exitCode: .config)
        }
        let folder = URL(fileURLWithPath: directory)
        let privatePath = folder.appendingPathComponent(privateKeyFileName).path
        let publicPath = folder.appendingPathComponent(publicKeyFileName).path
        // Both are checked first so that an existing public key does not leave a new private key behind.
        for path in [privatePath, publicPath] {
            var info = stat()
            if lstat(path, &info) == 0 {
                throw UsageError("\(path) already exists; refusing to overwrite a key", exitCode: .config)
            }
        }
        let key = Curve25519.Signing.PrivateKey()
        try create(privatePath, contents: Data(key.pemRepresentation.utf8), mode: 0o600)
        do {
            try create(publicPath, contents: Data(key.publicKey.pemRepresentation.utf8), mode: 0o644)
        } catch {
            unlink(privatePath)
            throw error
        }
        return Generated(privateKeyPath: privatePath, publicKeyPath: publicPath, keyID: keyID(key.publicKey))
    }

    /// Loads the signing key: missing, unreadable or not an Ed25519 PKCS#8 PEM exits 78; accessible by group or others exits 77.
    public static func loadPrivateKey(path: String) throws -> SigningKey {
        // The mode is read from the open descriptor, so the file checked is the file read.
        let (data, mode) = try read(path, what: "signing key")
        // A public key given where the private one belongs is a mix-up, not a permission problem.
        if String(decoding: data, as: UTF8.self).contains("-----BEGIN PUBLIC KEY-----") {
            throw UsageError("signing key \(path) is a public key; give the private key (retention-signing.pem beside it)", exitCode: .config)
        }
        if mode & 0o077 != 0 {
            throw UsageError("signing key \(path) is accessible by group or others (mode \(String(mode & 0o777, radix: 8))); "
                             + "run chmod 600 on it", exitCode: .noPermission)
        }
        let notEd25519 = UsageError("signing key \(path) is not an unencrypted Ed25519 PKCS#8 PEM private key", exitCode: .config)
        if String(decoding: data, as: UTF8.self).contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            throw UsageError("signing key \(path) is encrypted; retention needs an unencrypted PKCS#8 key", exitCode: .config)
        }
        guard let der = pemBody(data, label: "PRIVATE KEY"),
              let key = try? Curve25519.Signing.PrivateKey(derRepresentation: der),
              // CryptoExtras does not check the algorithm of a PKCS#8 key (an X25519 key would load), so the
              // DER must be exactly what an Ed25519 key re-encodes to.
              key.derRepresentation == der else {
            throw notEd25519
        }
        return SigningKey(key)
    }

    /// Loads a public key from an SPKI PEM file; anything wrong exits 78.
    public static func loadPublicKey(path: String) throws -> VerifyingKey {
        let (data, _) = try read(path, what: "public key")
        guard let der = pemBody(data, label: "PUBLIC KEY"),
              let key = try? Curve25519.Signing.PublicKey(derRepresentation: der) else {
            throw UsageError("public key \(path) is not an Ed25519 SPKI PEM public key", exitCode: .config)
        }
        return VerifyingKey(key)
    }

    /// The DER inside the first PEM block with `label`, or nil.
    private static func pemBody(_ data: Data, label: String) -> Data? {
        let text = String(decoding: data, as: UTF8.self)
        guard let begin = text.range(of: "-----BEGIN \(label)-----"),
              let end = text.range(of: "-----END \(label)-----", range: begin.upperBound..<text.endIndex) else {
            return nil
        }
        let base64 = text[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        return Data(base64Encoded: String(base64))
    }

    private static func read(_ path: String, what: String) throws -> (Data, mode_t) {
        // O_NONBLOCK so that a FIFO at the key path fails the regular-file check instead of hanging the run.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw UsageError("cannot open \(what) \(path): \(String(cString: strerror(errno)))", exitCode: .config)
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw UsageError("\(what) \(path) is not a regular file", exitCode: .config)
        }
        // A key file is a few hundred bytes; the cap keeps a wrong path (a device, a huge file) from being read whole.
        guard info.st_size <= 64 * 1024, let data = try? handle.readToEnd() else {
            throw UsageError("cannot read \(what) \(path)", exitCode: .config)
        }
        return (data, info.st_mode)
    }

    /// Writes a key file with its final mode from the start (the private key never exists readable
    /// by others), never replacing an existing one (`AtomicFile`, `.exclusive`).
    private static func create(_ path: String, contents: Data, mode: mode_t) throws {
        do {
            if try AtomicFile.write(contents, to: path, mode: mode, naming: .exclusive) == .taken {
                throw UsageError("cannot create \(path): File exists", exitCode: .config)
            }
        } catch let failure as AtomicFile.Failure {
            throw UsageError(failure.description, exitCode: .config)
        }
    }
}
