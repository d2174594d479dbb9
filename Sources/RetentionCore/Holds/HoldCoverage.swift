import Foundation

/// What a hold covered when it was placed: per policy, the table and the columns (with their
/// types) it was matched against, recorded with the hold (`retention.holds.covered`).
///
/// A hold names a policy by name and a patron by value. If a later policy file gives that name to
/// another table, or the policy reads the patron from another column, or the column's type changes
/// so that the stored value no longer reads as one of its values, the hold would move to other
/// rows or hold nothing, silently; a run refuses instead (`Holds.movedHolds`).
public enum HoldCoverage {
    /// The record of `scope` over the policies it covers, as JSON text for the hold's row.
    public static func record(_ scope: HoldScope, policies: [Policy], on connection: Connection) throws -> String {
        var covered: [String: JSONValue] = [:]
        for policy in policies where scope.policy == nil || scope.policy == policy.name {
            let relation = try Catalog.relation(policy.table, on: connection)
            var entry: [String: JSONValue] = ["table": .string(policy.table.description)]
            for (field, column) in [("patron", policy.patron), ("library", policy.libraries?.column)] {
                guard let column else { continue }
                entry[field] = .string(column)
                if let type = relation?.columns[column]?.fullTypeName { entry[field + "_type"] = .string(type) }
            }
            covered[policy.name] = .object(entry)
        }
        return JSONValue.object(covered).canonicalString
    }
}

extension Holds {
    /// One line per active hold that would no longer keep what it kept when placed: a covered
    /// policy now purges another table or reads the held patron or library from another column, or
    /// the column's new type does not read the held value. (Holds placed before coverage was
    /// recorded are not checked here.)
    static func movedHolds(_ resolved: [ResolvedPolicy], on connection: Connection) throws -> [String] {
        let holds = try connection.query("""
            SELECT id, covered::text AS covered, patron IS NOT NULL AS patron, library IS NOT NULL AS library
            FROM retention.holds WHERE released_at IS NULL AND covered IS NOT NULL ORDER BY id
            """).rows
        var lines: [String] = []
        for hold in holds {
            let id = try hold.int64("id")
            guard let covered = try JSONValue.parse(Data(try hold.string("covered").utf8)).object else { continue }
            for policy in resolved {
                guard let was = covered[policy.policy.name]?.object else { continue }
                let now = policy.policy
                if let table = was["table"]?.string, table != now.table.description {
                    lines.append("hold \(id) was placed while policy \(now.name) purged \(visible(table)); it now purges \(now.table), "
                                 + "so the hold would keep other rows than the court order's and let those be purged")
                    continue
                }
                for (field, held, column, type) in [("patron", try hold.bool("patron"), now.patron, policy.patronType),
                                                    ("library", try hold.bool("library"), now.libraries?.column, nil as String?)] where held {
                    guard let recorded = was[field]?.string else { continue }
                    guard let column, column == recorded else {
                        lines.append("hold \(id) was matched against column \(visible(recorded)) of \(now.table) when it was placed; "
                                     + "policy \(now.name) now reads the \(field) from \(column.map(visible) ?? "no column")")
                        continue
                    }
                    // A changed type that still reads the value keeps the hold (`0001` as patron 1 of a bigint column).
                    guard field == "patron", let type, was["patron_type"]?.string != type else { continue }
                    let reads = try connection.query(SQL("""
                        SELECT (\(PurgeSQL(policy).heldPatron)) IS NOT NULL AS reads FROM retention.holds h WHERE h.id = \(bind: String(id))::int8
                        """).statement).single().bool("reads")
                    if !reads {
                        lines.append("hold \(id)'s patron no longer reads as a value of \(now.table).\(visible(column)), whose type "
                                     + "changed from \(visible(was["patron_type"]?.string ?? "?")) to \(type), so it would hold nothing")
                    }
                }
            }
        }
        return lines.map { $0 + "; release it and place it again for the rows it means (`retention hold list` shows it)" }
    }
}
