import Foundation
import Logging

/// Holds the folder's newest manifest recorded in force that the database no longer has in force:
/// a row deleted (holds are released, never deleted), a release dated before that run finished, or
/// a hold a restore lost. A run would purge their rows unheld, so it refuses; `setup
/// --after-restore` names them.
enum LostHolds {
    /// The newest manifest and its holds in force that the database lost, or `nil` when there are none.
    static func find(folder: String, on connection: Connection) throws -> (manifest: Manifest, lost: [ManifestHold])? {
        guard let newest = try ChainCheck.sequencedFiles(in: folder).max(by: { $0.key < $1.key })?.value.first else { return nil }
        let (_, manifest) = try ChainCheck.read(newest)
        let inForce = (manifest.holds ?? []).filter(\.inForce)
        guard !inForce.isEmpty else { return nil }
        let current = try ManifestHold.current(on: connection)
        let lost = inForce.filter { hold in
            guard let now = current[hold.id] else { return true }
            return now.releasedAt.map { $0 <= manifest.finishedAt } ?? false
        }
        return lost.isEmpty ? nil : (manifest, lost)
    }

    /// The holds in words: `hold 1 (CV-2026-5), hold 4 (Audit B)`.
    static func named(_ holds: [ManifestHold]) -> String {
        holds.map(\.label).joined(separator: ", ")
    }

    /// Refuses (78) a run while a hold the last run recorded in force is gone from the database.
    static func refuseRun(folder: String, on connection: Connection) throws {
        // `hold place` and `hold release` date a hold by the database's clock: a date after it was
        // written by hand, and a release in the future ends a hold now while the record shows it in force.
        let future = try connection.query("""
            SELECT id, reference FROM retention.holds
            WHERE placed_at > pg_catalog.now() OR released_at > pg_catalog.now() ORDER BY id
            """).rows.map { "hold \(try $0.int64("id")) (\(visible(try $0.string("reference"))))" }
        if !future.isEmpty {
            throw UsageError("\(future.joined(separator: ", ")) \(future.count == 1 ? "is" : "are") placed or released at a time after the "
                             + "database's clock: holds are dated by `retention hold place` and `hold release`, never ahead; correct "
                             + "the row before the next run; nothing was changed", exitCode: .config)
        }
        guard let (manifest, lost) = try find(folder: folder, on: connection) else { return }
        throw UsageError("\(named(lost)), in force at the last run (manifest \(manifest.sequence)), \(lost.count == 1 ? "is" : "are") "
                         + "no longer in force in the database (the row deleted, or released with a date before that run): "
                         + "a run would purge \(lost.count == 1 ? "its" : "their") rows unheld. Restore the hold rows as they were "
                         + "(holds are released with `retention hold release`, never deleted); nothing was changed", exitCode: .config)
    }

    /// Says, before a restored database's chain goes on, which holds in force at the chain's newest
    /// manifest the restore lost: they must be placed again before the next run.
    static func warnAfterRestore(folder: String, on connection: Connection, logger: Logger) -> [String] {
        guard let (manifest, lost) = try? find(folder: folder, on: connection) else { return [] }
        let line = "the restore lost \(named(lost)), in force at manifest \(manifest.sequence): place "
            + "\(lost.count == 1 ? "it" : "them") again with `retention hold place` before the next run"
        logger.error("\(line)")
        return [line]
    }
}
