import Foundation
import Testing
@testable import RetentionCore

/// The compliance officer's checkpoints: a chain re-signed with the batch machine's own key, or a
/// manifest removed, after she witnessed it is caught by `witness`, `verify` and the report alone,
/// without the database.
@Suite struct WitnessTests {
    /// Rewrites the chain of `folder` from manifest `from` on with the batch key: `change` edits that
    /// manifest's payload, and every later one is signed again over its new predecessor's digest,
    /// as an administrator holding the batch key could.
    func rewriteChain(_ folder: String, from: Int, key: SigningKey, change: (inout [String: JSONValue]) -> Void) throws {
        var previous: String?
        for (index, file) in try Verifier.files(in: [folder]).enumerated() {
            let url = URL(fileURLWithPath: file)
            if index + 1 >= from {
                let envelope = try DSSEEnvelope(fileData: try Data(contentsOf: url))
                guard case .object(var payload) = try JSONValue.parse(envelope.payload) else { return }
                if index + 1 == from { change(&payload) }
                payload["previous_sha256"] = previous.map(JSONValue.string) ?? .null
                try key.sign(payloadType: Manifest.payloadType, payload: JSONValue.object(payload).canonicalData()).fileData().write(to: url)
            }
            previous = sha256Hex(try Data(contentsOf: url))
        }
    }

    func copy(_ folder: String, in db: TestDatabase) throws -> String {
        let copy = db.files.appendingPathComponent("copy-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.copyItem(atPath: folder, toPath: copy)
        return copy
    }

    @Test func aChainReSignedOrShortenedAfterItWasWitnessedIsCaughtWithoutTheDatabase() throws {
        let (db, policies) = try ManifestTests().withRuns(3)
        let officer = try SigningKeys.generate(in: db.files.appendingPathComponent("officer-key").path)
        let state = db.files.appendingPathComponent("checkpoints").path
        func witness(_ folder: String) throws -> ProcessResult {
            try db.retention(["witness", "--key", officer.privateKeyPath, "--state", state, folder])
        }
        let first = try witness(db.manifestFolder)
        #expect(first.status == 0 && first.stdout.hasPrefix("checkpoint 1 written to ") && first.stdout.contains("manifests up to 3 ("),
                "\(first.output)")
        for _ in 0..<2 { #expect(try db.retention(["run", "--policies", policies.url.path, "--quiet"]).status == 0) }
        let second = try witness(db.manifestFolder)
        #expect(second.status == 0 && second.stdout.contains("checkpoint 2 written") && second.stdout.contains("2 new since the last checkpoint"),
                "\(second.output)")
        // Each checkpoint is signed by the officer's key alone and names every manifest it saw first.
        let envelope = try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: state + "/checkpoint-000002.json")))
        let checkpoint = try JSONOutput.decode(Checkpoint.self, from: envelope.payload, what: "checkpoint")
        #expect(try SigningKeys.loadPublicKey(path: officer.publicKeyPath).verify(envelope))
        #expect(!(try SigningKeys.loadPublicKey(path: db.publicKeyPath).verify(envelope)))
        #expect(checkpoint.seen.map(\.sequence) == [4, 5] && checkpoint.sequence == 5 && checkpoint.manifests == 5)
        // OpenSSL alone checks a checkpoint as it checks a manifest.
        let openssl = try runProcess("/bin/sh", [repositoryRoot.appendingPathComponent("scripts/verify-manifest.sh").path,
                                                 officer.publicKeyPath, state + "/checkpoint-000002.json"])
        #expect(openssl.status == 0 && openssl.stdout.contains("Signature Verified Successfully"), "\(openssl.output)")
        let clean = try db.retention(["verify", "--witness-key", officer.publicKeyPath, "--checkpoints", state, db.manifestFolder])
        #expect(clean.status == 0 && clean.stdout.contains("witnessed up to manifest 5 of "), "\(clean.output)")

        // Manifest 2 altered and the chain after it signed again with the batch key: verify alone is satisfied.
        let rewritten = try copy(db.manifestFolder, in: db)
        try rewriteChain(rewritten, from: 2, key: try SigningKeys.loadPrivateKey(path: db.signingKeyPath)) { payload in
            payload["status"] = .string("failed")
        }
        #expect(try db.retention(["verify", rewritten]).status == 0)
        let refused = try witness(rewritten)
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.stdout.contains("FAIL  manifest 2 (") && refused.stdout.contains("is not the one witnessed on ")
                && refused.stdout.contains("(checkpoint 1): it was re-signed or replaced since"), "\(refused.stdout)")
        #expect(!FileManager.default.fileExists(atPath: state + "/checkpoint-000003.json"))
        let verify = try db.retention(["verify", "--witness-key", officer.publicKeyPath, "--checkpoints", state, rewritten])
        #expect(verify.status == 1 && verify.stdout.contains("FAIL  manifest 5 ("), "\(verify.stdout)")
        let out = db.files.appendingPathComponent("witnessed.json").path
        let report = try db.retention(["report", "--manifests", rewritten, "--witness-key", officer.publicKeyPath,
                                       "--checkpoints", state, "--format", "json", "--out", out])
        #expect(report.status == 1, "\(report.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        let problems = ((json["verdict"] as? [String: Any])?["problems"] as? [[String: Any]]) ?? []
        #expect(problems.filter { $0["kind"] as? String == "evidence" }.count == 4, "\(problems)")
        #expect((json["witnessed"] as? String)?.hasPrefix("the chain changed after it was witnessed up to manifest 5") == true)
        #expect((json["nights"] as? [[String: Any]])?.contains { $0["status"] as? String == "altered" } == true)

        // The newest manifest removed: named as removed.
        let shortened = try copy(db.manifestFolder, in: db)
        try FileManager.default.removeItem(atPath: try #require(try Verifier.files(in: [shortened]).last))
        let removed = try witness(shortened)
        #expect(removed.status == 1 && removed.stdout.contains("FAIL  manifest 5, witnessed on ") && removed.stdout.contains("removed"),
                "\(removed.stdout)")

        // A checkpoint edited, or one that is not hers, is named; the batch key cannot witness.
        var edited = envelope
        edited.payload = Data(String(decoding: envelope.payload, as: UTF8.self).replacingOccurrences(of: "\"manifests\":5", with: "\"manifests\":6").utf8)
        try edited.fileData().write(to: URL(fileURLWithPath: state + "/checkpoint-000002.json"))
        let forged = try db.retention(["verify", "--witness-key", officer.publicKeyPath, "--checkpoints", state, db.manifestFolder])
        #expect(forged.status == 1 && forged.stdout.contains("checkpoint checkpoint-000002.json is not signed by the witness key"),
                "\(forged.stdout)")
        let batch = try db.retention(["witness", "--key", db.signingKeyPath, "--state", state, db.manifestFolder])
        #expect(batch.status == 64 && batch.stderr.contains("--key is the batch machine's own key"), "\(batch.stderr)")
        let alone = try db.retention(["verify", "--checkpoints", state, db.manifestFolder])
        #expect(alone.status == 64)
    }
}
