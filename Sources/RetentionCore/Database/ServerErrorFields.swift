import Foundation

/// The fields of a server error that decide what of its message may be shown.
///
/// A server error's primary message is not always the server's own words: a trigger, a check
/// function or a rule can `RAISE` any text with any SQLSTATE, row values included
/// (`RAISE EXCEPTION 'loan % (%)', OLD.id, OLD.notes`), and some of the server's own messages quote
/// a value (`invalid input syntax for type integer: "..."`). So a message is treated as untrusted:
/// one raised by code in the database is replaced by a fixed text and the names the error's fields
/// carry; in the server's own messages every quoted text is cut unless it is one of those names.
struct ServerErrorFields {
    let sqlState: String?
    /// The server source file that raised the error (`pl_exec.c` for PL/pgSQL's `RAISE`).
    let sourceFile: String?
    /// The error's CONTEXT: where it happened. Read only for whether it names a function, and which.
    let context: String?
    let schema: String?
    let table: String?
    let column: String?
    let dataType: String?
    let constraint: String?

    /// SQLSTATE classes whose messages are about statements, names and the session, never about
    /// a row's values: syntax and access rules, feature, connection, authorization, catalog
    /// objects, resources, object state, operator intervention.
    private static let nameOnlyClasses: Set<String> = ["0A", "08", "28", "3D", "3F", "42", "53", "55", "57"]

    /// Whether the error was raised by code in the database, or inside it, rather than by the
    /// server on one of the program's own statements: any message then may carry row values (a
    /// `RAISE`, or a server error on dynamic SQL a trigger built from a row).
    var raisedByDatabaseCode: Bool {
        if sqlState?.hasPrefix("P0") == true { return true }
        guard let file = sourceFile else { return true }
        // PL/pgSQL (pl_*.c), PL/Python (plpy_*.c), PL/Perl (plperl.c, SPI.c, Util.c), PL/Tcl, PL/v8.
        let languages = ["pl_", "plpy", "plperl", "pltcl", "plv8"]
        if languages.contains(where: { file.hasPrefix($0) }) || file == "SPI.c" || file == "Util.c" { return true }
        // An error inside a function or trigger carries a CONTEXT line naming it.
        return context?.range(of: "function ", options: .caseInsensitive) != nil
    }

    /// The names the error's fields carry, as `table public.loans, constraint loans_status_check`.
    var names: String {
        var parts: [String] = []
        if let table { parts.append("table " + [schema, table].compactMap { $0.map(visible) }.joined(separator: ".")) }
        if let column { parts.append("column \(visible(column))") }
        if let dataType { parts.append("type \(visible(dataType))") }
        if let constraint { parts.append("constraint \(visible(constraint))") }
        if let function = routine { parts.append("function \(visible(function))") }
        return parts.joined(separator: ", ")
    }

    /// The PL/pgSQL function named by the error's context (`PL/pgSQL function guard() line 3 at RAISE`).
    private var routine: String? {
        guard let context, let start = context.range(of: "PL/pgSQL function ") else { return nil }
        let rest = context[start.upperBound...]
        guard let end = rest.firstIndex(of: "(") else { return nil }
        let name = String(rest[..<end])
        return name.isEmpty || name.contains(" ") ? nil : name
    }

    /// For a table, function or type that database code could not find: the likely cause.
    private var searchPathHint: String {
        guard let sqlState, ["42P01", "42883", "42704"].contains(sqlState) else { return "" }
        return "; it names something the session cannot find: retention's sessions search pg_catalog "
            + "alone (search_path pg_catalog, pg_temp), so code in the database must name tables and functions with their "
            + "schema or carry a search path of its own (ALTER FUNCTION ... SET search_path = ...)"
    }

    /// The message as it may be logged and stored: never a value from a row.
    ///
    /// For an error raised by code in the database even the error's fields are not shown: a
    /// `RAISE ... USING TABLE = OLD.notes` sets them to any text. Only the function named by the
    /// error's context, a name from the catalog, is.
    func safeMessage(_ primary: String) -> String {
        if raisedByDatabaseCode {
            let named = routine.map { "function \(visible($0))" }
            return "an error raised by code in the database (a trigger, rule or function); its message is not shown"
                + " as it may quote row values" + (named.map { " (\($0))" } ?? "") + searchPathHint
        }
        if let sqlState, Self.nameOnlyClasses.contains(String(sqlState.prefix(2))) { return primary }
        let kept = Set([schema, table, column, dataType, constraint].compactMap { $0 })
        let cut = Self.cutQuotedValues(primary, keeping: kept)
        let named = names
        return cut + (named.isEmpty || cut == primary ? "" : " (\(named))")
    }

    /// Replaces double-quoted texts (`"..."`) that are not one of `names` with `"..."`, and every
    /// `(key)=(value)` pair with `(...)=(...)`.
    ///
    /// The server does not escape a `"` inside a value it quotes (`"called Robert "Bob" Smith"`), so
    /// quotes cannot be paired: from the first quoted text that is not a name, everything up to the
    /// message's last quote is cut. A server whose messages are translated (`lc_messages`) quotes
    /// with the language's own marks (`« CNRY4711 »`, `„…“`, `»…«`, `「…」`): they count as `"`.
    static func cutQuotedValues(_ text: String, keeping names: Set<String>) -> String {
        var out = ""
        let marks: Set<Character> = ["\u{AB}", "\u{BB}", "\u{201C}", "\u{201D}", "\u{201E}", "\u{201F}", "\u{2039}", "\u{203A}",
                                     "\u{300C}", "\u{300D}", "\u{300E}", "\u{300F}", "\u{FF02}"]
        let unified = String(text.map { marks.contains($0) ? "\"" : $0 })
        var rest = Substring(unified)
        while let open = rest.firstIndex(of: "\"") {
            out += rest[..<open]
            let after = rest.index(after: open)
            guard let close = rest[after...].firstIndex(of: "\""), let last = rest.lastIndex(of: "\""), last > open else {
                // An unclosed quote: everything after it may be a value.
                return out + "\"..."
            }
            let quoted = String(rest[after..<close])
            // A translated mark is padded inside (`« public.t »`): the name test sees it trimmed.
            if names.contains(quoted) || names.contains(quoted.trimmingCharacters(in: .whitespaces)) {
                out += "\"\(quoted)\""
                rest = rest[rest.index(after: close)...]
            } else {
                out += "\"...\""
                rest = rest[rest.index(after: last)...]
            }
        }
        out += rest
        // `Key (id)=(42)` in a primary message (DETAIL is never read, but be sure).
        var from = out.startIndex
        while let equals = out.range(of: ")=(", range: from..<out.endIndex),
              let open = out[..<equals.lowerBound].lastIndex(of: "("),
              let close = out[equals.upperBound...].firstIndex(of: ")") {
            let offset = out.distance(from: out.startIndex, to: open)
            out.replaceSubrange(open...close, with: "(...)=(...)")
            from = out.index(out.startIndex, offsetBy: offset + 11)
        }
        return out
    }
}
