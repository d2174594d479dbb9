import Foundation
import Logging

#if canImport(Glibc)
import Glibc
/// write(2), from the C library of this platform.
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// Where manifests go and the key that signs them, both checked before a run changes anything.
public struct ManifestSettings: Sendable {
    public let directory: String
    public let signingKey: SigningKey

    /// Loads the key and proves the folder can take the manifest of a run of `policies` (the run's
    /// preflight): throws 78 or 77 before anything changes.
    /// No manifest folder was given anywhere (78).
    public static let noFolder = UsageError("no manifest folder: give --manifests DIR, RETENTION_MANIFESTS or manifests in the config file",
                                            exitCode: .config)

    public init(directory: String?, signingKeyPath: String?, policies: [Policy] = []) throws {
        guard let signingKeyPath, !signingKeyPath.isEmpty else {
            throw UsageError("no signing key: give --signing-key FILE, RETENTION_SIGNING_KEY or signing_key in the config file "
                             + "(make one with `retention keygen --out DIR`)", exitCode: .config)
        }
        guard let directory, !directory.isEmpty else {
            throw Self.noFolder
        }
        signingKey = try SigningKeys.loadPrivateKey(path: signingKeyPath)
        self.directory = directory
        try ManifestStore.checkWritable(directory, bytes: ManifestStore.reserve(for: policies))
    }
}

/// Builds manifests from the ledger, signs them and writes them into the manifest folder.
///
/// A manifest is a function of the database's records (the run, its policies and its ledger rows)
/// and the key. So the run that did the work, a later run that finds it died, and `retention setup`
/// all write the same manifest for it, and a crash between writing the file and recording it only
/// means the next run writes it again.
public struct ManifestStore {
    let connection: Connection
    let settings: ManifestSettings
    let logger: Logger

    public init(connection: Connection, settings: ManifestSettings, logger: Logger) {
        self.connection = connection
        self.settings = settings
        self.logger = logger
    }

    /// Bytes to prove free for a run's manifest: twice a generous estimate (the envelope's base64
    /// payload, a block per policy and per library period), at least 16 KiB.
    static func reserve(for policies: [Policy]) -> Int {
        let estimate = 4_096 + policies.reduce(0) { $0 + 1_536 + 768 * ($1.libraries?.retain.count ?? 0) }
        return max(16_384, 2 * estimate)
    }

    /// Bytes the holds a manifest may record take in it, at most: their texts as JSON escapes them
    /// at worst (six bytes a byte), the fixed members, and base64's third; `nil` without the schema.
    static func holdReserve(on connection: Connection) -> Int? {
        try? Int(connection.query("""
            SELECT coalesce(sum(6 * (octet_length(reference) + octet_length(reason) + coalesce(octet_length(policy), 0)
                                     + coalesce(octet_length(library), 0) + octet_length(placed_by)
                                     + coalesce(octet_length(placed_by_user), 0) + coalesce(octet_length(released_by), 0)
                                     + coalesce(octet_length(released_by_user), 0) + coalesce(octet_length(time_zone), 0))
                                + 600), 0)::int8 * 4 / 3 AS bytes
            FROM retention.holds WHERE released_at IS NULL OR released_at > now() - interval '31 days'
            """).single().int64("bytes"))
    }

    /// Checks that `directory` is a folder that can take a file of `bytes`: writes and fsyncs one,
    /// then removes it. (An empty file fits even on a full file system; the manifest would not.)
    static func checkWritable(_ directory: String, bytes: Int = 16_384, what: String = "manifest folder") throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw UsageError("\(what) \(directory) does not exist or is not a folder", exitCode: .config)
        }
        let probe = (directory as NSString).appendingPathComponent(".retention-write-test-\(getpid())")
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw UsageError("\(what) \(directory) is not writable (\(String(cString: strerror(errno))))",
                             exitCode: .config)
        }
        defer { unlink(probe) }
        let zeros = [UInt8](repeating: 0, count: bytes)
        let written = zeros.withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
        let failure = written != bytes ? (written < 0 ? errno : ENOSPC) : fsync(fd) != 0 ? errno : 0
        close(fd)
        if failure != 0 {
            throw UsageError("\(what) \(directory) cannot take a \(what == "manifest folder" ? "manifest" : "file") of \(bytes) bytes "
                             + "(\(String(cString: strerror(failure)))); nothing was changed", exitCode: .config)
        }
    }

    /// Checks that the folder's chain is this database's and agrees with its ledger (`ChainCheck`),
    /// then marks runs that died as recovered and writes a manifest for every finished run that lacks
    /// one, oldest first.
    ///
    /// Call it only while holding the run lock: then no run is alive, and a `running` run is a dead one.
    @discardableResult
    public func finalizePending() throws -> [String] {
        switch try ChainCheck.examine(self).verdict {
        case .consistent: break
        case .ahead(_, _, let reason), .refused(let reason): throw UsageError(reason, exitCode: .config)
        }
        let dead = try connection.query("""
            UPDATE retention.runs r
            SET status = 'recovered',
                finished_at = coalesce((SELECT max(b.finished_at) FROM retention.batches b WHERE b.run_id = r.id),
                                       r.started_at)
            WHERE r.status = 'running' AND r.lost_in_restore IS NULL
            RETURNING r.id
            """)
        for row in dead.rows {
            let id = try row.int64("id")
            logger.warning("found a run that died; finalizing it from the ledger", metadata: ["run.id": "\(id)", "run.status": "recovered"])
        }
        let pending = try connection.query("""
            SELECT id FROM retention.runs WHERE sequence IS NULL AND status <> 'running' AND lost_in_restore IS NULL ORDER BY id
            """).rows.map { try $0.int64("id") }
        return try pending.map { try write(runID: $0) }
    }

    /// Builds, signs and writes the manifest of a finished run, then records its sequence and digest.
    @discardableResult
    public func write(runID: Int64) throws -> String {
        let manifest = try build(runID: runID)
        let envelope = try settings.signingKey.sign(payloadType: Manifest.payloadType, payload: manifest.payload)
        let data = envelope.fileData()
        let path = (settings.directory as NSString).appendingPathComponent(manifest.fileName)
        try Self.writeExclusively(data, to: path)
        try connection.query("""
            UPDATE retention.runs SET sequence = $2::int8, manifest_sha256 = $3 WHERE id = $1::int8
            """, [String(runID), String(manifest.sequence), sha256Hex(data)])
        logger.info("manifest written", metadata: [
            "run.id": "\(runID)", "manifest.sequence": "\(manifest.sequence)", "manifest.path": "\(path)",
            "run.status": "\(manifest.status)",
        ])
        return path
    }

    /// The manifest of a run, from the run's row, its policies and its ledger rows.
    func build(runID: Int64) throws -> Manifest {
        guard let run = try connection.query("""
            SELECT r.status, r.database_name, r.system_identifier, r.database_oid, r.gap::text AS gap, r.error,
                   to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_at,
                   to_char(coalesce(r.finished_at, r.started_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
                       AS finished_at,
                   r.tool_version, r.options::text AS options, r.sequence,
                   coalesce((SELECT max(sequence) FROM retention.runs), 0) + 1 AS next_sequence,
                   (SELECT p.manifest_sha256 FROM retention.runs p
                    WHERE p.sequence = (SELECT max(sequence) FROM retention.runs)) AS newest_sha256
            FROM retention.runs r WHERE r.id = $1::int8
            """, [String(runID)]).decode(RunRecord.self).first else {
            throw WorkFailed("run \(runID) is not in the ledger")
        }
        // A run that already has a sequence keeps it (writing its file again); otherwise it is the next
        // one, and a restore continues the chain from the folder's newest manifest, which the ledger lost.
        let sequence = run.sequence ?? run.gap.map { $0.chainSequence + 1 } ?? run.nextSequence
        let previous = run.sequence == nil ? run.gap?.chainSHA256 ?? run.newestSHA256 : try connection.query(
            "SELECT manifest_sha256 FROM retention.runs WHERE sequence = $1::int8", [String(sequence - 1)])
            .rows.first?.optional("manifest_sha256") ?? run.gap?.chainSHA256
        return Manifest(runID: runID, sequence: sequence, status: run.status,
                        database: ManifestDatabase(name: run.databaseName, systemIdentifier: run.systemIdentifier,
                                                   oid: run.databaseOID),
                        startedAt: run.startedAt, finishedAt: run.finishedAt,
                        toolVersion: run.toolVersion, previousSHA256: previous, options: run.options,
                        policies: try policies(runID: runID), gap: run.gap, error: run.status == "failed" ? run.error : nil,
                        holds: try ManifestHold.recorded(forRun: runID, on: connection))
    }

    /// Per policy: the recorded cutoffs joined with the ledger's sums per library.
    private func policies(runID: Int64) throws -> [ManifestPolicy] {
        let recorded = try connection.query("""
            SELECT policy, version, policy_sha256, table_name, action, library, retain, cutoff, maintenance, maintenance_ms,
                   record::text AS record
            FROM retention.run_policies WHERE run_id = $1::int8
            ORDER BY policy, library NULLS FIRST
            """, [String(runID)]).decode(RunPolicyRecord.self)
        // The sums' column list is `KeptReason`'s fixed words.
        let sums = try connection.query(unsafeSQL: """
            SELECT policy, library, \(KeptReason.ledgerSums), count(DISTINCT batch) FILTER (WHERE rows > 0) AS batches
            FROM retention.batches WHERE run_id = $1::int8
            GROUP BY policy, library
            """, [String(runID)]).decode(LedgerSums.self)
        let cascaded = try connection.query("""
            SELECT b.policy, c.key AS table_name, sum(c.value::int8) AS rows
            FROM retention.batches b CROSS JOIN LATERAL jsonb_each_text(b.cascaded) c
            WHERE b.run_id = $1::int8
            GROUP BY b.policy, c.key
            """, [String(runID)]).rows
        let batches = try connection.query("""
            SELECT policy, count(DISTINCT batch) FILTER (WHERE rows > 0) AS batches
            FROM retention.batches WHERE run_id = $1::int8 GROUP BY policy
            """, [String(runID)]).rows
        let remaining = try connection.query("""
            SELECT policy, library, still_due, oldest_due_days FROM retention.run_remaining WHERE run_id = $1::int8
            """, [String(runID)]).rows
        var policies: [ManifestPolicy] = []
        for row in recorded where row.library == nil {
            let own = recorded.filter { $0.policy == row.policy && $0.library != nil }
            func periodAndCutoff(_ library: String?) -> (String, String) {
                let match = own.first { $0.library == library }
                return (match?.retain ?? row.retain, match?.cutoff ?? row.cutoff)
            }
            var libraries: [String?: ManifestLibrary] = [:]
            for library in own.map(\.library) {
                let (retain, cutoff) = periodAndCutoff(library)
                libraries[library] = ManifestLibrary(library: library, retain: retain, cutoff: cutoff)
            }
            for sum in sums where sum.policy == row.policy {
                let (retain, cutoff) = periodAndCutoff(sum.library)
                libraries[sum.library] = ManifestLibrary(library: sum.library, retain: retain, cutoff: cutoff,
                                                         counts: sum.counts, batches: sum.batches)
            }
            // What a completed run counted as still due: a library with rows left joins the list.
            var left: [String?: Remaining] = [:]
            for entry in remaining where try entry.string("policy") == row.policy {
                let library: String? = try entry.optional("library")
                left[library] = Remaining(stillDue: try entry.int64("still_due"), oldestDueDays: try entry.optionalInt64("oldest_due_days"))
                if libraries[library] == nil, (left[library]?.stillDue ?? 0) > 0 {
                    let (retain, cutoff) = periodAndCutoff(library)
                    libraries[library] = ManifestLibrary(library: library, retain: retain, cutoff: cutoff)
                }
            }
            if libraries.isEmpty && own.isEmpty {
                libraries[nil] = ManifestLibrary(library: nil, retain: row.retain, cutoff: row.cutoff)
            }
            if !left.isEmpty {
                for library in libraries.keys {
                    libraries[library]?.remaining = left[library] ?? Remaining(stillDue: 0, oldestDueDays: nil)
                }
            }
            let batchCount = try batches.first { try $0.string("policy") == row.policy }?.int64("batches") ?? 0
            var changed: [String: Int64] = [:]
            for entry in cascaded where try entry.string("policy") == row.policy {
                changed[try entry.string("table_name")] = try entry.int64("rows")
            }
            policies.append(ManifestPolicy(
                name: row.policy, version: row.version, fileSHA256: row.sha256, table: row.table, action: row.action,
                retain: row.retain, cutoff: row.cutoff, batches: batchCount, maintenance: row.maintenance,
                libraries: libraries.values.sorted { ($0.library ?? "") < ($1.library ?? "") }, cascaded: changed,
                words: row.words))
        }
        return policies
    }

    /// Writes a manifest that may never replace a file (`AtomicFile`, `.exclusive`): mode 0640
    /// whatever the umask, which the compliance officer reads through the folder's group (docs/administrator.md,
    /// the retention-readers group). A file already there with the same bytes is the same manifest
    /// written again (a run that died before recording it); any other is refused (78).
    static func writeExclusively(_ data: Data, to path: String) throws {
        let outcome: AtomicFile.Outcome
        do {
            outcome = try AtomicFile.write(data, to: path, mode: 0o640, naming: .exclusive)
        } catch let failure as AtomicFile.Failure {
            throw UsageError(failure.description, exitCode: .config)
        }
        guard outcome == .taken, FileManager.default.contents(atPath: path) != data else { return }
        throw UsageError("a different manifest already has the name \(visible(path)); manifests are never replaced: is "
                         + "this folder shared with another database's runs? Give each database a manifest folder of "
                         + "its own; the purge is recorded in the ledger, and the next run writes its manifest",
                         exitCode: .config)
    }
}

/// A run's row in `retention.runs`, as a manifest needs it.
struct RunRecord: RowDecodable {
    let status: String
    let databaseName: String
    let systemIdentifier: String?
    let databaseOID: String?
    let gap: RestoreGap?
    let error: String?
    let startedAt: String
    let finishedAt: String
    let toolVersion: String
    let options: [String: JSONValue]
    let sequence: Int64?
    let nextSequence: Int64
    let newestSHA256: String?

    init(row: Row) throws {
        status = try row.string("status")
        databaseName = try row.string("database_name")
        systemIdentifier = try row.optional("system_identifier")
        databaseOID = try row.optional("database_oid")
        error = try row.optional("error")
        gap = try row.optional("gap").map { try JSONOutput.decode(RestoreGap.self, from: Data($0.utf8), what: "the run's gap") }
        startedAt = try row.string("started_at")
        finishedAt = try row.string("finished_at")
        toolVersion = try row.string("tool_version")
        options = try JSONValue.parse(Data(try row.string("options").utf8)).object ?? [:]
        sequence = try row.optionalInt64("sequence")
        nextSequence = try row.int64("next_sequence")
        newestSHA256 = try row.optional("newest_sha256")
    }
}

/// A policy's (or one library's) cutoff as a run recorded it in `retention.run_policies`.
struct RunPolicyRecord: RowDecodable {
    let policy: String
    let version: Int64
    let sha256: String
    let table: String
    let action: String
    let library: String?
    let retain: String
    let cutoff: String
    let maintenance: Maintenance?
    /// The policy in words, on the policy's own row (no library); `nil` for a run recorded before version 7 of the schema.
    let words: PolicyWords?

    init(row: Row) throws {
        policy = try row.string("policy")
        version = try row.int64("version")
        sha256 = try row.string("policy_sha256")
        table = try row.string("table_name")
        action = try row.string("action")
        library = try row.optional("library")
        retain = try row.string("retain")
        cutoff = try row.string("cutoff")
        maintenance = try row.optional("maintenance").map { Maintenance(method: $0, ms: try row.optionalInt64("maintenance_ms") ?? 0) }
        words = try row.optional("record").flatMap { text in
            let json = try JSONValue.parse(Data(text.utf8))
            guard let description = json["description"]?.string, let rules = json["rules"]?.array?.compactMap(\.string) else { return nil }
            return PolicyWords(description: description, rules: rules)
        }
    }
}

/// The ledger's sums for one policy and library in a run.
struct LedgerSums: RowDecodable {
    let policy: String
    let library: String?
    let counts: Counts
    let batches: Int64

    init(row: Row) throws {
        policy = try row.string("policy")
        library = try row.optional("library")
        counts = try Counts(row: row)
        batches = try row.int64("batches")
    }
}
