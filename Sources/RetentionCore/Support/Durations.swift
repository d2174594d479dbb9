import Foundation

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
    public static func isValid(_ text: String) -> Bool { seconds(text) != nil }

    /// The time in seconds when `text` is a positive time of at most a day in PostgreSQL's units, else `nil`.
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { ($0.isASCII && $0.isNumber) || $0 == "." }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        let scale: [String: Double] = ["": 0.001, "us": 0.000001, "ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400]
        guard let number = Double(digits), let factor = scale[unit] else { return nil }
        let seconds = number * factor
        return seconds.isFinite && seconds >= 0.001 && seconds <= 86400 ? seconds : nil
    }
}

/// A duration in whole milliseconds, for logs and the ledger.
public func milliseconds(_ duration: Duration) -> Int64 {
    duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
}
