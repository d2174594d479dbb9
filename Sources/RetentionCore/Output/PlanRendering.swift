import Foundation

/// Renders a plan for a system administrator (text) or a program (JSON). Counts only, no row values.
public enum PlanRendering {
    /// A table per policy: library, period, cutoff, rows due, rows kept by each reason, oldest due age.
    public static func text(_ report: PlanReport) -> String {
        var out = "Plan for \(report.target.isEmpty ? "database " + visible(report.database) : report.target) at \(report.at) "
            + "(database clock); nothing was changed.\n"
        for policy in report.policies {
            out += "\n\(policy.name) v\(policy.version): \(policy.action) \(policy.table) (retain \(policy.retain))\n"
            let reasons = KeptReason.allCases
            let header = ["library", "retain", "cutoff", "due"] + reasons.enumerated().map { $0 == 0 ? "kept: \($1.heading)" : $1.heading }
                + ["oldest due"]
            var rows = policy.libraries.map { library in
                [library.library.map(visible) ?? (policy.libraries.count == 1 ? "all" : "(none)"), library.period.retain,
                 library.period.cutoff, grouped(library.counts.rows)] + reasons.map { grouped(library.counts[$0]) }
                    + [library.oldestDueDays.map { "\(grouped($0)) days" } ?? "-"]
            }
            if policy.libraries.count > 1 {
                let total = policy.counts
                rows.append(["total", "", "", grouped(total.rows)] + reasons.map { grouped(total[$0]) } + [""])
            }
            out += TextTable.render(header: header, rows: rows, rightAligned: Set(3..<header.count))
            for (table, rows) in policy.cascaded.sorted(by: { $0.key < $1.key }) {
                out += "  a declared cascade would change \(grouped(rows)) rows of \(visible(table))\n"
            }
        }
        let due = report.policies.reduce(0) { $0 + $1.due }
        out += "\nTotal due: \(grouped(due)) rows in \(report.policies.count) "
            + "\(report.policies.count == 1 ? "policy" : "policies").\n"
        return out
    }

    /// The plan as JSON with snake_case keys, sorted, ending in a newline.
    public static func json(_ report: PlanReport) -> String {
        JSONOutput.text(report)
    }

    private static func grouped(_ n: Int64) -> String { TextTable.grouped(n) }
}
