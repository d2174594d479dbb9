/// The queries both the dry run and the run ask before they count or purge a policy's rows.
extension Cutoffs {
    /// Computes a policy's cutoffs on the database clock (`now()` of the current transaction).
    static func compute(for resolved: ResolvedPolicy, on connection: Connection) throws -> Cutoffs {
        let row = try connection.query(PurgeSQL(resolved).cutoffQuery()).single()
        let libraries = resolved.policy.libraries?.retain.map(\.library) ?? []
        return Cutoffs(standard: try row.string("cutoff"),
                       libraries: try libraries.indices.map { (libraries[$0], try row.string("cutoff_\($0)")) })
    }
}

extension HoldShape {
    /// Which active holds apply to the policy now (in a plan, as of the plan's snapshot).
    static func current(for resolved: ResolvedPolicy, on connection: Connection) throws -> HoldShape {
        let row = try connection.query(PurgeSQL(resolved).holdShapeQuery()).single()
        let (all, patronsOnly) = (try row.int64("holds"), try row.int64("patron_holds"))
        return all == 0 ? .none : all == patronsOnly ? .patronsOnly : .scoped
    }
}

extension LibraryCounts {
    /// The plan's count of one policy under `cutoffs`, per library, with the holds active now.
    static func count(_ resolved: ResolvedPolicy, cutoffs: Cutoffs, on connection: Connection) throws -> [LibraryCounts] {
        let sql = PurgeSQL(resolved).countQuery(cutoffs: cutoffs, holds: try HoldShape.current(for: resolved, on: connection))
        return try connection.query(sql).decode(LibraryCounts.self)
    }
}

/// One row of `PurgeSQL.countQuery`: a library's due rows, kept rows by reason, and oldest due age.
struct LibraryCounts: RowDecodable {
    let library: String?
    let counts: Counts
    let oldestDueDays: Int64?

    init(row: Row) throws {
        library = try row.optional("library")
        counts = try Counts(row: row)
        oldestDueDays = try row.optionalInt64("oldest_due_days")
    }
}
