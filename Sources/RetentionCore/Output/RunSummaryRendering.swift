import Logging

/// The one line a run ends with, and its level: notice for a completed or stopped run, warning
/// for an interrupted or failed one, error when the manifest could not be written.
public enum RunSummaryRendering {
    public static func line(_ summary: RunSummary, seconds: Double) -> (Logger.Level, String) {
        let rows = summary.policies.map { "\($0.name) \($0.action.rawValue)d \($0.rows)" }.joined(separator: ", ")
        var level: Logger.Level = summary.status == .completed || summary.status == .stopped ? .notice : .warning
        var missing = ""
        if let error = summary.manifestError {
            level = .error
            missing = "; manifest NOT written (\(error.description)); every batch is in the ledger, and the next run "
                + "or `retention setup` with --manifests and --signing-key writes it"
        }
        return (level, "run \(summary.status.rawValue) in \(String(format: "%.1f", seconds)) s: \(rows.isEmpty ? "no policies" : rows)\(missing)")
    }
}
