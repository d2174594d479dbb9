/// Catalog checks of what a policy keeps by count and by the patron's choice: `keep_newest` and
/// consent's `since`, `keep_for`, `keep_newest` and `rank_by`.
extension Catalog {
    /// The types a column that dates or counts may have, by what it is for.
    private static let dateTypes: Set<String> = ["date", "timestamp without time zone", "timestamp with time zone"]
    private static let countTypes: Set<String> = ["smallint", "integer", "bigint"]

    /// Checks `keep_newest`'s columns in the policy's table.
    static func checkKeepNewest(_ policy: Policy, table: Relation, check: inout PolicyCheck) {
        guard let newest = policy.keepNewest else { return }
        for (name, key, role) in [(newest.per, PolicyKeyPath.keepNewestPer, "keep_newest.per"),
                                  (newest.order, .keepNewestOrder, "keep_newest.order")] where table.columns[name] == nil {
            check.fail("column \(visible(name)) (\(role)) does not exist in \(policy.table)", at: key)
        }
        if let per = table.columns[newest.per], per.fullTypeName.hasSuffix("]") {
            check.fail("keep_newest.per column \(visible(per.name)) of \(policy.table) is an array (\(per.fullTypeName)); name a "
                       + "column whose value names the group (a copy, an item)", at: .keepNewestPer)
        }
    }

    /// Checks consent's limits: their columns in the consent table, and `rank_by`'s in the policy's.
    static func checkConsentLimits(_ policy: Policy, table: Relation, consentTable: Relation, check: inout PolicyCheck) {
        guard let consent = policy.consent else { return }
        let limits: [(String?, PolicyKeyPath, String, Set<String>, String)] = [
            (consent.since, .consentSince, "since", dateTypes, "date, timestamp or timestamptz"),
            (consent.keepFor, .consentKeepFor, "keep_for", ["interval"], "interval"),
            (consent.keepNewest, .consentKeepNewest, "keep_newest", countTypes, "smallint, integer or bigint"),
        ]
        for (name, key, role, types, expected) in limits {
            guard let name else { continue }
            guard let column = consentTable.columns[name] else {
                check.fail("consent \(role) column \(visible(name)) does not exist in \(consent.table)", at: key)
                continue
            }
            if !types.contains(column.typeName) {
                check.fail("consent \(role) column \(visible(name)) of \(consent.table) is \(column.typeName); expected \(expected)", at: key)
            }
        }
        // The ranking columns matter for `keep_newest` only (the age column is checked on its own).
        guard consent.keepNewest != nil, !consent.rankBy.isEmpty else { return }
        let rankBy = consent.rankBy
        var rankTypes: Set<String> = []
        for name in rankBy {
            guard let column = table.columns[name] else {
                check.fail("consent rank_by column \(visible(name)) does not exist in \(policy.table)", at: .consentRankBy)
                continue
            }
            rankTypes.insert(column.typeName)
        }
        if rankTypes.count > 1 {
            check.fail("consent rank_by columns \(rankBy.map(visible).joined(separator: ", ")) of \(policy.table) have different "
                       + "types (\(rankTypes.sorted().joined(separator: ", "))); the first that is set orders a patron's rows, so "
                       + "give columns of one type", at: .consentRankBy)
        }
    }
}
