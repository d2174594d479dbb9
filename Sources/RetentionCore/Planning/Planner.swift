import Logging

/// What a policy would do to one library's rows tonight (or to all rows, for a policy without libraries).
public struct LibraryPlan: Codable, Sendable, Equatable {
    /// The library value, or `nil` for all rows of a policy without libraries (and rows whose library is NULL).
    public let library: String?
    public let retain: String
    public let cutoff: String
    public let due: Int64
    public let keptByHold: Int64
    public let keptByConsent: Int64
    public let keptByRule: Int64
    /// Age in whole days of the oldest due row; `nil` when nothing is due.
    public let oldestDueDays: Int64?
}

/// What one policy would do, per library.
public struct PolicyPlan: Codable, Sendable, Equatable {
    public let name: String
    public let version: Int
    public let table: String
    public let action: String
    public let retain: String
    public let libraries: [LibraryPlan]

    public var due: Int64 { libraries.reduce(0) { $0 + $1.due } }
    public var keptByHold: Int64 { libraries.reduce(0) { $0 + $1.keptByHold } }
    public var keptByConsent: Int64 { libraries.reduce(0) { $0 + $1.keptByConsent } }
    public var keptByRule: Int64 { libraries.reduce(0) { $0 + $1.keptByRule } }
}

/// The dry run's answer: counts, cutoffs and ages only, never a row value.
public struct PlanReport: Codable, Sendable, Equatable {
    /// The database clock when the plan was made.
    public let at: String
    public let database: String
    public let policies: [PolicyPlan]
}

/// The dry run: computes what `run` would purge, in a read-only transaction, and changes nothing.
public enum Planner {
    /// Plans every policy in one `READ ONLY` transaction, so all counts share one snapshot and clock.
    public static func plan(_ policies: [ResolvedPolicy], on connection: Connection, logger: Logger) throws -> PlanReport {
        try connection.transaction(readOnly: true) {
            let at = try connection.query("SELECT \(isoUTC("now()"))").rows[0][0] ?? ""
            var plans: [PolicyPlan] = []
            for resolved in policies {
                let cutoffs = try computeCutoffs(resolved, on: connection)
                let sql = PurgeSQL(resolved).countQuery(cutoffs: cutoffs, holds: try holdShape(resolved, on: connection))
                let result = try connection.query(sql.sql, sql.params)
                plans.append(policyPlan(resolved.policy, cutoffs: cutoffs, counts: result))
                logger.debug("planned policy", metadata: ["policy.name": "\(resolved.policy.name)"])
            }
            return PlanReport(at: at, database: connection.databaseName, policies: plans)
        }
    }

    /// Computes a policy's cutoffs on the database clock (`now()` of the current transaction).
    static func computeCutoffs(_ resolved: ResolvedPolicy, on connection: Connection) throws -> Cutoffs {
        let sql = PurgeSQL(resolved).cutoffQuery()
        let row = try connection.query(sql.sql, sql.params).rows[0].map { $0 ?? "" }
        let libraries = resolved.policy.libraries?.retain.map(\.library) ?? []
        return Cutoffs(standard: row[0], libraries: Array(zip(libraries, row.dropFirst())).map { ($0.0, $0.1) })
    }

    /// Which active holds apply to the policy now (in a plan, as of the plan's snapshot).
    static func holdShape(_ resolved: ResolvedPolicy, on connection: Connection) throws -> HoldShape {
        let sql = PurgeSQL(resolved).holdShapeQuery()
        let row = try connection.query(sql.sql, sql.params).rows[0]
        let (all, patronsOnly) = (Int(row[0] ?? "") ?? 0, Int(row[1] ?? "") ?? 0)
        return all == 0 ? .none : all == patronsOnly ? .patronsOnly : .scoped
    }

    /// Joins the count rows with the policy's libraries, so a library with its own period shows even with no rows.
    static func policyPlan(_ policy: Policy, cutoffs: Cutoffs, counts: QueryResult) -> PolicyPlan {
        var byLibrary: [String?: [String?]] = [:]
        for row in counts.rows { byLibrary[row[0]] = row }
        var order = counts.rows.map { $0[0] }
        for (library, _) in policy.libraries?.retain ?? [] where byLibrary[library] == nil {
            order.append(library)
        }
        if order.isEmpty { order = [nil] }
        let sorted = order.sorted { ($0 ?? "") < ($1 ?? "") }
        let libraries = sorted.map { library -> LibraryPlan in
            let row = byLibrary[library]
            func number(_ index: Int) -> Int64 { row?[index].flatMap { Int64($0) } ?? 0 }
            let period = policy.period(for: library)
            return LibraryPlan(library: library, retain: period.description, cutoff: cutoffs.cutoff(for: library),
                               due: number(1), keptByHold: number(2), keptByConsent: number(3), keptByRule: number(4),
                               oldestDueDays: row?[5].flatMap { Int64($0) })
        }
        return PolicyPlan(name: policy.name, version: policy.version, table: policy.table.description,
                          action: policy.action.rawValue, retain: policy.retain.description, libraries: libraries)
    }
}
