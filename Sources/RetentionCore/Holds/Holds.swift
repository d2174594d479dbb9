import Foundation

/// What a legal hold covers: any of patron, policy, library and a window over the policy's age column.
public struct HoldScope: Sendable, Equatable {
    public var patron: String?
    public var policy: String?
    public var library: String?
    /// Start of the window (inclusive), as the database reads a timestamp (`2025-01-01`, `2025-01-01 12:00+00`).
    public var from: String?
    /// End of the window (exclusive).
    public var until: String?

    public init(patron: String? = nil, policy: String? = nil, library: String? = nil, from: String? = nil, until: String? = nil) {
        self.patron = patron
        self.policy = policy
        self.library = library
        self.from = from
        self.until = until
    }

    /// A hold with no scope freezes all purging.
    public var isEmpty: Bool { patron == nil && policy == nil && library == nil && from == nil && until == nil }
}

/// One legal hold as `hold list` shows it.
public struct Hold: Codable, Sendable, Equatable {
    public let id: Int64
    public let reference: String
    public let reason: String
    public let placedBy: String
    public let placedAt: String
    /// The patron identifier, or `nil`; shown only to holders of the retention_holds role (see `patronHidden`).
    public let patron: String?
    /// True when the hold names a patron whom this user may not see.
    public let patronHidden: Bool
    public let policy: String?
    public let library: String?
    public let heldFrom: String?
    public let heldUntil: String?
    public let releasedBy: String?
    public let releasedAt: String?

    public var isActive: Bool { releasedAt == nil }
}

/// Legal holds from court orders: placing, listing and releasing them (SPEC §8).
///
/// Holds are never deleted; a release records who and when. The person placing or releasing a
/// hold is the database user (`current_user`), so the record cannot name someone else.
public enum Holds {
    /// Places a hold and returns its id. Throws 64 for an empty reference or a window that is not a window.
    public static func place(reference: String, reason: String, scope: HoldScope, on connection: Connection) throws -> Int64 {
        guard !reference.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw UsageError("a hold needs --reference: the court order or case number", exitCode: .usage)
        }
        do {
            let row = try connection.query("""
                INSERT INTO retention.holds (reference, reason, patron, policy, library, held_from, held_until)
                VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz)
                RETURNING id::text
                """, [reference, reason, scope.patron, scope.policy, scope.library, scope.from, scope.until])
            return Int64(row.rows[0][0] ?? "") ?? 0
        } catch let error as DatabaseError where error.sqlState?.hasPrefix("22") == true {
            throw UsageError("--from/--until: \(error.message); use a date like 2025-01-31 or a timestamp", exitCode: .usage)
        } catch let error as DatabaseError where error.sqlState == "23514" {
            throw UsageError("--from must be before --until", exitCode: .usage)
        }
    }

    /// The holds, active ones only unless `includeReleased`, oldest first.
    public static func list(includeReleased: Bool, on connection: Connection) throws -> [Hold] {
        let canSeePatrons = try mayShowPatrons(on: connection)
        let result = try connection.query("""
            SELECT id::text, reference, reason, placed_by, \(isoUTC("placed_at")), patron, policy, library,
                   \(isoUTC("held_from")), \(isoUTC("held_until")), released_by, \(isoUTC("released_at"))
            FROM retention.holds
            WHERE $1::bool OR released_at IS NULL
            ORDER BY id
            """, [includeReleased ? "true" : "false"])
        return result.rows.map { row in
            Hold(id: Int64(row[0] ?? "") ?? 0, reference: row[1] ?? "", reason: row[2] ?? "", placedBy: row[3] ?? "",
                 placedAt: row[4] ?? "", patron: canSeePatrons ? row[5] : nil,
                 patronHidden: !canSeePatrons && row[5] != nil, policy: row[6], library: row[7],
                 heldFrom: row[8], heldUntil: row[9], releasedBy: row[10], releasedAt: row[11])
        }
    }

    /// Releases an active hold, recording who and when; 64 when there is no such active hold.
    public static func release(id: Int64, on connection: Connection) throws {
        let released = try connection.query("""
            UPDATE retention.holds SET released_by = current_user, released_at = now()
            WHERE id = $1::int8 AND released_at IS NULL RETURNING id
            """, [String(id)])
        guard released.rows.isEmpty else { return }
        let existing = try connection.query("""
            SELECT released_by, \(isoUTC("released_at")) FROM retention.holds WHERE id = $1::int8
            """, [String(id)])
        if let row = existing.rows.first {
            throw UsageError("hold \(id) was already released by \(row[0] ?? "?") at \(row[1] ?? "?")", exitCode: .usage)
        }
        throw UsageError("there is no hold \(id)", exitCode: .usage)
    }

    /// Whether this user may see holds' patron identifiers: a member of retention_holds, or a superuser.
    static func mayShowPatrons(on connection: Connection) throws -> Bool {
        try connection.query("""
            SELECT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
                OR coalesce((SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_catalog.pg_roles
                             WHERE rolname = 'retention_holds'), false)
            """).rows[0][0] == "t"
    }
}

/// Renders holds for staff: one block per hold with its scope in words.
public enum HoldRendering {
    public static func text(_ holds: [Hold], includeReleased: Bool) -> String {
        guard !holds.isEmpty else {
            return includeReleased ? "No legal holds on record.\n" : "No active legal holds.\n"
        }
        var out = ""
        for hold in holds {
            out += "hold \(hold.id)  \(hold.isActive ? "ACTIVE" : "released")  \(visible(hold.reference))\n"
            if !hold.reason.isEmpty { out += "  reason:   \(visible(hold.reason))\n" }
            out += "  placed:   \(hold.placedAt) by \(visible(hold.placedBy))\n"
            out += "  covers:   \(scope(hold))\n"
            if let releasedAt = hold.releasedAt {
                out += "  released: \(releasedAt) by \(visible(hold.releasedBy ?? "?"))\n"
            }
        }
        return out
    }

    /// The scope in words; a hold with none freezes everything.
    static func scope(_ hold: Hold) -> String {
        var parts: [String] = []
        if let patron = hold.patron { parts.append("patron \(visible(patron))") }
        if hold.patronHidden { parts.append("one patron (identifier shown to retention_holds members only)") }
        if let policy = hold.policy { parts.append("policy \(visible(policy))") }
        if let library = hold.library { parts.append("library \(visible(library))") }
        switch (hold.heldFrom, hold.heldUntil) {
        case let (from?, until?): parts.append("records dated from \(from) until \(until)")
        case let (from?, nil): parts.append("records dated from \(from)")
        case let (nil, until?): parts.append("records dated before \(until)")
        default: break
        }
        return parts.isEmpty ? "ALL records of every policy: all purging is frozen" : parts.joined(separator: ", ")
    }

    public static func json(_ holds: [Hold]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: (try? encoder.encode(holds)) ?? Data("[]".utf8), as: UTF8.self) + "\n"
    }
}
