import Foundation

/// Plain-text tables and numbers for people: the plan, a manifest, the audit.
public enum TextTable {
    /// A number with thousands separators: `1,234,567`.
    public static func grouped(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// Columns padded to their widest cell, two spaces apart, each line indented by two.
    public static func render(header: [String], rows: [[String]], rightAligned: Set<Int>) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                let pad = String(repeating: " ", count: widths[column] - row[column].count)
                return rightAligned.contains(column) ? pad + row[column] : row[column] + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.map { "  " + $0 + "\n" }.joined()
    }
}
