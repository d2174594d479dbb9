import Foundation
import Mustache

/// Renders the compliance report as JSON, or as one self-contained HTML file through the
/// `report.mustache` template (swift-mustache escapes every value by default).
///
/// Charts are inline SVG whose geometry is computed here as numbers; every text in the page,
/// SVG titles included, goes through the template's escaping, and text from policy files, holds
/// or the database is isolated with `<bdi>` so a right-to-left mark cannot reorder its neighbours.
public enum ReportRendering {
    public static func json(_ report: ComplianceReport) -> String { JSONOutput.text(report) }

    public static func html(_ report: ComplianceReport) throws -> String {
        MustacheContentTypes.register(Escaping(), named: Escaping.name)
        let template = try MustacheTemplate(string: String(decoding: PackageResources.report_mustache, as: UTF8.self))
        return template.render(Page(report))
    }

    /// The page's escaping, applied by the template to every value (its `CONTENT_TYPE` pragma).
    ///
    /// Per Unicode scalar, not per character: swift-mustache's own HTML escaping looks characters up
    /// whole, so a quote followed by a combining mark would pass. Bidirectional formatting and other
    /// control characters are shown as `[U+202E]`: a right-to-left override in a hold reason must
    /// not make the words around it read backwards, and the reader should see it is there.
    struct Escaping: MustacheContentType {
        static let name = "RETENTION_HTML"

        func escapeText(_ text: String) -> String {
            var out = ""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "&": out += "&amp;"
                case "\"": out += "&quot;"
                case "'": out += "&#39;"
                case "\n", "\t": out.unicodeScalars.append(scalar)
                default:
                    let bidi = (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
                        || [0x200E, 0x200F, 0x061C].contains(scalar.value)
                    if bidi || scalar.isControlCharacter {
                        out += String(format: "[U+%04X]", scalar.value)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out
        }
    }

    /// Writes the report whole or not at all (`AtomicFile`), mode 0640 like the manifests; a folder
    /// that cannot take it is 78.
    public static func write(_ text: String, to path: String) throws {
        do {
            try AtomicFile.write(Data(text.utf8), to: path, mode: 0o640, naming: .replace)
        } catch let failure as AtomicFile.Failure {
            throw UsageError("cannot write the report: \(failure.description)", exitCode: .config)
        }
    }

    /// What the template shows, in the form it shows it.
    struct Page {
        let report: ComplianceReport
        let verdictClass: String
        let keyFingerprint: String
        let nights: [NightCell]
        let exceptions: [ComplianceReport.Night]
        let legend: [Legend]
        let policies: [PolicyView]
        let register: [RegisterRow]
        let changes: [RegisterRow]
        let holds: [ComplianceReport.Hold]
        let holdsRead: Bool
        let keptByHold: [NamedCount]
        let backupRetention: String
        let files: [FileRow]
        let reasons: [String]
        let hasProblems, hasExceptions, hasHolds, hasChanges: Bool

        init(_ report: ComplianceReport) {
            self.report = report
            verdictClass = report.verdict.state == .verified ? "ok" : report.verdict.state == .failed ? "bad" : "unknown"
            keyFingerprint = report.keyID ?? "no public key given"
            nights = report.nights.map(NightCell.init)
            exceptions = report.nights.filter { $0.status != .completed }
            legend = NightCell.symbols.map { Legend(status: $0.key.rawValue, symbol: $0.value.symbol, meaning: $0.value.meaning) }
                .sorted { $0.status < $1.status }
            policies = report.policies.map { PolicyView($0, dates: report.nights.map(\.date)) }
            register = report.register.map(RegisterRow.init)
            var changes: [RegisterRow] = []
            for (index, row) in report.register.enumerated() where index > 0 && report.register[index - 1].name == row.name {
                changes.append(RegisterRow(row))
            }
            self.changes = changes
            holds = report.holds ?? []
            holdsRead = report.holds != nil
            keptByHold = report.policies.map { policy in
                NamedCount(name: policy.name, count: TextTable.grouped(policy.kept[.hold] ?? 0),
                           most: TextTable.grouped(policy.keptMost[.hold] ?? 0))
            }
            backupRetention = report.backupRetention ?? "not stated (give --backup-retention, as the library's backup policy says)"
            files = report.files.map(FileRow.init)
            reasons = KeptReason.allCases.map(\.heading)
            hasProblems = !report.verdict.problems.isEmpty
            hasExceptions = !exceptions.isEmpty
            hasHolds = !holds.isEmpty
            hasChanges = !changes.isEmpty
        }
    }

    struct Legend { let status, symbol, meaning: String }
    struct NamedCount {
        let name, count: String
        var most = ""
    }

    /// One day of the nights strip: a letter and a colour class, never colour alone.
    struct NightCell {
        static let symbols: [ComplianceReport.NightStatus: (symbol: String, meaning: String)] = [
            .completed: ("C", "completed"), .stopped: ("S", "stopped at its time limit"),
            .interrupted: ("I", "interrupted by a signal"), .recovered: ("R", "died; recovered from the ledger"),
            .failed: ("F", "failed"), .missing: ("M", "missing: no run that day"),
        ]
        let date, status, symbol: String
        init(_ night: ComplianceReport.Night) {
            date = night.date
            status = night.status.rawValue
            symbol = Self.symbols[night.status]?.symbol ?? "?"
        }
    }

    /// One policy's small chart of rows per night (its own scale), its totals and its libraries.
    struct PolicyView {
        struct Bar { let x, y, height: String; let label: String }
        struct KeptBar { let reason, count, most, width: String }
        struct Library {
            let policyName, name, rows, retain, lastCutoff, stillDue, oldestDueDays, evidence: String
            let kept: [KeptBar]
        }
        let name, action, table, rows, methods, maxPerNight, chartTitle: String
        let bars: [Bar]
        let barWidth: String
        let nightsWithRows: [NamedCount]
        let libraries: [Library]

        init(_ policy: ComplianceReport.PolicySummary, dates: [String]) {
            name = policy.name
            action = policy.action
            table = policy.table
            rows = TextTable.grouped(policy.rows)
            methods = policy.methods.joined(separator: ", ")
            let top = max(policy.perNight.max() ?? 0, 1)
            maxPerNight = TextTable.grouped(top)
            let width = 720.0 / Double(max(dates.count, 1))
            barWidth = String(format: "%.2f", max(width - (width > 3 ? 1 : 0), 0.5))
            let verb = policy.action == "anonymize" ? "anonymized" : "deleted"
            chartTitle = "Rows \(verb) per night by policy \(policy.name), from \(dates.first ?? "") to \(dates.last ?? ""); "
                + "highest \(TextTable.grouped(top))"
            bars = policy.perNight.enumerated().compactMap { index, value in
                guard value > 0 else { return nil }
                let height = 80.0 * Double(value) / Double(top)
                return Bar(x: String(format: "%.2f", Double(index) * width), y: String(format: "%.2f", 80 - height),
                           height: String(format: "%.2f", max(height, 1)), label: "\(dates[index]): \(TextTable.grouped(value)) rows \(verb)")
            }
            nightsWithRows = policy.perNight.enumerated().filter { $0.element > 0 }
                .map { NamedCount(name: dates[$0.offset], count: TextTable.grouped($0.element)) }
            libraries = policy.libraries.map { library in
                let top = max(library.keptMost.values.max() ?? 0, 1)
                let evidence: String
                switch library.stillDue {
                case nil: evidence = "not counted (no completed run in the period counted it)"
                case 0?: evidence = "nothing older than the period remains except kept rows"
                case let due?: evidence = "\(TextTable.grouped(due)) rows past the period remained after the last completed run"
                }
                return Library(policyName: policy.name, name: library.library ?? "all libraries", rows: TextTable.grouped(library.rows), retain: library.retain,
                               lastCutoff: library.lastCutoff, stillDue: library.stillDue.map(TextTable.grouped) ?? "not counted",
                               oldestDueDays: library.oldestDueDays.map { "\($0) days" } ?? "none", evidence: evidence,
                               kept: KeptReason.allCases.map { reason in
                                   let count = library.kept[reason] ?? 0
                                   return KeptBar(reason: reason.heading, count: TextTable.grouped(count),
                                                  most: TextTable.grouped(library.keptMost[reason] ?? 0),
                                                  width: String(format: "%.1f", 300 * Double(count) / Double(top)))
                               })
            }
        }
    }

    struct RegisterRow {
        let name, version, sha256, action, periods, since, sequence: String
        let description: String?
        init(_ row: ComplianceReport.PolicyVersion) {
            name = row.name
            version = "\(row.version)"
            sha256 = row.fileSHA256
            action = row.action
            periods = row.periods.joined(separator: "; ")
            since = row.since
            sequence = "\(row.sinceSequence)"
            description = row.description
        }
    }

    struct FileRow {
        let name, sequence, status, sha256, problems: String
        init(_ file: ComplianceReport.ManifestFile) {
            name = file.name
            sequence = file.sequence.map { "\($0)" } ?? "-"
            status = file.status
            sha256 = file.sha256
            problems = file.problems.isEmpty ? "OK" : file.problems.joined(separator: "; ")
        }
    }
}
