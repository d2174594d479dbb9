import Foundation

/// A policy checked against the live catalog, with the facts its SQL needs.
public struct ResolvedPolicy: Sendable {
    public let policy: Policy
    /// The table's oid, as text.
    public let tableOID: String
    /// The key column's type as `format_type` writes it (`bigint`, `uuid`, `character varying(20)`).
    public let keyType: String
    /// The SQL type the cutoff is computed in: the age column's own type.
    public let ageType: AgeType
    /// Whether the table is range-partitioned on the age column alone: whole partitions past the
    /// cutoff may then be emptied at once, and the walk reads only the partitions that can hold rows
    /// older than the latest cutoff.
    public var partitionedByAge = false
    /// The patron column's type as `format_type` writes it, when the policy has one.
    public var patronType: String?
    /// How a hold's patron is read to compare with the column by the column type's own equality,
    /// for a text-like column (`public.citext`, `pg_catalog.bpchar`: a hold on `LIB0042X` keeps the
    /// rows of `lib0042x` in a citext column) or a numeric one (`4711` holds `4711.0`); `nil` for
    /// other types (compared as text; integers have their own path).
    public var patronTextType: ValueReading?
    /// How library keys and holds' libraries are compared with the library column when its type has
    /// an equality of its own (citext, a domain over it: `Bangor` is BANGOR; numeric: `4.0` is 4);
    /// `nil` for plain text types and others, compared as text.
    public var libraryReading: ValueReading?

    /// The table's columns whose type compares by operators outside `pg_catalog` (citext), with
    /// the schema of those operators (`Catalog.operatorSchemas`): the SQL names it in every
    /// comparison of such a column, as the session's search path holds `pg_catalog` alone.
    public var operatorSchemas: [String: String] = [:]

    /// A type, schema-qualified and without a modifier (a domain's base type, whose cast cannot fail
    /// on the domain's checks), and the pattern a hold's text must match before it is cast to it
    /// (`nil`: every text casts).
    public struct ValueReading: Sendable, Equatable {
        public let type: String
        public let guardPattern: String?
    }
    /// Whether an index of the consent table leads with the consent key (whole, or partial on the
    /// `keep_if` column alone): a patron's consent can then be looked up per row instead of hashing
    /// every consenting patron.
    public var consentIndexed = false
    /// The other policies of the folder whose tables hold this policy's rows: on the same table, or
    /// on a partition of it or the partitioned table it belongs to. Their holds keep its rows.
    public var sameRows: [String] = []
    /// The foreign keys that point into the table.
    public var references: [ForeignKeyRef] = []
    /// The tables a declared cascade changes (delete policies), whose changed rows each batch counts.
    public var cascades: [CascadeTable] = []
    /// The user triggers a purge of the policy fires, all declared (`Catalog.checkTriggers`), as
    /// `check --catalog` lists them.
    public var firingTriggers: [Catalog.FiringTrigger] = []
    /// Declared cascades whose rows a legal hold of another policy may cover: while such a hold is
    /// active, a due row that one of their rows points to stays (`referenced`), since deleting it
    /// would delete or change the held row.
    public var heldCascades: [HeldCascade] = []
    /// The tables of the folder's other policies (their leaf tables), outside this policy's own
    /// table and declared cascades: nothing a batch runs may delete or change their rows, since a
    /// hold may keep them; each batch reads their counters.
    public var watched: [CascadeTable] = []
    /// The oids of every leaf table of the folder's other policies outside this policy's own table,
    /// declared cascades included: what a declared trigger may not change while a hold may cover it.
    public var otherPolicies: [String] = []

    /// A declared `ON DELETE CASCADE`/`SET NULL`/`SET DEFAULT` foreign key into the table, from a
    /// table other policies purge (`policies`) or that no policy of this set names (`policies` nil:
    /// a hold on any policy outside the set may cover it).
    public struct HeldCascade: Sendable, Equatable {
        public let reference: ForeignKeyRef
        public let policies: [String]?
        /// The names of the policies resolved together, for `policies == nil`.
        public let resolvedTogether: [String]
    }

    public enum AgeType: String, Sendable {
        case date
        case timestamp = "timestamp without time zone"
        case timestamptz = "timestamp with time zone"

        /// How a cutoff of this type is written: ISO 8601, UTC with `Z` for timestamptz, so manifests
        /// read the same whatever the session's time zone. The text is bound back as the cutoff.
        var format: String {
            switch self {
            case .date: return "::date, 'YYYY-MM-DD'"
            case .timestamp: return "::timestamp, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'"
            case .timestamptz: return " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'"
            }
        }

        /// The type name used in casts; one of three fixed words, never text from a policy.
        var sql: String {
            switch self {
            case .date: return "date"
            case .timestamp: return "timestamp"
            case .timestamptz: return "timestamptz"
            }
        }
    }
}
