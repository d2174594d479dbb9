import Foundation

/// What a hold covered when it was placed: per policy, the table and the columns (with their
/// types) it was matched against, recorded with the hold (`retention.holds.covered`).
///
/// A hold names a policy by name and a patron by value. If a later policy file gives that name to
/// another table, or the policy reads the patron from another column, or the column's type changes
/// so that the stored value no longer reads as one of its values, the hold would move to other
/// rows or hold nothing, silently; a run refuses instead (`Holds.movedHolds`).
public enum HoldCoverage {
    /// The record of `scope` over the policies it covers, as JSON text for the hold's row:
    /// `{"policies": {NAME: {table, patron, patron_type, library, library_type, age}}, "as_typed": BOOL}`,
    /// where `as_typed` says the stored patron is the text the clerk typed (not rewritten to the
    /// columns' form, as `0001` to `1`): only then can a policy added later be tested against it.
    public static func record(_ scope: HoldScope, policies: [Policy], asTyped: Bool = true, on connection: Connection) throws -> String {
        var covered: [String: JSONValue] = [:]
        for policy in policies where scope.policy == nil || scope.policy == policy.name {
            let relation = try Catalog.relation(policy.table, on: connection)
            // The age column too: a window is a range of its dates, and another column's dates are other rows.
            var entry: [String: JSONValue] = ["table": .string(policy.table.description), "age": .string(policy.age)]
            for (field, column) in [("patron", policy.patron), ("library", policy.libraries?.column)] {
                guard let column else { continue }
                entry[field] = .string(column)
                if let type = relation?.columns[column]?.fullTypeName { entry[field + "_type"] = .string(type) }
            }
            covered[policy.name] = .object(entry)
        }
        return JSONValue.object(["policies": .object(covered), "as_typed": .bool(asTyped)]).canonicalString
    }
}

extension HoldCoverage {
    /// Records what the active holds placed before coverage was recorded cover under `policies`
    /// (`retention setup` with the policy folder, at the upgrade): from then on a policy change that
    /// would move them is refused. Returns how many holds it recorded.
    public static func adoptUncovered(_ policies: [Policy], on connection: Connection) throws -> Int {
        let holds = try connection.query("""
            SELECT id, policy FROM retention.holds WHERE released_at IS NULL AND covered IS NULL ORDER BY id
            """).rows
        var adopted = 0
        for hold in holds {
            let policy: String? = try hold.optional("policy")
            // A hold whose policy is not in the folder keeps no record: an empty one would read as "never tested".
            guard policy == nil || policies.contains(where: { $0.name == policy }) else { continue }
            // How its patron was typed is not known: a policy added later is refused rather than guessed.
            let record = try self.record(HoldScope(policy: policy), policies: policies, asTyped: false, on: connection)
            try connection.query("UPDATE retention.holds SET covered = $2::jsonb WHERE id = $1::int8 AND covered IS NULL",
                                 [String(try hold.int64("id")), record])
            adopted += 1
        }
        return adopted
    }
}

extension Holds {
    /// How many active holds record no coverage (placed by an older version, not yet given it by `setup`).
    public static func uncovered(on connection: Connection) throws -> Int64 {
        try connection.query("SELECT count(*) AS n FROM retention.holds WHERE released_at IS NULL AND covered IS NULL")
            .single().int64("n")
    }

    /// One line per active hold that would no longer keep what it kept when placed: a policy of the
    /// folder (of this run, or one `--only` leaves out whose holds may still keep this run's rows)
    /// now purges another table or reads the held patron or library from another column; a policy
    /// of this run whose column's new type does not read the held value as it did; or a hold placed
    /// without `--policy` that now covers a policy of this run it was never tested against, whose
    /// column reads it otherwise. (Holds placed before coverage was recorded get it from `setup`.)
    static func movedHolds(_ resolved: [ResolvedPolicy], on connection: Connection) throws -> [String] {
        // The held values are compared here, never written anywhere.
        let holds = try connection.query("""
            SELECT id, covered::text AS covered, policy, patron, library, (held_from IS NOT NULL OR held_until IS NOT NULL) AS windowed
            FROM retention.holds WHERE released_at IS NULL AND covered IS NOT NULL ORDER BY id
            """).rows
        // What every policy of the folder purges and reads now; the catalog's columns of this run's, read once.
        var folder: [String: Policy.Companion] = [:]
        for policy in resolved {
            for companion in policy.policy.companions { folder[companion.name] = companion }
        }
        for policy in resolved { folder[policy.policy.name] = policy.policy.companion }
        var catalog: [String: [String: Catalog.Column]] = [:]
        for policy in resolved { catalog[policy.policy.name] = try Catalog.relation(policy.policy.table, on: connection)?.columns ?? [:] }

        var lines: [String] = []
        for hold in holds {
            let id = try hold.int64("id")
            let record = try JSONValue.parse(Data(try hold.string("covered").utf8))
            guard let covered = record["policies"]?.object else { continue }
            let scoped: String? = try hold.optional("policy")
            let values: [String: String] = ["patron": try hold.optional("patron"), "library": try hold.optional("library")]
                .compactMapValues { $0 }
            let windowed = try hold.bool("windowed")
            var moved: Set<String> = []
            for policy in folder.values.sorted(by: { $0.name < $1.name }) where scoped == nil || scoped == policy.name {
                guard let was = covered[policy.name]?.object else { continue }
                if let table = was["table"]?.string, table != policy.table.description {
                    lines.append("hold \(id) was placed while policy \(policy.name) purged \(visible(table)); it now purges "
                                 + "\(policy.table), so the hold would keep other rows than the court order's and let those be purged")
                    moved.insert(policy.name)
                    continue
                }
                // Recorded since the age column was (older records say nothing of it).
                if windowed, let age = was["age"]?.string, age != policy.age {
                    lines.append("hold \(id)'s window was matched against column \(visible(age)) of \(policy.table) when it was placed; "
                                 + "policy \(policy.name) now dates its rows by \(visible(policy.age)), so the window would hold other rows")
                    moved.insert(policy.name)
                }
                for (field, column) in [("patron", policy.patron), ("library", policy.libraryColumn)] where values[field] != nil {
                    guard let recorded = was[field]?.string, recorded != column else { continue }
                    lines.append("hold \(id) was matched against column \(visible(recorded)) of \(policy.table) when it was placed; "
                                 + "policy \(policy.name) now reads the \(field) from \(column.map(visible) ?? "no column")")
                    moved.insert(policy.name)
                }
            }
            for policy in resolved where (scoped == nil || scoped == policy.policy.name) && !moved.contains(policy.policy.name) {
                let now = policy.policy, columns = catalog[now.name] ?? [:]
                for (field, column) in [("patron", now.patron), ("library", now.libraries?.column)] {
                    guard let value = values[field], let column else { continue }
                    guard let was = covered[now.name]?.object else {
                        // Never tested against this policy: the placement rule, now. A patron rewritten at
                        // placement to other columns' form may mean another value here.
                        let rewritten = field == "patron" && !(record["as_typed"]?.bool ?? true)
                        guard try rewritten || !reads(value, in: columns[column], of: policy, on: connection) else { continue }
                        lines.append("hold \(id) was placed without --policy before policy \(now.name) was in the folder, and its "
                                     + "\(field) does not read the same in \(now.table).\(visible(column)): place one hold per policy with --policy")
                        continue
                    }
                    // A changed type that still reads the value keeps the hold (`0001` as patron 1 of a bigint column).
                    guard let type = columns[column]?.fullTypeName, was[field + "_type"]?.string != type else { continue }
                    let held = field == "patron"
                        ? try connection.query(SQL("""
                            SELECT (\(PurgeSQL(policy).heldPatron)) IS NOT NULL AS reads FROM retention.holds h WHERE h.id = \(bind: String(id))::int8
                            """).statement).single().bool("reads")
                        : try reads(value, in: columns[column], of: policy, on: connection)
                    if !held {
                        lines.append("hold \(id)'s \(field) no longer reads as a value of \(now.table).\(visible(column)), whose type "
                                     + "changed from \(visible(was[field + "_type"]?.string ?? "?")) to \(type), so it would hold nothing")
                    }
                }
            }
        }
        return lines.map { $0 + "; release it and place it again for the rows it means (`retention hold list` shows it)" }
    }

    /// Whether `value` reads as itself in `column` as the run compares it: a patron in a number
    /// column by its value (`04` is 4); a library by its value only where the run reads it as the
    /// column's type (`ResolvedPolicy.libraryReading`), else by its text, as the column writes it.
    private static func reads(_ value: String, in column: Catalog.Column?, of policy: ResolvedPolicy,
                              on connection: Connection) throws -> Bool {
        guard let column, case .fits(let text) = try Catalog.fitting(value, to: column, on: connection) else { return false }
        guard let text, text != value else { return true }
        if column.name == policy.policy.libraries?.column { return policy.libraryReading != nil }
        return try Catalog.comparesAsNumber(column, on: connection)
    }
}
