import Foundation

/// The name rules and the value pattern of the audit, written down so that a reader can check them.
///
/// Column and table names are compared as words: a name is split at anything that is not a letter
/// (`_`, digits, spaces, punctuation) and at camelCase humps (`dobRace`, `SSNLast4` -> `ssn`, `last`),
/// and the words are lowercased. So `race` matches `dob_race` and `raceCode` but not `trace` or `embraced`.
public enum AuditRules {
    /// Column names (compared with separators removed and lowercased: `Patron_ID` is `patronid`) that the
    /// audit takes for a reference to a patron even without a foreign key.
    ///
    /// A patron noun (patron, borrower, member, membership, cardholder, user, customer, client) followed by
    /// id, no, num, number, key or barcode; bare `patron`, `borrower` and `cardholder`; and the card
    /// numbers `card_number`, `card_no`, `card_num`, `card_barcode`, `library_card`, `library_card_number`,
    /// `library_card_no`. Bare `user`, `member` and `customer` are not taken: too often staff or libraries.
    public static let patronColumnNames: Set<String> = {
        var names: Set<String> = ["patron", "borrower", "cardholder",
                                  "cardnumber", "cardno", "cardnum", "cardbarcode",
                                  "librarycard", "librarycardnumber", "librarycardno"]
        for noun in ["patron", "borrower", "member", "membership", "cardholder", "user", "customer", "client"] {
            for suffix in ["id", "no", "num", "number", "key", "barcode"] { names.insert(noun + suffix) }
        }
        return names
    }()

    /// Table names that make a table a patron table: patron, borrower, member, user, customer, each also plural.
    public static let patronTableNames: Set<String> = ["patron", "patrons", "borrower", "borrowers", "member",
                                                       "members", "user", "users", "customer", "customers"]

    /// Whether a column name is one of `patronColumnNames`.
    public static func isPatronColumnName(_ name: String) -> Bool {
        patronColumnNames.contains(name.lowercased().filter { $0.isLetter || $0.isNumber })
    }

    /// Whether a table name is one of `patronTableNames` (case-insensitive).
    public static func isPatronTableName(_ name: String) -> Bool {
        patronTableNames.contains(name.lowercased())
    }

    /// One category's rules: whole words, words that start with a stem, and pairs of adjacent words.
    struct Rule {
        let category: AuditReport.Category
        let words: Set<String>
        let prefixes: [String]
        let pairs: [(String, Set<String>)]
    }

    /// The suspicious-name rules. A column matches a category when one of its words is in `words`,
    /// starts with one of `prefixes`, or two adjacent words form one of `pairs`.
    ///
    /// - social security number: `ssn`, `ssns`; `soc`/`social` followed by `sec`/`security`
    ///   (`soc_sec_no`, `socialSecurityNumber`); words starting with `socsec` or `socialsecurity`.
    /// - race: `race`, `races`, `racial` (not `trace`, `grace`, `embraced`, `racetrack`).
    /// - colour: `skin` followed by `color`/`colour`/`tone`; `complexion`. A bare `color` is not taken:
    ///   label and cover colours are common in library catalogues.
    /// - religion: words starting with `relig` (`relig`, `religion`, `religious`).
    /// - sex: `sex`, `sexes`, `gndr`; words starting with `gender` or `sexual` (not `sextant`, `essex`).
    /// - national origin: words starting with `ethnic`, `nationalit` or `citizenship`; `national`/`natl`/`nat`
    ///   followed by `origin`.
    /// - disability: `disab`; words starting with `disabilit` or `handicap` (not `disabled`, which is how
    ///   accounts are switched off).
    /// - marital status: words starting with `marital`.
    /// - political affiliation: `polit`; words starting with `politic` (`political`, `politics`; not `polite`).
    ///   `party` alone is not taken (`party_size`), but `polit_party` is, by `polit`.
    static let rules: [Rule] = [
        Rule(category: .socialSecurityNumber, words: ["ssn", "ssns"], prefixes: ["socsec", "socialsecurity"],
             pairs: [("soc", ["sec", "security"]), ("social", ["sec", "security"])]),
        Rule(category: .race, words: ["race", "races", "racial"], prefixes: [], pairs: []),
        Rule(category: .colour, words: ["complexion"], prefixes: ["skincolo", "skintone"],
             pairs: [("skin", ["color", "colour", "colors", "colours", "tone"])]),
        Rule(category: .religion, words: [], prefixes: ["relig"], pairs: []),
        Rule(category: .sex, words: ["sex", "sexes", "gndr"], prefixes: ["gender", "sexual"], pairs: []),
        Rule(category: .nationalOrigin, words: [], prefixes: ["ethnic", "nationalit", "nationalorigin", "citizenship"],
             pairs: [("national", ["origin", "origins"]), ("natl", ["origin", "origins"]), ("nat", ["origin", "origins"])]),
        Rule(category: .disability, words: ["disab"], prefixes: ["disabilit", "handicap"], pairs: []),
        Rule(category: .maritalStatus, words: [], prefixes: ["marital"], pairs: []),
        Rule(category: .politicalAffiliation, words: ["polit"], prefixes: ["politic"], pairs: []),
    ]

    /// The categories a column name suggests, in the order of `AuditReport.Category`; empty for most names.
    public static func categories(ofColumn name: String) -> [AuditReport.Category] {
        let words = self.words(name)
        let adjacent = zip(words, words.dropFirst()).map { ($0, $1) }
        return rules.filter { rule in
            words.contains { word in rule.words.contains(word) || rule.prefixes.contains { word.hasPrefix($0) } }
                || adjacent.contains { first, second in rule.pairs.contains { $0.0 == first && $0.1.contains(second) } }
        }.map(\.category)
    }

    /// Splits a name into lowercased words at non-letters and camelCase humps.
    public static func words(_ name: String) -> [String] {
        var words: [String] = []
        var current: [Character] = []
        let characters = Array(name)
        func flush() {
            if !current.isEmpty { words.append(String(current).lowercased()) }
            current = []
        }
        for (index, character) in characters.enumerated() {
            guard character.isLetter else {
                flush()
                continue
            }
            if let previous = current.last, character.isUppercase {
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                // `dobRace` splits before R; `SSNLast` splits before L (an acronym ends where a word starts).
                if previous.isLowercase || (previous.isUppercase && next?.isLowercase == true) { flush() }
            }
            current.append(character)
        }
        flush()
        return words
    }

    /// The PostgreSQL regular expression (case-insensitive, `~*`) for values shaped like a U.S. social
    /// security number; a row counts once however many it holds.
    ///
    /// - `123-45-6789` as a whole token: no digit or dash right before or after it (so not part of
    ///   `1123-45-6789`, `123-45-67890` or an ISBN), whatever the digits are (`000-`, `9xx-` included: the
    ///   audit looks for the shape, not for numbers the SSA would issue).
    /// - 9 digits, plain or grouped 3-2-4 by spaces or dots, right after a label: `ssn`, `social security`,
    ///   `soc sec` (`SSN: 123456789`, `social security no. 123 45 6789`). Without a label a 9-digit number
    ///   is not taken: phone extensions, barcodes and ids look the same.
    public static let ssnPattern =
        "(^|[^0-9-])[0-9]{3}-[0-9]{2}-[0-9]{4}($|[^0-9-])"
        + "|(ssn|social[^0-9a-z]{0,2}security|soc[^0-9a-z]{0,2}sec)[^0-9]{0,16}[0-9]{3}[ .]?[0-9]{2}[ .]?[0-9]{4}($|[^0-9])"
}
