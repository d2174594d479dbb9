import Foundation
import Synchronization

/// How `run --erase` rewrites a purged table so that no byte of a purged row stays in its files.
public enum ErasureMethod: String, Sendable, Equatable {
    /// The pg_repack extension: an online rewrite with brief locks.
    case repack = "pg_repack"
    /// `VACUUM FULL`: a rewrite that blocks the table; only with `--allow-exclusive-lock`.
    case vacuumFull = "VACUUM FULL"
}

/// What `--erase` would do on this database, and why not when it cannot.
public struct ErasurePlan: Sendable {
    public let method: ErasureMethod?
    /// The pg_repack program, when the method is pg_repack.
    public let repackProgram: String?
    /// One line per policy table for `check --catalog`: which method, and anything missing.
    public let notes: [String]
    /// Why `--erase` cannot run here (exit 78/77), or `nil`.
    public let refusal: UsageError?
}

/// Chooses and runs the table rewrite of `run --erase` (SPEC §7).
///
/// pg_repack when its extension is installed in the database (and the user may use it: it is for
/// superusers), otherwise `VACUUM FULL`, and that only when the administrator accepted the
/// exclusive lock. Either rewrites the heap, TOAST and indexes from the live rows only, so no byte
/// of a purged row (or of an anonymized row's old version) is left in the table's files.
public enum Erasure {
    public static func plan(_ policies: [ResolvedPolicy], allowExclusiveLock: Bool, on connection: Connection) throws -> ErasurePlan {
        let facts = try connection.query("""
            SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_repack') AS installed,
                   (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) AS superuser,
                   (current_setting('server_version_num')::int / 10000)::text AS major
            """).single()
        let installed = try facts.bool("installed"), superuser = try facts.bool("superuser")
        let program = repackProgram(serverMajor: try facts.string("major"))
        let noRepack = !installed ? "the pg_repack extension is not installed in this database"
            : !superuser ? "pg_repack is for superusers" : "the pg_repack program was not found"
        var notes: [String] = []
        var owners = true
        for resolved in policies {
            let owns = try Catalog.ownsTable(resolved.tableOID, on: connection)
            owners = owners && owns
            // pg_repack needs a primary key or a NOT NULL unique index; every policy's key is the primary key.
            if installed && superuser && program != nil {
                notes.append("--erase on \(resolved.policy.table): pg_repack (online; the table has its primary key)")
            } else {
                notes.append("--erase on \(resolved.policy.table): needs --allow-exclusive-lock (VACUUM FULL blocks the table); \(noRepack)"
                             + (owns ? "" : "; VACUUM FULL also needs the table owner's role"))
            }
        }
        if installed && superuser, let program {
            return ErasurePlan(method: .repack, repackProgram: program, notes: notes, refusal: nil)
        }
        if !allowExclusiveLock {
            return ErasurePlan(method: nil, repackProgram: nil, notes: notes, refusal: UsageError(
                "--erase cannot rewrite online: \(noRepack); give --allow-exclusive-lock to use VACUUM FULL, "
                + "which blocks each purged table while it is rewritten", exitCode: .config))
        }
        if !owners {
            return ErasurePlan(method: nil, repackProgram: nil, notes: notes, refusal: UsageError(
                "--erase with VACUUM FULL needs the owner's role of every policy table", exitCode: .noPermission))
        }
        return ErasurePlan(method: .vacuumFull, repackProgram: nil, notes: notes, refusal: nil)
    }

    /// Rewrites one table; returns nothing, throws with pg_repack's or the server's message on failure.
    ///
    /// When `stopRequested` answers a signal, pg_repack is sent SIGINT (it then drops its work
    /// tables and leaves the table as it was) and this throws.
    static func rewrite(_ table: QualifiedName, plan: ErasurePlan, on connection: Connection,
                        stopRequested: @escaping @Sendable () -> Int32? = { nil }) throws {
        switch plan.method {
        case .vacuumFull:
            try waitForOlderSnapshots(on: connection, stopRequested: stopRequested)
            // The name comes from the catalog check and is quoted: a fixed statement of the program's.
            try connection.execute(unsafeSQL: "VACUUM FULL \(table.sql)")
        case .repack:
            try runRepack(plan.repackProgram ?? "pg_repack", table: table, connection: connection, stopRequested: stopRequested)
        case nil:
            preconditionFailure("erase without a method")
        }
    }

    /// Waits until no other session's snapshot predates this moment, for up to a minute.
    ///
    /// VACUUM FULL keeps every row version an open snapshot may still see, purged rows included:
    /// a report that started before the purge would keep them in the rewritten table. (pg_repack
    /// copies only the rows its own snapshot sees, so it needs no wait.) Sessions still starting
    /// up (no database yet) count too, since their snapshot holds back every database.
    static func waitForOlderSnapshots(on connection: Connection, timeout: Double = 60,
                                      stopRequested: () -> Int32? = { nil }) throws {
        let horizon = try connection.query("SELECT txid_current()::text AS horizon").single().string("horizon")
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let older = try connection.query("""
                SELECT pid::text AS pid FROM pg_catalog.pg_stat_activity
                WHERE pid <> pg_backend_pid() AND (datname = current_database() OR datname IS NULL)
                  AND backend_xmin IS NOT NULL AND txid_current() - age(backend_xmin) < $1::int8
                LIMIT 1
                """, [horizon])
            guard let row = older.rows.first else { return }
            if let signal = stopRequested() {
                throw WorkFailed("--erase: stopped by signal \(signal) before VACUUM FULL")
            }
            if Date() >= deadline {
                throw WorkFailed("--erase: server process \(try row.optional("pid") ?? "?") still has a snapshot from before the purge, "
                                 + "so VACUUM FULL would keep the purged rows; run again when it has finished")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// Runs the pg_repack program on one table, connecting as this session does (password by environment only).
    private static func runRepack(_ program: String, table: QualifiedName, connection: Connection,
                                  stopRequested: () -> Int32?) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = ["--no-order", "--no-superuser-check", "--wait-timeout=60", "--no-kill-backend",
                             "--table=\(table.sql)", "--dbname=\(connection.conninfoWithoutPassword)"]
        var environment = ProcessInfo.processInfo.environment
        if let password = connection.password { environment["PGPASSWORD"] = password }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read its output on another thread, so this one can pass on a stop request.
        let collected = Mutex(Data())
        let read = DispatchSemaphore(value: 0)
        let reader = output.fileHandleForReading
        DispatchQueue.global().async {
            let data = reader.readDataToEndOfFile()
            collected.withLock { $0 = data }
            read.signal()
        }
        var interrupted: Int32?
        while process.isRunning {
            if interrupted == nil, let signal = stopRequested() {
                interrupted = signal
                process.interrupt()
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.waitUntilExit()
        read.wait()
        let data = collected.withLock { $0 }
        if let interrupted {
            throw WorkFailed("pg_repack on \(table) stopped by signal \(interrupted)")
        }
        guard process.terminationStatus == 0 else {
            // pg_repack passes on the server's errors, whose DETAIL lines can quote key values: keep
            // only the first ERROR line, cut before any DETAIL.
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
            let error = lines.first { $0.contains("ERROR") } ?? "no error message"
            let summary = error.components(separatedBy: "DETAIL").first ?? ""
            throw WorkFailed("pg_repack failed on \(table) (exit \(process.terminationStatus)): \(visible(summary))")
        }
    }

    /// The pg_repack client: on PATH, or in the server version's Debian bin folder.
    static func repackProgram(serverMajor: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let candidates = path.split(separator: ":").map { "\($0)/pg_repack" } + ["/usr/lib/postgresql/\(serverMajor)/bin/pg_repack"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
