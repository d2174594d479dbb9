import Foundation
import Yams

/// Walks a composed YAML tree, collecting problems with their marks.
struct NodeReader {
    let file: String
    var problems: [PolicyProblem] = []
    /// Where each part of the policy stands, for `Policy.positions`.
    var positions: [PolicyKeyPath: SourcePosition] = [:]

    mutating func remember(_ key: PolicyKeyPath, _ node: Node?) {
        if let mark = node?.mark { positions[key] = SourcePosition(line: mark.line, column: mark.column) }
    }

    static let topKeys = PolicyKeyPath.topLevel.map(\.description)

    mutating func problem(at node: Node?, _ message: String, mark: Mark? = nil) {
        let mark = mark ?? node?.mark
        problems.append(PolicyProblem(file: file, line: mark?.line, column: mark?.column, message: message))
    }

    /// Refuses control characters in every key and value: a NUL cuts a string where libpq reads it
    /// (a library key `"BANGOR\0x"` became BANGOR), and a newline or escape sequence would forge
    /// output. Only the description may hold line breaks and tabs.
    mutating func refuseControlCharacters(_ node: Node, isRoot: Bool = true, allowLineBreaks: Bool = false) {
        switch node {
        case .scalar(let scalar):
            let bad = scalar.string.unicodeScalars.first { scalar in
                scalar.isControlCharacter && !(allowLineBreaks && (scalar == "\n" || scalar == "\t"))
            }
            if let bad {
                problem(at: node, "'\(visible(scalar.string))' holds a control character (\(visible(String(bad)))); "
                        + "names, values and periods may not")
            }
        case .mapping(let mapping):
            for (key, value) in mapping {
                refuseControlCharacters(key, isRoot: false)
                let isDescription = isRoot && key.scalar?.string == "description"
                refuseControlCharacters(value, isRoot: false, allowLineBreaks: isDescription)
            }
        case .sequence(let sequence):
            for element in sequence { refuseControlCharacters(element, isRoot: false) }
        case .alias:
            break
        }
    }

    mutating func policy(_ root: Node, sha256: String) -> Policy? {
        guard let map = mapping(root, "the policy", keys: Self.topKeys) else { return nil }
        for key in PolicyKeyPath.topLevel { remember(key, map[key.description]) }
        let name = string(map, "name", required: true)
        if let name, let node = map["name"], !isPolicyName(name) {
            problem(at: node, "name '\(visible(name))' must be lowercase letters, digits and '-' (at most 63), like loan-history")
        }
        let version = integer(map, "version")
        let description = string(map, "description", required: true)
        if let description, description.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            problem(at: map["description"], "description must state the operational need behind the period")
        }
        let table = qualifiedName(map, "table")
        let key = identifier(map, "key", required: true)
        let age = identifier(map, "age", required: true)
        let retain = period(map["retain"], "retain", parent: root)
        var action: Policy.Action?
        if let text = string(map, "action", required: true) {
            action = Policy.Action(rawValue: text)
            if action == nil { problem(at: map["action"], "action must be delete or anonymize, found '\(visible(text))'") }
        }
        let assignments = set(map["set"])
        if action == .delete, map["set"] != nil {
            problem(at: map["set"], "set is only for action: anonymize (this policy deletes rows)")
        }
        if action == .anonymize, assignments.isEmpty, map["set"] == nil {
            problem(at: root, "action anonymize needs set: the columns to clear and their new values")
        }
        let patron = identifier(map, "patron", required: false)
        let consent = consent(map["consent"])
        if map["consent"] != nil, map["patron"] == nil {
            problem(at: map["consent"], "consent needs patron: the column naming the patron")
        }
        let keepWhen = conditions(map["keep_when"])
        let keepNewest = keepNewest(map["keep_newest"])
        let libraries = libraries(map["libraries"])
        let cascade = cascade(map["cascade"])
        let triggers = triggers(map["triggers"])
        if action == .anonymize, map["cascade"] != nil {
            problem(at: map["cascade"], "cascade is only for action: delete (an anonymizing update changes no other table)")
        }

        guard let name, let version, let description, let table, let key, let age, let retain, let action else {
            return nil
        }
        return Policy(name: name, version: version, description: description, table: table, key: key, age: age,
                      retain: retain, action: action, set: assignments, patron: patron, consent: consent,
                      keepWhen: keepWhen, keepNewest: keepNewest, libraries: libraries, cascade: cascade, triggers: triggers,
                      positions: positions, file: file, sha256: sha256)
    }

    // MARK: - Shapes

    /// The pairs of a mapping node, refusing unknown and repeated keys.
    mutating func mapping(_ node: Node, _ what: String, keys: [String]?) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            problem(at: node, "\(what) must be a mapping of keys to values")
            return nil
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                problem(at: keyNode, "keys in \(what) must be plain words")
                continue
            }
            let key = scalar.string
            if let keys, !keys.contains(key) {
                problem(at: keyNode, "unknown key '\(visible(key))' in \(what); expected one of: \(keys.joined(separator: ", "))")
                continue
            }
            if result[key] != nil {
                problem(at: keyNode, "key '\(visible(key))' appears twice in \(what)")
                continue
            }
            result[key] = value
        }
        return result
    }

    mutating func string(_ map: [String: Node], _ key: String, required: Bool) -> String? {
        guard let node = map[key] else {
            if required { problem(at: nil, "missing required key '\(key)'") }
            return nil
        }
        guard case .scalar(let scalar) = node, !node.isNullValue else {
            problem(at: node, "\(key) must be a text value")
            return nil
        }
        return scalar.string
    }

    mutating func integer(_ map: [String: Node], _ key: String) -> Int? {
        guard let node = map[key] else {
            problem(at: nil, "missing required key '\(key)'")
            return nil
        }
        guard case .scalar = node, node.isIntValue, let value = node.int, value >= 1 else {
            problem(at: node, "\(key) must be a whole number of 1 or more (bump it on every change)")
            return nil
        }
        return value
    }

    mutating func identifier(_ map: [String: Node], _ key: String, required: Bool) -> String? {
        guard let text = string(map, key, required: required) else { return nil }
        return checkedIdentifier(text, at: map[key], what: key)
    }

    mutating func checkedIdentifier(_ text: String, at node: Node?, what: String) -> String? {
        // PostgreSQL truncates names at 63 bytes; a longer one would silently name another column.
        if text.isEmpty || text.utf8.count > 63 || text.contains("\0") {
            problem(at: node, "\(what) must be a column name of 1 to 63 bytes")
            return nil
        }
        return text
    }

    mutating func qualifiedName(_ map: [String: Node], _ key: String, required: Bool = true) -> QualifiedName? {
        guard let text = string(map, key, required: required) else { return nil }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !parts[1].contains("."),
              parts.allSatisfy({ $0.utf8.count <= 63 && !$0.contains("\0") })
        else {
            problem(at: map[key], "\(key) must be a schema-qualified table name like public.loans, found '\(visible(text))'")
            return nil
        }
        let name = QualifiedName(schema: parts[0], name: parts[1])
        if name.isReserved {
            problem(at: map[key], "\(key) \(name) is in \(name.schema == "retention" ? "the tool's own schema retention (runs, ledger, legal holds)" : "PostgreSQL's system catalogs"); a policy may name neither")
            return nil
        }
        return name
    }

    mutating func period(_ node: Node?, _ what: String, parent: Node) -> Period? {
        guard let node else {
            problem(at: nil, "missing required key '\(what)'")
            return nil
        }
        guard case .scalar(let scalar) = node, !node.isNullValue else {
            problem(at: node, "\(what) must be \(Period.expected)")
            return nil
        }
        if Period.looksNegative(scalar.string) {
            problem(at: node, "\(what) must not be negative, found '\(visible(scalar.string))'")
            return nil
        }
        guard let period = Period(parsing: scalar.string) else {
            problem(at: node, "\(what) must be \(Period.expected), more than zero; found '\(visible(scalar.string))'")
            return nil
        }
        return period
    }
}
