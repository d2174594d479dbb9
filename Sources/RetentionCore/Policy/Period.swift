/// A retention period, kept as calendar parts so the database does the calendar arithmetic.
///
/// `6 months` is `now() - interval '6 months'` on the database clock; `P1Y2M10D` is one year,
/// two months and ten days. Weeks become days.
public struct Period: Sendable, Equatable, CustomStringConvertible {
    public var years = 0
    public var months = 0
    public var days = 0
    public var seconds = 0

    /// The period as a PostgreSQL interval literal, bound as a parameter (`$n::interval`).
    public var interval: String {
        var parts: [String] = []
        if years != 0 { parts.append("\(years) years") }
        if months != 0 { parts.append("\(months) months") }
        if days != 0 { parts.append("\(days) days") }
        if seconds != 0 { parts.append("\(seconds) seconds") }
        return parts.isEmpty ? "0 days" : parts.joined(separator: " ")
    }

    /// The period in words, as a person would write it.
    public var description: String {
        func unit(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        var parts: [String] = []
        if years != 0 { parts.append(unit(years, "year")) }
        if months != 0 { parts.append(unit(months, "month")) }
        if days != 0 { parts.append(unit(days, "day")) }
        if seconds != 0 {
            parts.append(seconds % 3600 == 0 ? unit(seconds / 3600, "hour") : unit(seconds, "second"))
        }
        return parts.isEmpty ? "0 days" : parts.joined(separator: " ")
    }

    public init() {}

    public static let expected = "a period like \"30 days\", \"6 months\", \"1 year\", \"P30D\" or \"P1Y\""

    /// Parses `<n> day(s)|week(s)|month(s)|year(s)` or an ISO 8601 duration; `nil` when it is neither.
    ///
    /// A period of zero or below is refused too: `0 days` would purge everything up to this moment,
    /// which is never an operational need and usually a typo.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.first == "P" || trimmed.first == "p" {
            guard let period = Period.iso8601(trimmed) else { return nil }
            self = period
        } else {
            let words = trimmed.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count == 2, words[0].count <= 6, let n = Int(words[0]), n > 0 else { return nil }
            switch words[1].lowercased() {
            case "day", "days": days = n
            case "week", "weeks": days = 7 * n
            case "month", "months": months = n
            case "year", "years": years = n
            default: return nil
            }
        }
        guard years >= 0, months >= 0, days >= 0, seconds >= 0, years + months + days + seconds > 0 else {
            return nil
        }
    }

    /// Whether the text starts with a minus sign, for a clearer message than "unparsable".
    static func looksNegative(_ text: String) -> Bool {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return trimmed.hasPrefix("-") || trimmed.hasPrefix("P-") || trimmed.hasPrefix("p-")
    }

    private static func iso8601(_ text: String) -> Period? {
        var period = Period()
        var number = ""
        var inTime = false
        var sawPart = false
        for character in text.uppercased().dropFirst() {
            if character.isASCII && character.isNumber {
                number.append(character)
                continue
            }
            if character == "T" {
                guard number.isEmpty, !inTime else { return nil }
                inTime = true
                continue
            }
            // Caps the number so that a huge value is "unparsable" instead of an overflow.
            guard number.count <= 6, let n = Int(number) else { return nil }
            number = ""
            sawPart = true
            switch (inTime, character) {
            case (false, "Y"): period.years += n
            case (false, "M"): period.months += n
            case (false, "W"): period.days += 7 * n
            case (false, "D"): period.days += n
            case (true, "H"): period.seconds += 3600 * n
            case (true, "M"): period.seconds += 60 * n
            case (true, "S"): period.seconds += n
            default: return nil
            }
        }
        guard number.isEmpty, sawPart else { return nil }
        return period
    }
}
