/// Transactions on a connection: read-only, repeatable-read, and sharing one snapshot between sessions.
extension Connection {
    /// Runs `body` in a read-committed transaction (a read-only one in repeatable read): commits when it returns, rolls back when it throws.
    public func transaction<T>(readOnly: Bool = false, _ body: () throws -> T) throws -> T {
        // Read committed whatever the database's or role's default_transaction_isolation: a purge batch
        // waits for the hold lock in its first statement, and only a statement begun after that wait
        // sees the hold placed meanwhile (under repeatable read the snapshot is taken before the wait).
        try transaction(begin: readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN ISOLATION LEVEL READ COMMITTED", body)
    }

    /// Runs `body` in a `REPEATABLE READ` transaction that may write: every query sees the data as
    /// of the transaction's first one (a `LOCK TABLE` before it takes no snapshot, so the data the
    /// body reads is what was committed when its locks were granted).
    public func repeatableReadTransaction<T>(_ body: () throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ", body)
    }

    /// How a read-only transaction shares its snapshot with other sessions.
    public enum SharedSnapshot {
        /// Export the transaction's snapshot; the body gets its name.
        case export
        /// See the data exactly as the transaction that exported this snapshot sees it.
        case importing(String)
    }

    /// Runs `body` in a `REPEATABLE READ READ ONLY` transaction that exports or imports a snapshot,
    /// so several sessions see the same data; `body` gets the snapshot's name.
    public func transaction<T>(snapshot: SharedSnapshot, _ body: (String) throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
            switch snapshot {
            case .export:
                return try body(try query("SELECT pg_export_snapshot() AS snapshot").single().string("snapshot"))
            case .importing(let name):
                // `SET TRANSACTION SNAPSHOT` takes no parameter; a name from `pg_export_snapshot()` is hex and dashes.
                guard !name.isEmpty, name.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
                    throw DatabaseError(kind: .connection, sqlState: nil, message: "not a snapshot name")
                }
                try execute(unsafeSQL: "SET TRANSACTION SNAPSHOT '\(name)'")
                return try body(name)
            }
        }
    }

    private func transaction<T>(begin: String, _ body: () throws -> T) throws -> T {
        try execute(unsafeSQL: begin)
        do {
            let value = try body()
            try execute(unsafeSQL: "COMMIT")
            return value
        } catch {
            // A broken connection cannot roll back; the server does it when the session ends.
            if isAlive { _ = try? execute(unsafeSQL: "ROLLBACK") }
            throw error
        }
    }
}
