import Foundation

/// A foreign key that points into a policy's table, as the purge must respect it.
public struct ForeignKeyRef: Sendable, Equatable {
    /// What a delete of a referenced row does to the referencing rows.
    public enum Action: String, Sendable {
        case noAction = "a", restrict = "r", cascade = "c", setNull = "n", setDefault = "d"

        /// Whether the action changes the referencing table (rather than refusing the delete).
        var changesReferencingRows: Bool { self == .cascade || self == .setNull || self == .setDefault }

        var words: String {
            switch self {
            case .noAction: return "NO ACTION"
            case .restrict: return "RESTRICT"
            case .cascade: return "CASCADE"
            case .setNull: return "SET NULL"
            case .setDefault: return "SET DEFAULT"
            }
        }
    }

    public let name: String
    /// The table whose rows point (the policy's own table for a self-reference).
    public let referencing: QualifiedName
    public let referencingOID: String
    /// The pointing columns, in the constraint's order.
    public let columns: [String]
    /// The columns of the policy's table they point to, in the same order.
    public let referencedColumns: [String]
    public let onDelete: Action
    public let onUpdate: Action
    /// Whether the foreign key points from the policy's table, or one of its partitions, into itself
    /// (renewal chains).
    public let isSelf: Bool
    /// Whether an index on the referencing table leads with the pointing columns.
    public let indexed: Bool
}

/// A table that a declared cascade may change, with the tables that hold its rows (itself, or its
/// leaf partitions), whose per-transaction counters tell how many rows a batch changed there.
public struct CascadeTable: Sendable, Equatable {
    public let table: QualifiedName
    public let leafOIDs: [String]
}

/// Reads the foreign keys into a table and decides what a policy's purge must do about them.
///
/// A delete keeps a due row that a row that stays still points to (`referenced`); purges a chain
/// of rows pointing to each other when every link is due; and lets a foreign key `ON DELETE
/// CASCADE`, `SET NULL` or `SET DEFAULT` change another table only when the policy lists that
/// table under `cascade` (and counts those rows). An anonymizing update may not change a column a
/// foreign key points to.
public enum ForeignKeys {
    /// The foreign keys that point into the table `oid` or into one of its partitions (a foreign key
    /// may name a leaf partition), not the copies PostgreSQL makes per partition.
    static func into(_ oid: String, on connection: Connection) throws -> [ForeignKeyRef] {
        let rows = try connection.query("""
            SELECT c.oid::text AS oid, c.conname::text AS name, n.nspname::text AS schema, r.relname::text AS table_name,
                   c.conrelid::text AS referencing_oid, c.confdeltype::text AS on_delete, c.confupdtype::text AS on_update,
                   -- From the table or one of its partitions into it: a chain within the table's rows.
                   (c.conrelid = $1::oid OR c.conrelid IN (SELECT t.relid FROM pg_catalog.pg_partition_tree($1::oid) t)) AS is_self,
                   array_to_json(array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                                       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
                                       ORDER BY k.i))::text AS columns,
                   array_to_json(array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                                       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
                                       ORDER BY k.i))::text AS referenced_columns,
                   EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                           WHERE i.indrelid = c.conrelid
                             AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
                             AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey) AS indexed
            FROM pg_catalog.pg_constraint c
            JOIN pg_catalog.pg_class r ON r.oid = c.conrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
            WHERE c.contype = 'f' AND c.conparentid = 0
              AND (c.confrelid = $1::oid OR c.confrelid IN (SELECT t.relid FROM pg_catalog.pg_partition_tree($1::oid) t))
            ORDER BY c.conname, c.oid
            """, [oid]).rows
        return try rows.map { row in
            ForeignKeyRef(
                name: try row.string("name"),
                referencing: QualifiedName(schema: try row.string("schema"), name: try row.string("table_name")),
                referencingOID: try row.string("referencing_oid"),
                columns: try row.strings("columns"), referencedColumns: try row.strings("referenced_columns"),
                onDelete: ForeignKeyRef.Action(rawValue: try row.string("on_delete")) ?? .noAction,
                onUpdate: ForeignKeyRef.Action(rawValue: try row.string("on_update")) ?? .noAction,
                isSelf: try row.bool("is_self"), indexed: try row.bool("indexed"))
        }
    }

    /// The tables a delete from the policy's table changes through `CASCADE`, `SET NULL` or `SET
    /// DEFAULT`, following the changes from table to table: rows a cascade deletes fire the `ON
    /// DELETE` actions into their table, columns a `SET NULL` or `SET DEFAULT` (or an `ON UPDATE
    /// CASCADE`) changes fire the `ON UPDATE` actions of the keys that point to those columns. With
    /// the constraint that reaches each, and whether by its `ON UPDATE` action.
    static func cascadeTargets(of references: [ForeignKeyRef], on connection: Connection) throws
        -> [(table: QualifiedName, oid: String, constraint: ForeignKeyRef, onUpdate: Bool)] {
        var found: [(table: QualifiedName, oid: String, constraint: ForeignKeyRef, onUpdate: Bool)] = []
        var queue = references.filter { !$0.isSelf && $0.onDelete.changesReferencingRows }.map { ($0, false) }
        var seen = Set<String>()
        while let (next, byUpdate) = queue.first {
            queue.removeFirst()
            guard seen.insert(next.referencingOID).inserted else { continue }
            found.append((next.referencing, next.referencingOID, next, byUpdate))
            let action = byUpdate ? next.onUpdate : next.onDelete
            if action == .cascade && !byUpdate {
                // Rows a cascade deletes there can cascade further.
                queue += try into(next.referencingOID, on: connection).filter { $0.onDelete.changesReferencingRows }.map { ($0, false) }
            } else {
                // Columns it changes there can change further rows through keys that point to them.
                let changed = Set(next.columns)
                queue += try into(next.referencingOID, on: connection)
                    .filter { $0.onUpdate.changesReferencingRows && !changed.isDisjoint(with: $0.referencedColumns) }
                    .map { ($0, true) }
            }
        }
        return found
    }

    /// The leaf tables that hold a table's rows: the table itself, or each partition.
    static func leaves(of oid: String, on connection: Connection) throws -> [String] {
        // `pg_partition_tree` lists nothing for a table that is not partitioned.
        try connection.query("""
            SELECT relid::oid::text AS oid FROM pg_catalog.pg_partition_tree($1::oid) WHERE isleaf
            UNION ALL
            SELECT $1::oid::text WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_partition_tree($1::oid))
            """, [oid]).rows.map { try $0.string("oid") }
    }
}

extension ForeignKeys {
    /// What `check --catalog` says about the foreign keys into each delete policy's table: each one and
    /// what a purge does about it, and a warning for each without an index on its pointing columns
    /// (PostgreSQL does not make one: every purged row then scans the pointing table).
    public static func notes(for policies: [ResolvedPolicy]) -> (notes: [String], warnings: [String]) {
        var notes: [String] = [], warnings: [String] = []
        for resolved in policies where resolved.policy.action == .delete {
            let policy = resolved.policy
            for ref in resolved.references {
                let what: String
                if ref.isSelf {
                    what = "rows of the table pointing to each other are purged together when all are due, kept (referenced) otherwise"
                } else if ref.onDelete.changesReferencingRows {
                    what = "ON DELETE \(ref.onDelete.words), declared under cascade: the rows it changes are counted"
                } else {
                    what = "a due row it points to is kept (referenced) while the pointing row stays"
                }
                notes.append("foreign key \(visible(ref.name)) of \(ref.referencing) into \(policy.table) (policy \(policy.name)): \(what)")
                if !ref.indexed {
                    let columns = ref.columns.map(quoteIdentifier).joined(separator: ", ")
                    warnings.append("foreign key \(visible(ref.name)) of \(ref.referencing) has no index on its columns: every row "
                                    + "purged from \(policy.table) scans \(ref.referencing); create one: "
                                    + "CREATE INDEX ON \(ref.referencing.sql) (\(columns));")
                }
            }
        }
        return (notes, warnings)
    }
}
