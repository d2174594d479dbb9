import Foundation
import Testing
@testable import RetentionCore

/// A local RFC 3161 authority: a test CA and TSA made by `scripts/tsa/make-test-tsa.sh`, answered by
/// `openssl ts -reply` behind `scripts/tsa/responder.py` on 127.0.0.1 (no other network).
final class TestAuthority {
    let folder: String
    let process: Process
    let url: String
    var ca: String { folder + "/ca.pem" }

    /// `clockOffset` (libfaketime, like "+10d") puts the authority's clock elsewhere; `failWith` answers every request with that HTTP status.
    /// `mode` is the responder's `--hang` or `--huge`.
    init(in base: URL, kind: String = "rsa", reuse: TestAuthority? = nil, clockOffset: String? = nil, failWith: Int? = nil,
         mode: String? = nil) throws {
        folder = reuse?.folder ?? base.appendingPathComponent("tsa-\(UUID().uuidString.prefix(8))").path
        if reuse == nil {
            let made = try runProcess("/bin/bash", [repositoryRoot.appendingPathComponent("scripts/tsa/make-test-tsa.sh").path, folder, kind])
            guard made.status == 0 else { throw TestFailure("make-test-tsa.sh: \(made.output)") }
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [repositoryRoot.appendingPathComponent("scripts/tsa/responder.py").path, folder]
            + (failWith.map { ["--fail-with", "\($0)"] } ?? []) + (mode.map { [$0] } ?? [])
        var environment = ProcessInfo.processInfo.environment
        if let clockOffset, let library = fakeTimeLibrary {
            environment["LD_PRELOAD"] = library
            environment["FAKETIME"] = clockOffset
            environment["FAKETIME_DONT_RESET"] = "1"
        }
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line += byte }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else { throw TestFailure("the responder printed no port") }
        url = "http://127.0.0.1:\(port)/tsa"
    }

    deinit {
        // SIGKILL: the test runner's threads block SIGTERM, and a child inherits that mask.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

@Suite struct TimestampTests {
    func run(_ db: TestDatabase, _ policies: PolicyFolder, _ extra: [String]) throws -> ProcessResult {
        try db.retention(["run", "--policies", policies.url.path] + extra)
    }

    func token(_ manifest: String) -> String { ManifestTimestamps.tokenPath(for: manifest) }

    @Test func eachManifestIsTimestampedAndVerifyCatchesATokenForAnotherFileOrOfTheWrongTime() throws {
        let (db, policies) = try ManifestTests().withRuns(0)
        let authority = try TestAuthority(in: db.files)
        for _ in 0..<3 {
            let result = try run(db, policies, ["--tsa-url", authority.url, "--tsa-ca", authority.ca])
            #expect(result.status == 0, "\(result.output)")
        }
        let files = try Verifier.files(in: [db.manifestFolder])
        #expect(files.count == 3 && files.allSatisfy { FileManager.default.fileExists(atPath: token($0)) })
        let clean = try db.retention(["verify", "--tsa-ca", authority.ca, db.manifestFolder])
        #expect(clean.status == 0 && clean.stdout.contains("timestamps from sequence 1 on"), "\(clean.output)")
        // OpenSSL alone checks a token, as the officer's script does.
        let openssl = try runProcess("/bin/sh", [repositoryRoot.appendingPathComponent("scripts/verify-manifest.sh").path,
                                                 db.publicKeyPath, files[2], authority.ca])
        #expect(openssl.status == 0 && openssl.stdout.contains("Signature Verified Successfully")
                && openssl.stdout.contains("Timestamp: OK"), "\(openssl.output)")

        // A token moved from another manifest is for other bytes.
        let copy = db.files.appendingPathComponent("swapped").path
        try FileManager.default.copyItem(atPath: db.manifestFolder, toPath: copy)
        let copied = try Verifier.files(in: [copy])
        try FileManager.default.removeItem(atPath: token(copied[2]))
        try FileManager.default.copyItem(atPath: token(copied[1]), toPath: token(copied[2]))
        let swapped = try db.retention(["verify", "--tsa-ca", authority.ca, copy])
        #expect(swapped.status == 1 && swapped.stdout.contains("its timestamp is for other bytes"), "\(swapped.output)")

        // Manifest 3 changed and re-signed with the batch key, then stamped again ten days on: too late to be a retry.
        let resigned = db.files.appendingPathComponent("resigned").path
        try FileManager.default.copyItem(atPath: db.manifestFolder, toPath: resigned)
        try WitnessTests().rewriteChain(resigned, from: 3, key: try SigningKeys.loadPrivateKey(path: db.signingKeyPath)) { payload in
            payload["tool_version"] = .string("0.0.0-rewritten")
        }
        let third = try Verifier.files(in: [resigned])[2]
        #expect(try db.retention(["verify", resigned]).status == 0)
        let stale = try db.retention(["verify", "--tsa-ca", authority.ca, resigned])
        #expect(stale.status == 1 && stale.stdout.contains("its timestamp is for other bytes"), "\(stale.output)")
        if fakeTimeLibrary != nil {
            let later = try TestAuthority(in: db.files, reuse: authority, clockOffset: "+10d")
            try FileManager.default.removeItem(atPath: token(third))
            let restamped = ManifestTimestamps.stampMissing(folder: resigned, authority: try TimestampAuthority(url: later.url),
                                                            logger: .init(label: "test"))
            #expect(restamped == 0 && FileManager.default.fileExists(atPath: token(third)))
            let late = try db.retention(["verify", "--tsa-ca", authority.ca, resigned])
            #expect(late.status == 1 && late.stdout.contains("days after its run finished: later than any run asks again"), "\(late.output)")
            // Two days late is what a later run's retry looks like: noted, not failed.
            let retried = try TestAuthority(in: db.files, reuse: authority, clockOffset: "+2d")
            try FileManager.default.removeItem(atPath: token(files[2]))
            _ = ManifestTimestamps.stampMissing(folder: db.manifestFolder, authority: try TimestampAuthority(url: retried.url),
                                                logger: .init(label: "test"))
            let noted = try db.retention(["verify", "--tsa-ca", authority.ca, db.manifestFolder])
            #expect(noted.status == 0 && noted.stdout.contains("note: timestamped late, at "), "\(noted.output)")
        }

        // Another authority's CA does not vouch for these tokens.
        let stranger = try TestAuthority(in: db.files, kind: "ec")
        let untrusted = try db.retention(["verify", "--tsa-ca", stranger.ca, db.manifestFolder])
        #expect(untrusted.status == 1 && untrusted.stdout.contains("the authority's certificate is not trusted"), "\(untrusted.output)")

        // A token's signature altered by one byte.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: token(files[1])))
        bytes[bytes.count - 10] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: token(files[1])))
        let forged = try db.retention(["verify", "--tsa-ca", authority.ca, db.manifestFolder])
        #expect(forged.status == 1 && forged.stdout.contains("its signature does not verify"), "\(forged.output)")
    }

    @Test func aTokenRemovedAfterRunsStoppedAskingIsAProblemAndBeforeItANote() throws {
        let (db, policies) = try ManifestTests().withRuns(0)
        let authority = try TestAuthority(in: db.files, kind: "ec")
        for _ in 0..<3 { #expect(try run(db, policies, ["--quiet", "--tsa-url", authority.url]).status == 0) }
        let files = try Verifier.files(in: [db.manifestFolder])
        try FileManager.default.removeItem(atPath: token(files[1]))
        let soon = try db.retention(["verify", "--tsa-ca", authority.ca, db.manifestFolder])
        #expect(soon.status == 0 && soon.stdout.contains("note: not timestamped yet: the next run asks the authority again"), "\(soon.output)")
        // Eight days on, runs have stopped asking: the token was removed. (libfaketime cannot move the
        // clock of a Swift binary, whose arguments it loses: the check is called with its `now`.)
        var later = try Verifier.verify(paths: [db.manifestFolder], key: try SigningKeys.loadPublicKey(path: db.publicKeyPath))
        Verifier.checkTimestamps(&later, authorities: try TimestampAuthority.loadAuthorities(path: authority.ca), now: Date() + 8 * 86_400)
        #expect(!later.isValid && later.files[1].problems == ["no timestamp (.tsr) beside it, though the manifests before it have one: "
                                                              + "it was removed, or the authority was out of reach for over a week"],
                "\(later.files[1])")
        #expect(later.files[0].problems.isEmpty && later.files[2].problems.isEmpty)
        // No token at all: the folder is not timestamped, which verify with --tsa-ca says.
        for file in files { try? FileManager.default.removeItem(atPath: token(file)) }
        let none = try db.retention(["verify", "--tsa-ca", authority.ca, db.manifestFolder])
        #expect(none.status == 1 && none.stdout.contains("no manifest has a timestamp (.tsr) beside it"), "\(none.output)")
    }

    @Test func anAuthorityOutOfReachLeavesTheManifestWrittenCountedAndAskedAgainByTheNextRun() throws {
        let (db, policies) = try ManifestTests().withRuns(0)
        let metrics = db.files.appendingPathComponent("retention.prom").path
        let down = try run(db, policies, ["--tsa-url", "http://127.0.0.1:1/tsa", "--metrics-file", metrics])
        #expect(down.status == 0, "\(down.output)")
        #expect(down.stderr.contains("manifest not timestamped; the next run asks again")
                && down.stderr.contains("http://127.0.0.1:1/tsa could not be reached"), "\(down.stderr)")
        #expect(try String(contentsOfFile: metrics, encoding: .utf8).contains("retention_manifests_untimestamped 1.0"))
        let refusing = try TestAuthority(in: db.files, failWith: 503)
        let refused = try run(db, policies, ["--tsa-url", refusing.url, "--metrics-file", metrics])
        #expect(refused.status == 0 && refused.stderr.contains("answered HTTP 503"), "\(refused.output)")
        #expect(try String(contentsOfFile: metrics, encoding: .utf8).contains("retention_manifests_untimestamped 2.0"))
        let authority = try TestAuthority(in: db.files, reuse: refusing)
        let back = try run(db, policies, ["--tsa-url", authority.url, "--tsa-ca", authority.ca, "--metrics-file", metrics])
        #expect(back.status == 0, "\(back.output)")
        #expect(try Verifier.files(in: [db.manifestFolder]).allSatisfy { FileManager.default.fileExists(atPath: token($0)) })
        #expect(try String(contentsOfFile: metrics, encoding: .utf8).contains("retention_manifests_untimestamped 0.0"))
        #expect(try db.retention(["verify", "--tsa-ca", authority.ca, db.manifestFolder]).status == 0)
    }

    @Test func aBadAuthorityAddressOrCAIsRefusedBeforeTheRunChangesAnything() throws {
        let (db, policies) = try ManifestTests().withRuns(0)
        let before = try db.int("SELECT count(*) FROM public.loans")
        let address = try run(db, policies, ["--tsa-url", "ftp://tsa.example/"])
        #expect(address.status == 64 && address.stderr.contains("must be an http:// or https:// address"), "\(address.output)")
        let missing = try run(db, policies, ["--tsa-url", "http://127.0.0.1:1/", "--tsa-ca", "/nonexistent/ca.pem"])
        #expect(missing.status == 78 && missing.stderr.contains("tsa_ca /nonexistent/ca.pem cannot be read"), "\(missing.output)")
        let notPEM = db.files.appendingPathComponent("not.pem").path
        try Data("hello".utf8).write(to: URL(fileURLWithPath: notPEM))
        let wrong = try run(db, policies, ["--tsa-url", "http://127.0.0.1:1/", "--tsa-ca", notPEM])
        #expect(wrong.status == 78 && wrong.stderr.contains("holds no PEM certificate"), "\(wrong.output)")
        #expect(try db.int("SELECT count(*) FROM public.loans") == before && (try Verifier.files(in: [db.manifestFolder])).isEmpty)
    }
}
