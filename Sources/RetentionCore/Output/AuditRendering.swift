import Foundation

/// Renders an audit report for a person (text) or a program (JSON); names and counts only.
public enum AuditRendering {
    public static func text(_ report: AuditReport) -> String {
        let grouped = TextTable.grouped
        var out = "Audit of database \(visible(report.database)) at \(report.at) (database clock); read only, no values shown.\n"
        let patrons = report.patronTables.map(\.description).joined(separator: ", ")
        out += "Patron tables: \(patrons.isEmpty ? "none found" : patrons)\n"

        out += "\nTables that reference patrons but no policy covers: \(report.uncoveredTables.count)\n"
        if !report.uncoveredTables.isEmpty {
            let rows = report.uncoveredTables.flatMap { table in
                table.references.map { reference in
                    ["\(visible(table.schema)).\(visible(table.table))", reference.columns.map(visible).joined(separator: ", "),
                     reference.references.map { "foreign key to \($0)" } ?? "column name"]
                }
            }
            out += TextTable.render(header: ["table", "column", "how"], rows: rows, rightAligned: [])
        }

        out += "\nTables that copy a patron or policy table's rows but no policy covers: \(report.copiedTables.count)\n"
        if !report.copiedTables.isEmpty {
            let rows = report.copiedTables.map { copy in
                ["\(visible(copy.schema)).\(visible(copy.table))", copy.of.description, copy.detail]
            }
            out += TextTable.render(header: ["table", "copies", "how"], rows: rows, rightAligned: [])
        }

        out += "\nColumns whose names suggest data the privacy policy says not to collect: \(report.suspiciousColumns.count)\n"
        if !report.suspiciousColumns.isEmpty {
            let rows = report.suspiciousColumns.map {
                ["\(visible($0.schema)).\(visible($0.table)).\(visible($0.column))", $0.categories.map(\.label).joined(separator: ", ")]
            }
            out += TextTable.render(header: ["column", "suggests"], rows: rows, rightAligned: [])
        }

        out += "\nText columns with values shaped like U.S. social security numbers: \(report.ssnShapedValues.count)\n"
        if !report.ssnShapedValues.isEmpty {
            let rows = report.ssnShapedValues.map {
                ["\(visible($0.schema)).\(visible($0.table)).\(visible($0.column))", grouped($0.rows),
                 grouped($0.rowsExamined), $0.sampled ? "yes" : "no"]
            }
            out += TextTable.render(header: ["column", "rows", "examined", "sampled"], rows: rows, rightAligned: [1, 2])
        }

        let scanned = report.scannedTables
        let sampled = scanned.filter(\.sampled)
        out += "\nExamined \(scanned.count) \(scanned.count == 1 ? "table" : "tables") with text columns: "
            + "\(grouped(scanned.reduce(0) { $0 + $1.rowsExamined })) rows; "
            + "tables larger than \(grouped(Int64(report.sampleRows))) rows were sampled (TABLESAMPLE SYSTEM).\n"
        for scan in sampled {
            let percent = scan.samplePercent.map { String(format: "%.4g", $0) } ?? "?"
            out += "  sampled \(visible(scan.schema)).\(visible(scan.table)): \(grouped(scan.rowsExamined)) rows examined "
                + "of about \(grouped(scan.estimatedRows)) (\(percent)% of its pages)\n"
        }
        if !report.notExamined.isEmpty {
            out += "\nNot examined: \(report.notExamined.count)\n"
            for item in report.notExamined {
                out += "  \(visible(item.schema)).\(visible(item.table)) (\(item.columns.map(visible).joined(separator: ", "))): \(item.reason)\n"
            }
        }
        let found = report.uncoveredTables.count + report.copiedTables.count + report.suspiciousColumns.count
            + report.ssnShapedValues.count
        if found > 0 {
            out += "\nFound \(found) \(found == 1 ? "problem" : "problems").\n"
        } else {
            out += report.notExamined.isEmpty ? "\nNothing found.\n" : "\nNothing found in the columns examined.\n"
        }
        return out
    }

    /// The report as JSON with snake_case keys, sorted, ending in a newline.
    public static func json(_ report: AuditReport) -> String {
        JSONOutput.text(report)
    }
}
