import Foundation
import Logging
import Prometheus

/// A run's outcome as a node_exporter textfile-collector file (Prometheus text format, written by
/// swift-prometheus), replaced atomically at the end of every run whatever its status.
///
/// Labels carry only policy names and library values (the values of a policy's library column, such
/// as `BANGOR`), nothing else of a row.
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
    public static func writeRefusal(to path: String, logger: Logger) {
        let refused = RunSummary(runID: 0, status: .failed, startedAt: "", policies: [])
        write(RunFacts(summary: refused, finished: Date(), seconds: 0, batchSecondsMax: [:], replicaLagPauses: 0), to: path, logger: logger)
    }

    /// The text of the file; `previousSuccess` is kept when this run did not succeed.
    static func render(_ facts: RunFacts, previousSuccess: Double?) -> String {
        let registry = PrometheusCollectorRegistry()
        // `retention_` + name + `_` + unit, as Prometheus names them.
        func gauge(_ name: String, unit: String = "", _ help: String, _ labels: [(String, String)] = []) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "retention", metricName: name, unitName: unit, helpText: help),
                               labels: labels)
        }
        let summary = facts.summary
        let finished = facts.finished.timeIntervalSince1970
        gauge("last_run_timestamp", unit: "seconds", "When the last run ended (Unix time).").set(to: finished)
        let succeeded = summary.status == .completed || summary.status == .stopped
        if let success = succeeded ? finished : previousSuccess {
            gauge("last_success_timestamp", unit: "seconds", "When the last completed or stopped run ended (Unix time).")
                .set(to: success)
        }
        for status in RunStatus.allCases where status != .running && status != .restored {
            gauge("run_status", "1 for how the last run ended, 0 for the others.", [("status", status.rawValue)])
                .set(to: status == summary.status ? 1 : 0)
        }
        gauge("run_duration", unit: "seconds", "How long the last run took.").set(to: facts.seconds)
        for policy in summary.policies {
            for library in policy.libraries {
                let labels = [("policy", policy.name), ("library", library.library ?? "")]
                gauge("rows", unit: "total", "Rows the last run deleted or anonymized.", labels + [("action", policy.action.rawValue)])
                    .set(to: Double(library.counts.rows))
                for reason in KeptReason.allCases {
                    gauge("rows_kept", "Rows past their period the last run kept, by reason.", labels + [("reason", reason.metricName)])
                        .set(to: Double(library.counts[reason]))
                }
            }
            if let stillDue = policy.stillDue {
                gauge("rows_still_due", "Rows still due after the last run (0 when healthy; absent when it could not count them).", [("policy", policy.name)])
                    .set(to: Double(stillDue))
            }
            if let longest = facts.batchSecondsMax[policy.name] {
                gauge("batch_seconds", unit: "max", "The longest batch of the last run.", [("policy", policy.name)]).set(to: longest)
            }
        }
        if let sequence = summary.manifestPath.flatMap(sequence(ofManifest:)) {
            gauge("manifest_sequence", "Sequence number of the last manifest written.").set(to: Double(sequence))
        }
        gauge("replica_lag_pauses", unit: "total", "Times the last run waited for a lagging replica.")
            .set(to: Double(facts.replicaLagPauses))
        return registry.emitToString()
    }

    /// The last success time of an earlier file, so that a failed run does not erase it.
    static func previousSuccess(in path: String) -> Double? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("retention_last_success_timestamp_seconds ") {
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

extension KeptReason {
    /// The `reason` label: `hold`, `consent`, `keep_when`, `reference`.
    var metricName: String { String(rawValue.dropFirst("kept_by_".count)) }
}
