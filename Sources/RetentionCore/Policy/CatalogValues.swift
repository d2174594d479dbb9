import Foundation

/// How a value reads as a column's type, and which types a hold can name: assignment and cast
/// rules, numeric and text equality, CHECK constraints on `set` values.
extension Catalog {
    /// Why a hold could miss rows of this patron or library column, or `nil` for the types whose
    /// values a hold can name: integers, numeric, uuid, bytea (a hashed card token, read in one
    /// output form), enums and the string types (through domains).
    ///
    /// A hold stores a value's text and compares it by the column type's equality where the text
    /// alone would miss: of other types, equal values are written differently (float `-0` and `0`,
    /// interval `1 day` and `24 hours`) or by the session (timestamptz by its time zone, money by
    /// its locale).
    static func holdComparisonProblem(_ column: Column, on connection: Connection) throws -> String? {
        let row = try connection.query("""
            WITH RECURSIVE chain(oid, typtype, typbasetype, typcategory) AS (
                SELECT t.oid, t.typtype, t.typbasetype, t.typcategory FROM pg_catalog.pg_type t WHERE t.oid = $1::oid
                UNION ALL
                SELECT t.oid, t.typtype, t.typbasetype, t.typcategory FROM pg_catalog.pg_type t
                JOIN chain c ON t.oid = c.typbasetype WHERE c.typtype = 'd')
            SELECT c.typcategory::text AS category, c.typtype = 'e' AS enum,
                   c.oid IN ('pg_catalog.int2'::pg_catalog.regtype, 'pg_catalog.int4'::pg_catalog.regtype,
                             'pg_catalog.int8'::pg_catalog.regtype, 'pg_catalog.numeric'::pg_catalog.regtype,
                             'pg_catalog.uuid'::pg_catalog.regtype, 'pg_catalog.bytea'::pg_catalog.regtype) AS named
            FROM chain c WHERE c.typtype <> 'd'
            """, [String(column.typeOID)]).single()
        // An enum's label is its one text (a library column of `CREATE TYPE library AS ENUM (...)`).
        if try row.string("category") == "S" || row.bool("named") || row.bool("enum") { return nil }
        return "its type \(column.fullTypeName) is not one whose values a hold can name one way (some write equal values "
            + "differently: float -0 and 0, interval '1 day' and '24 hours', timestamps by the session's time zone), so a hold "
            + "could miss rows; name a column of an integer, numeric, uuid, bytea, enum or text type"
    }

    /// The columns of a table whose type (or the type a domain is over) compares by operators of
    /// its own outside `pg_catalog` (citext's, in the schema its extension went to), by name, with
    /// that schema: the tool's sessions search `pg_catalog` alone for operators, where a citext
    /// column would compare as text, case by case. The schema is that of the equality operator of
    /// the type's default btree operator class, which only a superuser can create, so no user with
    /// CREATE on a schema can put an operator of their own in its place.
    static func operatorSchemas(of tableOID: String, on connection: Connection) throws -> [String: String] {
        let rows = try connection.query("""
            WITH RECURSIVE chain(name, oid, typtype, typbasetype) AS (
                SELECT a.attname::text, t.oid, t.typtype, t.typbasetype
                FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
                UNION ALL
                SELECT c.name, t.oid, t.typtype, t.typbasetype FROM pg_catalog.pg_type t
                JOIN chain c ON t.oid = c.typbasetype WHERE c.typtype = 'd')
            SELECT c.name, n.nspname::text AS schema
            FROM chain c
            JOIN pg_catalog.pg_opclass oc ON oc.opcintype = c.oid AND oc.opcdefault
            JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod AND am.amname = 'btree'
            JOIN pg_catalog.pg_amop ao ON ao.amopfamily = oc.opcfamily AND ao.amopmethod = oc.opcmethod
                                      AND ao.amoplefttype = c.oid AND ao.amoprighttype = c.oid AND ao.amopstrategy = 3
            JOIN pg_catalog.pg_operator o ON o.oid = ao.amopopr AND o.oprname = '='
            JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
            WHERE c.typtype <> 'd' AND n.nspname <> 'pg_catalog'
            """, [tableOID]).rows
        var schemas: [String: String] = [:]
        for row in rows { schemas[try row.string("name")] = try row.string("schema") }
        return schemas
    }

    /// The text types whose equality is text's (with the column's collation): library columns of
    /// these compare as text, which keeps the count's `= ANY` a hashed lookup.
    static let plainTextTypes: Set<String> = ["pg_catalog.text", "pg_catalog.\"varchar\"", "pg_catalog.bpchar", "pg_catalog.name"]

    /// Whether the column (or the type a domain is over) is numeric, whose equality is the numbers'
    /// (`4711` is `4711.0`), not their text's.
    static func comparesAsNumber(_ column: Column, on connection: Connection) throws -> Bool {
        try textType(column, on: connection)?.type == "pg_catalog.numeric"
    }

    /// How holds read a patron to compare with this column by its type's equality: text-like types
    /// (the string category) and numeric, by the base type of a domain; else `nil`.
    static func textType(_ column: Column, on connection: Connection) throws -> ResolvedPolicy.ValueReading? {
        let row = try connection.query("""
            SELECT pg_catalog.format('%I.%I', n.nspname, b.typname) AS name, b.typcategory::text AS category,
                   b.oid = 'pg_catalog.numeric'::pg_catalog.regtype AS is_numeric
            FROM pg_catalog.pg_type t
            JOIN pg_catalog.pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
            JOIN pg_catalog.pg_namespace n ON n.oid = b.typnamespace
            WHERE t.oid = $1::oid
            """, [String(column.typeOID)]).single()
        if try row.string("category") == "S" { return .init(type: try row.string("name"), guardPattern: nil) }
        if try row.bool("is_numeric") {
            return .init(type: "pg_catalog.numeric", guardPattern: #"^\s*([+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,4})?|NaN|[+-]?Infinity)\s*$"#)
        }
        return nil
    }

    /// Asks the server to cast `value` to the column's full type (with its modifier, like
    /// `numeric(8,2)`, and a domain's constraints), as an `UPDATE` assigning it would; returns its
    /// complaint, or `nil` when it fits.
    static func castProblem(_ value: String?, to column: Column, on connection: Connection) throws -> String? {
        if case .refused(let problem) = try cast(value, to: column.fullTypeName, on: connection) { return problem }
        return nil
    }

    /// What the server makes of a value cast to a type: its text in that type, or its complaint.
    enum CastOutcome {
        case fits(String?)
        case refused(String)
    }

    /// Casts `value` to `fullTypeName` (the server's own `format_type` text, with modifier) on the
    /// server, as an assignment or a comparison with a column of that type would read it.
    static func cast(_ value: String?, to fullTypeName: String, on connection: Connection) throws -> CastOutcome {
        do {
            // The type's name is the server's own `format_type` text (quoted where needed), not a person's.
            return .fits(try connection.query(unsafeSQL: "SELECT CAST($1::text AS \(fullTypeName))::text AS value", [value])
                .single().optional("value"))
        } catch let error as DatabaseError where error.kind == .server
                    && (error.sqlState?.hasPrefix("22") == true || error.sqlState?.hasPrefix("23") == true) {
            return .refused(error.message)
        }
    }

    /// Reads `value` as a value of the column, as assigning it would: its text as the column
    /// writes it, or the server's complaint. Unlike a cast, which cuts a `varchar(5)` value to five
    /// characters and rounds a `numeric(8,2)`, a value the column's modifier would change is refused.
    static func fitting(_ value: String, to column: Column, on connection: Connection) throws -> CastOutcome {
        // `name` cuts its input to 63 bytes without a word (namein): a longer value would be another value.
        if column.typeOID == 19, value.utf8.count > 63 { return .refused("longer than the 63 bytes a name holds") }
        // `"char"` keeps the first byte alone.
        if column.typeOID == 18, value.utf8.count > 1 { return .refused("longer than the one byte a \"char\" holds") }
        let cast = try self.cast(value, to: column.fullTypeName, on: connection)
        guard case .fits(let text) = cast else { return cast }
        // The value read by the type's input alone, without the modifier's cut (a parameter of the
        // column's type oid: `format_type` without a modifier writes `character`, which is char(1)).
        let whole = try connection.query("SELECT $1::text AS value", [value], types: [column.typeOID]).single().optional("value")
        // A numeric column's scale writes 4711 as 4711.0, the same number: only a rounding changes it.
        var same = whole == text
        if !same, try comparesAsNumber(column, on: connection) {
            same = try connection.query("SELECT $1::numeric = $2::numeric AS same", [whole, text]).single().bool("same")
        }
        guard same else {
            return .refused("it does not fit \(column.fullTypeName) without being cut or rounded")
        }
        return cast
    }

    /// Evaluates each CHECK constraint of the table whose columns are all among `set` on the `set`
    /// values, in a read-only transaction (so the expression can change nothing); returns a problem
    /// per constraint the values break. (A constraint that also reads other columns depends on each row, so it cannot
    /// be proven here; the run's batch would fail on it.)
    static func checkConstraintProblems(_ settable: [(Assignment, Column)], table: Relation,
                                        on connection: Connection) throws -> [String] {
        let names = Set(settable.map(\.0.column))
        let constraints = try connection.query("""
            SELECT c.conname::text AS name, pg_catalog.pg_get_expr(c.conbin, c.conrelid) AS expression,
                   array_to_json(array(SELECT a.attname FROM pg_catalog.pg_attribute a
                                       WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
                                       ORDER BY a.attname))::text AS columns
            FROM pg_catalog.pg_constraint c
            WHERE c.conrelid = $1::oid AND c.contype = 'c'
            ORDER BY c.conname
            """, [table.oid]).rows
        var problems: [String] = []
        for constraint in constraints {
            let (name, expression, used) = (try constraint.string("name"), try constraint.string("expression"),
                                            try constraint.strings("columns"))
            guard !used.isEmpty, used.allSatisfy({ names.contains($0) }) else { continue }
            // The type names are the server's own `format_type` text.
            let values = settable.map { assignment, column -> SQL in
                "CAST(\(bind: assignment.value)::text AS \(unsafe: column.fullTypeName)) AS \(name: assignment.column)"
            }
            // The expression is the server's own text of a constraint on this table; it reads the
            // columns by name, which the subquery provides with the `set` values.
            let check = SQL("SELECT ((\(unsafe: expression)) IS NOT FALSE)::text AS holds FROM (SELECT \(values.joined(separator: ", "))) AS t")
            let holds: String?
            do {
                holds = try connection.transaction(readOnly: true) {
                    try connection.query(check.statement).single().optional("holds")
                }
            } catch let error as DatabaseError where error.kind == .server {
                problems.append("set values cannot be checked against constraint \(visible(name)) (\(error.message))")
                continue
            }
            if holds == "false" {
                problems.append("set \(used.map(visible).joined(separator: ", ")): the values break the check constraint "
                                + "\(visible(name)) of the table")
            }
        }
        return problems
    }

    /// Asks the server to read `value` as the column's type; returns its complaint, or `nil` when it fits.
    static func literalProblem(_ value: String, for column: Column, on connection: Connection) throws -> String? {
        do {
            try connection.query("SELECT $1", [value], types: [column.typeOID])
            return nil
        } catch let error as DatabaseError where error.kind == .server && (error.sqlState?.hasPrefix("22") ?? false) {
            return error.message
        }
    }
}
