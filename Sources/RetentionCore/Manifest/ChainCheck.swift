import Foundation
import Logging

/// Compares the manifest folder's chain with the database's ledger before a run changes anything.
///
/// One chain per database: the ledger records the sequence and SHA-256 of every manifest it wrote,
/// and the folder's newest manifest must be the ledger's newest (or, after a run that died between
/// writing its file and recording it, the one right after it). Anything else stops the run (78):
/// a folder ahead of the ledger (the database was restored from a backup), a folder whose chain is
/// another database's (one folder for two databases), a folder that lacks the ledger's newest
/// manifests (emptied, or the wrong folder), or a fork. `retention setup --after-restore` continues
/// deliberately after a real restore, with a signed manifest that records the gap.
struct ChainCheck {
    /// What the comparison found.
    enum Verdict {
        /// The folder's chain is this database's and agrees with the ledger.
        case consistent
        /// The folder's chain is ahead of the ledger, or names the database as it was before: what a
        /// restore from a backup leaves. `reason` says so; `--after-restore` records `gap` and goes on.
        case ahead(gap: RestoreGap, newestRunID: Int64, reason: String)
        /// Anything else: what was found and what to do.
        case refused(String)
    }

    let verdict: Verdict

    /// Reads the ledger's newest manifest and the folder's, and compares them.
    static func examine(_ store: ManifestStore) throws -> ChainCheck {
        try examine(folder: store.settings.directory, on: store.connection)
    }

    /// `examine` for a folder alone, without a signing key (`retention status`).
    static func examine(folder: String, on connection: Connection) throws -> ChainCheck {
        let here = try ManifestDatabase.current(on: connection)
        let ledger = try connection.query("""
            SELECT r.sequence, r.manifest_sha256 FROM retention.runs r
            WHERE r.sequence = (SELECT pg_catalog.max(sequence) FROM retention.runs)
            """).rows.first
        let ledgerSequence = try ledger?.optionalInt64("sequence")
        let ledgerSHA256: String? = try ledger?.optional("manifest_sha256")
        let ledgerText = ledgerSequence.map { "the ledger of database \(here.described) has written manifests up to sequence \($0)" }
            ?? "the ledger of database \(here.described) has written no manifest yet"

        let files = try sequencedFiles(in: folder)
        guard let newestSequence = files.keys.max() else {
            guard let ledgerSequence else { return ChainCheck(verdict: .consistent) }
            return ChainCheck(verdict: .refused(
                "the manifest folder \(visible(folder)) holds no manifest, but \(ledgerText): the folder was emptied or is not "
                + "this database's; restore its manifests (sequence 1 to \(ledgerSequence)) from a backup, or give --manifests the "
                + "folder that has them; nothing was changed"))
        }
        let newest = files[newestSequence]!
        guard newest.count == 1 else {
            return ChainCheck(verdict: .refused(
                "the manifest folder \(visible(folder)) holds \(newest.count) manifests with sequence \(newestSequence) "
                + "(\(newest.map { visible(($0 as NSString).lastPathComponent) }.joined(separator: ", "))): two chains forked "
                + "there; run `retention verify` on the folder, keep the one the ledger recorded and give each database a folder "
                + "of its own; nothing was changed"))
        }
        let path = newest[0]
        let (data, manifest) = try read(path)
        let digest = sha256Hex(data)
        let named = "the newest manifest there, \(visible((path as NSString).lastPathComponent)), names database "
            + manifest.database.described
        let gap = RestoreGap(ledgerSequence: ledgerSequence, chainSequence: newestSequence, chainSHA256: digest,
                             runsLost: newestSequence - (ledgerSequence ?? 0), previousDatabase: manifest.database)
        let another = manifest.database.differs(from: here)

        if newestSequence == ledgerSequence {
            if digest == ledgerSHA256 {
                guard another else { return ChainCheck(verdict: .consistent) }
                return ChainCheck(verdict: .ahead(gap: gap, newestRunID: manifest.runID, reason:
                    "\(named), but this is \(here.described): the database was restored or moved into another cluster since the "
                    + "last run; if so, run `retention setup --after-restore` to record it in the chain and go on; nothing was changed"))
            }
            return ChainCheck(verdict: .refused(another
                ? "the manifest folder \(visible(folder)) holds another database's chain: \(named), and this is \(here.described); "
                    + "give each database a manifest folder of its own; nothing was changed"
                : "the manifest folder's sequence \(newestSequence) (\(visible(path))) is not the manifest the ledger recorded for "
                    + "it (SHA-256 \(digest.prefix(16))... against \((ledgerSHA256 ?? "none").prefix(16))...): the chain forked "
                    + "or the file was replaced; run `retention verify --ledger` on the folder; nothing was changed"))
        }
        if let ledgerSequence, newestSequence < ledgerSequence {
            return ChainCheck(verdict: .refused(
                "the manifest folder \(visible(folder)) ends at sequence \(newestSequence), but \(ledgerText): manifests "
                + "\(newestSequence + 1) to \(ledgerSequence) are missing (deleted, or written to another folder); restore them "
                + "from a backup, or give --manifests the folder that has them; nothing was changed"))
        }
        // Ahead of the ledger by one, with this database's name and the ledger's newest as its
        // predecessor: a run that died between writing its manifest and recording it.
        if !another, newestSequence == (ledgerSequence ?? 0) + 1, manifest.previousSHA256 == ledgerSHA256,
           try connection.query("""
               SELECT 1 FROM retention.runs WHERE id = $1::int8 AND sequence IS NULL AND lost_in_restore IS NULL
               """, [String(manifest.runID)]).rows.count == 1 {
            return ChainCheck(verdict: .consistent)
        }
        if another {
            return ChainCheck(verdict: .ahead(gap: gap, newestRunID: manifest.runID, reason:
                "the manifest folder \(visible(folder)) holds another database's chain: \(named), and \(ledgerText); give each "
                + "database a manifest folder of its own (if this database really is a restored copy of that one, "
                + "`retention setup --after-restore` continues its chain); nothing was changed"))
        }
        return ChainCheck(verdict: .ahead(gap: gap, newestRunID: manifest.runID, reason:
            "the manifest folder's chain is ahead of the database: \(named) with sequence \(newestSequence), but \(ledgerText): "
            + "the database was restored from a backup taken before the last \(gap.runsLost) "
            + "\(gap.runsLost == 1 ? "run" : "runs") (or its ledger was changed); if it was restored, run "
            + "`retention setup --after-restore` to record the gap in a signed manifest and continue the chain; nothing was changed"))
    }

    /// The folder's manifest files by the sequence their names carry (`...-000042.manifest.json`).
    static func sequencedFiles(in folder: String) throws -> [Int64: [String]] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var files: [Int64: [String]] = [:]
        for name in names where !name.hasPrefix(".") && name.hasSuffix(".manifest.json") {
            let stem = name.dropLast(".manifest.json".count)
            guard let dash = stem.lastIndex(of: "-"), let sequence = Int64(stem[stem.index(after: dash)...]) else { continue }
            files[sequence, default: []].append((folder as NSString).appendingPathComponent(name))
        }
        return files
    }

    /// A manifest file's bytes and payload, or a refusal (78) that names the file.
    static func read(_ path: String) throws -> (Data, Manifest) {
        let data: Data
        switch BoundedFile.read(path, atMost: BoundedFile.largestManifest) {
        case .success(let read): data = read
        case .failure(let problem):
            throw UsageError("the newest manifest in the folder, \(visible(path)), \(problem): the chain cannot be checked; "
                             + "nothing was changed", exitCode: .config)
        }
        do {
            return (data, try Manifest(payload: try DSSEEnvelope(fileData: data).payload))
        } catch {
            throw UsageError("the newest manifest in the folder, \(visible(path)), is not a manifest (\(error)): the chain cannot "
                             + "be checked; run `retention verify` on the folder; nothing was changed", exitCode: .config)
        }
    }
}

extension ManifestDatabase {
    /// The database of `connection` as a manifest names it; the cluster's system identifier is `nil`
    /// for a role that may not call `pg_control_system()` (sql/roles.sql grants it).
    static func current(on connection: Connection) throws -> ManifestDatabase {
        let row = try connection.query("""
            SELECT d.datname::text AS name, d.oid::text AS oid FROM pg_catalog.pg_database d
            WHERE d.datname = pg_catalog.current_database()
            """).single()
        var systemIdentifier: String?
        do {
            systemIdentifier = try connection.query("SELECT system_identifier::text AS id FROM pg_catalog.pg_control_system()")
                .single().optional("id")
        } catch let error as DatabaseError where error.isPermissionDenied {
            systemIdentifier = nil
        }
        return ManifestDatabase(name: try row.string("name"), systemIdentifier: systemIdentifier, oid: try row.optional("oid"))
    }
}

/// Continues the manifest chain after the database was restored from a backup (`retention setup --after-restore`).
public enum AfterRestore {
    /// Records the gap between the restored ledger and the folder's chain as a signed manifest of
    /// status `restored`, and makes the runs the restored ledger holds without a manifest part of it;
    /// returns that manifest's path, or `nil` when folder and ledger agree and there is nothing to do.
    /// Throws 78 when the folder cannot be continued (missing manifests, a fork) and 75 when a run is going.
    public static func continueChain(on connection: Connection, settings: ManifestSettings, logger: Logger) throws -> String? {
        try RunLock.withLock(on: connection) { () -> String? in
            let store = ManifestStore(connection: connection, settings: settings, logger: logger)
            let gap: RestoreGap, newestRunID: Int64
            switch try ChainCheck.examine(store).verdict {
            case .consistent: return nil
            case .refused(let reason): throw UsageError(reason, exitCode: .config)
            case .ahead(let found, let runID, _): (gap, newestRunID) = (found, runID)
            }
            _ = LostHolds.warnAfterRestore(folder: settings.directory, on: connection, logger: logger)
            let here = try ManifestDatabase.current(on: connection)
            let runID = try connection.transaction { () -> Int64 in
                // Run ids go on past the chain's, so no two manifests of the chain name the same run.
                try connection.query("""
                    SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence('retention.runs', 'id'),
                                             greatest($1::int8, (SELECT pg_catalog.max(id) FROM retention.runs), 1))
                    """, [String(newestRunID)])
                let id = try connection.query("""
                    INSERT INTO retention.runs (tool_version, status, finished_at, system_identifier, database_oid, gap)
                    VALUES ($1, 'restored', pg_catalog.clock_timestamp(), $2, $3, $4::jsonb) RETURNING id
                    """, [RetentionVersion.current, here.systemIdentifier, here.oid,
                          String(decoding: try JSONOutput.canonical(gap), as: UTF8.self)]).single().int64("id")
                // Runs of the restored ledger without a manifest were overtaken by the chain: the gap covers them.
                try connection.query("""
                    UPDATE retention.runs
                    SET lost_in_restore = $1::int8, status = CASE WHEN status = 'running' THEN 'recovered' ELSE status END,
                        finished_at = coalesce(finished_at, started_at)
                    WHERE sequence IS NULL AND id <> $1::int8 AND lost_in_restore IS NULL
                    """, [String(id)])
                return id
            }
            let path = try store.write(runID: runID)
            logger.notice("the manifest chain goes on after the restore", metadata: [
                "ledger.sequence": "\(gap.ledgerSequence.map(String.init) ?? "none")", "chain.sequence": "\(gap.chainSequence)",
                "runs.lost": "\(gap.runsLost)", "manifest.path": "\(path)",
            ])
            return path
        }
    }
}
