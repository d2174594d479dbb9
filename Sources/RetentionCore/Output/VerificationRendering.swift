/// What `verify` prints.
extension VerificationReport {
    /// One line per file (`OK` or `FAIL` and what is wrong), then the general problems and a summary.
    public var text: String {
        var lines = files.map { verdict -> String in
            let what = verdict.manifest.map { "sequence \($0.sequence), run \($0.runID), \(visible($0.status))" }
                ?? verdict.claimed.map { "not verified; it claims sequence \($0.sequence), run \($0.runID)" } ?? "unreadable"
            // File names are shown escaped: a name with a newline could otherwise print a forged `OK` line.
            let notes = verdict.notes.isEmpty ? "" : "; note: " + verdict.notes.joined(separator: "; ")
            if verdict.problems.isEmpty { return "OK    \(visible(verdict.path)) (\(what))\(notes)" }
            return "FAIL  \(visible(verdict.path)) (\(what)): " + verdict.problems.joined(separator: "; ") + notes
        }
        lines += general.map { "FAIL  \($0)" }
        let bad = files.filter { !$0.problems.isEmpty }.count
        if files.isEmpty {
            lines.append("no manifest files found")
        } else if isValid {
            lines.append("\(files.count) \(files.count == 1 ? "manifest" : "manifests") verified: signatures, sequence and chain hold"
                         + (ledgerRuns.map { "; ledger: \($0) finished \($0 == 1 ? "run" : "runs"), each with its manifest and equal counts" } ?? "")
                         + (dailyRange.map { "; every day from \($0.first) to \($0.last) has a run" } ?? "")
                         + (timestampedFrom.map { "; timestamps from sequence \($0) on, each checked against the authority's certificate" } ?? ""))
        } else {
            lines.append("verification failed: \(bad) of \(files.count) files, \(general.count) other problems")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
