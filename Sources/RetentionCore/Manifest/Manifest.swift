import Crypto
import Foundation

/// The counts of one library (or of all rows, `library == nil`) under one policy in one run.
public struct ManifestLibrary: Sendable, Equatable {
    public var library: String?
    public var retain: String
    public var cutoff: String
    public var rows: Int64
    public var keptByHold: Int64
    public var keptByConsent: Int64
    public var keptByRule: Int64
    public var batches: Int64

    var json: JSONValue {
        .object([
            "library": library.map(JSONValue.string) ?? .null, "retain": .string(retain), "cutoff": .string(cutoff),
            "rows": .int(rows), "kept_by_hold": .int(keptByHold), "kept_by_consent": .int(keptByConsent),
            "kept_by_keep_when": .int(keptByRule), "batches": .int(batches),
        ])
    }

    init(library: String?, retain: String, cutoff: String, rows: Int64 = 0, keptByHold: Int64 = 0,
         keptByConsent: Int64 = 0, keptByRule: Int64 = 0, batches: Int64 = 0) {
        self.library = library
        self.retain = retain
        self.cutoff = cutoff
        self.rows = rows
        self.keptByHold = keptByHold
        self.keptByConsent = keptByConsent
        self.keptByRule = keptByRule
        self.batches = batches
    }

    init(json: JSONValue) throws {
        let field = ManifestField(json, "a library entry")
        library = try field.optionalString("library")
        retain = try field.string("retain")
        cutoff = try field.string("cutoff")
        rows = try field.int("rows")
        keptByHold = try field.int("kept_by_hold")
        keptByConsent = try field.int("kept_by_consent")
        keptByRule = try field.int("kept_by_keep_when")
        batches = try field.int("batches")
    }
}

/// What one policy did in one run: its identity, cutoff and counts, in total and per library.
public struct ManifestPolicy: Sendable, Equatable {
    public var name: String
    public var version: Int64
    public var fileSHA256: String
    public var table: String
    public var action: String
    public var retain: String
    public var cutoff: String
    public var batches: Int64
    /// What was done to the table after the last batch (`vacuum`), or `nil`.
    public var maintenance: String?
    public var maintenanceMilliseconds: Int64?
    public var libraries: [ManifestLibrary]

    public var rows: Int64 { libraries.reduce(0) { $0 + $1.rows } }
    public var keptByHold: Int64 { libraries.reduce(0) { $0 + $1.keptByHold } }
    public var keptByConsent: Int64 { libraries.reduce(0) { $0 + $1.keptByConsent } }
    public var keptByRule: Int64 { libraries.reduce(0) { $0 + $1.keptByRule } }

    var json: JSONValue {
        .object([
            "name": .string(name), "version": .int(version), "file_sha256": .string(fileSHA256), "table": .string(table),
            "action": .string(action), "retain": .string(retain), "cutoff": .string(cutoff), "rows": .int(rows),
            "kept_by_hold": .int(keptByHold), "kept_by_consent": .int(keptByConsent),
            "kept_by_keep_when": .int(keptByRule), "batches": .int(batches), "libraries": .array(libraries.map(\.json)),
            "maintenance": maintenance.map { .object(["method": .string($0), "ms": .int(maintenanceMilliseconds ?? 0)]) }
                ?? .null,
        ])
    }

    init(name: String, version: Int64, fileSHA256: String, table: String, action: String, retain: String,
         cutoff: String, batches: Int64, maintenance: String? = nil, maintenanceMilliseconds: Int64? = nil,
         libraries: [ManifestLibrary]) {
        self.maintenance = maintenance
        self.maintenanceMilliseconds = maintenanceMilliseconds
        self.name = name
        self.version = version
        self.fileSHA256 = fileSHA256
        self.table = table
        self.action = action
        self.retain = retain
        self.cutoff = cutoff
        self.batches = batches
        self.libraries = libraries
    }

    init(json: JSONValue) throws {
        let field = ManifestField(json, "a policy entry")
        name = try field.string("name")
        version = try field.int("version")
        fileSHA256 = try field.string("file_sha256")
        table = try field.string("table")
        action = try field.string("action")
        retain = try field.string("retain")
        cutoff = try field.string("cutoff")
        batches = try field.int("batches")
        libraries = try field.array("libraries").map(ManifestLibrary.init(json:))
        let done = try field.value("maintenance")
        if done != .null {
            let detail = ManifestField(done, "maintenance")
            maintenance = try detail.string("method")
            maintenanceMilliseconds = try detail.int("ms")
        }
        // Totals are written for the reader's convenience; they must equal the sum of the libraries.
        for (key, total) in [("rows", rows), ("kept_by_hold", keptByHold), ("kept_by_consent", keptByConsent),
                             ("kept_by_keep_when", keptByRule)] where try field.int(key) != total {
            throw JSONFormatError("policy \(name): \(key) is not the sum of its libraries")
        }
    }
}

/// The payload of a manifest: counts, times and digests of one run, never a row value (SPEC §6).
public struct Manifest: Sendable, Equatable {
    /// The DSSE payload type of manifests.
    public static let payloadType = "application/vnd.retention.manifest.v1+json"
    /// The manifest format this program writes, and the newest it reads.
    public static let currentVersion: Int64 = 1

    public var manifestVersion: Int64 = Manifest.currentVersion
    public var runID: Int64
    public var sequence: Int64
    public var status: String
    public var databaseName: String
    public var systemIdentifier: String?
    public var startedAt: String
    public var finishedAt: String
    public var toolVersion: String
    /// Hex SHA-256 of the previous manifest's file; `nil` for the first manifest of a database.
    public var previousSHA256: String?
    public var options: [String: JSONValue]
    public var policies: [ManifestPolicy]

    /// The payload as canonical JSON (RFC 8785): the exact bytes that are signed.
    public var payload: Data { json.canonicalData() }

    var json: JSONValue {
        .object([
            "manifest_version": .int(manifestVersion), "run_id": .int(runID), "sequence": .int(sequence),
            "status": .string(status),
            "database": .object(["name": .string(databaseName),
                                 "system_identifier": systemIdentifier.map(JSONValue.string) ?? .null]),
            "started_at": .string(startedAt), "finished_at": .string(finishedAt), "tool_version": .string(toolVersion),
            "previous_sha256": previousSHA256.map(JSONValue.string) ?? .null,
            "options": .object(options),
            "policies": .array(policies.map(\.json)),
        ])
    }

    public init(runID: Int64, sequence: Int64, status: String, databaseName: String, systemIdentifier: String?,
                startedAt: String, finishedAt: String, toolVersion: String, previousSHA256: String?,
                options: [String: JSONValue], policies: [ManifestPolicy]) {
        self.runID = runID
        self.sequence = sequence
        self.status = status
        self.databaseName = databaseName
        self.systemIdentifier = systemIdentifier
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.toolVersion = toolVersion
        self.previousSHA256 = previousSHA256
        self.options = options
        self.policies = policies
    }

    /// Reads a payload; refuses a newer manifest version and anything that is not exactly this shape.
    public init(payload: Data) throws {
        let json = try JSONValue.parse(payload)
        let field = ManifestField(json, "the manifest")
        manifestVersion = try field.int("manifest_version")
        guard manifestVersion <= Manifest.currentVersion else {
            throw JSONFormatError("manifest version \(manifestVersion) is newer than this program reads "
                                  + "(\(Manifest.currentVersion)); use a newer retention")
        }
        runID = try field.int("run_id")
        sequence = try field.int("sequence")
        status = try field.string("status")
        let database = ManifestField(try field.value("database"), "database")
        databaseName = try database.string("name")
        systemIdentifier = try database.optionalString("system_identifier")
        startedAt = try field.string("started_at")
        finishedAt = try field.string("finished_at")
        toolVersion = try field.string("tool_version")
        previousSHA256 = try field.optionalString("previous_sha256")
        options = try field.value("options").object ?? [:]
        policies = try field.array("policies").map(ManifestPolicy.init(json:))
        guard json.canonicalData() == payload else {
            throw JSONFormatError("the payload is not in canonical form (RFC 8785)")
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

/// Reads required fields of a JSON object with messages that say which field is wrong.
private struct ManifestField {
    let object: [String: JSONValue]
    let what: String

    init(_ value: JSONValue, _ what: String) {
        self.object = value.object ?? [:]
        self.what = what
    }

    func value(_ key: String) throws -> JSONValue {
        guard let value = object[key] else { throw JSONFormatError("\(what) has no \(key)") }
        return value
    }

    func string(_ key: String) throws -> String {
        guard let text = try value(key).string else { throw JSONFormatError("\(what): \(key) is not text") }
        return text
    }

    func optionalString(_ key: String) throws -> String? {
        let value = try value(key)
        if value == .null { return nil }
        guard let text = value.string else { throw JSONFormatError("\(what): \(key) is not text") }
        return text
    }

    func int(_ key: String) throws -> Int64 {
        guard let number = try value(key).int else { throw JSONFormatError("\(what): \(key) is not a whole number") }
        return number
    }

    func array(_ key: String) throws -> [JSONValue] {
        guard let list = try value(key).array else { throw JSONFormatError("\(what): \(key) is not a list") }
        return list
    }
}
