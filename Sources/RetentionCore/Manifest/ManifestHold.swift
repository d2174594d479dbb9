import Crypto
import Foundation

/// A legal hold as a manifest records it: in force when the run finished, or placed or released
/// since the previous run started; never its patron value.
///
/// The compliance report's register of holds comes from these records alone, and `verify
/// --ledger` finds a recorded hold that the database no longer has (deleted, or edited).
public struct ManifestHold: Codable, Sendable, Equatable {
    public var id: Int64
    public var reference: String
    public var reason: String
    /// `patron` (one patron, never named), `scope` (policy, library or dates only) or `everything`
    /// (no scope: all purging frozen).
    public var kind: String
    public var policy: String?
    public var library: String?
    /// The window's first day and the day after it, in `timeZone`.
    public var from: String?
    public var until: String?
    public var timeZone: String?
    /// The database role, and the operating-system user who ran `hold place` (`nil` before it was recorded).
    public var placedBy: String
    public var placedByUser: String?
    public var placedAt: String
    public var releasedBy: String?
    public var releasedByUser: String?
    public var releasedAt: String?
    /// From manifest version 7: HMAC-SHA256 of the hold's patron, library and exact window, keyed by the hold's
    /// `seal_key` in the database, so that `verify --ledger` sees them edited without the manifest
    /// naming either (a reader without the key cannot test card numbers against it).
    public var seal: String?

    /// The manifest version that records a hold's seal.
    static let sealVersion: Int64 = 7

    enum CodingKeys: String, CodingKey {
        case id, reference, reason, kind, policy, library, from, until
        case timeZone = "time_zone"
        case placedBy = "placed_by"
        case placedByUser = "placed_by_user"
        case placedAt = "placed_at"
        case releasedBy = "released_by"
        case releasedByUser = "released_by_user"
        case releasedAt = "released_at"
        case seal
    }

    init(id: Int64, reference: String, reason: String, kind: String, policy: String?, library: String?, from: String?,
         until: String?, timeZone: String?, placedBy: String, placedByUser: String?, placedAt: String, releasedBy: String?,
         releasedByUser: String?, releasedAt: String?, seal: String? = nil) {
        (self.id, self.reference, self.reason, self.kind, self.policy, self.library) = (id, reference, reason, kind, policy, library)
        (self.from, self.until, self.timeZone, self.placedBy, self.placedByUser) = (from, until, timeZone, placedBy, placedByUser)
        (self.placedAt, self.releasedBy, self.releasedByUser, self.releasedAt, self.seal) = (placedAt, releasedBy, releasedByUser, releasedAt, seal)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try container.decode(Int64.self, forKey: .id), reference: try container.decode(String.self, forKey: .reference),
                  reason: try container.decode(String.self, forKey: .reason), kind: try container.decode(String.self, forKey: .kind),
                  policy: try container.decode(String?.self, forKey: .policy), library: try container.decode(String?.self, forKey: .library),
                  from: try container.decode(String?.self, forKey: .from), until: try container.decode(String?.self, forKey: .until),
                  timeZone: try container.decode(String?.self, forKey: .timeZone),
                  placedBy: try container.decode(String.self, forKey: .placedBy),
                  placedByUser: try container.decode(String?.self, forKey: .placedByUser),
                  placedAt: try container.decode(String.self, forKey: .placedAt),
                  releasedBy: try container.decode(String?.self, forKey: .releasedBy),
                  releasedByUser: try container.decode(String?.self, forKey: .releasedByUser),
                  releasedAt: try container.decode(String?.self, forKey: .releasedAt))
        if (decoder.userInfo[.manifestVersion] as? Int64 ?? Manifest.currentVersion) >= Self.sealVersion {
            seal = try container.decode(String.self, forKey: .seal)
        }
    }

    // Every member is written, `null` included, so a manifest always has the same members.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(reference, forKey: .reference)
        try container.encode(reason, forKey: .reason)
        try container.encode(kind, forKey: .kind)
        try container.encode(policy, forKey: .policy)
        try container.encode(library, forKey: .library)
        try container.encode(from, forKey: .from)
        try container.encode(until, forKey: .until)
        try container.encode(timeZone, forKey: .timeZone)
        try container.encode(placedBy, forKey: .placedBy)
        try container.encode(placedByUser, forKey: .placedByUser)
        try container.encode(placedAt, forKey: .placedAt)
        try container.encode(releasedBy, forKey: .releasedBy)
        try container.encode(releasedByUser, forKey: .releasedByUser)
        try container.encode(releasedAt, forKey: .releasedAt)
        if (encoder.userInfo[.manifestVersion] as? Int64 ?? Manifest.currentVersion) >= Self.sealVersion {
            try container.encode(seal, forKey: .seal)
        }
    }

    /// The hold as messages name it: `hold 1 (CV-2026-5)`.
    var label: String { "hold \(id) (\(visible(reference)))" }

    /// Whether the hold was still in force when the run finished.
    public var inForce: Bool { releasedAt == nil }

    /// The holds a run's manifest records: in force at its finish, or released after the previous
    /// run started (so a hold placed and released between two runs is recorded too), as they stood
    /// at the run's finish (a later release is not yet known to it).
    static func recorded(forRun runID: Int64, on connection: Connection) throws -> [ManifestHold] {
        let holds = try connection.query(unsafeSQL: """
            WITH run AS (
                SELECT r.started_at, coalesce(r.finished_at, r.started_at) AS finished_at,
                       (SELECT max(p.started_at) FROM retention.runs p WHERE p.id < r.id) AS previous_start
                FROM retention.runs r WHERE r.id = $1::int8)
            SELECT \(columns(releasedBy: "run.finished_at"))
            FROM retention.holds h CROSS JOIN run
            WHERE h.placed_at <= run.finished_at
              AND (h.released_at IS NULL OR h.released_at > run.finished_at
                   OR h.released_at >= coalesce(run.previous_start, run.started_at))
            ORDER BY h.id
            """, [String(runID)]).rows.map(Self.read)
        // Only a library some policy of the run names appears by value: any other value of a library
        // column may be free text (a patron's name typed into a branch field), as in the counts.
        let named = Set(try connection.query("""
            SELECT jsonb_array_elements_text(record -> 'libraries') AS name FROM retention.run_policies
            WHERE run_id = $1::int8 AND library IS NULL AND jsonb_typeof(record -> 'libraries') = 'array'
            """, [String(runID)]).rows.map { try $0.string("name") })
        return holds.map { hold in
            var hold = hold
            if let library = hold.library, !named.contains(library) { hold.library = Policy.Libraries.otherLabel }
            return hold
        }
    }

    /// Every hold of the database as a manifest would record it now, by id (`verify --ledger`).
    static func current(on connection: Connection) throws -> [Int64: ManifestHold] {
        let holds = try connection.query(unsafeSQL: "SELECT \(columns(releasedBy: "'infinity'::timestamptz")) FROM retention.holds h")
            .rows.map(Self.read)
        return Dictionary(holds.map { ($0.id, $0) }) { first, _ in first }
    }

    /// The select list of a hold as recorded, released only if released by `time` (an SQL expression).
    private static func columns(releasedBy time: String) -> String {
        let stamp = #"'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'"#
        return """
            h.id, h.reference, h.reason, h.patron, h.patron IS NOT NULL AS one_patron, h.policy, h.library,
                   CASE WHEN h.time_zone IS NULL THEN to_char(h.held_from AT TIME ZONE 'UTC', \(stamp))
                        ELSE to_char(h.held_from AT TIME ZONE h.time_zone, 'YYYY-MM-DD') END AS held_from,
                   CASE WHEN h.time_zone IS NULL THEN to_char(h.held_until AT TIME ZONE 'UTC', \(stamp))
                        ELSE to_char(h.held_until AT TIME ZONE h.time_zone, 'YYYY-MM-DD') END AS held_until,
                   h.time_zone, h.placed_by, h.placed_by_user,
                   to_char(h.placed_at AT TIME ZONE 'UTC', \(stamp)) AS placed_at, h.seal_key::text AS seal_key,
                   to_char(h.held_from AT TIME ZONE 'UTC', \(stamp)) AS held_from_exact,
                   to_char(h.held_until AT TIME ZONE 'UTC', \(stamp)) AS held_until_exact,
                   CASE WHEN h.released_at <= \(time) THEN h.released_by END AS released_by,
                   CASE WHEN h.released_at <= \(time) THEN h.released_by_user END AS released_by_user,
                   CASE WHEN h.released_at <= \(time) THEN to_char(h.released_at AT TIME ZONE 'UTC', \(stamp)) END AS released_at
            """
    }

    static func read(_ row: Row) throws -> ManifestHold {
        let patron = try row.bool("one_patron")
        let policy: String? = try row.optional("policy"), library: String? = try row.optional("library")
        let from: String? = try row.optional("held_from"), until: String? = try row.optional("held_until")
        let scoped = policy != nil || library != nil || from != nil || until != nil
        // A hold placed before `hold place` refused it may name its own patron, or a number: withheld
        // here (the patron's value is read only to compare, never written).
        let patronValue: String? = try row.optional("patron")
        func shown(_ text: String) -> String {
            if let patronValue, PatronNumbers.contains(text, patronValue) { return "[withheld: names the patron]" }
            return Self.withoutNumbers(text)
        }
        return ManifestHold(id: try row.int64("id"), reference: shown(try row.string("reference")),
                  reason: shown(try row.string("reason")),
                  kind: patron ? "patron" : scoped ? "scope" : "everything", policy: policy, library: library,
                  from: from, until: until, timeZone: try row.optional("time_zone"),
                  placedBy: try row.string("placed_by"), placedByUser: try row.optional("placed_by_user"),
                  placedAt: try row.string("placed_at"), releasedBy: try row.optional("released_by"),
                  releasedByUser: try row.optional("released_by_user"), releasedAt: try row.optional("released_at"),
                  seal: seal([patronValue, library, try row.optional("held_from_exact"), try row.optional("held_until_exact")],
                             key: try row.string("seal_key")))
    }

    /// The hold's seal: HMAC-SHA256, keyed by its `seal_key`, of its patron, library and the exact
    /// instants of its window as stored (the manifest shows the window's days only, and a start moved
    /// within its first day would hold nothing of it); each value written with its length, so no two
    /// lists of values read alike, a missing one as `-`.
    static func seal(_ values: [String?], key: String) -> String {
        let message = values.map { $0.map { "\($0.utf8.count):\($0)" } ?? "-" }.joined(separator: ",")
        let code = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(key.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }

    /// What `verify --ledger` finds wrong with a recorded hold against the database's: gone, or
    /// changed in what the record says (a release after the run is not a change; one dated before
    /// the run finished, which recorded the hold in force, is).
    func differences(from current: ManifestHold?, runFinishedAt finished: String) -> String? {
        guard let current else { return "\(label) is recorded here but no longer in the database: deleted" }
        if releasedAt == nil, let released = current.releasedAt, released <= finished {
            return "\(label) is released in the database at \(released), before this run finished, though "
                + "the run recorded it in force: its release was backdated"
        }
        var now = current
        if library == Policy.Libraries.otherLabel { now.library = library }
        if releasedAt == nil {
            now.releasedAt = nil
            now.releasedBy = nil
            now.releasedByUser = nil
        }
        if seal == nil { now.seal = nil }
        guard now != self else { return nil }
        if now.seal != seal, { var same = now; same.seal = seal; return same == self }() {
            return "\(label) differs from the database's: its patron, library or window was changed after "
                + "this run (the seal this manifest records no longer matches)"
        }
        return "\(label) differs from the database's: its record was changed after this run"
    }

    /// What changed in a hold between two manifests' records of it (`before` the earlier), or `nil`:
    /// only a release may come between them, and a release once recorded stays as it was.
    func changed(since before: ManifestHold) -> String? {
        var earlier = before, later = self
        // A library may show by name in one run and as "(other libraries)" in another, as the
        // runs' policies name it; the seal covers the value itself.
        if earlier.library == Policy.Libraries.otherLabel || later.library == Policy.Libraries.otherLabel {
            (earlier.library, later.library) = (nil, nil)
        }
        if earlier.seal == nil || later.seal == nil { (earlier.seal, later.seal) = (nil, nil) }
        if earlier.releasedAt == nil { (later.releasedAt, later.releasedBy, later.releasedByUser) = (nil, nil, nil) }
        return earlier == later ? nil : "its record changed between the runs (its patron, library, scope, window, words or release)"
    }

    /// A reference or reason as a manifest may carry it: a hold placed before `hold place` refused
    /// card numbers may hold one, which signed evidence must not copy (`PatronNumbers.withheld`).
    static func withoutNumbers(_ text: String) -> String { PatronNumbers.withheld(text) }

}
