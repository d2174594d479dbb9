/// What `retention audit` found: schema, table and column names and counts, never a value.
public struct AuditReport: Codable, Sendable, Equatable {
    /// A table by schema and name (raw; text output shows them through `visible`).
    public struct TableName: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
        public let schema: String
        public let table: String

        public init(schema: String, table: String) {
            self.schema = schema
            self.table = table
        }

        public var description: String { visible(schema) + "." + visible(table) }

        public static func < (lhs: TableName, rhs: TableName) -> Bool {
            (lhs.schema, lhs.table) < (rhs.schema, rhs.table)
        }
    }

    /// How an uncovered table points at patrons: a foreign key, or a column name the rules recognise.
    public struct PatronReference: Codable, Sendable, Equatable {
        public enum Via: String, Codable, Sendable {
            case foreignKey = "foreign_key"
            case columnName = "column_name"
        }

        /// The referencing columns (several for a multi-column foreign key).
        public let columns: [String]
        public let via: Via
        /// The patron table a foreign key points to; `nil` for a recognised column name.
        public let references: TableName?
    }

    /// A table with a patron reference that no policy's `table` names.
    public struct UncoveredTable: Codable, Sendable, Equatable {
        public let schema: String
        public let table: String
        public let references: [PatronReference]
    }

    /// A table no policy covers that holds copies of a patron or policy table's rows: it has most of
    /// that table's columns (by name and type; an audit trail like Evergreen's
    /// `auditor.actor_usr_history`), or a trigger on that table inserts rows into it.
    public struct CopiedTable: Codable, Sendable, Equatable {
        public enum Via: String, Codable, Sendable {
            case columns
            case trigger
        }

        public let schema: String
        public let table: String
        /// The patron or policy table it copies.
        public let of: TableName
        public let via: Via
        /// For `columns`: how many of the original's columns it has (`12 of 14`); for `trigger`: the trigger.
        public let detail: String
    }

    /// A kind of data the privacy policy says not to collect.
    public enum Category: String, Codable, Sendable, CaseIterable {
        case socialSecurityNumber = "social_security_number"
        case race
        case colour
        case religion
        case sex
        case nationalOrigin = "national_origin"
        case disability
        case maritalStatus = "marital_status"
        case politicalAffiliation = "political_affiliation"

        /// The words a report shows for the category.
        public var label: String {
            switch self {
            case .socialSecurityNumber: return "social security number"
            case .race: return "race"
            case .colour: return "colour"
            case .religion: return "religion"
            case .sex: return "sex or gender"
            case .nationalOrigin: return "national origin"
            case .disability: return "disability"
            case .maritalStatus: return "marital status"
            case .politicalAffiliation: return "political affiliation"
            }
        }
    }

    /// A column whose name suggests data the privacy policy says not to collect.
    public struct SuspiciousColumn: Codable, Sendable, Equatable {
        public let schema: String
        public let table: String
        public let column: String
        public let categories: [Category]
    }

    /// A text column in which some examined rows hold a value shaped like a U.S. social security number.
    public struct SSNShapedValues: Codable, Sendable, Equatable {
        public let schema: String
        public let table: String
        public let column: String
        /// Examined rows whose value in the column matches `AuditRules.ssnPattern`.
        public let rows: Int64
        /// Rows of the table examined (all of them, or the sample's).
        public let rowsExamined: Int64
        public let sampled: Bool
    }

    /// One table whose text columns were counted: how many rows were examined and whether it was sampled.
    public struct TableScan: Codable, Sendable, Equatable {
        public let schema: String
        public let table: String
        /// The planner's row estimate that decided the sampling.
        public let estimatedRows: Int64
        public let rowsExamined: Int64
        public let sampled: Bool
        /// The `TABLESAMPLE SYSTEM` percentage, when sampled.
        public let samplePercent: Double?
        public let textColumns: Int
    }

    /// Text columns that could not be examined, and why.
    public struct NotExamined: Codable, Sendable, Equatable {
        public let schema: String
        public let table: String
        public let columns: [String]
        public let reason: String
    }

    /// The database clock when the audit ran.
    public let at: String
    public let database: String
    /// Tables larger than this (planner estimate) were sampled.
    public let sampleRows: Int
    /// The tables the audit took for patron tables (they are never reported as uncovered).
    public let patronTables: [TableName]
    public let uncoveredTables: [UncoveredTable]
    public let copiedTables: [CopiedTable]
    public let suspiciousColumns: [SuspiciousColumn]
    public let ssnShapedValues: [SSNShapedValues]
    public let scannedTables: [TableScan]
    public let notExamined: [NotExamined]

    /// Whether anything was found (tables not examined are not findings; the report lists them).
    public var hasFindings: Bool {
        !uncoveredTables.isEmpty || !copiedTables.isEmpty || !suspiciousColumns.isEmpty || !ssnShapedValues.isEmpty
    }
}
