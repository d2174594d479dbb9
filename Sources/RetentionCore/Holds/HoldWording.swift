/// What a hold's reference and reason may say: they are printed in the compliance report, which
/// holds no patron's data.
extension Holds {
    /// Refuses (64) a reference or reason that holds the held patron's value (of 4 characters or
    /// more, in any case) or a run of 6 or more digits (a card or patron number): both are printed in
    /// the compliance report, which holds no patron's data. The message never repeats the text.
    public static func refusePatronData(reference: String, reason: String, patron: String?) throws {
        for (option, text) in [("--reference", reference), ("--reason", reason)] {
            if let patron = patron?.trimmingCharacters(in: .whitespaces), patron.count >= 4,
               text.range(of: patron, options: [.caseInsensitive, .diacriticInsensitive]) != nil {
                throw UsageError("\(option) contains the held patron's value: the reference and the reason appear in the compliance "
                                 + "report, which must hold no patron's name or number; name the court order or case only", exitCode: .usage)
            }
            if text.range(of: "[0-9]{6,}", options: .regularExpression) != nil {
                throw UsageError("\(option) holds a run of 6 or more digits, which may be a card or patron number: the reference and "
                                 + "the reason appear in the compliance report; write a case number with separators "
                                 + "(CV-2026-4512) or leave the number out", exitCode: .usage)
            }
        }
    }
}
