import Foundation

/// What a legal hold covers: any of patron, policy, library and a window over the policy's age column.
public struct HoldScope: Sendable, Equatable {
    public var patron: String?
    public var policy: String?
    public var library: String?
    /// First day of the window (inclusive), a calendar date like `2025-01-01` in `timeZone`.
    public var from: String?
    /// Day after the window (exclusive).
    public var until: String?
    /// The time zone whose calendar days the window means (`nil`: a hold placed before zones were recorded).
    public var timeZone: String?

    public init(patron: String? = nil, policy: String? = nil, library: String? = nil, from: String? = nil, until: String? = nil,
                timeZone: String? = nil) {
        self.patron = patron
        self.policy = policy
        self.library = library
        self.from = from
        self.until = until
        self.timeZone = timeZone
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
    /// The zone of the window's days; `nil` for a hold placed before zones were recorded (then the
    /// window shows as UTC timestamps).
    public let timeZone: String?
    public let releasedBy: String?
    public let releasedAt: String?

    public var isActive: Bool { releasedAt == nil }
}

/// Legal holds from court orders: placing, listing and releasing them (SPEC §8).
///
/// Holds are never deleted; a release records who and when. The person placing or releasing a
/// hold is the database user (`current_user`), so the record cannot name someone else, with the
/// operating-system user who ran the command (`SystemUser`).
public enum Holds {
    /// The scope with its patron and library written as the policies' columns write them, so that
    /// the hold matches the rows it means; throws 64 for a value no policy in scope can match.
    ///
    /// Holds match rows by text: the stored patron must be the column value's own text. Typed by a
    /// person, `0770000000011`, ` 770000000011` or `+770000000011` mean patron 770000000011 of a
    /// bigint column, but as text they match nothing, and the hold would protect nothing. So each
    /// value is read by the server as the type of every patron (or library) column of the policies
    /// the hold covers and stored in the one form they agree on.
    public static func canonicalScope(_ scope: HoldScope, policies: [Policy], on connection: Connection) throws -> HoldScope {
        var scope = scope
        for (field, text) in [("policy", scope.policy), ("patron", scope.patron), ("library", scope.library)] {
            if let text, text.unicodeScalars.contains(where: \.isControlCharacter) {
                // A patron identifier is personal data: the message names the option, not the value.
                let shown = field == "patron" ? "--patron" : "--\(field) '\(visible(text))'"
                throw UsageError("\(shown) holds a control character", exitCode: .usage)
            }
        }
        let covered = policies.filter { scope.policy == nil || $0.name == scope.policy }
        if let patron = scope.patron {
            scope.patron = try canonical(patron, option: "--patron", what: "patron",
                                         columns: covered.compactMap { policy in policy.patron.map { (policy, $0) } },
                                         on: connection)
        }
        if let library = scope.library {
            let columns = covered.compactMap { policy in policy.libraries.map { (policy, $0.column) } }
            let canonicalLibrary = try canonical(library, option: "--library", what: "library", columns: columns, on: connection)
            try requireKnownLibrary(canonicalLibrary, columns: columns, on: connection)
            scope.library = canonicalLibrary
        }
        return scope
    }

    /// Refuses (64) a library that no policy names in `libraries` and no row of a policy's
    /// library column holds: a typo would otherwise hold nothing (or, by the scope rule, freeze
    /// every policy without libraries). Where the user may not read a library column, it says so.
    static func requireKnownLibrary(_ library: String, columns: [(Policy, String)], on connection: Connection) throws {
        if columns.contains(where: { policy, _ in policy.libraries?.named.contains(library) == true }) { return }
        var read: [String] = [], unchecked: [String] = []
        for (policy, column) in columns {
            let name = "\(policy.table).\(visible(column))"
            guard try mayRead(column, of: policy.table, on: connection) else {
                unchecked.append(name)
                continue
            }
            // The names are the catalog-checked policy's, quoted; the value is bound.
            let found = try connection.query(unsafeSQL: """
                SELECT EXISTS (SELECT 1 FROM \(policy.table.sql) WHERE \(quoteIdentifier(column))::text = $1) AS found
                """, [library]).single().bool("found")
            if found { return }
            read.append(name)
        }
        var reason = "no policy's libraries (retain or names) names it"
        if !read.isEmpty { reason += ", no row of \(read.joined(separator: ", ")) holds it" }
        if !unchecked.isEmpty { reason += ", and this user may not read \(unchecked.joined(separator: ", ")) to look further" }
        throw UsageError("--library \(visible(library)): \(reason); check the value", exitCode: .usage)
    }

    /// Whether this user may read `column` of `table`: where not, a hold's checks do not look, and say so.
    static func mayRead(_ column: String, of table: QualifiedName, on connection: Connection) throws -> Bool {
        try connection.query("""
            SELECT coalesce(pg_catalog.has_column_privilege(pg_catalog.to_regclass($1), $2, 'SELECT'), false) AS readable
            """, [table.sql, column]).single().bool("readable")
    }

    /// The policies a hold keeps whole because they cannot test one of its fields: a patron hold
    /// on a policy without `patron`, a library hold on one without `libraries`.
    public static func keptWhole(by scope: HoldScope, policies: [Policy]) -> [String] {
        policies.filter { policy in
            (scope.policy == nil || scope.policy == policy.name)
                && ((scope.patron != nil && policy.patron == nil) || (scope.library != nil && policy.libraries == nil))
        }.map(\.name)
    }

    /// How many holds `unmatched` checks one by one.
    static let checkedAtMost = 2_000

    /// `value` read as the type of each column; the one text they agree on, or a usage error (64).
    private static func canonical(_ value: String, option: String, what: String, columns: [(Policy, String)],
                                  on connection: Connection) throws -> String {
        // Not trimmed: `A4711 ` is a card of its own in a text column (an integer column reads ` 4711` as 4711 itself).
        let trimmed = value
        // A patron identifier is personal data: messages name the option, not the value.
        let shown = what == "patron" ? option : "\(option) \(visible(trimmed))"
        guard !trimmed.trimmingCharacters(in: .whitespaces).isEmpty else { throw UsageError("\(option) is empty", exitCode: .usage) }
        guard !columns.isEmpty else {
            throw UsageError("\(shown): no policy in the hold's scope has a \(what) "
                             + "column (`\(what == "patron" ? "patron:" : "libraries:")` in its file), so the hold could not tell "
                             + "these records apart; scope it with --policy instead", exitCode: .usage)
        }
        var readings: [(policy: String, text: String, column: Catalog.Column, numeric: Bool)] = []
        var refusals: [String] = []
        for (policy, column) in columns {
            guard let relation = try Catalog.relation(policy.table, on: connection), let target = relation.columns[column] else {
                refusals.append("\(policy.name): \(policy.table).\(visible(column)) does not exist")
                continue
            }
            // As an assignment reads it: a value longer than a varchar(5) is refused, never cut to another card.
            switch try Catalog.fitting(trimmed, to: target, on: connection) {
            case .fits(let text?):
                let numeric = try Catalog.comparesAsNumber(target, on: connection)
                readings.append((policy.name, text, target, numeric))
            case .fits(nil): break
            case .refused: refusals.append("\(policy.name): not a value of \(policy.table).\(visible(column)) (\(target.fullTypeName))")
            }
        }
        guard let first = readings.first else {
            throw UsageError("\(shown) matches no record: " + refusals.joined(separator: "; "), exitCode: .usage)
        }
        // A hold that some of its policies cannot read would hold nothing there (`4711.0` in a bigint column).
        if !refusals.isEmpty {
            throw UsageError("\(shown) would hold nothing in some of the policies it covers: " + refusals.joined(separator: "; ")
                             + "; place one hold per policy with --policy, in each column's own form", exitCode: .usage)
        }
        // A numeric column compares as numbers (`4711` holds `4711.0`): one text that every other
        // column writes alike and every numeric one reads as its own value serves them all.
        var texts: [String] = []
        for reading in readings where !texts.contains(reading.text) { texts.append(reading.text) }
        for text in texts where texts.count > 1 {
            let servesAll = try readings.allSatisfy { reading in
                if reading.text == text { return true }
                guard reading.numeric, case .fits(let read?) = try Catalog.fitting(text, to: reading.column, on: connection) else { return false }
                return read == reading.text
            }
            if servesAll { return text }
        }
        if let other = readings.first(where: { $0.text != first.text }) {
            let readings = what == "patron" ? "two different values" : "\(visible(first.text)) and \(visible(other.text))"
            throw UsageError("\(shown) reads as \(readings) in policies \(first.policy) and \(other.policy); "
                             + "place one hold per policy with --policy",
                             exitCode: .usage)
        }
        return first.text
    }

    /// Warnings for a hold's patron that no row of its policies' tables holds (yet), naming the
    /// characters a person cannot see in it (a no-break space, a zero-width space, a byte order
    /// mark) or a decomposed form (`é` as `e` and an accent): such a hold most likely protects
    /// nothing. Never the value itself; tables this user may not read are not looked at.
    public static func patronWarnings(_ scope: HoldScope, policies: [Policy], on connection: Connection) throws -> [String] {
        guard let patron = scope.patron else { return [] }
        var looked: [String] = []
        for policy in policies where scope.policy == nil || policy.name == scope.policy {
            guard let column = policy.patron else { continue }
            guard try mayRead(column, of: policy.table, on: connection) else { continue }
            // The column's own equality (an unknown-typed parameter takes the column's type), as the run compares.
            let table = try connection.query("SELECT pg_catalog.to_regclass($1)::oid::text AS oid", [policy.table.sql]).single()
            let schema = try table.optional("oid").flatMap { try Catalog.operatorSchemas(of: $0, on: connection)[column] }
            let found = try connection.query(SQL("""
                SELECT EXISTS (SELECT 1 FROM \(policy.table) WHERE \(name: column) \(SQL.op("=", in: schema)) \(bind: patron)) AS found
                """).statement).single().bool("found")
            if found { return [] }
            looked.append("\(policy.table).\(visible(column))")
        }
        guard !looked.isEmpty else { return [] }
        var unseen: [String] = []
        for (offset, scalar) in patron.unicodeScalars.enumerated()
        where scalar.properties.generalCategory == .format || (scalar.properties.isWhitespace && scalar != " ") {
            unseen.append(String(format: "U+%04X", scalar.value) + " \(scalar.properties.name ?? "") at character \(offset + 1)")
        }
        var line = "--patron matches no row of \(looked.joined(separator: ", ")) yet; the hold is placed, but check the value"
        if !unseen.isEmpty {
            line += ": it holds characters one cannot see (\(unseen.joined(separator: ", ")))"
        } else if !patron.precomposedStringWithCanonicalMapping.unicodeScalars.elementsEqual(patron.unicodeScalars) {
            line += ": it is in decomposed form (a letter and its accent as two characters), which a column rarely holds"
        }
        return [line]
    }

    /// Places a hold and returns its id. Throws 64 for an empty reference or a window that is not a
    /// window, 78 for a time zone the server does not know.
    ///
    /// A window is whole calendar days in `scope.timeZone` (the `timezone` setting, else the server's
    /// `TimeZone`): stored as that zone's midnights with the zone, so the clerk's session time zone
    /// never moves the days, and a run compares a `date` column with the days themselves.
    /// Returns the hold's id and its scope as placed (with the zone of its window).
    public static func place(reference: String, reason: String, scope: HoldScope, covered: String? = nil,
                             on connection: Connection) throws -> (id: Int64, scope: HoldScope) {
        guard !reference.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw UsageError("a hold needs --reference: the court order or case number", exitCode: .usage)
        }
        // Every manifest repeats them, and the report prints them on its cover's page of holds.
        guard reference.count <= 200, reason.count <= 1_000 else {
            throw UsageError("\(reference.count > 200 ? "--reference is longer than 200 characters" : "--reason is longer than 1,000 characters"): "
                             + "name the court order and its case, and keep the file elsewhere", exitCode: .usage)
        }
        try refusePatronData(reference: reference, reason: reason, patron: scope.patron)
        for (option, date) in [("--from", scope.from), ("--until", scope.until)] {
            if let date, date.range(of: #"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"#, options: .regularExpression) == nil {
                throw UsageError("\(option) \(visible(date)): give a calendar date like 2026-03-01 (a hold's window is whole days "
                                 + "in the time zone \(visible(scope.timeZone ?? "of the server"))); use --from/--until", exitCode: .usage)
            }
            if let date, ReportRequest.day(date) == nil {
                throw UsageError("\(option) \(visible(date)) is no day of the calendar; give a date like 2026-02-28", exitCode: .usage)
            }
        }
        var scope = scope
        if let zone = scope.timeZone, scope.from != nil || scope.until != nil,
           try !connection.query("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = $1) AS known", [zone])
            .single().bool("known") {
            throw UsageError("time zone \(visible(zone)) (the timezone setting) is not a zone name the server knows, like "
                             + "America/New_York (an offset such as UTC+5 reads the POSIX way, the other way round)", exitCode: .config)
        }
        if scope.from != nil || scope.until != nil, scope.timeZone == nil {
            // The server's zone (its configuration, the database's or the role's setting), not one the
            // clerk's own environment sent along (PGOPTIONS="-c TimeZone=..."): that would move the days.
            let zone = try connection.query("""
                SELECT setting, source FROM pg_catalog.pg_settings WHERE name = 'TimeZone'
                """).single()
            guard try zone.string("source") != "client" else {
                throw UsageError("the session's time zone was set by this client (PGOPTIONS or PGTZ), so it may not be the "
                                 + "server's; set the timezone setting (RETENTION_TIMEZONE or timezone in the config file) to "
                                 + "the zone whose days the hold means", exitCode: .config)
            }
            scope.timeZone = try zone.string("setting")
        } else if scope.from == nil && scope.until == nil {
            scope.timeZone = nil
        }
        let zone = scope.timeZone ?? "UTC"
        do {
            // After the purge batches in flight (`HoldLock`), and dated when it is in force.
            let id = try connection.transaction {
                try HoldLock.takeForPlacing(on: connection)
                return try connection.query("""
                INSERT INTO retention.holds (reference, reason, patron, policy, library, held_from, held_until, time_zone, placed_at,
                                           placed_by_user, covered)
                VALUES ($1, $2, $3, $4, $5,
                        -- A day's first instant: where midnight happens twice (clocks back at midnight), the
                        -- earlier one, reached from the hour before it.
                        least($6::date::timestamp AT TIME ZONE $8, ($6::date::timestamp - interval '1 hour') AT TIME ZONE $8 + interval '1 hour'),
                        least($7::date::timestamp AT TIME ZONE $8, ($7::date::timestamp - interval '1 hour') AT TIME ZONE $8 + interval '1 hour'),
                        CASE WHEN $6 IS NULL AND $7 IS NULL THEN NULL ELSE $8 END, pg_catalog.clock_timestamp(), $9, $10::jsonb)
                RETURNING id
                """, [reference, reason, scope.patron, scope.policy, scope.library, scope.from, scope.until, zone,
                      SystemUser.current, covered]).single().int64("id")
            }
            return (id, scope)
        } catch let error as DatabaseError where error.sqlState == "55P03" {
            throw UsageError("a purge batch has been running on these tables for longer than the lock timeout; the hold "
                             + "was not placed: try again in a moment", exitCode: .tempFail)
        } catch let error as DatabaseError where error.sqlState == "22023" {
            throw UsageError("time zone \(visible(zone)) (the timezone setting) is not one the server knows: \(error.message)",
                             exitCode: .config)
        } catch let error as DatabaseError where error.sqlState?.hasPrefix("22") == true {
            throw UsageError("--from/--until: \(error.message); use a date like 2025-01-31", exitCode: .usage)
        } catch let error as DatabaseError where error.sqlState == "23514" {
            throw UsageError("--from must be before --until", exitCode: .usage)
        }
    }

    /// The holds, active ones only unless `includeReleased`, oldest first.
    public static func list(includeReleased: Bool, on connection: Connection) throws -> [Hold] {
        let canSeePatrons = try mayShowPatrons(on: connection)
        let rows = try connection.query("""
            SELECT id, reference, reason, placed_by,
                   to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS placed_at,
                   patron, policy, library,
                   CASE WHEN time_zone IS NULL
                        THEN to_char(held_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
                        ELSE to_char(held_from AT TIME ZONE time_zone, 'YYYY-MM-DD') END AS held_from,
                   CASE WHEN time_zone IS NULL
                        THEN to_char(held_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
                        ELSE to_char(held_until AT TIME ZONE time_zone, 'YYYY-MM-DD') END AS held_until,
                   time_zone,
                   released_by,
                   to_char(released_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS released_at
            FROM retention.holds
            WHERE $1::bool OR released_at IS NULL
            ORDER BY id
            """, [includeReleased ? "true" : "false"]).rows
        return try rows.map { row in
            let patron = try row.optional("patron")
            return Hold(id: try row.int64("id"), reference: try row.string("reference"), reason: try row.string("reason"),
                        placedBy: try row.string("placed_by"), placedAt: try row.string("placed_at"),
                        patron: canSeePatrons ? patron : nil, patronHidden: !canSeePatrons && patron != nil,
                        policy: try row.optional("policy"), library: try row.optional("library"),
                        heldFrom: try row.optional("held_from"), heldUntil: try row.optional("held_until"),
                        timeZone: try row.optional("time_zone"),
                        releasedBy: try row.optional("released_by"), releasedAt: try row.optional("released_at"))
        }
    }

    /// Releases an active hold, recording who and when; 64 when there is no such active hold.
    public static func release(id: Int64, on connection: Connection) throws {
        let released = try connection.query("""
            UPDATE retention.holds SET released_by = current_user, released_at = now(), released_by_user = $2
            WHERE id = $1::int8 AND released_at IS NULL RETURNING id
            """, [String(id), SystemUser.current])
        guard released.rows.isEmpty else { return }
        let existing = try connection.query("""
            SELECT released_by, to_char(released_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS released_at
            FROM retention.holds WHERE id = $1::int8
            """, [String(id)])
        if let row = existing.rows.first {
            throw UsageError("hold \(id) was already released by \(visible(try row.optional("released_by") ?? "?")) "
                             + "at \(try row.optional("released_at") ?? "?")", exitCode: .usage)
        }
        throw UsageError("there is no hold \(id)", exitCode: .usage)
    }

    /// Whether this user may see holds' patron identifiers: a member of retention_holds, or a superuser.
    static func mayShowPatrons(on connection: Connection) throws -> Bool {
        try connection.query("""
            SELECT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
                OR coalesce((SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_catalog.pg_roles
                             WHERE rolname = 'retention_holds'), false) AS may
            """).single().bool("may")
    }
}
