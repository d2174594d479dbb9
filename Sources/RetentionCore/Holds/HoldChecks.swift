import Foundation

/// Active holds read back as their policies' columns read them: warnings for `check --catalog`,
/// a refusal for a plan or run that could not keep a hold's rows.
extension Holds {
    /// One line per active hold whose patron or library is not written as its policies' columns
    /// write it (placed by hand or by an older version), so it may hold nothing; for `check --catalog`.
    /// (Holds the run could not apply at all refuse every command that resolves the policies:
    /// `blindSpots`.) Each hold costs a few round trips, so the newest `checkedAtMost` are checked
    /// and a line says how many were not.
    public static func unmatched(policies: [Policy], on connection: Connection) throws -> [String] {
        let (found, active) = try misread(policies: policies, on: connection)
        var lines: [String] = []
        if active > Int64(checkedAtMost) {
            lines.append("\(active) active holds name a patron or library; the newest \(checkedAtMost) were checked against "
                         + "the columns, \(active - Int64(checkedAtMost)) were not")
        }
        for (id, problem) in found {
            switch problem {
            case .miswritten(let field):
                lines.append("hold \(id): its \(field) is not written as the policies' column writes it, so it holds nothing; "
                             + "release it and place it again")
            case .unreadable:
                // The reason would show the patron; a log line never does.
                lines.append("hold \(id): its patron or library is no value of some of its policies' columns, "
                             + "so it holds nothing there; `retention hold list` shows it")
            }
        }
        return lines
    }

    /// Refuses (78) a plan or run while an active hold's patron or library is no label of the enum
    /// type of a covered policy's column any more (`ALTER TYPE ... RENAME VALUE`): the value was one
    /// when the hold was placed, so the rows it kept now read otherwise and the run would purge them.
    /// (A value some column could never read holds nothing there, as `hold place` says.)
    ///
    /// The holds are those the policy's purge honours: its own and those of the policies that
    /// purge the same rows (`sameRows`), which `--only` may leave out of the run.
    static func requireReadable(_ resolved: [ResolvedPolicy], on connection: Connection) throws {
        var ids: Set<Int64> = []
        for entry in resolved {
            let policy = entry.policy
            for (field, column) in [("patron", policy.patron), ("library", policy.libraries?.column)] {
                guard let column else { continue }
                // `field` is one of two fixed names.
                for row in try connection.query(unsafeSQL: """
                    WITH enum AS (
                        SELECT CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END AS oid
                        FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                        WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attname = $2)
                    SELECT h.id FROM retention.holds h, enum
                    WHERE h.released_at IS NULL AND h.\(field) IS NOT NULL AND (h.policy IS NULL OR h.policy = ANY ($3::text[]))
                      AND (SELECT t.typtype FROM pg_catalog.pg_type t WHERE t.oid = enum.oid) = 'e'
                      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_enum e WHERE e.enumtypid = enum.oid AND e.enumlabel = h.\(field))
                    """, [policy.table.sql, column, SQL.arrayLiteral([policy.name] + entry.sameRows)]).rows {
                    ids.insert(try row.int64("id"))
                }
            }
        }
        guard !ids.isEmpty else { return }
        let sorted = ids.sorted()
        throw UsageError("active hold\(sorted.count == 1 ? "" : "s") \(sorted.map(String.init).joined(separator: ", ")): the patron or "
                         + "library is no label of its policies' enum column any more (ALTER TYPE ... RENAME VALUE), so the run "
                         + "could not keep its rows; release and place \(sorted.count == 1 ? "it" : "them") again with the label as the "
                         + "column now writes it (`retention hold list` shows it)", exitCode: .config)
    }

    enum Misread { case miswritten(String), unreadable }

    /// The newest `checkedAtMost` active holds naming a patron or library, read as their policies'
    /// columns read them: those that do not read back as stored, and how many are active.
    private static func misread(policies: [Policy], on connection: Connection) throws -> (found: [(Int64, Misread)], active: Int64) {
        let holds = try connection.query("""
            SELECT id, patron, library, policy, count(*) OVER () AS active FROM retention.holds
            WHERE released_at IS NULL AND (patron IS NOT NULL OR library IS NOT NULL) ORDER BY id DESC LIMIT $1::int8
            """, [String(checkedAtMost)]).rows
        var found: [(Int64, Misread)] = []
        for hold in holds {
            let id = try hold.int64("id")
            let scope = HoldScope(patron: try hold.optional("patron"), policy: try hold.optional("policy"),
                                  library: try hold.optional("library"))
            guard scope.policy == nil || policies.contains(where: { $0.name == scope.policy }) else { continue }
            do {
                let canonical = try canonicalScope(scope, policies: policies, on: connection)
                if canonical.patron != scope.patron || canonical.library != scope.library {
                    found.append((id, .miswritten(canonical.patron != scope.patron ? "patron" : "library")))
                }
            } catch is UsageError {
                found.append((id, .unreadable))
            }
        }
        return (found, try holds.first?.int64("active") ?? 0)
    }
}
