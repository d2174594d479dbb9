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

    enum CodingKeys: String, CodingKey {
        case id, reference, reason, kind, policy, library, from, until
        case timeZone = "time_zone"
        case placedBy = "placed_by"
        case placedByUser = "placed_by_user"
        case placedAt = "placed_at"
        case releasedBy = "released_by"
        case releasedByUser = "released_by_user"
        case releasedAt = "released_at"
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
    }

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
                   to_char(h.placed_at AT TIME ZONE 'UTC', \(stamp)) AS placed_at,
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
                  releasedByUser: try row.optional("released_by_user"), releasedAt: try row.optional("released_at"))
    }

    /// What `verify --ledger` finds wrong with a recorded hold against the database's: gone, or
    /// changed in what the record says (a release after the run is not a change).
    func differences(from current: ManifestHold?) -> String? {
        guard let current else { return "hold \(id) (\(visible(reference))) is recorded here but no longer in the database: deleted" }
        var now = current
        if library == Policy.Libraries.otherLabel { now.library = library }
        if releasedAt == nil {
            now.releasedAt = nil
            now.releasedBy = nil
            now.releasedByUser = nil
        }
        guard now != self else { return nil }
        return "hold \(id) (\(visible(reference))) differs from the database's: its record was changed after this run"
    }

    /// A reference or reason as a manifest may carry it: a hold placed before `hold place` refused
    /// card numbers may hold one, which signed evidence must not copy (`PatronNumbers.withheld`).
    static func withoutNumbers(_ text: String) -> String { PatronNumbers.withheld(text) }

}
