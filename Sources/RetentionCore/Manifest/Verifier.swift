import Foundation
import X509

/// The verdict on one manifest file.
public struct FileVerdict: Sendable {
    public let path: String
    /// The manifest, when the file could be read and its signature verified.
    public let manifest: Manifest?
    /// What the payload says when its signature does not verify: shown, and used for its place in
    /// the chain (so the next file does not fail for it too), never trusted.
    public var claimed: Manifest? = nil
    /// Hex SHA-256 of the file's bytes, the next manifest's `previous_sha256`.
    public let sha256: String
    public var problems: [String]
    /// What a person should know that is no failure (a timestamp a later run fetched).
    public var notes: [String] = []
}

/// The result of `retention verify`: each file's verdict and the problems of the chain as a whole.
public struct VerificationReport: Sendable {
    public var files: [FileVerdict]
    /// Problems not tied to one file (a run in the ledger without a manifest).
    public var general: [String]
    /// With `--ledger`: how many finished runs the ledger holds (each checked against its manifest).
    public var ledgerRuns: Int?
    /// With `--expect-daily`: the days checked for a run, first and last.
    public var dailyRange: (first: String, last: String)?
    /// With the authority's CA: the sequence of the first manifest with a timestamp.
    public var timestampedFrom: Int64?

    public var isValid: Bool { general.isEmpty && files.allSatisfy { $0.problems.isEmpty } && !files.isEmpty }
}

/// Checks manifests: signatures, canonical payloads, file names, sequence and hash chain; and, with a
/// database, that every finished run in the ledger has its manifest and the counts agree.
public enum Verifier {
    /// The manifest files among `paths`: files as given, folders' `*.json` files (not hidden ones).
    public static func files(in paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw UsageError("\(visible(path)) does not exist", exitCode: .usage)
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: path)
                files += names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
                    .map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        // A file named twice (a folder and a file in it) is one manifest, not a repeated sequence.
        var seen = Set<String>()
        return files.filter { seen.insert(resolvedPath($0)).inserted }
    }

    /// Verifies the files one by one, then as a chain ordered by sequence, then against the ledger.
    /// With `timestampAuthorities` (the `tsa_ca` certificates), each manifest's token is checked too.
    public static func verify(paths: [String], key: VerifyingKey, connection: Connection? = nil,
                              timestampAuthorities: [Certificate]? = nil) throws -> VerificationReport {
        var verdicts = try files(in: paths).map { verifyFile($0, key: key) }
        checkChain(&verdicts)
        checkHoldHistory(&verdicts)
        var report = VerificationReport(files: verdicts, general: [])
        if let timestampAuthorities { checkTimestamps(&report, authorities: timestampAuthorities) }
        if let connection { try checkLedger(&report, connection: connection) }
        return report
    }

    /// Adds a problem for each day from the first manifest's to the day before `now` (UTC days; today's
    /// run may not have happened yet) on which no run started; only a verified manifest shows a run.
    public static func expectDaily(_ report: inout VerificationReport, now: Date = Date()) {
        let through = ReportRequest.utcDays.string(from: now - 86_400)
        let days = Set(report.files.compactMap { $0.manifest.map(ReportBuilder.day(of:)) })
        guard let first = days.min() else { return }
        let last = max(days.max() ?? first, through)
        report.dailyRange = (first, last)
        report.general += ReportBuilder.dates(from: first, to: last).filter { !days.contains($0) }.map { "no run on \($0)" }
    }

    /// Reads one file and checks what it can alone: envelope, type, signature, payload form, name.
    static func verifyFile(_ path: String, key: VerifyingKey) -> FileVerdict {
        let data: Data
        switch BoundedFile.read(path, atMost: BoundedFile.largestManifest) {
        case .success(let read): data = read
        case .failure(let problem): return FileVerdict(path: path, manifest: nil, sha256: "", problems: [problem.description])
        }
        let digest = sha256Hex(data)
        func fail(_ problem: String) -> FileVerdict {
            FileVerdict(path: path, manifest: nil, sha256: digest, problems: [problem])
        }
        let envelope: DSSEEnvelope
        do { envelope = try DSSEEnvelope(fileData: data) } catch { return fail("not a DSSE envelope: \(error)") }
        guard envelope.payloadType == Manifest.payloadType else {
            return fail("unknown payloadType \(visible(envelope.payloadType)); expected \(Manifest.payloadType)")
        }
        // Checked before any signature is: a forged file with thousands of them would take seconds each.
        guard envelope.signatures.count == 1 else {
            return fail("the envelope holds \(envelope.signatures.count) signatures; a manifest is signed exactly once")
        }
        guard key.verify(envelope) else {
            let other = envelope.signatures.allSatisfy { $0.keyid != key.keyID }
            var verdict = fail(other
                ? "bad signature: signed by another key (keyid \(visible(envelope.signatures[0].keyid.prefix(16).description))...), not by the public key given"
                : "bad signature: the payload or the signature was altered after signing")
            verdict.claimed = try? Manifest(payload: envelope.payload)
            return verdict
        }
        let manifest: Manifest
        do { manifest = try Manifest(payload: envelope.payload) } catch { return fail("signed payload is not a valid manifest: \(error)") }
        var problems: [String] = []
        // The signature covers the payload only; the rest of the envelope is checked here, so that no
        // byte of the file can change unnoticed: one signature (above), made by this key, named by its id.
        if let keyid = envelope.signatures.first?.keyid, keyid != key.keyID {
            problems.append("the signature's keyid was altered (\(visible(String(keyid.prefix(16))))...; the key's id is "
                            + "\(key.keyID.prefix(16))...)")
        }
        if data != envelope.fileData() { problems.append("the envelope was altered (not in its canonical form)") }
        let name = (path as NSString).lastPathComponent
        if name != manifest.fileName {
            problems.append("file name does not match its contents (expected \(manifest.fileName)): renamed or swapped")
        }
        return FileVerdict(path: path, manifest: manifest, sha256: digest, problems: problems)
    }

    /// Sequence numbers without gaps or repeats, and each `previous_sha256` equal to its predecessor's digest.
    ///
    /// A file whose signature failed takes the place it claims, and the link from it to the next
    /// file is not checked: its failure is reported once, on that file.
    static func checkChain(_ verdicts: inout [FileVerdict]) {
        func placed(_ index: Int) -> Manifest? { verdicts[index].manifest ?? verdicts[index].claimed }
        let readable = verdicts.indices.filter { placed($0) != nil }.sorted { placed($0)!.sequence < placed($1)!.sequence }
        var previous: Int?
        for index in readable {
            let manifest = placed(index)!
            defer { previous = index }
            guard verdicts[index].manifest != nil else { continue }
            guard let before = previous else {
                if manifest.sequence > 1 || manifest.previousSHA256 != nil {
                    verdicts[index].problems.append("missing predecessor: sequence \(manifest.sequence - 1) is not among the files")
                }
                continue
            }
            let prior = placed(before)!
            if manifest.sequence == prior.sequence {
                verdicts[index].problems.append("repeated sequence \(manifest.sequence) (also in \(visible(verdicts[before].path)))")
            } else if manifest.sequence != prior.sequence + 1 {
                let missing = manifest.sequence - prior.sequence - 1
                verdicts[index].problems.append("sequence gap: \(missing) \(missing == 1 ? "manifest" : "manifests") "
                                                + "missing before sequence \(manifest.sequence)")
            } else if verdicts[before].manifest != nil, manifest.previousSHA256 != verdicts[before].sha256 {
                verdicts[index].problems.append("previous_sha256 does not match the manifest before it "
                                                + "(\(visible(verdicts[before].path))): it was altered or replaced")
            }
            // Times come from the database clock: a run cannot start before the one before it ended.
            guard verdicts[before].manifest != nil else { continue }
            if manifest.startedAt < prior.finishedAt {
                verdicts[index].problems.append("starts (\(visible(manifest.startedAt))) before the manifest before it finished "
                                                + "(\(visible(prior.finishedAt))): the database clock was set back")
            }
            // One chain is one database; only a `restored` manifest may record that it changed.
            if manifest.database.differs(from: prior.database), manifest.gap == nil {
                verdicts[index].problems.append("names database \(manifest.database.described), the manifest before it "
                                                + "\(prior.database.described): two databases' chains in one folder")
            }
        }
    }

    /// Each hold a manifest records as the manifest before it recorded it, but for its release: a
    /// hold edited between two runs (its patron, by its seal, or its scope) shows without the database.
    static func checkHoldHistory(_ verdicts: inout [FileVerdict]) {
        var last: [Int64: (sequence: Int64, hold: ManifestHold)] = [:]
        let order = verdicts.indices.filter { verdicts[$0].manifest != nil }.sorted { verdicts[$0].manifest!.sequence < verdicts[$1].manifest!.sequence }
        var previous: Manifest?
        for index in order {
            let manifest = verdicts[index].manifest!
            defer { previous = manifest }
            // A hold in force when a run finished is in the next run's record (in force, or released
            // since that run began): one missing from it was deleted, or released backdated, between them.
            if let previous, previous.sequence + 1 == manifest.sequence, let recorded = manifest.holds {
                let present = Set(recorded.map(\.id))
                for hold in (previous.holds ?? []) where hold.inForce && !present.contains(hold.id) {
                    verdicts[index].problems.append("\(hold.label), in force at manifest \(previous.sequence), "
                        + (manifest.gap != nil ? "is missing here: the restore lost it" : "is missing here: deleted or released backdated "
                           + "between the runs, so this run did not hold its rows"))
                }
            }
            for hold in manifest.holds ?? [] {
                if let before = last[hold.id], let change = hold.changed(since: before.hold) {
                    verdicts[index].problems.append("\(hold.label): \(change): manifest "
                                                    + "\(before.sequence) recorded it otherwise")
                }
                last[hold.id] = (manifest.sequence, hold)
            }
        }
    }

    /// Every finished run has a manifest among the files with the recorded digest, and counts equal the ledger.
    static func checkLedger(_ report: inout VerificationReport, connection: Connection) throws {
        try RetentionSchema.requireInstalled(on: connection)
        let runs = try connection.query("""
            SELECT id, status, sequence, manifest_sha256 FROM retention.runs
            WHERE status <> 'running' AND lost_in_restore IS NULL ORDER BY id
            """).rows
        var bySequence: [Int64: Int] = [:]
        for (index, verdict) in report.files.enumerated() {
            if let sequence = verdict.manifest?.sequence { bySequence[sequence] = index }
        }
        report.ledgerRuns = runs.count
        for run in runs {
            let runID = try run.int64("id")
            guard let sequence = try run.optionalInt64("sequence") else {
                report.general.append("run \(runID) (\(try run.string("status"))) in the ledger has no manifest yet; "
                                      + "the next `retention run` writes it")
                continue
            }
            guard let index = bySequence[sequence] else {
                report.general.append("run \(runID) has manifest sequence \(sequence) in the ledger, "
                                      + "but no such manifest is among the files")
                continue
            }
            if report.files[index].sha256 != (try run.optional("manifest_sha256")) {
                report.files[index].problems.append("digest differs from the one the ledger recorded for run \(runID)")
            }
            guard let manifest = report.files[index].manifest else { continue }
            if manifest.runID != runID {
                report.files[index].problems.append("the ledger records sequence \(sequence) for run \(runID), "
                                                    + "the manifest says run \(manifest.runID)")
            }
            let sums = try connection.query("""
                SELECT policy, sum(rows) AS rows FROM retention.batches WHERE run_id = $1::int8 GROUP BY policy
                """, [String(runID)])
            var ledger: [String: Int64] = [:]
            for row in sums.rows { ledger[try row.string("policy")] = try row.int64("rows") }
            for policy in manifest.policies where policy.rows != (ledger[policy.name] ?? 0) {
                report.files[index].problems.append("count mismatch: policy \(visible(policy.name)) purged \(policy.rows) rows "
                                                    + "by the manifest, \(ledger[policy.name] ?? 0) by the ledger")
            }
            for name in ledger.keys where !manifest.policies.contains(where: { $0.name == name }) {
                report.files[index].problems.append("count mismatch: the ledger has policy \(visible(name)), the manifest does not")
            }
        }
        try checkHolds(&report, connection: connection)
    }

    /// Every hold the manifests record is still in the database as recorded: a hold row deleted
    /// or edited after a run is caught here, named in the newest manifest that records it.
    static func checkHolds(_ report: inout VerificationReport, connection: Connection) throws {
        let current = try ManifestHold.current(on: connection)
        var newest: [Int64: (index: Int, hold: ManifestHold)] = [:]
        for (index, verdict) in report.files.enumerated() {
            guard let manifest = verdict.manifest else { continue }
            for hold in manifest.holds ?? [] where (newest[hold.id].map { report.files[$0.index].manifest!.sequence < manifest.sequence } ?? true) {
                newest[hold.id] = (index, hold)
            }
        }
        for (id, recorded) in newest.sorted(by: { $0.key < $1.key }) {
            let finished = report.files[recorded.index].manifest?.finishedAt ?? ""
            if let problem = recorded.hold.differences(from: current[id], runFinishedAt: finished) {
                report.files[recorded.index].problems.append(problem)
            }
        }
    }
}
