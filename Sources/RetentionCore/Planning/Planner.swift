import Logging

/// What a policy would do to one library's rows tonight (or to all rows, for a policy without libraries).
public struct LibraryPlan: Codable, Sendable, Equatable {
    public let period: LibraryPeriod
    /// Rows due (`rows`) and rows kept by each reason.
    public let counts: Counts
    /// Age in whole days of the oldest due row; `nil` when nothing is due.
    public let oldestDueDays: Int64?

    /// The library value, or `nil` for all rows of a policy without libraries (and rows whose library is NULL).
    public var library: String? { period.library }
    public var due: Int64 { counts.rows }

    init(period: LibraryPeriod, counts: Counts, oldestDueDays: Int64?) {
        self.period = period
        self.counts = counts
        self.oldestDueDays = oldestDueDays
    }

    public init(from decoder: Decoder) throws {
        (period, counts, oldestDueDays) = try LibraryPeriod.decode(from: decoder, rowsKey: "due", extra: "oldest_due_days")
    }

    public func encode(to encoder: Encoder) throws {
        try period.encode(to: encoder, counts: counts, rowsKey: "due", extra: oldestDueDays, key: "oldest_due_days")
    }
}

/// What one policy would do, per library.
public struct PolicyPlan: Codable, Sendable, Equatable {
    public let name: String
    public let version: Int
    public let table: String
    public let action: String
    public let retain: String
    public let libraries: [LibraryPlan]
    /// Rows a declared cascade would change, per table that a foreign key points from directly.
    public var cascaded: [String: Int64] = [:]

    enum CodingKeys: String, CodingKey {
        case name, version, table, action, retain, libraries, cascaded
    }

    init(name: String, version: Int, table: String, action: String, retain: String, libraries: [LibraryPlan],
         cascaded: [String: Int64] = [:]) {
        self.name = name
        self.version = version
        self.table = table
        self.action = action
        self.retain = retain
        self.libraries = libraries
        self.cascaded = cascaded
    }

    /// Also writes the policy's totals (`due` and each `kept_by_`) beside its libraries.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(version, forKey: .version)
        try container.encode(table, forKey: .table)
        try container.encode(action, forKey: .action)
        try container.encode(retain, forKey: .retain)
        try container.encode(libraries, forKey: .libraries)
        try container.encode(cascaded, forKey: .cascaded)
        try counts.encode(to: encoder, rowsKey: "due")
    }

    /// The counts of all libraries together.
    public var counts: Counts { libraries.reduce(Counts()) { $0 + $1.counts } }
    public var due: Int64 { counts.rows }
}

/// The dry run's answer: counts, cutoffs and ages only, never a row value.
public struct PlanReport: Codable, Sendable, Equatable {
    /// The database clock when the plan was made.
    public let at: String
    public let database: String
    /// Where the plan was made: database, user, host and port (`Connection.target`).
    public var target: String = ""
    public let policies: [PolicyPlan]

    public init(at: String, database: String, target: String = "", policies: [PolicyPlan]) {
        self.at = at
        self.database = database
        self.target = target
        self.policies = policies
    }
}

/// The dry run: computes what `run` would purge, in a read-only transaction, and changes nothing.
public enum Planner {
    /// Plans every policy in one `READ ONLY` transaction, so all counts share one snapshot and clock.
    public static func plan(_ policies: [ResolvedPolicy], on connection: Connection, logger: Logger) throws -> PlanReport {
        try connection.transaction(readOnly: true) {
            let at = try connection.query("""
                SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at
                """).single().string("at")
            var plans: [PolicyPlan] = []
            for resolved in policies {
                // Code a count calls (a consent view's function) may change the session as in a run's batch.
                let settings = try SessionGuard.reset(connection)
                let cutoffs = try Cutoffs.compute(for: resolved, on: connection)
                let sql = PurgeSQL(resolved).countQuery(cutoffs: cutoffs, holds: try HoldShape.current(for: resolved, on: connection))
                let counts = try connection.query(sql).decode(LibraryCounts.self)
                var plan = policyPlan(resolved.policy, cutoffs: cutoffs, counts: counts)
                if let cascades = PurgeSQL(resolved).cascadeCountQuery(cutoffs: cutoffs) {
                    for row in try connection.query(cascades).rows {
                        plan.cascaded[try row.string("table_name"), default: 0] += try row.int64("rows")
                    }
                }
                try SessionGuard.check(PurgeSQL(resolved), batch: nil, since: settings, list: nil, lockHolder: nil, on: connection)
                plans.append(plan)
                logger.debug("planned policy", metadata: ["policy.name": "\(resolved.policy.name)"])
            }
            return PlanReport(at: at, database: connection.databaseName, target: connection.target, policies: plans)
        }
    }

    /// Joins the count rows with the policy's libraries, so a library with its own period shows even with no rows.
    static func policyPlan(_ policy: Policy, cutoffs: Cutoffs, counts: [LibraryCounts]) -> PolicyPlan {
        var byLibrary: [String?: LibraryCounts] = [:]
        for row in counts { byLibrary[row.library] = row }
        var order = counts.map(\.library)
        for library in policy.libraries?.named ?? [] where byLibrary[library] == nil {
            order.append(library)
        }
        if order.isEmpty { order = [nil] }
        let sorted = order.sorted { ($0 ?? "") < ($1 ?? "") }
        let libraries = sorted.map { library -> LibraryPlan in
            let row = byLibrary[library]
            return LibraryPlan(period: LibraryPeriod(library: library, retain: policy.period(for: library).description,
                                                     cutoff: cutoffs.cutoff(for: library)),
                               counts: row?.counts ?? Counts(), oldestDueDays: row?.oldestDueDays)
        }
        return PolicyPlan(name: policy.name, version: policy.version, table: policy.table.description,
                          action: policy.action.rawValue, retain: policy.retain.description, libraries: libraries)
    }
}
