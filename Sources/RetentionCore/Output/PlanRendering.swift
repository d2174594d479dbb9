import Foundation

/// Renders a plan for a system administrator (text) or a program (JSON). Counts only, no row values.
public enum PlanRendering {
    /// A table per policy: library, period, cutoff, rows due, rows kept by each reason, oldest due age.
    public static func text(_ report: PlanReport) -> String {
        var out = "Plan for database \(visible(report.database)) at \(report.at) (database clock); nothing was changed.\n"
        for policy in report.policies {
            out += "\n\(policy.name) v\(policy.version): \(policy.action) \(policy.table) (retain \(policy.retain))\n"
            let header = ["library", "retain", "cutoff", "due", "kept: hold", "consent", "keep_when", "oldest due"]
            var rows = policy.libraries.map { library in
                [library.library.map(visible) ?? (policy.libraries.count == 1 ? "all" : "(none)"), library.retain,
                 library.cutoff, grouped(library.due), grouped(library.keptByHold), grouped(library.keptByConsent),
                 grouped(library.keptByRule), library.oldestDueDays.map { "\(grouped($0)) days" } ?? "-"]
            }
            if policy.libraries.count > 1 {
                rows.append(["total", "", "", grouped(policy.due), grouped(policy.keptByHold),
                             grouped(policy.keptByConsent), grouped(policy.keptByRule), ""])
            }
            out += table(header: header, rows: rows, rightAligned: Set(3...7))
        }
        let due = report.policies.reduce(0) { $0 + $1.due }
        out += "\nTotal due: \(grouped(due)) rows in \(report.policies.count) "
            + "\(report.policies.count == 1 ? "policy" : "policies").\n"
        return out
    }

    /// The plan as JSON with snake_case keys, sorted, ending in a newline.
    public static func json(_ report: PlanReport) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = (try? encoder.encode(report)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func grouped(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func table(header: [String], rows: [[String]], rightAligned: Set<Int>) -> String {
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

/// Parses durations of the command line (`90s`, `30m`, `2h`, `1h30m`, or plain seconds).
public enum DurationText {
    /// The longest duration taken: a week (a run's `--max-runtime` beyond that is a typo, and
    /// `inf` or `1e300` would overflow the clock).
    public static let longest: Double = 7 * 24 * 3600

    /// The duration in seconds, or `nil` when it is not one, not above zero, or above `longest`.
    public static func seconds(_ text: String) -> Double? {
        guard let value = parse(text), value.isFinite, value > 0, value <= longest else { return nil }
        return value
    }

    private static func parse(_ text: String) -> Double? {
        // Digits and a point only: Double("inf"), Double("nan") and Double("1e300") are not durations.
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let plain = Double(text) {
            return plain
        }
        var total = 0.0
        var number = ""
        for character in text {
            if (character.isASCII && character.isNumber) || character == "." {
                number.append(character)
                continue
            }
            guard let value = Double(number) else { return nil }
            number = ""
            switch character {
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            default: return nil
            }
        }
        guard number.isEmpty, total > 0 else { return nil }
        return total
    }
}

/// Checks a timeout written in PostgreSQL's own syntax for time settings (`5s`, `500ms`, `2min`,
/// a plain number of milliseconds), as `lock_timeout` and `statement_timeout` take it.
public enum PostgresDuration {
    /// Whether `text` is a positive time in PostgreSQL's units (us, ms, s, min, h, d) of at most a day.
    public static func isValid(_ text: String) -> Bool {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { ($0.isASCII && $0.isNumber) || $0 == "." }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        let scale: [String: Double] = ["": 0.001, "us": 0.000001, "ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400]
        guard let number = Double(digits), let factor = scale[unit] else { return false }
        let seconds = number * factor
        return seconds.isFinite && seconds >= 0.001 && seconds <= 86400
    }
}
