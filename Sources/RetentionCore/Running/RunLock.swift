/// The advisory lock that lets one run at a time work on a database.
enum RunLock {
    // "RETN" as a 32-bit number; advisory locks are per database, so runs on other databases don't collide.
    static let classID: Int32 = 0x5245_544E
    static let runID: Int32 = 1
    static let setupID: Int32 = 2
    static let holdsID: Int32 = 3

    /// Takes the run lock for this session, or throws `RunLockBusy` (75) naming the holder's process.
    static func acquire(on connection: Connection) throws {
        let ids = [String(classID), String(runID)]
        guard try connection.query("SELECT pg_try_advisory_lock($1::int4, $2::int4) AS taken", ids).single().bool("taken") else {
            let holder = try? connection.query("""
                SELECT pid::text AS pid FROM pg_catalog.pg_locks
                WHERE locktype = 'advisory' AND classid = $1::int4::oid AND objid = $2::int4::oid AND granted
                  AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
                """, ids).rows.first?.optional("pid")
            throw RunLockBusy(holderPID: holder ?? nil)
        }
    }

    /// Runs `body` holding the run lock, or throws `RunLockBusy` (75) when a run holds it.
    static func withLock<T>(on connection: Connection, _ body: () throws -> T) throws -> T {
        try acquire(on: connection)
        defer {
            _ = try? connection.query("SELECT pg_advisory_unlock($1::int4, $2::int4)", [String(classID), String(runID)])
        }
        return try body()
    }
}

/// Another run holds the run lock; nothing was done (exit 75).
public struct RunLockBusy: RetentionError {
    public let holderPID: String?
    public var exitCode: ExitStatus { .tempFail }
    public var description: String {
        "another retention run holds the lock on this database" + (holderPID.map { " (server process \($0))" } ?? "")
            + "; nothing was done"
    }
}

/// The lock between purge batches and `hold place`: each batch holds it shared for its transaction,
/// `hold place` exclusively for its insert, so a hold is never reported placed while a batch that
/// cannot see it is still to commit (it would purge the held rows after the clerk was told they are
/// safe). An advisory lock: the purging role needs no privilege on the holds table for it.
enum HoldLock {
    static func shareForBatch(on connection: Connection) throws {
        try connection.query("SELECT pg_catalog.pg_advisory_xact_lock_shared($1::int4, $2::int4)",
                             [String(RunLock.classID), String(RunLock.holdsID)])
    }

    /// For a transaction whose snapshot is taken at its first statement (the partitions' truncate):
    /// held by the session, from before the transaction to after it.
    static func shareForSession(on connection: Connection) throws {
        try connection.query("SELECT pg_catalog.pg_advisory_lock_shared($1::int4, $2::int4)",
                             [String(RunLock.classID), String(RunLock.holdsID)])
    }

    static func releaseForSession(on connection: Connection) {
        _ = try? connection.query("SELECT pg_catalog.pg_advisory_unlock_shared($1::int4, $2::int4)",
                                  [String(RunLock.classID), String(RunLock.holdsID)])
    }

    static func takeForPlacing(on connection: Connection) throws {
        try connection.query("SELECT pg_catalog.pg_advisory_xact_lock($1::int4, $2::int4)",
                             [String(RunLock.classID), String(RunLock.holdsID)])
    }
}
