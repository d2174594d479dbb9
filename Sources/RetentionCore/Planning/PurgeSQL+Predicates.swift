/// The tests a row of the policy's table (alias `t`) goes through: age against its library's
/// cutoff, legal holds, consent, `keep_when`, and for anonymize whether it is anonymized already.
extension PurgeSQL {
    /// `age < cutoff`, with the cutoff chosen by the row's library.
    func older(_ cutoffs: Cutoffs) -> SQL {
        let type = resolved.ageType.sql
        let age = column(policy.age)
        guard !cutoffs.libraries.isEmpty else { return "\(age) < \(bind: cutoffs.standard)::\(unsafe: type)" }
        var sql: SQL = "\(age) < CASE"
        for (library, cutoff) in cutoffs.libraries {
            // By the column type's equality where it has one of its own (citext), else as text.
            let test: SQL = resolved.libraryReading.map { reading -> SQL in
                let name = policy.libraries!.column
                return "\(column(name)) \(op("=", for: name)) \(bind: library)::\(unsafe: reading.type)"
            } ?? "\(libraryValue) = \(bind: library)"
            sql += " WHEN \(test) THEN \(bind: cutoff)::\(unsafe: type)"
        }
        return sql + " ELSE \(bind: cutoffs.standard)::\(unsafe: type) END"
    }

    /// The rows the policy looks at: older than the cutoff and, for anonymize, not yet anonymized.
    func candidates(_ cutoffs: Cutoffs) -> SQL {
        [older(cutoffs), pending].compactMap { $0 }.joined(separator: " AND ")
    }

    /// A candidate that no hold, consent or `keep_when` keeps, with the hold and consent tests given
    /// (a count joins them where a purge tests them per row).
    func due(_ cutoffs: Cutoffs, held: SQL, consented: SQL) -> SQL {
        "\(candidates(cutoffs)) AND NOT \(held) AND NOT \(consented) AND NOT \(keptByRule) AND NOT \(keptAsNewest)"
    }

    // MARK: - Legal holds

    /// Holds `h` that are active and name this policy, another policy on the same table (or on a
    /// partition of it, or on the table it is a partition of), or none: the ones that may keep its rows.
    var policyHolds: SQL {
        let names = [policy.name] + resolved.sameRows
        guard names.count > 1 else { return "h.released_at IS NULL AND (h.policy IS NULL OR h.policy = \(bind: policy.name))" }
        return "h.released_at IS NULL AND (h.policy IS NULL OR h.policy = ANY (\(bind: names)))"
    }

    /// The conditions a hold's library and window put on a row.
    ///
    /// A window's bounds are midnights of the hold's time zone: a timestamptz column compares with
    /// the instants, a timestamp column with that zone's wall time, a date column with the days
    /// themselves, so neither the clerk's nor the run's session time zone moves a day. (A hold
    /// placed before zones were recorded reads in the run's zone, as it did then.)
    var holdScope: SQL {
        let age = column(policy.age)
        func bound(_ name: String) -> SQL {
            let local: SQL = "(h.\(unsafe: name) AT TIME ZONE coalesce(h.time_zone, pg_catalog.current_setting('TimeZone')))"
            switch resolved.ageType {
            case .timestamptz: return "h.\(unsafe: name)"
            case .timestamp: return local
            case .date: return local + "::date"
            }
        }
        let library: SQL = policy.libraries.map { libraries -> SQL in
            let matches: SQL = heldAs(resolved.libraryReading, field: "h.library").map { held -> SQL in
                "\(held) \(op("=", for: libraries.column)) \(column(libraries.column))"
            } ?? "h.library = \(column(libraries.column))::text"
            return " AND (h.library IS NULL OR \(matches))"
        } ?? ""
        return "(h.held_from IS NULL OR \(age) >= \(bound("held_from"))) AND (h.held_until IS NULL OR \(age) < \(bound("held_until")))"
            + library
    }

    /// Active holds without a patron (policy, library, window, global) that cover the row.
    ///
    /// For a policy without a patron column every hold counts: a hold field the policy cannot test
    /// matches, because a court order to preserve wins over a purge when the tool cannot tell the
    /// rows apart.
    var sharedHolds: SQL {
        let patronFree: SQL = policy.patron == nil ? "" : " AND h.patron IS NULL"
        return "SELECT 1 FROM retention.holds h WHERE \(policyHolds)\(patronFree) AND \(holdScope)"
    }

    /// True when an active hold naming the row's patron covers the row: by the column type's value
    /// (`heldPatron`) where it has an equality of its own, else as text.
    ///
    /// In an integer column a hold written as the column writes the value (`4711`) is found through
    /// `holds_active_patron`, an index probe; one written otherwise (`0001`, placed by hand or while
    /// the column was text) is read by value, which no index serves, so that scan runs only behind a
    /// guard the server evaluates once per statement: are there any such holds at all?
    func patronHeld(_ patron: String) -> SQL {
        let holds: SQL = "SELECT 1 FROM retention.holds h WHERE \(policyHolds)"
        let byText: SQL = "EXISTS (\(holds) AND h.patron = \(column(patron))::text AND \(holdScope))"
        guard Self.integerTypes[resolved.patronType ?? ""] != nil else {
            guard resolved.patronTextType != nil else { return byText }
            return "EXISTS (\(holds) AND \(heldPatron) \(op("=", for: patron)) \(column(patron)) AND \(holdScope))"
        }
        let canonical: SQL = "h.patron ~ \(bind: #"^(0|-?[1-9][0-9]*)$"#)"
        return "(\(byText)"
            + " OR CASE WHEN (SELECT EXISTS (\(holds) AND h.patron IS NOT NULL AND NOT \(canonical)))"
            + " THEN EXISTS (\(holds) AND NOT \(canonical) AND \(heldPatron) = \(column(patron)) AND \(holdScope)) ELSE false END)"
    }

    /// The patrons of the policy's active holds as `heldPatron` reads them, so rows are looked up
    /// without turning each patron into text. Column: `p`.
    var heldPatrons: SQL {
        "SELECT v.p FROM (SELECT \(heldPatron) AS p FROM retention.holds h WHERE \(policyHolds) AND h.patron IS NOT NULL) v"
            + " WHERE v.p IS NOT NULL"
    }

    /// A hold's patron (`h.patron`) as the run compares it with the patron column, as the column
    /// reads it: in the column's integer type (`0001` and `+1` are patron 1, as an `UPDATE`
    /// assigning them would store 1: a hold placed while the column was text still holds after it
    /// became a bigint), or by its type's own equality (citext, numeric), or as text. NULL where the
    /// text is no value of the column (`LIB-X` in an integer column), so a hold for another
    /// policy's column never fails the statement.
    var heldPatron: SQL {
        guard let type = resolved.patronType, let range = Self.integerTypes[type] else {
            // A text-like or numeric column compares by its own type's equality (citext, 4711.0).
            return heldAs(resolved.patronTextType) ?? "h.patron"
        }
        // Nested, so the cast runs only on digits (the server may evaluate `AND`'s sides in any order).
        return "CASE WHEN h.patron ~ \(bind: #"^\s*[+-]?[0-9]+\s*$"#) THEN CASE WHEN h.patron::numeric BETWEEN \(unsafe: range)"
            + " THEN h.patron::numeric::\(unsafe: type) END END"
    }

    /// The integer types a held patron's text is read as, with their range.
    static let integerTypes = ["smallint": "-32768 AND 32767", "integer": "-2147483648 AND 2147483647",
                               "bigint": "-9223372036854775808 AND 9223372036854775807"]

    /// A hold's patron read as `reading`'s type, NULL where it does not match its pattern (a hold
    /// for another policy's column must not fail the statement); `nil` without a reading.
    func heldAs(_ reading: ResolvedPolicy.ValueReading?, field: String = "h.patron") -> SQL? {
        guard let reading else { return nil }
        guard let pattern = reading.guardPattern else { return "\(unsafe: field)::\(unsafe: reading.type)" }
        return "CASE WHEN \(unsafe: field) ~ \(bind: pattern) THEN \(unsafe: field)::\(unsafe: reading.type) END"
    }

    /// The patron column as `heldPatrons` compares it: itself for an integer or text-like type (then
    /// with the type's own equality: case-insensitive for citext), else as text.
    func patronKey(_ patron: String) -> SQL {
        Self.integerTypes[resolved.patronType ?? ""] != nil || resolved.patronTextType != nil ? column(patron) : column(patron) + "::text"
    }

    /// True when an active legal hold covers the row, as cheap as the holds allow.
    ///
    /// With no hold, nothing is tested. Otherwise each probe runs only behind guards: ones the server
    /// evaluates once per statement (are there any holds, any without a patron?) and one per row
    /// from a hash (is this patron held at all?). (`countQuery` joins the held patrons instead when
    /// only plain patron holds apply.)
    func held(_ shape: HoldShape) -> SQL {
        guard shape != .none else { return "false" }
        guard let patron = policy.patron else {
            // Every hold counts here, patron holds included (`sharedHolds`).
            return "CASE WHEN (SELECT EXISTS (SELECT 1 FROM retention.holds h WHERE \(policyHolds)))"
                + " THEN EXISTS (\(sharedHolds)) ELSE false END"
        }
        return "CASE WHEN (SELECT EXISTS (SELECT 1 FROM retention.holds h WHERE \(policyHolds))) THEN"
            + " CASE WHEN (SELECT EXISTS (SELECT 1 FROM retention.holds h WHERE \(policyHolds) AND h.patron IS NULL))"
            + " THEN EXISTS (\(sharedHolds)) ELSE false END"
            + " OR CASE WHEN \(among(patronKey(patron), heldPatrons, by: patron))"
            + " THEN \(patronHeld(patron)) ELSE false END"
            + " ELSE false END"
    }

    // MARK: - Consent

    /// True when the row's patron chose to keep their history.
    ///
    /// The server hashes the consenting patrons once per statement instead of probing per row (read
    /// straight from the table or a partial index: a `WITH` entry would first copy them, and keep the
    /// server from counting in parallel).
    var consented: SQL {
        guard let consent = policy.consent, let patron = policy.patron else { return "false" }
        // A patron's choice of how much to keep is tested row by row.
        if consent.limited { return consentedPerRow }
        // The bare boolean (not `IS TRUE`, same rows) lets a partial index `WHERE keep_if` serve it.
        return "COALESCE(" + among(column(patron), "SELECT \(consentKey(consent, patron: patron)) FROM \(consent.table) c"
                                   + " WHERE c.\(name: consent.keepIf)", by: patron) + ", false)"
    }

    /// The consent table's key (alias `c`) as it compares with the patron column: cast to the
    /// patron type where that compares by operators of its own (citext's take only citext).
    func consentKey(_ consent: Policy.Consent, patron: String) -> SQL {
        let key: SQL = "c.\(name: consent.key)"
        guard resolved.operatorSchemas[patron] != nil, let reading = resolved.patronTextType else { return key }
        return "\(key)::\(unsafe: reading.type)"
    }

    /// True when the row's patron chose to keep their history, looked up in the consent table's
    /// index row by row where it has one (`ResolvedPolicy.consentIndexed`), else `consented`.
    ///
    /// For a statement that tests few rows: hashing every consenting patron costs about 0.2 µs
    /// each (20 ms per statement for 99,500 of them), a lookup about 1.1 µs per row tested. A scalar
    /// subquery, because the server turns an `IN` or `EXISTS` into that hash again.
    var consentedPerRow: SQL {
        guard let consent = policy.consent, let patron = policy.patron, resolved.consentIndexed || consent.limited else { return consented }
        return "COALESCE((SELECT true FROM \(consent.table) c WHERE \(consentKey(consent, patron: patron)) \(op("=", for: patron)) \(column(patron))"
            + " AND c.\(name: consent.keepIf)\(consentLimits(consent, patron: patron)) LIMIT 1), false)"
    }

    /// What a patron's consent row `c` keeps of the row `t`, as the patron chose: rows dated from
    /// `since`, younger than `keep_for`, among their `keep_newest` newest (ranked by `rank_by`, the
    /// first column set; ties share a place, as SQL's `rank()`). A NULL in the patron's row sets no
    /// limit; `keep_newest` of 0 or less keeps none by count. Empty without limits.
    func consentLimits(_ consent: Policy.Consent, patron: String) -> SQL {
        let age = column(policy.age)
        var limits: [SQL] = []
        if let since = consent.since {
            limits.append("(c.\(name: since) IS NULL OR \(age) >= c.\(name: since))")
        }
        if let keepFor = consent.keepFor {
            // Clamped, so that a patron's "forever" (`10000 years`) keeps their rows instead of
            // taking the cutoff past the earliest timestamp and failing every night.
            let clamped: SQL = "LEAST(GREATEST(c.\(name: keepFor), interval '-5000 years'), interval '5000 years')"
            limits.append("(c.\(name: keepFor) IS NULL OR \(age) > pg_catalog.now() - \(clamped))")
        }
        if let newest = consent.keepNewest {
            let rankBy = consent.rankBy.isEmpty ? [policy.age] : consent.rankBy
            func rank(_ alias: String) -> SQL {
                guard rankBy.count > 1 else { return "\(unsafe: alias).\(name: rankBy[0])" }
                return "COALESCE(" + rankBy.map { name -> SQL in "\(unsafe: alias).\(name: name)" }.joined(separator: ", ") + ")"
            }
            limits.append("(c.\(name: newest) IS NULL OR (c.\(name: newest) > 0 AND NOT EXISTS (SELECT 1 FROM \(policy.table) x"
                          + " WHERE x.\(name: patron) \(op("=", for: patron)) \(column(patron)) AND \(rank("x")) > \(rank("t"))"
                          + " OFFSET c.\(name: newest) - 1 LIMIT 1)))")
        }
        return limits.isEmpty ? "" : " AND " + limits.joined(separator: " AND ")
    }

    /// Whether a batch spanning `keys` keys tests consent faster by looking each row's patron up
    /// than by hashing all `consenting` patrons: the hash costs about 0.2 µs per patron, a lookup
    /// about 1.1 µs per row (measured at 20M loans, a batch of 17,000 keys and 14,800 candidate
    /// rows: 20 ms to hash 99,500 patrons, 17 ms to look the rows up), so past four patrons per key
    /// the lookups win.
    static func looksUpConsent(consenting: Int64?, keys: Int64) -> Bool {
        consenting.map { $0 > 4 * keys } ?? false
    }

    // MARK: - keep_newest

    /// True when the row is among the newest `count` of its group by `order` (ties share a place,
    /// as SQL's `rank()`), or its group has no more than `count` ended rows (age column set): as
    /// Evergreen's circulation history keeps the newest loans of each copy. With renewal chains
    /// (a delete policy on a table with a foreign key into itself) chains are counted by their
    /// first row, which alone carries the reason: the chain stays with it. A row whose group is NULL
    /// belongs to none. Each test reads the group's newer rows through an index on `per` (best on
    /// `per` and `order`): cheap for a copy's loans, slow for a group of many thousands. How many
    /// ended rows a group has is read as the statement finds the group: a batch purges a group's
    /// due rows together (`purgeStatement`'s `grouped`).
    var keptAsNewest: SQL {
        guard let newest = policy.keepNewest else { return "false" }
        let table = policy.table, per = newest.per, order = newest.order
        let group: SQL = "x.\(name: per) \(op("=", for: per)) \(column(per)) AND \(firstOfChain("x"))"
        let newer: SQL = "NOT EXISTS (SELECT 1 FROM \(table) x WHERE \(group) AND x.\(name: order) \(op(">", for: order)) \(column(order))"
            + " OFFSET \(bind: String(newest.count - 1))::int8 LIMIT 1)"
        let few: SQL = "NOT EXISTS (SELECT 1 FROM \(table) x WHERE \(group) AND x.\(name: policy.age) IS NOT NULL"
            + " OFFSET \(bind: String(newest.count))::int8 LIMIT 1)"
        return "(\(column(per)) IS NOT NULL AND \(firstOfChain("t")) AND (\(newer) OR \(few)))"
    }

    /// True when row `alias` points to no other row of its table through a self-reference: a
    /// chain's first row (every row, without self-references).
    func firstOfChain(_ alias: String) -> SQL {
        guard !selfReferences.isEmpty else { return "true" }
        return selfReferences.map { ref -> SQL in
            "(" + ref.columns.map { name -> SQL in "\(unsafe: alias).\(name: name) IS NULL" }.joined(separator: " OR ") + ")"
        }.joined(separator: " AND ")
    }

    // MARK: - keep_when and anonymized rows

    /// True when any `keep_when` condition matches (a condition on NULL does not match).
    var keptByRule: SQL {
        guard !policy.keepWhen.isEmpty else { return "false" }
        let conditions = policy.keepWhen.map { condition -> SQL in
            let target = column(condition.column)
            switch condition.op {
            case .isNull: return "\(target) IS NULL"
            case .isNotNull: return "\(target) IS NOT NULL"
            case .in, .notIn:
                if resolved.operatorSchemas[condition.column] != nil {
                    // `x NOT IN (a, b)` is `NOT (x = a OR x = b)`, NULLs included.
                    let equal = op("=", for: condition.column)
                    let any = condition.values.map { value -> SQL in "\(target) \(equal) \(bind: value)" }.joined(separator: " OR ")
                    return "\(unsafe: condition.op == .in ? "" : "NOT ")(\(any))"
                }
                let list = condition.values.map { value -> SQL in "\(bind: value)" }.joined(separator: ", ")
                return "\(target) \(unsafe: condition.op == .in ? "IN" : "NOT IN") (\(list))"
            default:
                // The operator is one of the policy format's fixed words, checked when the file was read.
                let symbol = condition.op == .notEqual ? "<>" : condition.op.rawValue
                return "\(target) \(op(symbol, for: condition.column)) \(bind: condition.values[0])"
            }
        }
        return "COALESCE((" + conditions.joined(separator: ") OR (") + "), false)"
    }

    /// For anonymize: true while the row does not yet carry the `set` values of its marker columns.
    ///
    /// Testing a column's value needs SELECT on it, and the purger role has none on note or name
    /// columns. So when `set` clears the policy's patron column (which the purger reads anyway, for
    /// consent and holds), that column alone tells whether a row was anonymized; otherwise all `set`
    /// columns do, and the purger needs SELECT on them (`check --catalog` says so).
    var pending: SQL? {
        guard policy.action == .anonymize else { return nil }
        let done = policy.markerColumns.map { assignment -> SQL in
            let target = column(assignment.column)
            guard let value = assignment.value else { return "\(target) IS NULL" }
            return "\(target) IS NOT DISTINCT FROM \(bind: value)"
        }
        return "NOT (" + done.joined(separator: " AND ") + ")"
    }

    /// For anonymize, in a `RETURNING` list (which reads the rows as updated): true when a row still
    /// lacks the `set` values, because something (a `BEFORE UPDATE` trigger) undid the change; the
    /// batch then fails rather than count it as anonymized. `false` for delete.
    var undone: SQL { pending ?? "false" }
}
