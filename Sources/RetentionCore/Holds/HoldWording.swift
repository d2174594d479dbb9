import Foundation

/// What a hold's reference and reason may say: they are printed in the compliance report, which
/// holds no patron's data.
extension Holds {
    /// Refuses (64) a reference or reason that holds the held patron's value (of 4 characters or
    /// more, in any case, whatever spaces, dashes or dots are put between its characters) or what
    /// may be a card or patron number (`PatronNumbers`): both are printed in the compliance report,
    /// which holds no patron's data. The message never repeats the text.
    public static func refusePatronData(reference: String, reason: String, patron: String?) throws {
        for (option, text) in [("--reference", reference), ("--reason", reason)] {
            if let patron, PatronNumbers.contains(text, patron) {
                throw UsageError("\(option) contains the held patron's value: the reference and the reason appear in the compliance "
                                 + "report, which must hold no patron's name or number; name the court order or case only", exitCode: .usage)
            }
            if PatronNumbers.holdsANumber(text) {
                throw UsageError("\(option) holds what may be a card or patron number (6 or more digits in a row, or 10 or more "
                                 + "in groups, as in 2999 0000 1000 07): the reference and the reason appear in the compliance "
                                 + "report; give the case number as the court writes it (CV-2026-4512) or leave the number out",
                                 exitCode: .usage)
            }
        }
    }
}

/// How the program tells a card or patron number in free text: after folding (a digit of any script
/// is a digit: full-width, Arabic-Indic, Devanagari), 6 or more digits in a row, or digits in groups
/// that add up to 10 or more, joined by up to three characters that are neither letters nor digits
/// (`2999 0000 1000 07`, `2999 - 0000`, `(2999)(0000)`, `2999_0000`), or by a comma without a space.
/// A case number such as `CV-2026-4512` has 8 digits in groups and passes, and so do dates in a list
/// (`2026-03-01, 2026-03-02`: a comma and a space end a group).
public enum PatronNumbers {
    static let grouped = #"[0-9]+(?:(?:,|[^\p{L}\p{N},;]{1,3})[0-9]+)+"#

    /// Text with its compatibility characters folded (`１２３` is `123`) and every decimal digit of
    /// any script written as its ASCII digit (`٤٧١١` is `4711`).
    static func folded(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.precomposedStringWithCompatibilityMapping.unicodeScalars {
            if !scalar.isASCII, scalar.properties.numericType == .decimal, let value = scalar.properties.numericValue,
               value >= 0, value <= 9, let digit = Unicode.Scalar(48 + Int(value)) {
                out.append(digit)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    public static func holdsANumber(_ text: String) -> Bool {
        let text = folded(text)
        if text.range(of: "[0-9]{6,}", options: .regularExpression) != nil { return true }
        var search = text.startIndex..<text.endIndex
        while let found = text.range(of: grouped, options: .regularExpression, range: search) {
            if text[found].filter(\.isASCIIDigit).count >= 10 { return true }
            search = found.upperBound..<text.endIndex
        }
        return false
    }

    /// Whether `text` holds `patron` (of 4 characters or more), in any case and whatever separators
    /// stand between its characters.
    public static func contains(_ text: String, _ patron: String) -> Bool {
        func bare(_ value: String) -> String {
            folded(value).lowercased().filter { $0.isLetter || $0.isNumber }
        }
        let held = bare(patron)
        return held.count >= 4 && bare(text).contains(held)
    }

    /// `text` with every such number written `[number withheld]`, for a hold placed before these rules.
    public static func withheld(_ text: String) -> String {
        var text = folded(text).replacingOccurrences(of: "[0-9]{6,}", with: "[number withheld]", options: .regularExpression)
        var search = text.startIndex..<text.endIndex
        while let found = text.range(of: grouped, options: .regularExpression, range: search) {
            if text[found].filter(\.isASCIIDigit).count >= 10 {
                text.replaceSubrange(found, with: "[number withheld]")
                search = text.startIndex..<text.endIndex
            } else {
                search = found.upperBound..<text.endIndex
            }
        }
        return text
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
