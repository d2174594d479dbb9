import Crypto
import Foundation

/// The counts of one library (or of all rows, `library == nil`) under one policy in one run.
public struct ManifestLibrary: Codable, Sendable, Equatable {
    public var period: LibraryPeriod
    /// Rows purged or anonymized (`rows`) and kept by each reason.
    public var counts: Counts
    public var batches: Int64
    /// What the run left due here, when it counted (a completed run; from version 3 on).
    public var remaining = Remaining()

    public var library: String? { period.library }

    init(library: String?, retain: String, cutoff: String, counts: Counts = Counts(), batches: Int64 = 0) {
        period = LibraryPeriod(library: library, retain: retain, cutoff: cutoff)
        self.counts = counts
        self.batches = batches
    }

    public init(from decoder: Decoder) throws {
        (period, counts, batches) = try LibraryPeriod.decode(from: decoder, rowsKey: "rows", extra: "batches")
        remaining = try Remaining(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        try period.encode(to: encoder, counts: counts, rowsKey: "rows", extra: batches, key: "batches")
        try remaining.encode(to: encoder)
    }
}

/// Rows a completed run left due under its own cutoffs, and the age in days of the oldest of them:
/// 0 and `nil` in a healthy system; both `nil` when the run did not count (any other status).
public struct Remaining: Sendable, Equatable {
    public var stillDue: Int64?
    public var oldestDueDays: Int64?

    /// The manifest version that added these members.
    static let manifestVersion: Int64 = 3

    /// The sum of parts that were counted (`nil` when none was), and the oldest age among them.
    init(_ parts: [Remaining] = []) {
        let counted = parts.compactMap(\.stillDue)
        stillDue = counted.isEmpty ? nil : counted.reduce(0, +)
        oldestDueDays = parts.compactMap(\.oldestDueDays).max()
    }

    init(stillDue: Int64?, oldestDueDays: Int64?) {
        self.stillDue = stillDue
        self.oldestDueDays = oldestDueDays
    }

    init(from decoder: Decoder) throws {
        guard (decoder.userInfo[.manifestVersion] as? Int64 ?? Manifest.currentVersion) >= Self.manifestVersion else { return }
        let container = try decoder.container(keyedBy: Counts.Key.self)
        stillDue = try container.decode(Int64?.self, forKey: Counts.Key(stringValue: "still_due"))
        oldestDueDays = try container.decode(Int64?.self, forKey: Counts.Key(stringValue: "oldest_due_days"))
    }

    func encode(to encoder: Encoder) throws {
        guard (encoder.userInfo[.manifestVersion] as? Int64 ?? Manifest.currentVersion) >= Self.manifestVersion else { return }
        var container = encoder.container(keyedBy: Counts.Key.self)
        try container.encode(stillDue, forKey: Counts.Key(stringValue: "still_due"))
        try container.encode(oldestDueDays, forKey: Counts.Key(stringValue: "oldest_due_days"))
    }
}

/// What was done to a policy's table after its last batch.
public struct Maintenance: Codable, Sendable, Equatable {
    /// `vacuum`, `erase (pg_repack)` or `erase (VACUUM FULL)`.
    public var method: String
    public var ms: Int64
}

/// The database a run worked on: its name, its oid and the cluster's system identifier.
public struct ManifestDatabase: Codable, Sendable, Equatable {
    public var name: String
    public var systemIdentifier: String?
    /// The database's oid in its cluster; from version 4 on (`nil` before).
    public var oid: String?

    /// The manifest version that added `oid`.
    static let oidVersion: Int64 = 4

    enum CodingKeys: String, CodingKey {
        case name, oid
        case systemIdentifier = "system_identifier"
    }

    public init(name: String, systemIdentifier: String?, oid: String? = nil) {
        self.name = name
        self.systemIdentifier = systemIdentifier
        self.oid = oid
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        systemIdentifier = try container.decode(String?.self, forKey: .systemIdentifier)
        if (decoder.userInfo[.manifestVersion] as? Int64 ?? Manifest.currentVersion) >= Self.oidVersion {
            oid = try container.decode(String?.self, forKey: .oid)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(systemIdentifier, forKey: .systemIdentifier)
        if (encoder.userInfo[.manifestVersion] as? Int64 ?? Manifest.currentVersion) >= Self.oidVersion {
            try container.encode(oid, forKey: .oid)
        }
    }

    /// Whether `other` is known to be another database: another cluster or oid where both sides
    /// know them (a renamed database keeps its oid), else another name (a manifest before version 4
    /// has no oid; a role without the privilege reads no system identifier).
    public func differs(from other: ManifestDatabase) -> Bool {
        func known(_ a: String?, _ b: String?) -> Bool { a != nil && b != nil && a != b }
        if oid != nil && other.oid != nil { return known(systemIdentifier, other.systemIdentifier) || oid != other.oid }
        return name != other.name || known(systemIdentifier, other.systemIdentifier)
    }

    /// The database for messages: `library (oid 16384, cluster 7300000000000000000)`.
    public var described: String {
        "\(visible(name)) (oid \(oid ?? "unknown"), cluster \(systemIdentifier ?? "unknown"))"
    }
}

/// A break in the chain after the database was restored from a backup (status `restored`, version 4).
///
/// The ledger had written manifests up to `ledgerSequence`; the chain in the folder had reached
/// `chainSequence` (its file's SHA-256 `chainSHA256`), so the `runsLost` runs between are in the
/// folder but no longer in the database. The chain goes on from `chainSequence`.
public struct RestoreGap: Codable, Sendable, Equatable {
    public var ledgerSequence: Int64?
    public var chainSequence: Int64
    public var chainSHA256: String
    public var runsLost: Int64
    /// What the chain's newest manifest named: the database as it was before the restore.
    public var previousDatabase: ManifestDatabase

    enum CodingKeys: String, CodingKey {
        case ledgerSequence = "ledger_sequence", chainSequence = "chain_sequence", chainSHA256 = "chain_sha256"
        case runsLost = "runs_lost", previousDatabase = "previous_database"
    }

    public init(ledgerSequence: Int64?, chainSequence: Int64, chainSHA256: String, runsLost: Int64,
                previousDatabase: ManifestDatabase) {
        self.ledgerSequence = ledgerSequence
        self.chainSequence = chainSequence
        self.chainSHA256 = chainSHA256
        self.runsLost = runsLost
        self.previousDatabase = previousDatabase
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        ledgerSequence = try container.decode(Int64?.self, forKey: .ledgerSequence)
        chainSequence = try container.decode(Int64.self, forKey: .chainSequence)
        chainSHA256 = try container.decode(String.self, forKey: .chainSHA256)
        runsLost = try container.decode(Int64.self, forKey: .runsLost)
        previousDatabase = try container.decode(ManifestDatabase.self, forKey: .previousDatabase)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ledgerSequence, forKey: .ledgerSequence)
        try container.encode(chainSequence, forKey: .chainSequence)
        try container.encode(chainSHA256, forKey: .chainSHA256)
        try container.encode(runsLost, forKey: .runsLost)
        try container.encode(previousDatabase, forKey: .previousDatabase)
    }
}

/// The payload of a manifest: counts, times and digests of one run, never a row value.
///
/// Written and read through `Codable` with explicit keys; every optional field is written as
/// `null`, never left out, so a manifest always has the same members.
public struct Manifest: Codable, Sendable, Equatable {
    /// The DSSE payload type of manifests.
    public static let payloadType = "application/vnd.retention.manifest.v1+json"
    /// The JSON Schema (draft 2020-12) of the payload, for `retention show --schema` and the package.
    public static var jsonSchema: String { String(decoding: PackageResources.manifest_schema_json, as: UTF8.self) }

    /// The manifest format this program writes, and the newest it reads. Version 2 added
    /// `kept_by_reference` (policies and libraries) and `cascaded` (policies); version 3 `still_due`
    /// and `oldest_due_days` (policies and libraries); version 4 the database's `oid`, `gap`, `error` and the
    /// status `restored` (and counts every run's `still_due`, and libraries the policy does not name
    /// as one `(other libraries)`); version 5 `kept_by_newest` (policies and libraries); version 6
    /// the policies' `description` and `rules` and the run's `holds`.
    public static let currentVersion: Int64 = 7

    public var manifestVersion: Int64 = Manifest.currentVersion
    public var runID: Int64
    public var sequence: Int64
    /// A `RunStatus`, kept as the file's text for the same reason as `ManifestPolicy.action`; readers
    /// map it with `RunStatus(rawValue:)` (the report's `NightStatus`).
    public var status: String
    public var database: ManifestDatabase
    public var startedAt: String
    public var finishedAt: String
    public var toolVersion: String
    /// Hex SHA-256 of the previous manifest's file; `nil` for the first manifest of a database.
    public var previousSHA256: String?
    public var options: [String: JSONValue]
    public var policies: [ManifestPolicy]
    /// The break a `restored` manifest records; `nil` otherwise (and before version 4).
    public var gap: RestoreGap?
    /// Why a `failed` run failed, in the program's words (SQLSTATE and message, never row data);
    /// `nil` otherwise (and before version 4).
    public var error: String?
    /// The legal holds in force at the run's finish or released since the previous run started
    /// (`ManifestHold`); `nil` before version 6.
    public var holds: [ManifestHold]?

    public var databaseName: String { database.name }
    public var systemIdentifier: String? { database.systemIdentifier }

    enum CodingKeys: String, CodingKey {
        case status, database, options, policies, sequence, gap, error, holds
        case manifestVersion = "manifest_version"
        case runID = "run_id"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case toolVersion = "tool_version"
        case previousSHA256 = "previous_sha256"
    }

    public init(runID: Int64, sequence: Int64, status: String, database: ManifestDatabase,
                startedAt: String, finishedAt: String, toolVersion: String, previousSHA256: String?,
                options: [String: JSONValue], policies: [ManifestPolicy], gap: RestoreGap? = nil, error: String? = nil,
                holds: [ManifestHold]? = []) {
        self.error = error
        self.holds = holds
        self.runID = runID
        self.sequence = sequence
        self.status = status
        self.database = database
        self.gap = gap
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.toolVersion = toolVersion
        self.previousSHA256 = previousSHA256
        self.options = options
        self.policies = policies
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        manifestVersion = try container.decode(Int64.self, forKey: .manifestVersion)
        runID = try container.decode(Int64.self, forKey: .runID)
        sequence = try container.decode(Int64.self, forKey: .sequence)
        status = try container.decode(String.self, forKey: .status)
        database = try container.decode(ManifestDatabase.self, forKey: .database)
        startedAt = try container.decode(String.self, forKey: .startedAt)
        finishedAt = try container.decode(String.self, forKey: .finishedAt)
        toolVersion = try container.decode(String.self, forKey: .toolVersion)
        previousSHA256 = try container.decode(String?.self, forKey: .previousSHA256)
        options = try container.decode([String: JSONValue].self, forKey: .options)
        policies = try container.decode([ManifestPolicy].self, forKey: .policies)
        if manifestVersion >= 4 {
            gap = try container.decode(RestoreGap?.self, forKey: .gap)
            error = try container.decode(String?.self, forKey: .error)
        }
        if manifestVersion >= PolicyWords.manifestVersion {
            holds = try container.decode([ManifestHold].self, forKey: .holds)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(manifestVersion, forKey: .manifestVersion)
        try container.encode(runID, forKey: .runID)
        try container.encode(sequence, forKey: .sequence)
        try container.encode(status, forKey: .status)
        try container.encode(database, forKey: .database)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(toolVersion, forKey: .toolVersion)
        try container.encode(previousSHA256, forKey: .previousSHA256)
        try container.encode(options, forKey: .options)
        try container.encode(policies, forKey: .policies)
        if manifestVersion >= 4 {
            try container.encode(gap, forKey: .gap)
            try container.encode(error, forKey: .error)
        }
        if manifestVersion >= PolicyWords.manifestVersion {
            try container.encode(holds ?? [], forKey: .holds)
        }
    }

    /// The payload as canonical JSON (RFC 8785): the exact bytes that are signed.
    public var payload: Data {
        // Encoding these types cannot fail: strings, integers and nulls only.
        (try? JSONOutput.canonical(self, userInfo: [.manifestVersion: manifestVersion])) ?? Data()
    }

    /// Reads a payload; refuses a newer manifest version and anything that is not exactly this shape.
    public init(payload: Data) throws {
        let json = try JSONValue.parse(payload)
        if let version = json["manifest_version"]?.int, version > Manifest.currentVersion {
            throw JSONFormatError("manifest version \(version) is newer than this program reads "
                                  + "(\(Manifest.currentVersion)); use a newer retention")
        }
        let version = json["manifest_version"]?.int ?? Manifest.currentVersion
        self = try JSONOutput.decode(Manifest.self, from: payload, what: "the manifest", userInfo: [.manifestVersion: version])
        // Written again, it must give the same bytes: no member more or less, nothing in another form.
        guard try JSONOutput.canonical(self, userInfo: [.manifestVersion: version]) == payload else {
            throw JSONFormatError("the payload is not in canonical form (RFC 8785) or has members a manifest does not have")
        }
    }

    /// The file name: start time then sequence, so `ls` lists manifests in the order they were made.
    public var fileName: String {
        let compact = startedAt.prefix(19).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        return "\(compact)Z-\(String(format: "%06lld", sequence)).manifest.json"
    }
}

/// Hex SHA-256 of some bytes: policy files, manifests and key ids are named by it.
func sha256Hex(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
}

extension Manifest {
    /// The policies of the folder the run left out (`run --only`, options' `left_out`); empty when it applied all.
    public var leftOut: [String] {
        guard case .array(let names)? = options["left_out"] else { return [] }
        return names.compactMap { if case .string(let name) = $0 { name } else { nil } }
    }
}
