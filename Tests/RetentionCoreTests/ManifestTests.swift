import Foundation
import Testing
@testable import RetentionCore

/// Signed, chained manifests written by `run`, checked by `verify` and shown by `show` (SPEC §6).
@Suite struct ManifestTests {
    /// A reference database with the hand-made loans, the shipped policies, and `runs` runs done by the binary.
    func withRuns(_ runs: Int) throws -> (TestDatabase, PolicyFolder) {
        let db = try TestDatabase()
        try db.sql(loanCases)
        let policies = try PolicyFolder.shipped()
        for _ in 0..<runs {
            let result = try db.retention(["run", "--policies", policies.url.path, "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        return (db, policies)
    }

    func envelope(_ path: String) throws -> DSSEEnvelope {
        try DSSEEnvelope(fileData: try #require(FileManager.default.contents(atPath: path)))
    }

    @Test func runWritesAChainedManifestThatVerifiesWithRetentionAndOpenSSL() throws {
        let (db, _) = try withRuns(2)
        let files = try db.manifestFiles()
        #expect(files.count == 2)
        let first = try Manifest(payload: try envelope(files[0]).payload)
        let second = try Manifest(payload: try envelope(files[1]).payload)
        #expect(first.sequence == 1 && first.previousSHA256 == nil && first.status == "completed")
        #expect(second.sequence == 2)
        #expect(second.previousSHA256 == sha256Hex(try #require(FileManager.default.contents(atPath: files[0]))))
        #expect(first.databaseName == db.name)
        #expect(first.systemIdentifier?.isEmpty == false)
        #expect(first.toolVersion == RetentionVersion.current)
        let loans = try #require(first.policies.first { $0.name == "loan-history" })
        #expect(loans.rows == 3 && loans.counts[.consent] == 1 && loans.counts[.keepWhen] == 2 && loans.counts[.hold] == 0)
        #expect(loans.action == "anonymize" && loans.table == "public.loans" && loans.version == 2)
        #expect(loans.fileSHA256.count == 64 && loans.batches == 1)
        #expect(Set(loans.libraries.compactMap(\.library)) == ["AUGUSTA", "BANGOR", "PORTLAND"])
        #expect(loans.libraries.first { $0.library == "BANGOR" }?.period.retain == "14 days")
        // A run with nothing due still writes a manifest: it proves the job ran.
        #expect(second.policies.allSatisfy { $0.rows == 0 })
        #expect(try db.strings("SELECT sequence::text || ' ' || manifest_sha256 FROM retention.runs ORDER BY id")
                == files.enumerated().map { "\($0.offset + 1) " + sha256Hex(FileManager.default.contents(atPath: $0.element)!) })

        let verify = try db.retention(["verify", db.manifestFolder, "--ledger"])
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.stdout.contains("2 manifests verified"))
        for file in files {
            let openssl = try runProcess("/bin/sh", [repositoryRoot.appendingPathComponent("scripts/verify-manifest.sh").path,
                                                     db.publicKeyPath, file])
            #expect(openssl.status == 0, "\(openssl.output)")
        }
    }

    @Test func showSummarizesForAPersonAndSaysWhetherTheSignatureVerified() throws {
        let (db, _) = try withRuns(1)
        let file = try #require(try db.manifestFiles().first)
        let shown = try db.retention(["show", file])
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("Signature:  verified"))
        #expect(shown.stdout.contains("status completed (every policy ran to the end)"))
        #expect(shown.stdout.contains("3 rows anonymized in 1 batch; kept: 0 by legal hold, 1 by consent, 2 by keep_when"))
        #expect(shown.stdout.contains("BANGOR"))
        let json = try db.retention(["show", "--json", file])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["signature"] as? [String: Any])?["state"] as? String == "verified")
        #expect((object["manifest"] as? [String: Any])?["run_id"] as? Int == 1)
        let unchecked = try db.retention(["show", file], environment: ["RETENTION_PUBLIC_KEY": ""])
        #expect(unchecked.stdout.contains("Signature:  not checked"))

        let other = db.files.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        let otherKey = try SigningKeys.generate(in: other.path)
        let wrong = try db.retention(["show", file, "--public-key", otherKey.publicKeyPath])
        #expect(wrong.status == 1)
        #expect(wrong.stdout.contains("Signature:  NOT VERIFIED: bad signature: signed by another key"))
    }

    @Test func verifyNamesEachKindOfTampering() throws {
        let (db, _) = try withRuns(3)
        let files = try db.manifestFiles()
        let key = try SigningKeys.loadPrivateKey(path: db.signingKeyPath)
        let verifying = key.verifyingKey

        /// Copies the three manifests into a new folder, lets `change` alter it, and returns verify's output.
        func tampered(_ change: (URL, [URL]) throws -> Void) throws -> (Int32, String) {
            let folder = db.files.appendingPathComponent("case-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let copies = try files.map { file -> URL in
                let copy = folder.appendingPathComponent((file as NSString).lastPathComponent)
                try FileManager.default.copyItem(atPath: file, toPath: copy.path)
                return copy
            }
            try change(folder, copies)
            let result = try db.retention(["verify", folder.path])
            let report = try Verifier.verify(paths: [folder.path], key: verifying)
            #expect(result.status == (report.isValid ? 0 : 1))
            return (result.status, result.stdout)
        }
        func rewrite(_ url: URL, _ body: (inout DSSEEnvelope) throws -> Void) throws {
            var envelope = try DSSEEnvelope(fileData: try Data(contentsOf: url))
            try body(&envelope)
            try envelope.fileData().write(to: url)
        }

        let (cleanStatus, _) = try tampered { _, _ in }
        #expect(cleanStatus == 0)

        let payload = try tampered { _, copies in
            try rewrite(copies[1]) { envelope in
                let text = String(decoding: envelope.payload, as: UTF8.self)
                envelope.payload = Data(text.replacingOccurrences(of: "\"status\":\"completed\"", with: "\"status\":\"failed\"").utf8)
            }
        }
        #expect(payload.0 == 1)
        #expect(payload.1.contains("FAIL") && payload.1.contains("000002.manifest.json"))
        #expect(payload.1.contains("bad signature: the payload or the signature was altered"))

        let signature = try tampered { _, copies in
            try rewrite(copies[0]) { envelope in envelope.signatures[0].sig[5] ^= 0x01 }
        }
        #expect(signature.0 == 1 && signature.1.contains("bad signature"))

        let swapped = try tampered { folder, copies in
            let temporary = folder.appendingPathComponent("swap")
            try FileManager.default.moveItem(at: copies[0], to: temporary)
            try FileManager.default.moveItem(at: copies[1], to: copies[0])
            try FileManager.default.moveItem(at: temporary, to: copies[1])
        }
        #expect(swapped.0 == 1 && swapped.1.contains("file name does not match its contents"))

        let deleted = try tampered { _, copies in try FileManager.default.removeItem(at: copies[1]) }
        #expect(deleted.0 == 1 && deleted.1.contains("sequence gap: 1 manifest missing before sequence 3"))

        let firstDeleted = try tampered { _, copies in try FileManager.default.removeItem(at: copies[0]) }
        #expect(firstDeleted.0 == 1 && firstDeleted.1.contains("missing predecessor: sequence 1 is not among the files"))

        let duplicated = try tampered { folder, copies in
            try FileManager.default.copyItem(at: copies[2], to: folder.appendingPathComponent("copy.json"))
        }
        #expect(duplicated.0 == 1 && duplicated.1.contains("repeated sequence 3"))

        let replaced = try tampered { _, copies in
            // A manifest re-signed with the right key but a different previous digest breaks the chain.
            try rewrite(copies[2]) { envelope in
                var manifest = try Manifest(payload: envelope.payload)
                manifest.previousSHA256 = String(repeating: "0", count: 64)
                envelope = try key.sign(payloadType: Manifest.payloadType, payload: manifest.payload)
            }
        }
        #expect(replaced.0 == 1 && replaced.1.contains("previous_sha256 does not match the manifest before it"))

        let unknownType = try tampered { _, copies in
            try rewrite(copies[2]) { envelope in
                envelope = try key.sign(payloadType: "application/json", payload: envelope.payload)
            }
        }
        #expect(unknownType.0 == 1 && unknownType.1.contains("unknown payloadType application/json"))

        let newer = try tampered { _, copies in
            try rewrite(copies[2]) { envelope in
                let text = String(decoding: envelope.payload, as: UTF8.self)
                let payload = Data(text.replacingOccurrences(of: "\"manifest_version\":7", with: "\"manifest_version\":8").utf8)
                envelope = try key.sign(payloadType: Manifest.payloadType, payload: payload)
            }
        }
        #expect(newer.0 == 1 && newer.1.contains("manifest version 8 is newer than this program reads (7)"))
    }

    /// A manifest whose signature fails is named once, with what it claims; the next one is not
    /// failed for it; with the ledger, the summary says what was checked.
    @Test func aBadSignatureIsReportedOnceAndTheSummarySaysWhatWasChecked() throws {
        let (db, _) = try withRuns(3)
        let files = try db.manifestFiles()
        // Readable by the folder's group (the compliance officer), by no one else, whatever the umask.
        #expect(try files.allSatisfy { try FileManager.default.attributesOfItem(atPath: $0)[.posixPermissions] as? Int == 0o640 })
        let envelope = try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: files[1])))
        var payload = String(decoding: envelope.payload, as: UTF8.self)
        payload = payload.replacingOccurrences(of: "\"status\":\"completed\"", with: "\"status\":\"recovered\"")
        let forged = DSSEEnvelope(payloadType: envelope.payloadType, payload: Data(payload.utf8), signatures: envelope.signatures)
        let verify = try db.retention(["verify", db.manifestFolder])
        #expect(verify.status == 0 && verify.stdout.contains("3 manifests verified: signatures, sequence and chain hold\n"))
        let ledger = try db.retention(["verify", "--ledger", db.manifestFolder])
        #expect(ledger.stdout.contains("ledger: 3 finished runs, each with its manifest and equal counts"), "\(ledger.stdout)")
        try forged.fileData().write(to: URL(fileURLWithPath: files[1]))
        let failed = try db.retention(["verify", db.manifestFolder])
        #expect(failed.status == 1)
        let lines = failed.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("FAIL") && $0.contains("not verified; it claims sequence 2, run 2")
                                 && $0.contains("bad signature") }, "\(failed.stdout)")
        #expect(lines.filter { $0.hasPrefix("FAIL") }.count == 1, "\(failed.stdout)")
        #expect(lines.contains { $0.hasPrefix("OK") && $0.contains("sequence 3") }, "\(failed.stdout)")
    }

    /// A current payload as an earlier version wrote it: version 3 without `gap` and the database's
    /// `oid`, version 2 also without `still_due` and `oldest_due_days`, version 1 also without
    /// `kept_by_reference` and `cascaded`.
    static func downgraded(_ payload: [String: JSONValue], to version: Int64) -> [String: JSONValue] {
        var payload = payload
        payload["manifest_version"] = .int(version)
        if version < 6 { payload["holds"] = nil }
        if version < 4 {
            payload["gap"] = nil
            payload["error"] = nil
            if case .object(var database) = payload["database"] ?? .null {
                database["oid"] = nil
                payload["database"] = .object(database)
            }
        }
        let dropped = (version < 2 ? ["still_due", "oldest_due_days", "kept_by_reference", "cascaded"]
                                   : version < 3 ? ["still_due", "oldest_due_days"] : []) + (version < 5 ? ["kept_by_newest"] : [])
            + (version < 6 ? ["description", "rules"] : [])
        func drop(_ value: JSONValue) -> JSONValue {
            guard case .object(var members) = value else { return value }
            for name in dropped { members[name] = nil }
            if let libraries = members["libraries"]?.array { members["libraries"] = .array(libraries.map(drop)) }
            return .object(members)
        }
        payload["policies"] = .array((payload["policies"]?.array ?? []).map(drop))
        return payload
    }

    /// Real payloads of every version pass the JSON Schema `retention show --schema` prints (checked by
    /// Python's jsonschema, Debian's python3-jsonschema); a payload with a stray member or a missing one does not.
    @Test func realManifestsMatchTheShippedJSONSchema() throws {
        let (db, policies) = try withRuns(2)
        // One more run with --vacuum, so a payload has a `maintenance` object.
        #expect(try db.retention(["run", "--policies", policies.url.path, "--vacuum", "--quiet"]).status == 0)
        let folder = db.files.appendingPathComponent("schema")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let schema = try db.retention(["show", "--schema"])
        #expect(schema.status == 0)
        try schema.stdout.write(to: folder.appendingPathComponent("schema.json"), atomically: true, encoding: .utf8)

        var good: [String] = [], bad: [String] = []
        func write(_ payload: [String: JSONValue], _ name: String) throws -> String {
            let path = folder.appendingPathComponent(name).path
            try JSONValue.object(payload).canonicalData().write(to: URL(fileURLWithPath: path))
            return path
        }
        for (index, file) in try db.manifestFiles().enumerated() {
            let envelope = try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: file)))
            guard case .object(let payload) = try JSONValue.parse(envelope.payload) else { Issue.record("not an object"); return }
            good.append(try write(payload, "v6-\(index).json"))
            good.append(try write(Self.downgraded(payload, to: 5), "v5-\(index).json"))
            good.append(try write(Self.downgraded(payload, to: 4), "v4-\(index).json"))
            good.append(try write(Self.downgraded(payload, to: 3), "v3-\(index).json"))
            good.append(try write(Self.downgraded(payload, to: 2), "v2-\(index).json"))
            good.append(try write(Self.downgraded(payload, to: 1), "v1-\(index).json"))
            var stray = payload
            stray["patron_id"] = .int(42)
            bad.append(try write(stray, "stray-\(index).json"))
            var missing = payload
            missing["previous_sha256"] = nil
            bad.append(try write(missing, "missing-\(index).json"))
            var mixed = Self.downgraded(payload, to: 1)
            mixed["manifest_version"] = .int(2)
            bad.append(try write(mixed, "mixed-\(index).json"))
            var early = payload
            early["manifest_version"] = .int(2)
            bad.append(try write(early, "early-\(index).json"))
            var noHolds = payload
            noHolds["holds"] = nil
            bad.append(try write(noHolds, "no-holds-\(index).json"))
            var noOID = payload
            noOID["database"] = (try? JSONValue.parse(Data(#"{"name":"x","system_identifier":null}"#.utf8))) ?? .null
            bad.append(try write(noOID, "no-oid-\(index).json"))
        }
        let schemaPath = folder.appendingPathComponent("schema.json").path
        let valid = try runProcess("/usr/bin/python3", ["-c", Self.schemaScript, schemaPath] + good)
        #expect(valid.status == 0 && valid.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(valid.output)")
        let invalid = try runProcess("/usr/bin/python3", ["-c", Self.schemaScript, schemaPath] + bad)
        #expect(invalid.status == 0 && Set(invalid.stdout.split(separator: "\n").map(String.init)) == Set(bad), "\(invalid.output)")
    }

    /// Python's jsonschema over payload files: prints the files that fail the schema (argument 1).
    static let schemaScript = """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        failed = [f for f in sys.argv[2:] if list(validator.iter_errors(json.load(open(f))))]
        print("\\n".join(failed))
        """

    /// The manifest files whose payloads fail the JSON Schema the program ships (empty: all pass).
    static func schemaFailures(_ files: [String]) throws -> [String] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("retention-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let schema = folder.appendingPathComponent("schema.json").path
        try Manifest.jsonSchema.write(toFile: schema, atomically: true, encoding: .utf8)
        var payloads: [String] = []
        for (index, file) in files.enumerated() {
            let path = folder.appendingPathComponent("\(index).json").path
            try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: file))).payload.write(to: URL(fileURLWithPath: path))
            payloads.append(path)
        }
        let result = try runProcess("/usr/bin/python3", ["-c", schemaScript, schema] + payloads)
        guard result.status == 0 else { return ["python: \(result.stderr)"] }
        return result.stdout.split(separator: "\n").map(String.init)
    }

    /// Manifests of version 1 (before `kept_by_reference` and `cascaded`), 2 (before `still_due`),
    /// 3 (before the database's oid and `gap`), 4 (before `kept_by_newest`) and 5 (before the policies' words
    /// and the holds) read, show and verify as written.
    @Test(arguments: [Int64(1), 2, 3, 4, 5]) func earlierManifestVersionsStillReadAndVerify(version: Int64) throws {
        let (db, _) = try withRuns(2)
        let key = try SigningKeys.loadPrivateKey(path: db.signingKeyPath)
        var previous: String?
        for file in try db.manifestFiles() {
            let envelope = try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: file)))
            guard case .object(var payload) = try JSONValue.parse(envelope.payload) else { Issue.record("not an object"); return }
            #expect(payload["manifest_version"] == .int(Manifest.currentVersion))
            payload = Self.downgraded(payload, to: version)
            payload["previous_sha256"] = previous.map(JSONValue.string) ?? .null
            let old = try key.sign(payloadType: Manifest.payloadType, payload: JSONValue.object(payload).canonicalData())
            try old.fileData().write(to: URL(fileURLWithPath: file))
            previous = sha256Hex(old.fileData())
            let manifest = try Manifest(payload: old.payload)
            #expect(manifest.manifestVersion == version && manifest.payload == old.payload)
        }
        let verify = try db.retention(["verify", db.manifestFolder])
        #expect(verify.status == 0, "\(verify.stdout)")
        let show = try db.retention(["show", try #require(try db.manifestFiles().first)])
        #expect(show.status == 0 && show.stdout.contains("by legal hold"), "\(show.stdout)")
    }

    @Test func verifyWithAnotherPublicKeyFails() throws {
        let (db, _) = try withRuns(1)
        let other = db.files.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        let otherKey = try SigningKeys.generate(in: other.path)
        let result = try db.retention(["verify", db.manifestFolder, "--public-key", otherKey.publicKeyPath])
        #expect(result.status == 1)
        #expect(result.stdout.contains("bad signature: signed by another key"))
        let openssl = try runProcess("/bin/sh", [repositoryRoot.appendingPathComponent("scripts/verify-manifest.sh").path,
                                                 otherKey.publicKeyPath, try db.manifestFiles()[0]])
        #expect(openssl.status == 1)
    }

    @Test func verifyAgainstTheLedgerFindsMissingManifestsAndCountMismatches() throws {
        let (db, _) = try withRuns(2)
        #expect(try db.retention(["verify", db.manifestFolder, "--ledger"]).status == 0)
        try db.sql("UPDATE retention.batches SET rows = rows + 1 WHERE id = (SELECT min(id) FROM retention.batches WHERE rows > 0)")
        let mismatch = try db.retention(["verify", db.manifestFolder, "--ledger"])
        #expect(mismatch.status == 1)
        #expect(mismatch.stdout.contains("count mismatch: policy"))
        let last = try db.manifestFiles()[1]
        try FileManager.default.removeItem(atPath: last)
        let missing = try db.retention(["verify", db.manifestFolder, "--ledger"])
        #expect(missing.status == 1)
        #expect(missing.stdout.contains("run 2 has manifest sequence 2 in the ledger, but no such manifest is among the files"))
    }

    @Test func manifestsAndOutputsHoldNoPersonalDataOrKeys() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (visitor_key text PRIMARY KEY, name text, email text, seen timestamptz, branch text);
            INSERT INTO visits SELECT 'KEY-CANARY-' || g, 'NAME-CANARY-' || g, 'canary' || g || '@example.org',
                                      now() - g * interval '1 day' + interval '1 hour', 'BRANCH'
            FROM generate_series(1, 50) g;
            """)
        let folder = try PolicyFolder(["v.yaml": """
            name: visits
            version: 1
            description: d
            table: public.visits
            key: visitor_key
            age: seen
            retain: 10 days
            action: anonymize
            set:
              name: null
              email: REDACTED
            """])
        var output = ""
        for arguments in [["plan"], ["run", "--log-level", "trace"], ["run", "--log-level", "trace", "--log-format", "text"]] {
            let result = try db.retention(arguments + ["--policies", folder.url.path])
            #expect(result.status == 0, "\(result.stderr)")
            output += result.output
        }
        let files = try db.manifestFiles()
        #expect(files.count == 2)
        for file in files {
            output += String(decoding: try #require(FileManager.default.contents(atPath: file)), as: UTF8.self)
            output += String(decoding: try envelope(file).payload, as: UTF8.self)
            output += try db.retention(["show", file]).output + db.retention(["show", "--json", file]).output
        }
        output += try db.retention(["verify", db.manifestFolder, "--ledger"]).output
        #expect(try db.int("SELECT count(*) FROM visits WHERE email = 'REDACTED'") == 40)
        #expect(output.contains("40"))
        #expect(!output.contains("CANARY"))
        #expect(!output.lowercased().contains("canary"))
    }

    @Test func preflightFailuresExitWithTheirCodesAndChangeNothing() throws {
        let db = try TestDatabase()
        try db.sql(loanCases)
        let policies = try PolicyFolder.shipped()
        let before = try db.fingerprint()
        func run(_ environment: [String: String]) throws -> ProcessResult {
            try db.retention(["run", "--policies", policies.url.path, "--log-format", "text"], environment: environment)
        }
        let missingKey = try run(["RETENTION_SIGNING_KEY": db.files.appendingPathComponent("none.pem").path])
        #expect(missingKey.status == 78 && missingKey.stderr.contains("none.pem"))
        let noKey = try run(["RETENTION_SIGNING_KEY": ""])
        #expect(noKey.status == 78 && noKey.stderr.contains("no signing key"))
        let noFolder = try run(["RETENTION_MANIFESTS": db.files.appendingPathComponent("absent").path])
        #expect(noFolder.status == 78 && noFolder.stderr.contains("does not exist or is not a folder"))
        let fileAsFolder = try run(["RETENTION_MANIFESTS": db.signingKeyPath])
        #expect(fileAsFolder.status == 78)

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: db.signingKeyPath)
        let readable = try run([:])
        #expect(readable.status == 77 && readable.stderr.contains("accessible by group or others"))
        #expect(!readable.stderr.contains("PRIVATE KEY"))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: db.signingKeyPath)

        #expect(try db.fingerprint() == before)
        #expect(try db.manifestFiles().isEmpty)
    }

    @Test func keygenMakesKeysThatRunAndOpenSSLUse() throws {
        let db = try TestDatabase()
        // A missing key folder is made, readable by its owner only.
        let keys = db.files.appendingPathComponent("new-keys")
        let made = try db.retention(["keygen", "--out", keys.path])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: keys.path)[.posixPermissions] as? Int == 0o700)
        // Setup installs the schema even before the manifest folder exists.
        let setup = try db.retention(["setup", "--log-format", "text"],
                                     environment: ["RETENTION_MANIFESTS": db.files.appendingPathComponent("not-yet").path])
        #expect(setup.status == 0 && setup.stderr.contains("not finalizing runs that died (manifest folder") && setup.stderr.contains("does not exist"), "\(setup.stderr)")
        #expect(made.stdout.contains("key id:"))
        let again = try db.retention(["keygen", "--out", keys.path, "--log-format", "text"])
        #expect(again.status == 78 && again.stderr.contains("already exists"))
        let privatePath = keys.appendingPathComponent(SigningKeys.privateKeyFileName).path
        let mode = try FileManager.default.attributesOfItem(atPath: privatePath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try runProcess("/usr/bin/env", ["openssl", "pkey", "-in", privatePath, "-noout"]).status == 0)
        let policies = try PolicyFolder.shipped()
        let run = try db.retention(["run", "--policies", policies.url.path, "--signing-key", privatePath])
        #expect(run.status == 0, "\(run.stderr)")
        let verify = try db.retention(["verify", db.manifestFolder, "--public-key",
                                       keys.appendingPathComponent(SigningKeys.publicKeyFileName).path])
        #expect(verify.status == 0)
    }

    @Test func killedRunIsRecoveredFromTheLedgerByTheNextRun() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, note text);
            INSERT INTO visits SELECT g, now() - interval '100 days', repeat('x', 200) FROM generate_series(1, 60000) g;
            ANALYZE visits;
            """)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 10 days\naction: delete\n"])
        let child = try db.startRetention(["run", "--policies", folder.url.path, "--batch-size", "50"])
        var committed: Int64 = 0
        for _ in 0..<400 where committed < 3 {
            Thread.sleep(forTimeInterval: 0.02)
            committed = try db.int("SELECT count(DISTINCT batch) FROM retention.batches")
        }
        #expect(committed >= 3)
        kill(child.process.processIdentifier, SIGKILL)
        let killed = child.wait()
        #expect(killed.status == SIGKILL && child.process.terminationReason == .uncaughtSignal)
        // The server ends the dead client's session (and its lock) once it notices the closed socket.
        for _ in 0..<200 {
            if try db.int("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())") == 0 { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(try db.strings("SELECT status FROM retention.runs") == ["running"])
        #expect(try db.manifestFiles().isEmpty)
        let gone = 60000 - (try db.int("SELECT count(*) FROM visits"))
        #expect(gone > 0 && gone < 60000)

        let next = try db.retention(["run", "--policies", folder.url.path, "--log-format", "text"])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stderr.contains("found a run that died"))
        let files = try db.manifestFiles()
        #expect(files.count == 2)
        let recovered = try Manifest(payload: try envelope(files[0]).payload)
        #expect(recovered.status == "recovered")
        #expect(recovered.sequence == 1 && recovered.runID == 1)
        #expect(recovered.policies[0].rows == gone)
        let own = try Manifest(payload: try envelope(files[1]).payload)
        #expect(own.status == "completed" && own.policies[0].rows == 60000 - gone)
        #expect(try db.int("SELECT count(*) FROM visits") == 0)
        let verify = try db.retention(["verify", db.manifestFolder, "--ledger"])
        #expect(verify.status == 0, "\(verify.output)")
    }

    @Test func setupFinalizesARunThatDied() throws {
        let db = try TestDatabase()
        try db.sql("""
            INSERT INTO retention.runs (tool_version) VALUES ('0.1.0');
            INSERT INTO retention.run_policies (run_id, policy, version, policy_sha256, table_name, action, retain, cutoff)
                VALUES (1, 'p', 1, repeat('a', 64), 'public.loans', 'delete', '30 days', '2026-01-01T00:00:00.000000Z');
            INSERT INTO retention.batches (run_id, batch, policy, rows, started_at, finished_at)
                VALUES (1, 1, 'p', 7, now(), now()), (1, 2, 'p', 5, now(), now());
            """)
        let withoutKey = try db.retention(["setup", "--log-format", "text"], environment: ["RETENTION_SIGNING_KEY": "", "RETENTION_MANIFESTS": ""])
        #expect(withoutKey.status == 0)
        #expect(withoutKey.stderr.contains("1 runs have no manifest yet"))
        let setup = try db.retention(["setup"])
        #expect(setup.status == 0, "\(setup.stderr)")
        let files = try db.manifestFiles()
        #expect(files.count == 1)
        let manifest = try Manifest(payload: try envelope(files[0]).payload)
        #expect(manifest.status == "recovered")
        #expect(manifest.policies.map(\.rows) == [12])
        #expect(manifest.policies.map(\.batches) == [2])
        #expect(try db.retention(["verify", db.manifestFolder, "--ledger"]).status == 0)
    }
}
