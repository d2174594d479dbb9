import Foundation
import Testing
@testable import RetentionCore

/// A temporary folder for key and manifest files, removed at the end.
private final class ScratchFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("retention-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// The exit status a failing call maps to, or nil when it succeeds or throws something else.
private func exitStatus(_ body: () throws -> Void) -> RetentionCore.ExitStatus? {
    do {
        try body()
        return nil
    } catch let error as RetentionError {
        return error.exitCode
    } catch {
        return nil
    }
}

private func mode(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
}

private func openssl(_ arguments: [String]) throws -> ProcessResult {
    try runProcess("/usr/bin/env", ["openssl"] + arguments)
}

private func canonical(_ json: String) throws -> String {
    try JSONValue.parse(Data(json.utf8)).canonicalString
}

private let verifyScript = repositoryRoot.appendingPathComponent("scripts/verify-manifest.sh").path
private let manifestType = "application/vnd.retention.manifest.v1+json"

@Suite struct ManifestCryptoTests {
    // MARK: RFC 8785

    @Test func sortsKeysByUTF16CodeUnits() throws {
        // The sorting example of RFC 8785 §3.2.3: the emoji (a surrogate pair) sorts before U+FB33.
        let input = #"""
        {
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }
        """#
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\","
            + "\"\u{F6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20AC}\":\"Euro Sign\","
            + "\"\u{1F600}\":\"Emoji: Grinning Face\",\"\u{FB33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        #expect(try canonical(input) == expected)
    }

    @Test func escapesStringsLikeECMAScript() throws {
        // The string of the RFC 8785 §3.2.2 example, and its literals.
        let input = #"{"string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}"#
        #expect(try canonical(input) == #"{"literals":[null,true,false],"string":"€$\u000f\nA'B\"\\\\\"/"}"#)

        let controls = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) }))
        let escaped = JSONValue.string(controls + "\u{7F}/é\u{1F600}").canonicalString
        #expect(escaped == "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
            + "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"
            + "\u{7F}/é\u{1F600}\"")
    }

    @Test func writesIntegersAndNestingWithoutWhitespace() throws {
        let value = JSONValue.object([
            "b": .array([.int(0), .int(-1), .int(Int64.max), .int(Int64.min), .array([]), .object([:])]),
            "a": .object(["z": .null, "y": .bool(true)]),
        ])
        #expect(value.canonicalString == #"{"a":{"y":true,"z":null},"b":[0,-1,9223372036854775807,-9223372036854775808,[],{}]}"#)
        #expect(try JSONValue.parse(value.canonicalData()) == value)
        #expect(value["b"]?.array?[2].int == Int64.max)
        #expect(value["a"]?["y"]?.bool == true)
        #expect(value["missing"] == nil)
    }

    @Test func parserRejectsWhatManifestsNeverHold() {
        let bad = ["1.5", "1e3", "-0.0", "9223372036854775808", "01", "{\"a\":1,\"a\":2}", "\"\\ud800\"", "\"\\udc00x\"",
                   "[1,]", "{\"a\" 1}", "\"tab\there\"", "1 2", "", "nul", String(repeating: "[", count: 100)]
        for text in bad {
            #expect(throws: JSONFormatError.self, "\(text.debugDescription)") { try JSONValue.parse(Data(text.utf8)) }
        }
        #expect(throws: JSONFormatError.self) { try JSONValue.parse(Data([0x22, 0xC3, 0x28, 0x22])) }
        #expect(exitStatus { _ = try JSONValue.parse(Data("1.0".utf8)) } == .dataError)
    }

    // MARK: DSSE

    @Test func preAuthenticationEncodingMatchesTheSpec() {
        let pae = DSSEEnvelope.pae(type: "http://example.com/HelloWorld", body: Data("hello world".utf8))
        #expect(pae == Data("DSSEv1 29 http://example.com/HelloWorld 11 hello world".utf8))
        // Lengths count bytes, not characters.
        #expect(DSSEEnvelope.pae(type: "é", body: Data()) == Data("DSSEv1 2 é 0 ".utf8))
    }

    @Test func envelopeFileRoundTripsAndIsStrict() throws {
        let envelope = DSSEEnvelope(payloadType: manifestType, payload: Data("{\"a\":1}".utf8),
                                    signatures: [.init(keyid: "ab", sig: Data([1, 2, 3, 255]))])
        let file = envelope.fileData()
        #expect(String(decoding: file, as: UTF8.self)
            == #"{"payload":"eyJhIjoxfQ==","payloadType":"application/vnd.retention.manifest.v1+json","signatures":[{"keyid":"ab","sig":"AQID/w=="}]}"#
            + "\n")
        #expect(try DSSEEnvelope(fileData: file) == envelope)

        let bad = [
            #"{"payload":"eyJhIjoxfQ==","payloadType":"t","signatures":[{"keyid":"ab","sig":"AQID/w=="}],"extra":1}"#,
            #"{"payload":"eyJhIjoxfQ==","signatures":[{"keyid":"ab","sig":"AQID/w=="}]}"#,
            #"{"payload":"eyJhIjoxfQ==","payloadType":"t","signatures":[]}"#,
            #"{"payload":"eyJhIjoxfQ==","payloadType":"t","signatures":[{"sig":"AQID/w=="}]}"#,
            #"{"payload":"eyJhIjoxfQ==","payloadType":"t","signatures":[{"keyid":"ab","sig":"AQID/w==","x":""}]}"#,
            #"{"payload":"eyJhIjoxfQ","payloadType":"t","signatures":[{"keyid":"ab","sig":"AQID/w=="}]}"#,
            #"{"payload":"eyJhIjoxfQ==","payloadType":1,"signatures":[{"keyid":"ab","sig":"AQID/w=="}]}"#,
            #"[]"#,
        ]
        for text in bad {
            #expect(throws: JSONFormatError.self, "\(text)") { try DSSEEnvelope(fileData: Data(text.utf8)) }
        }
    }

    // MARK: Keys

    @Test func keygenWritesModesAndRefusesToOverwrite() throws {
        let folder = try ScratchFolder()
        let generated = try SigningKeys.generate(in: folder.url.path)
        #expect(generated.privateKeyPath == folder.path("retention-signing.pem"))
        #expect(generated.publicKeyPath == folder.path("retention-public.pem"))
        #expect(try mode(generated.privateKeyPath) == 0o600)
        #expect(try mode(generated.publicKeyPath) == 0o644)
        #expect(generated.keyID.count == 64 && generated.keyID.allSatisfy { "0123456789abcdef".contains($0) })

        let before = try Data(contentsOf: URL(fileURLWithPath: generated.privateKeyPath))
        #expect(exitStatus { _ = try SigningKeys.generate(in: folder.url.path) } == .config)
        #expect(try Data(contentsOf: URL(fileURLWithPath: generated.privateKeyPath)) == before)

        // An existing public key alone also stops keygen, and no private key is left behind.
        let other = try ScratchFolder()
        try Data("x".utf8).write(to: other.url.appendingPathComponent("retention-public.pem"))
        #expect(exitStatus { _ = try SigningKeys.generate(in: other.url.path) } == .config)
        #expect(!FileManager.default.fileExists(atPath: other.path("retention-signing.pem")))

        // A folder that cannot be made (its parent is missing), or a file where the folder should be.
        #expect(exitStatus { _ = try SigningKeys.generate(in: folder.path("no-such-folder/keys")) } == .config)
        #expect(exitStatus { _ = try SigningKeys.generate(in: folder.path("retention-signing.pem")) } == .config)
    }

    @Test func generatedKeysLoadInOpenSSL() throws {
        let folder = try ScratchFolder()
        let generated = try SigningKeys.generate(in: folder.url.path)
        let text = try openssl(["pkey", "-in", generated.privateKeyPath, "-noout", "-text"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("ED25519 Private-Key"))
        #expect(try openssl(["pkey", "-pubin", "-in", generated.publicKeyPath, "-noout"]).status == 0)

        // The key id is the SHA-256 of the SPKI DER, as OpenSSL computes it.
        let der = folder.path("public.der")
        #expect(try openssl(["pkey", "-pubin", "-in", generated.publicKeyPath, "-outform", "DER", "-out", der]).status == 0)
        let digest = try openssl(["dgst", "-sha256", "-r", der])
        #expect(digest.stdout.hasPrefix(generated.keyID + " "))
    }

    @Test func loadsKeysMadeByOpenSSL() throws {
        let folder = try ScratchFolder()
        let privatePath = folder.path("key.pem")
        let publicPath = folder.path("pub.pem")
        #expect(try openssl(["genpkey", "-algorithm", "ed25519", "-out", privatePath]).status == 0)
        #expect(try openssl(["pkey", "-in", privatePath, "-pubout", "-out", publicPath]).status == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: privatePath)

        let signing = try SigningKeys.loadPrivateKey(path: privatePath)
        let verifying = try SigningKeys.loadPublicKey(path: publicPath)
        #expect(signing.keyID == verifying.keyID)
        #expect(verifying.verify(try signing.sign(payloadType: manifestType, payload: Data("{}".utf8))))
    }

    @Test func keyFilePermissionsAndFormatMapToExitStatuses() throws {
        let folder = try ScratchFolder()
        let generated = try SigningKeys.generate(in: folder.url.path)
        let pem = try String(contentsOfFile: generated.privateKeyPath, encoding: .utf8)

        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: generated.privateKeyPath)
        do {
            _ = try SigningKeys.loadPrivateKey(path: generated.privateKeyPath)
            Issue.record("a group-readable key loaded")
        } catch let error as RetentionError {
            #expect(error.exitCode == .noPermission)
            #expect(error.description.contains("640"))
            // The message names the file, never its contents.
            let body = pem.split(separator: "\n")[1]
            #expect(!error.description.contains(body))
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o604], ofItemAtPath: generated.privateKeyPath)
        #expect(exitStatus { _ = try SigningKeys.loadPrivateKey(path: generated.privateKeyPath) } == .noPermission)

        #expect(exitStatus { _ = try SigningKeys.loadPrivateKey(path: folder.path("missing.pem")) } == .config)
        #expect(exitStatus { _ = try SigningKeys.loadPublicKey(path: folder.path("missing.pem")) } == .config)
        #expect(exitStatus { _ = try SigningKeys.loadPrivateKey(path: folder.url.path) } == .config)
        let fifo = folder.path("fifo.pem")
        #expect(try runProcess("/usr/bin/env", ["mkfifo", "-m", "600", fifo]).status == 0)
        #expect(exitStatus { _ = try SigningKeys.loadPrivateKey(path: fifo) } == .config)

        func writeKey(_ name: String, _ contents: String) throws -> String {
            let path = folder.path(name)
            try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            return path
        }
        let publicPEM = try String(contentsOfFile: generated.publicKeyPath, encoding: .utf8)
        #expect(exitStatus { _ = try SigningKeys.loadPrivateKey(path: try writeKey("garbage.pem", "not a key\n")) } == .config)
        #expect(exitStatus { _ = try SigningKeys.loadPrivateKey(path: try writeKey("public-as-private.pem", publicPEM)) } == .config)
        #expect(exitStatus { _ = try SigningKeys.loadPublicKey(path: try writeKey("private-as-public.pem", pem)) } == .config)

        // CryptoExtras alone would accept an X25519 PKCS#8 key as an Ed25519 signing key.
        let x25519 = folder.path("x25519.pem")
        #expect(try openssl(["genpkey", "-algorithm", "x25519", "-out", x25519]).status == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: x25519)
        #expect(exitStatus { _ = try SigningKeys.loadPrivateKey(path: x25519) } == .config)
        let x25519Public = folder.path("x25519-pub.pem")
        #expect(try openssl(["pkey", "-in", x25519, "-pubout", "-out", x25519Public]).status == 0)
        #expect(exitStatus { _ = try SigningKeys.loadPublicKey(path: x25519Public) } == .config)
    }

    // MARK: Signing

    @Test func signaturesVerifyAndTamperingIsCaught() throws {
        let folder = try ScratchFolder()
        let generated = try SigningKeys.generate(in: folder.url.path)
        let signing = try SigningKeys.loadPrivateKey(path: generated.privateKeyPath)
        let verifying = try SigningKeys.loadPublicKey(path: generated.publicKeyPath)
        let payload = JSONValue.object(["run": .int(7), "status": .string("completed")]).canonicalData()

        let envelope = try signing.sign(payloadType: manifestType, payload: payload)
        #expect(envelope.signatures.map(\.keyid) == [generated.keyID])
        #expect(verifying.verify(envelope))
        #expect(verifying.verify(try DSSEEnvelope(fileData: envelope.fileData())))

        var altered = envelope
        altered.payload[altered.payload.startIndex + 2] ^= 0x01
        #expect(!verifying.verify(altered))
        var retyped = envelope
        retyped.payloadType = "application/json"
        #expect(!verifying.verify(retyped))
        var badSignature = envelope
        badSignature.signatures[0].sig[0] ^= 0x80
        #expect(!verifying.verify(badSignature))

        let stranger = SigningKey(.init())
        #expect(!stranger.verifyingKey.verify(envelope))
    }

    @Test func shellScriptVerifiesWithOpenSSLAlone() throws {
        let folder = try ScratchFolder()
        let generated = try SigningKeys.generate(in: folder.url.path)
        let signing = try SigningKeys.loadPrivateKey(path: generated.privateKeyPath)
        // Non-ASCII and an escaped quote in the payload: the script must use the exact payload bytes.
        let payload = JSONValue.object(["library": .string("Bücherei \"Nord\""), "rows": .int(42)]).canonicalData()
        let envelope = try signing.sign(payloadType: manifestType, payload: payload)

        let good = folder.path("good.json")
        try envelope.fileData().write(to: URL(fileURLWithPath: good))
        let accepted = try runProcess("/bin/sh", [verifyScript, generated.publicKeyPath, good])
        #expect(accepted.status == 0, "\(accepted.output)")
        #expect(accepted.stdout.contains("Signature Verified Successfully"))
        #expect(accepted.stdout.split(separator: "\n").count == 1)

        var altered = envelope
        altered.payload[altered.payload.startIndex + 5] ^= 0x01
        let bad = folder.path("bad.json")
        try altered.fileData().write(to: URL(fileURLWithPath: bad))
        let rejected = try runProcess("/bin/sh", [verifyScript, generated.publicKeyPath, bad])
        #expect(rejected.status == 1)
        #expect(rejected.stderr.contains("Signature Verification Failure"))

        let other = try ScratchFolder()
        let stranger = try SigningKeys.generate(in: other.url.path)
        #expect(try runProcess("/bin/sh", [verifyScript, stranger.publicKeyPath, good]).status == 1)
        #expect(try runProcess("/bin/sh", [verifyScript, generated.publicKeyPath, folder.path("missing.json")]).status == 1)
    }
}
