import Foundation
import Logging
import Prometheus

/// A run's outcome as a node_exporter textfile-collector file (Prometheus text format, written by
/// swift-prometheus), replaced atomically at the end of every run whatever its status.
///
/// Labels carry only policy names and library values (the values of a policy's library column, such
/// as `BANGOR`), nothing else of a row; and, for an instance other than the default one, its name
/// (`retention_instance="north"`), so that the files of several instances in node_exporter's folder
/// hold no series twice.
public enum MetricsFile {
    /// What one run leaves for monitoring.
    public struct RunFacts: Sendable {
        public var summary: RunSummary
        /// Wall-clock end of the run and its length.
        public var finished: Date
        public var seconds: Double
        /// The longest batch of each policy, in seconds (from the ledger; empty when it could not be read).
        public var batchSecondsMax: [String: Double]
        public var replicaLagPauses: Int
        /// The run did not start because another run held the lock (exit 75): no failure.
        public var skipped = false
        /// The instance (`--instance NAME`) whose run this is; `nil` or `retention`: the default one, unlabelled.
        public var instance: String?
        /// With `tsa_url`: how many manifests the authority has not stamped yet (the next run asks again).
        public var untimestamped: Int?

        public init(summary: RunSummary, finished: Date, seconds: Double, batchSecondsMax: [String: Double], replicaLagPauses: Int) {
            self.summary = summary
            self.finished = finished
            self.seconds = seconds
            self.batchSecondsMax = batchSecondsMax
            self.replicaLagPauses = replicaLagPauses
        }
    }

    /// Writes the file: temporary file, fsync, rename, so node_exporter never reads half of one. A file
    /// that cannot be written is logged: the run's own outcome stands.
    public static func write(_ facts: RunFacts, to path: String, logger: Logger) {
        let text = render(facts, previousSuccess: previousSuccess(in: path))
        do {
            try AtomicFile.write(Data(text.utf8), to: path, mode: 0o644, naming: .replace)
        } catch {
            logger.error("cannot write the metrics file: \(String(describing: error))")
        }
    }

    /// Proves, before a run changes anything, that the metrics file's folder exists and takes a new
    /// file (it is replaced by rename, so the folder's permissions are what count): throws 78 otherwise.
    public static func checkWritable(_ path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try ManifestStore.checkWritable(folder.isEmpty ? "." : folder, bytes: 4_096, what: "metrics file folder")
    }

    /// Writes the file for a run refused before it began (no database, no lock... but not another run
    /// holding the lock): status `failed`, so that an alert on failed runs fires the same morning.
    public static func writeRefusal(to path: String, instance: String?, logger: Logger) {
        let refused = RunSummary(runID: 0, status: .failed, startedAt: "", policies: [])
        var facts = RunFacts(summary: refused, finished: Date(), seconds: 0, batchSecondsMax: [:], replicaLagPauses: 0)
        facts.instance = instance
        write(facts, to: path, logger: logger)
    }

    /// Writes the file for a run that did not start because another run held the lock (75): status
    /// `skipped`, the last success kept; the other run writes its own outcome when it ends.
    public static func writeSkipped(to path: String, instance: String?, logger: Logger) {
        var facts = RunFacts(summary: RunSummary(runID: 0, status: .failed, startedAt: "", policies: []), finished: Date(), seconds: 0,
                             batchSecondsMax: [:], replicaLagPauses: 0)
        facts.skipped = true
        facts.instance = instance
        write(facts, to: path, logger: logger)
    }

    /// The last success time of an earlier file, so that a failed run does not erase it.
    static func previousSuccess(in path: String) -> Double? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("retention_last_success_timestamp_seconds ")
            || line.hasPrefix("retention_last_success_timestamp_seconds{") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    /// The sequence number in a manifest's file name (`20261130T020000Z-000042.manifest.json`).
    static func sequence(ofManifest path: String) -> Int64? {
        let name = (path as NSString).lastPathComponent
        guard let dash = name.lastIndex(of: "-"), let dot = name.firstIndex(of: ".") , dash < dot else { return nil }
        return Int64(name[name.index(after: dash)..<dot])
    }

    /// The longest batch of each policy of a run, in seconds, from the ledger.
    public static func batchSecondsMax(runID: Int64, on connection: Connection) throws -> [String: Double] {
        var longest: [String: Double] = [:]
        for row in try connection.query("""
            SELECT policy, (max(extract(epoch FROM finished_at - started_at)) * 1000)::int8 AS ms
            FROM retention.batches WHERE run_id = $1::int8 GROUP BY policy
            """, [String(runID)]).rows {
            longest[try row.string("policy")] = Double(try row.int64("ms")) / 1000
        }
        return longest
    }
}
