/// One retention policy as written in a policy file, checked for form but not yet against a database.
public struct Policy: Sendable, Equatable {
    public enum Action: String, Sendable, Equatable {
        case delete, anonymize
    }

    /// Where consent to keep a patron's history is recorded, and how much of it the patron chose
    /// to keep (patron-chosen retention, as Evergreen's hold history settings).
    public struct Consent: Sendable, Equatable {
        public let table: QualifiedName
        public let key: String
        public let keepIf: String
        /// Columns of the consent table: kept only rows dated on or after `since` (a timestamp),
        /// younger than `keepFor` (an interval), and among the patron's `keepNewest` newest (an
        /// integer). NULL in a patron's row, or no column: no such limit.
        public var since: String? = nil
        public var keepFor: String? = nil
        public var keepNewest: String? = nil
        /// Columns of the policy's table that order a patron's rows for `keepNewest`, the first
        /// that is set (Evergreen: a hold's fulfillment or cancel time); empty: the age column.
        public var rankBy: [String] = []

        /// Whether a patron's consent keeps only some of their rows (tested row by row).
        public var limited: Bool { since != nil || keepFor != nil || keepNewest != nil }

        /// The consent table's columns the policy reads.
        public var columns: [String] { [key, keepIf] + [since, keepFor, keepNewest].compactMap { $0 } }
    }

    /// `keep_newest`: the newest `count` rows of each group (rows with the same `per`), by `order`,
    /// stay whatever their age; with a table's renewal chains, chains are counted by their first
    /// row, and a group with no more than `count` ended chains (age column set) stays whole.
    public struct KeepNewest: Sendable, Equatable {
        public let per: String
        public let count: Int
        public let order: String
    }

    /// Per-library periods: the column naming the library, the period for some of its values, and
    /// the member libraries counted by name.
    ///
    /// Only named libraries (`retain`'s keys and `names`) appear by value in ledgers, manifests,
    /// metrics, plans and reports; every other value of the column is counted as `otherLabel`, so
    /// free text in that column (a patron's name typed into a branch field) never becomes evidence.
    public struct Libraries: Sendable, Equatable {
        public let column: String
        /// Library value (as text) and its period, in file order.
        public internal(set) var retain: [(library: String, period: Period)]
        /// Libraries with the policy's own period, counted by name (`libraries.names`), in file order.
        public internal(set) var names: [String] = []

        /// What every library value the policy does not name is counted as. A policy may not name a
        /// library so (the loader refuses it), so the label never stands for one library.
        public static let otherLabel = "(other libraries)"

        /// Every library the policy names: `retain`'s, then `names`.
        public var named: [String] { retain.map(\.library) + names }

        /// The same libraries with each value written as its column writes it (`"04"` -> `"4"`).
        func canonicalized(_ canonical: [String: String]) -> Libraries {
            var copy = self
            copy.retain = retain.map { (canonical[$0.library] ?? $0.library, $0.period) }
            copy.names = names.map { canonical[$0] ?? $0 }
            return copy
        }

        public static func == (lhs: Libraries, rhs: Libraries) -> Bool {
            lhs.column == rhs.column && lhs.retain.map(\.library) == rhs.retain.map(\.library)
                && lhs.retain.map(\.period) == rhs.retain.map(\.period) && lhs.names == rhs.names
        }
    }

    public let name: String
    public let version: Int
    public let description: String
    public let table: QualifiedName
    public let key: String
    public let age: String
    public let retain: Period
    public let action: Action
    /// For `anonymize`: column and the value it gets (`nil` is NULL), in file order.
    public let set: [Assignment]
    public let patron: String?
    public let consent: Consent?
    public let keepWhen: [Condition]
    public var keepNewest: KeepNewest? = nil
    public internal(set) var libraries: Libraries?
    /// Tables a foreign key `ON DELETE CASCADE`, `SET NULL` or `SET DEFAULT` may change when this
    /// policy deletes rows; the run counts the rows changed in each. Any other such table stops the run.
    public var cascade: [QualifiedName] = []
    /// Trigger functions that run when this policy purges (on its table, its partitions or a
    /// declared cascade's table) and may change rows: the run lets them, counts what they change
    /// in every table, and stops while a hold may cover what they change. Any other such trigger
    /// stops the run.
    public var triggers: [QualifiedName] = []

    /// The `set` entries whose values mark a row as anonymized: the patron column's when `set`
    /// clears it, otherwise all of them (see `PurgeSQL.pending`).
    public var markerColumns: [Assignment] {
        let patronOnly = set.filter { $0.column == patron }
        return patronOnly.isEmpty ? set : patronOnly
    }

    /// The period for rows of `library`: its own when `libraries.retain` names it, else `retain`.
    public func period(for library: String?) -> Period {
        libraries?.retain.first { $0.library == library }?.period ?? retain
    }

    /// Where each part of the policy stands in its file, for messages found later (against the
    /// catalog): keys like `table`, `set.notes`, `keep_when.0`, `libraries.retain.BANGOR`.
    public var positions: [PolicyKeyPath: SourcePosition] = [:]
    /// The other policies of the folder (with or without `--only`), for the holds they share: a
    /// hold scoped to one that purges the same rows keeps this policy's rows too, since a row the
    /// hold keeps from one would else be purged by the other (an anonymize and a later delete of
    /// the same loans; a policy on a partition and one on its table).
    public var companions: [Companion] = []

    /// What a policy's companions need to know of it.
    public struct Companion: Sendable, Equatable {
        public let name: String
        public let table: QualifiedName
        public let patron: String?
        public let libraryColumn: String?
        /// The column that dates its rows (a hold's window is tested against it).
        public var age: String = ""
    }

    /// This policy as its companions see it.
    public var companion: Companion {
        Companion(name: name, table: table, patron: patron, libraryColumn: libraries?.column, age: age)
    }

    /// Where this policy and `other`, which purge the same rows, read the patron or the library
    /// from different columns: a hold on a patron would keep the rows of one and let the other
    /// purge them. One message each, placed at this policy's key.
    func columnConflicts(with other: Companion, purging what: String) -> [(key: PolicyKeyPath, message: String)] {
        [("patron", PolicyKeyPath.patron, patron, other.patron), ("library", .librariesColumn, libraries?.column, other.libraryColumn)]
            .compactMap { field, key, mine, theirs in
                guard let mine, let theirs, mine != theirs else { return nil }
                return (key, "policies \(other.name) and \(name) \(what) but read the \(field) from different columns "
                        + "(\(visible(theirs)), \(visible(mine))): a hold on a \(field) would keep the rows of one and let the "
                        + "other purge them; give both the same \(field) column")
            }
    }

    /// The position of `key`, or of the first key of the file when it has none.
    public func position(_ key: PolicyKeyPath) -> SourcePosition? { positions[key] }

    /// The file the policy came from, as given.
    public let file: String
    /// Hex SHA-256 of the file's bytes, recorded in manifests.
    public let sha256: String
}

/// One `set` entry of an anonymize policy.
public struct Assignment: Sendable, Equatable {
    public let column: String
    /// The literal as text, parsed by the server as the column's type; `nil` is NULL.
    public let value: String?
}

/// One `keep_when` condition: a row matching it is kept.
public struct Condition: Sendable, Equatable {
    public enum Operator: String, Sendable, CaseIterable {
        case equal = "="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        case `in` = "in"
        case notIn = "not in"
        case isNull = "is null"
        case isNotNull = "is not null"

        /// How many values the operator takes: none, one, or a list.
        enum Arity { case none, one, list }

        var arity: Arity {
            switch self {
            case .isNull, .isNotNull: return .none
            case .in, .notIn: return .list
            default: return .one
            }
        }
    }

    public let column: String
    public let op: Operator
    /// The literals as text (one for comparisons, several for `in`/`not in`, none for null tests).
    public let values: [String]
}

/// A line and column (1-based) in a policy file.
public struct SourcePosition: Sendable, Equatable {
    public let line: Int
    public let column: Int
}
