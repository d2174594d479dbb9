import Foundation

/// Copies of personal data without a key back to it: audit trails and history tables that hold a
/// patron or policy table's rows, found by their columns or by the triggers that fill them.
extension Audit {
    /// The least share of a table's columns another must have, by name and type, to count as a copy of it.
    static let copiedShare = 0.8
    /// Tables with fewer columns than this are too plain to tell a copy from a lookalike.
    static let copiedColumnsAtLeast = 4

    /// Tables no policy covers that copy a patron or policy table: by columns (most of the
    /// original's, by name and type) or by a trigger on the original whose function inserts into them.
    static func copiedTables(policies: [Policy], tables: [Table], patrons: Set<AuditReport.TableName>,
                             on connection: Connection) throws -> [AuditReport.CopiedTable] {
        let covered = Set(policies.map { AuditReport.TableName(schema: $0.table.schema, table: $0.table.name) })
        let personal = tables.filter { patrons.contains($0.name) || covered.contains($0.name) }
        var copies: [AuditReport.CopiedTable] = []
        for table in tables where !covered.contains(table.name) && !patrons.contains(table.name) {
            let mine = Set(table.columns.map { "\($0.name) \($0.type)" })
            for original in personal where original.columns.count >= copiedColumnsAtLeast {
                let shared = original.columns.filter { mine.contains("\($0.name) \($0.type)") }.count
                guard Double(shared) >= copiedShare * Double(original.columns.count) else { continue }
                copies.append(.init(schema: table.name.schema, table: table.name.table, of: original.name, via: .columns,
                                    detail: "\(shared) of \(original.columns.count) columns"))
            }
        }
        for (trigger, original, target) in try insertingTriggers(on: personal, on: connection)
        where !covered.contains(target) && !patrons.contains(target) && target != original {
            guard !copies.contains(where: { $0.schema == target.schema && $0.table == target.table && $0.of == original })
            else { continue }
            copies.append(.init(schema: target.schema, table: target.table, of: original, via: .trigger,
                                detail: "trigger \(visible(trigger)) on \(original) inserts into it"))
        }
        return copies.sorted { ($0.schema, $0.table, $0.of) < ($1.schema, $1.table, $1.of) }
    }

    /// The triggers on `tables` whose function's text inserts into another table, with that table
    /// (read from the function's `INSERT INTO` clauses, resolved by the function's own search path
    /// or else its schema's and `public`; names only, never a row).
    static func insertingTriggers(on tables: [Table], on connection: Connection)
        throws -> [(String, AuditReport.TableName, AuditReport.TableName)] {
        guard !tables.isEmpty else { return [] }
        let rows = try connection.query(SQL("""
            SELECT t.tgname::text AS trigger, n.nspname::text AS schema, c.relname::text AS name, p.prosrc AS source,
                   fn.nspname::text AS function_schema,
                   coalesce((SELECT substring(s FROM 13) FROM pg_catalog.unnest(p.proconfig) s WHERE s LIKE 'search_path=%'), '')
                       AS search_path
            FROM pg_catalog.pg_trigger t
            JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid JOIN pg_catalog.pg_namespace fn ON fn.oid = p.pronamespace
            WHERE NOT t.tgisinternal AND t.tgrelid = ANY (\(bind: tables.map(\.oid))::oid[])
            ORDER BY 2, 3, 1
            """).statement).rows
        let insert = try NSRegularExpression(pattern: #"insert\s+into\s+((?:"[^"]+"|[a-z_][a-z0-9_$]*)(?:\s*\.\s*(?:"[^"]+"|[a-z_][a-z0-9_$]*))?)"#,
                                             options: [.caseInsensitive])
        var found: [(String, AuditReport.TableName, AuditReport.TableName)] = []
        for row in rows {
            let source = try row.string("source")
            let original = AuditReport.TableName(schema: try row.string("schema"), table: try row.string("name"))
            var schemas = try row.string("search_path").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            schemas += [try row.string("function_schema"), "public"]
            for match in insert.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
                let written = String(source[Range(match.range(at: 1), in: source)!])
                let candidates = written.contains(".") ? [written] : schemas.map { "\(quoteIdentifier($0)).\(written)" }
                for candidate in candidates {
                    let resolved = try connection.query("""
                        SELECT n.nspname::text AS schema, c.relname::text AS name FROM pg_catalog.pg_class c
                        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = pg_catalog.to_regclass($1)
                        """, [candidate]).rows.first
                    guard let resolved else { continue }
                    found.append((try row.string("trigger"), original,
                                  AuditReport.TableName(schema: try resolved.string("schema"), table: try resolved.string("name"))))
                    break
                }
            }
        }
        return found
    }
}
