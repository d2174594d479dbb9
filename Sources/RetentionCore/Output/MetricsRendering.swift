import Foundation
import Prometheus

/// The metrics file's text (Prometheus text format, written by swift-prometheus).
extension MetricsFile {
    /// The text of the file; `previousSuccess` is kept when this run did not succeed.
    static func render(_ facts: RunFacts, previousSuccess: Double?) -> String {
        let registry = PrometheusCollectorRegistry()
        let instance = facts.instance.flatMap { $0 == Instances.defaultName ? nil : [("retention_instance", $0)] } ?? []
        // `retention_` + name + `_` + unit, as Prometheus names them. Every metric is a gauge of the
        // last run, so none ends in `_total`, which Prometheus keeps for counters.
        func gauge(_ name: String, unit: String = "", _ help: String, _ labels: [(String, String)] = []) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "retention", metricName: name, unitName: unit, helpText: help),
                               labels: labels + instance)
        }
        let summary = facts.summary
        let finished = facts.finished.timeIntervalSince1970
        gauge("last_run_timestamp", unit: "seconds", "When the last run ended (Unix time).").set(to: finished)
        // A success is a completed run with its evidence: a stopped night left rows past their
        // period, and a purge whose manifest was not written is unproven.
        let evidenceMissing = summary.manifestError != nil
        let succeeded = summary.status == .completed && !evidenceMissing && !facts.skipped
        if let success = succeeded ? finished : previousSuccess {
            gauge("last_success_timestamp", unit: "seconds", "When the last completed run whose manifest was written ended (Unix time).")
                .set(to: success)
        }
        let shown = facts.skipped ? "skipped" : evidenceMissing ? RunStatus.failed.rawValue : summary.status.rawValue
        let statuses = RunStatus.allCases.filter { $0 != .running && $0 != .restored }.map(\.rawValue) + ["skipped"]
        for status in statuses {
            gauge("run_status", "1 for how the last run ended (skipped: another run held the lock; failed: also a manifest "
                  + "not written), 0 for the others.", [("status", status)])
                .set(to: status == shown ? 1 : 0)
        }
        gauge("run_duration", unit: "seconds", "How long the last run took.").set(to: facts.seconds)
        for policy in summary.policies {
            for library in policy.libraries {
                let labels = [("policy", policy.name), ("library", library.library ?? "")]
                gauge("rows_purged", "Rows the last run deleted or anonymized.", labels + [("action", policy.action.rawValue)])
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
        if let untimestamped = facts.untimestamped {
            gauge("manifests_untimestamped", "Manifests the time-stamping authority has not stamped yet (0 when healthy); "
                  + "the next run asks again.").set(to: Double(untimestamped))
        }
        gauge("replica_lag_pauses", "Times the last run waited for a lagging replica.")
            .set(to: Double(facts.replicaLagPauses))
        return registry.emitToString()
    }
}

extension KeptReason {
    /// The `reason` label: `hold`, `consent`, `keep_when`, `newest`, `reference`.
    var metricName: String { String(rawValue.dropFirst("kept_by_".count)) }
}
