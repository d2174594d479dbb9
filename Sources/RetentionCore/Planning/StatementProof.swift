/// Has the server prepare (not run) every statement a policy's plan and run will use, so that
/// what the catalog check cannot see (an operator that does not exist for the types, a consent key
/// that cannot be compared with the patron column) stops the command before anything runs.
enum StatementProof {
    /// Throws `PolicyErrors` (78) naming each policy whose statements the server refuses.
    static func prove(_ policies: [ResolvedPolicy], on connection: Connection) throws {
        var problems: [PolicyProblem] = []
        // The purge of a policy with declared triggers writes to a temporary table, which a read-only
        // session (a standby's plan) cannot create: its purge statements are then left to the run.
        let pendingReady = !policies.contains { PurgeSQL($0).recordsPending }
            || (try? connection.execute(unsafeSQL: PurgeSQL.pendingTable)) != nil
        for resolved in policies {
            let policy = resolved.policy
            let sql = PurgeSQL(resolved)
            let cutoffs = Cutoffs.placeholder(for: policy)
            let purges = !sql.recordsPending || pendingReady
            do {
                for statement in [
                    sql.countQuery(cutoffs: cutoffs), sql.boundStatement(size: 1, first: false, cutoffs: cutoffs),
                    sql.boundStatement(size: 1, first: true, slice: .init(lower: true, upper: true), cutoffs: cutoffs),
                    sql.sliceStatement(number: 0, of: 2),
                    sql.ledgerStatement(cutoffs: cutoffs, runID: 0, batch: 0, purged: []),
                ] + (purges ? [sql.purgeStatement(cutoffs: cutoffs)] + (sql.recordsPending ? [sql.pendingDeleteStatement(), sql.pendingRemainingQuery()] : []) : [])
                  + (sql.consentingCountQuery().map { [$0] + (purges ? [sql.purgeStatement(cutoffs: cutoffs, consentPerRow: true)] : []) } ?? []) {
                    try connection.prepareCheck(statement)
                }
            } catch let error as DatabaseError where error.kind == .server && !error.isPermissionDenied
                                                    && error.sqlState != "3F000" && error.sqlState != "55P03" {
                // (A lock timeout is a busy table, not a policy that cannot apply: the caller names who holds it.)
                let position = policy.position(.table)
                problems.append(PolicyProblem(
                    file: policy.file, line: position?.line, column: position?.column,
                    message: "policy \(policy.name) cannot be applied to \(policy.table): \(error.message) "
                        + "(SQLSTATE \(error.sqlState ?? "?"))"))
            }
        }
        if !problems.isEmpty { throw PolicyErrors(problems: problems, exitCode: .config) }
    }
}
