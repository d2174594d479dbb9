import Foundation

/// The compliance officer's checkpoints: reading and checking a folder of them against the
/// manifests, and witnessing a chain (`retention witness`).
///
/// Stages: verify the manifests as `verify` does -> read the officer's checkpoints, each signed by
/// her key and chained to the one before -> compare every manifest they saw with the files now
/// (same sequence, same file SHA-256) -> write the next checkpoint.
public enum Witness {
    /// Reads the checkpoints of `folder`, checking each against `key`, their numbering and their chain.
    /// Without `manifestKey` (a report made without a public key), the batch key the checkpoints name is not compared.
    public static func findings(folder: String, key: VerifyingKey, manifests report: VerificationReport,
                                manifestKey: VerifyingKey?) throws -> WitnessFindings {
        var findings = WitnessFindings(latest: nil, folderProblems: [], changes: [], witnessKeyID: key.keyID)
        let names = try checkpointFiles(in: folder)
        var previous: String?
        var checkpoints: [Checkpoint] = []
        for (index, name) in names.enumerated() {
            let path = (folder as NSString).appendingPathComponent(name)
            let data: Data
            switch BoundedFile.read(path, atMost: BoundedFile.largestManifest) {
            case .success(let read): data = read
            case .failure(let problem):
                findings.folderProblems.append("checkpoint \(visible(name)): \(problem.description)")
                return findings
            }
            guard let envelope = try? DSSEEnvelope(fileData: data), envelope.payloadType == Checkpoint.payloadType,
                  envelope.signatures.count == 1, key.verify(envelope),
                  let checkpoint = try? JSONOutput.decode(Checkpoint.self, from: envelope.payload, what: "the checkpoint"),
                  (try? JSONOutput.canonical(checkpoint)) == envelope.payload else {
                findings.folderProblems.append("checkpoint \(visible(name)) is not signed by the witness key \(key.keyID.prefix(16))… "
                                               + "or was altered")
                return findings
            }
            guard checkpoint.number == Int64(index + 1), checkpoint.fileName == name, checkpoint.previousSHA256 == previous else {
                findings.folderProblems.append("checkpoint \(visible(name)) is out of order: checkpoints were removed or renamed")
                return findings
            }
            previous = sha256Hex(data)
            checkpoints.append(checkpoint)
        }
        findings.latest = checkpoints.last
        if let latest = findings.latest, let manifestKey, latest.manifestKeyID != manifestKey.keyID {
            findings.folderProblems.append("the checkpoints witnessed manifests signed by key \(latest.manifestKeyID.prefix(16))…, "
                                           + "these are checked with key \(manifestKey.keyID.prefix(16))…")
        }
        findings.changes = compare(report, with: checkpoints)
        return findings
    }

    /// Every manifest the checkpoints saw that is no longer among the files as it was seen.
    static func compare(_ report: VerificationReport, with checkpoints: [Checkpoint]) -> [WitnessFindings.Change] {
        var files: [Int64: FileVerdict] = [:]
        for verdict in report.files {
            if let place = ReportProblems.Place(verdict), files[place.sequence] == nil { files[place.sequence] = verdict }
        }
        var changes: [WitnessFindings.Change] = []
        for checkpoint in checkpoints {
            for seen in checkpoint.seen {
                let when = "witnessed on \(checkpoint.madeOn) (checkpoint \(checkpoint.number))"
                guard let verdict = files[seen.sequence] else {
                    changes.append(.init(sequence: seen.sequence, night: nil, file: nil,
                                         text: "manifest \(seen.sequence), \(when), is no longer among the files: removed"))
                    continue
                }
                guard verdict.sha256 != seen.sha256 else { continue }
                let name = (verdict.path as NSString).lastPathComponent
                changes.append(.init(sequence: seen.sequence, night: ReportProblems.Place(verdict)?.day, file: name,
                                     text: "manifest \(seen.sequence) (\(visible(name))) is not the one \(when): it was re-signed "
                                         + "or replaced since"))
            }
        }
        return changes.sorted { $0.sequence < $1.sequence }
    }

    /// What `witness` did: the checkpoint it wrote, or why it wrote none.
    public enum Outcome: Sendable {
        case written(Checkpoint, path: String, new: Int)
        case refused([String])
    }

    /// Verifies the chain, checks it against the officer's checkpoints and writes the next one.
    /// Refuses (nothing written) when the chain does not verify or a witnessed manifest changed.
    public static func witness(paths: [String], manifestKey: VerifyingKey, officerKey: SigningKey, state: String,
                               now: Date = Date()) throws -> Outcome {
        let report = try Verifier.verify(paths: paths, key: manifestKey)
        if report.files.isEmpty {
            return .refused(["no manifest files in \(paths.map(visible).joined(separator: ", ")): nothing to witness, so no checkpoint was written"])
        }
        guard report.isValid else {
            return .refused(["the manifests do not verify, so no checkpoint was written:"]
                            + report.files.filter { !$0.problems.isEmpty }.map {
                                "\(visible(($0.path as NSString).lastPathComponent)): \($0.problems.joined(separator: "; "))"
                            } + report.general)
        }
        try makeFolder(state)
        let findings = try self.findings(folder: state, key: officerKey.verifyingKey, manifests: report, manifestKey: manifestKey)
        guard findings.folderProblems.isEmpty else {
            return .refused(findings.folderProblems + ["no checkpoint was written: the checkpoint folder is not as your key left it"])
        }
        guard findings.changes.isEmpty else {
            return .refused(findings.changes.map(\.text) + ["no checkpoint was written: the chain was rewritten after you witnessed it"])
        }
        let manifests = report.files.compactMap(\.manifest).sorted { $0.sequence < $1.sequence }
        guard let head = manifests.last, let first = manifests.first,
              let headFile = report.files.first(where: { $0.manifest?.sequence == head.sequence }) else {
            return .refused(["no manifest to witness"])
        }
        let after = findings.latest?.sequence ?? 0
        let seen = report.files.compactMap { verdict in
            verdict.manifest.flatMap { $0.sequence > after ? Checkpoint.Seen(sequence: $0.sequence, sha256: verdict.sha256) : nil }
        }.sorted { $0.sequence < $1.sequence }
        let previousPath = findings.latest.map { (state as NSString).appendingPathComponent($0.fileName) }
        let checkpoint = Checkpoint(
            number: (findings.latest?.number ?? 0) + 1,
            previousSHA256: try previousPath.map { sha256Hex(try Data(contentsOf: URL(fileURLWithPath: $0))) },
            manifestKeyID: manifestKey.keyID, sequence: head.sequence, manifestSHA256: headFile.sha256,
            lastNight: ReportBuilder.day(of: head), manifests: Int64(manifests.count), firstNight: ReportBuilder.day(of: first),
            madeAt: ISO8601DateFormatter().string(from: now), seen: seen)
        let envelope = try officerKey.sign(payloadType: Checkpoint.payloadType, payload: try JSONOutput.canonical(checkpoint))
        let path = (state as NSString).appendingPathComponent(checkpoint.fileName)
        do {
            guard try AtomicFile.write(envelope.fileData(), to: path, mode: 0o644, naming: .exclusive) == .written else {
                throw UsageError("\(visible(path)) already exists: another witness wrote it meanwhile; run witness again", exitCode: .config)
            }
        } catch let failure as AtomicFile.Failure {
            throw UsageError("cannot write the checkpoint: \(failure.description)", exitCode: .config)
        }
        return .written(checkpoint, path: path, new: seen.count)
    }

    /// The checkpoint files of a folder, in order; an empty list when the folder does not exist yet.
    static func checkpointFiles(in folder: String) throws -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            // A mistyped folder must not read as "nothing witnessed yet" and let a report say verified.
            throw UsageError("checkpoint folder \(visible(folder)) does not exist or is not a folder", exitCode: .config)
        }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder)
                .filter { $0.hasPrefix("checkpoint-") && $0.hasSuffix(".json") }.sorted()
        } catch {
            throw UsageError("cannot read the checkpoint folder \(visible(folder))", exitCode: .config)
        }
    }

    private static func makeFolder(_ folder: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            if isFolder.boolValue { return }
            throw UsageError("--state \(visible(folder)) is a file, not a folder", exitCode: .config)
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
        } catch {
            throw UsageError("cannot make the checkpoint folder \(visible(folder)): \(error.localizedDescription)", exitCode: .config)
        }
    }
}
