import Foundation
import Yams

/// The policy file's parts of their own shape: `set`, `cascade`, `consent`, `keep_when`, `libraries`; and YAML's own errors.
extension NodeReader {
    mutating func set(_ node: Node?) -> [Assignment] {
        guard let node else { return [] }
        guard case .mapping(let mapping) = node, !mapping.isEmpty else {
            problem(at: node, "set must map columns to new values, like 'patron_id: null'")
            return []
        }
        var seen = Set<String>()
        var assignments: [Assignment] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode,
                  let column = checkedIdentifier(key.string, at: keyNode, what: "a column in set") else { continue }
            if !seen.insert(column).inserted {
                problem(at: keyNode, "column '\(visible(column))' appears twice in set")
                continue
            }
            guard case .scalar(let scalar) = value else {
                problem(at: value, "set value for '\(visible(column))' must be null or a single literal")
                continue
            }
            remember(.setColumn(column), keyNode)
            assignments.append(Assignment(column: column, value: value.isNullValue ? nil : scalar.string))
        }
        return assignments
    }

    /// `cascade: [public.loan_notes, ...]`: schema-qualified tables, each once.
    mutating func cascade(_ node: Node?) -> [QualifiedName] {
        names(node, "cascade", what: "tables", example: "public.loan_notes", path: PolicyKeyPath.cascadeTable)
    }

    /// `triggers: [public.note_loan_deleted, ...]`: schema-qualified trigger functions, each once.
    mutating func triggers(_ node: Node?) -> [QualifiedName] {
        names(node, "triggers", what: "trigger functions", example: "public.note_loan_deleted", path: PolicyKeyPath.triggerFunction)
    }

    /// A list of schema-qualified names, each once, each remembered at `path`.
    private mutating func names(_ node: Node?, _ key: String, what: String, example: String,
                                path: (QualifiedName) -> PolicyKeyPath) -> [QualifiedName] {
        guard let node else { return [] }
        guard case .sequence(let list) = node, !list.isEmpty else {
            problem(at: node, "\(key) must be a list of \(what) like [\(example)]")
            return []
        }
        var names: [QualifiedName] = []
        for element in list {
            guard case .scalar = element else {
                problem(at: element, "\(key) must list schema-qualified \(what.dropLast()) names like \(example)")
                continue
            }
            guard let name = qualifiedName([key: element], key) else { continue }
            if names.contains(name) {
                problem(at: element, "\(key) lists \(name) twice")
                continue
            }
            remember(path(name), element)
            names.append(name)
        }
        return names
    }

    mutating func consent(_ node: Node?) -> Policy.Consent? {
        guard let node else { return nil }
        let paths: [(String, PolicyKeyPath)] = [("table", .consentTable), ("key", .consentKey), ("keep_if", .consentKeepIf),
                                                ("since", .consentSince), ("keep_for", .consentKeepFor),
                                                ("keep_newest", .consentKeepNewest), ("rank_by", .consentRankBy)]
        guard let map = mapping(node, "consent", keys: paths.map(\.0)) else { return nil }
        for (key, path) in paths { remember(path, map[key]) }
        let table = qualifiedName(map, "table")
        let key = identifier(map, "key", required: true)
        let keepIf = identifier(map, "keep_if", required: true)
        var rankBy: [String] = []
        if let node = map["rank_by"] {
            if case .sequence(let items) = node, !items.isEmpty {
                rankBy = items.compactMap { item in identifier(["rank_by": item], "rank_by", required: true) }
            } else if let one = identifier(map, "rank_by", required: true) {
                rankBy = [one]
            }
            if map["keep_newest"] == nil { problem(at: node, "rank_by orders a patron's rows for keep_newest, which is missing") }
        }
        guard let table, let key, let keepIf else { return nil }
        var consent = Policy.Consent(table: table, key: key, keepIf: keepIf)
        consent.since = identifier(map, "since", required: false)
        consent.keepFor = identifier(map, "keep_for", required: false)
        consent.keepNewest = identifier(map, "keep_newest", required: false)
        consent.rankBy = rankBy
        return consent
    }

    /// `keep_newest: {per: COLUMN, count: N, order: COLUMN}`.
    mutating func keepNewest(_ node: Node?) -> Policy.KeepNewest? {
        guard let node else { return nil }
        guard let map = mapping(node, "keep_newest", keys: ["per", "count", "order"]) else { return nil }
        for (key, path) in [("per", PolicyKeyPath.keepNewestPer), ("count", .keepNewestCount), ("order", .keepNewestOrder)] {
            remember(path, map[key])
        }
        let per = identifier(map, "per", required: true)
        let order = identifier(map, "order", required: true)
        var count: Int?
        if let countNode = map["count"] {
            if case .scalar = countNode, countNode.isIntValue, let value = countNode.int, value >= 1 {
                count = value
            } else {
                problem(at: countNode, "keep_newest.count must be a whole number of 1 or more: the rows (chains) kept per group")
            }
        } else {
            problem(at: node, "keep_newest needs count: how many of each group's newest rows stay")
        }
        guard let per, let order, let count else { return nil }
        return Policy.KeepNewest(per: per, count: count, order: order)
    }

    mutating func conditions(_ node: Node?) -> [Condition] {
        guard let node else { return [] }
        guard case .sequence(let sequence) = node else {
            problem(at: node, "keep_when must be a list of conditions like { column: fines_owed, op: \">\", value: 0 }")
            return []
        }
        var conditions: [Condition] = []
        for item in sequence {
            guard let map = mapping(item, "a keep_when condition", keys: ["column", "op", "value"]) else { continue }
            remember(.keepWhenCondition(conditions.count), item)
            guard let column = identifier(map, "column", required: true),
                  let opText = string(map, "op", required: true) else { continue }
            let normalized = opText.lowercased().split(separator: " ").joined(separator: " ")
            guard let op = Condition.Operator(rawValue: normalized) else {
                let all = Condition.Operator.allCases.map(\.rawValue).joined(separator: ", ")
                problem(at: map["op"], "op '\(visible(opText))' is not one of: \(all)")
                continue
            }
            let valueNode = map["value"]
            switch op.arity {
            case .none:
                if let valueNode {
                    problem(at: valueNode, "op '\(op.rawValue)' takes no value")
                    continue
                }
                conditions.append(Condition(column: column, op: op, values: []))
            case .one:
                guard let valueNode, case .scalar(let scalar) = valueNode, !valueNode.isNullValue else {
                    problem(at: valueNode ?? item, "op '\(op.rawValue)' needs one value (for NULL use op: is null)")
                    continue
                }
                conditions.append(Condition(column: column, op: op, values: [scalar.string]))
            case .list:
                guard let valueNode, case .sequence(let list) = valueNode, !list.isEmpty else {
                    problem(at: valueNode ?? item, "op '\(op.rawValue)' needs a list of values, like [lost, claims-returned]")
                    continue
                }
                var values: [String] = []
                for element in list {
                    guard case .scalar(let scalar) = element, !element.isNullValue else {
                        problem(at: element, "values of '\(op.rawValue)' must be single literals, not null")
                        continue
                    }
                    values.append(scalar.string)
                }
                if values.count == list.count { conditions.append(Condition(column: column, op: op, values: values)) }
            }
        }
        return conditions
    }

    mutating func libraries(_ node: Node?) -> Policy.Libraries? {
        guard let node else { return nil }
        guard let map = mapping(node, "libraries", keys: ["column", "retain", "names"]) else { return nil }
        remember(.librariesColumn, map["column"])
        let column = identifier(map, "column", required: true)
        guard map["retain"] != nil || map["names"] != nil else {
            problem(at: node, "libraries needs retain (a period per library, like BANGOR: 14 days) or names (the member "
                    + "libraries with the policy's own period, like [AUGUSTA, ORONO])")
            return nil
        }
        var seen = Set<String>()
        /// A library value from the file: text or a number, named once, and not the label of the others.
        func library(_ keyNode: Node, in field: String) -> String? {
            guard case .scalar(let key) = keyNode, !keyNode.isNullValue else {
                problem(at: keyNode, "a library in libraries.\(field) must be a text or number value")
                return nil
            }
            guard key.string != Policy.Libraries.otherLabel else {
                problem(at: keyNode, "'\(Policy.Libraries.otherLabel)' is what the libraries a policy does not name are "
                        + "counted as; it cannot name one library")
                return nil
            }
            guard seen.insert(key.string).inserted else {
                problem(at: keyNode, "library '\(visible(key.string))' appears twice in libraries")
                return nil
            }
            remember(field == "retain" ? .libraryRetain(key.string) : .libraryName(key.string), keyNode)
            return key.string
        }
        var retain: [(String, Period)] = []
        if let retainNode = map["retain"] {
            guard case .mapping(let mapping) = retainNode, !mapping.isEmpty else {
                problem(at: retainNode, "libraries.retain must map library values to periods, like BANGOR: 14 days")
                return nil
            }
            for (keyNode, value) in mapping {
                guard let key = library(keyNode, in: "retain") else { continue }
                if let period = period(value, "the period of library '\(visible(key))'", parent: retainNode) {
                    retain.append((key, period))
                }
            }
        }
        var names: [String] = []
        if let namesNode = map["names"] {
            guard case .sequence(let list) = namesNode, !list.isEmpty else {
                problem(at: namesNode, "libraries.names must list library values, like [AUGUSTA, ORONO]")
                return nil
            }
            names = list.compactMap { library($0, in: "names") }
        }
        guard let column else { return nil }
        return Policy.Libraries(column: column, retain: retain, names: names)
    }

    func isPolicyName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 63, name.first != "-", name.last != "-" else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    // MARK: - YAML errors

    static func mark(of error: YamlError) -> Mark? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark
        case .duplicatedKeysInMapping(_, let context):
            return context.mark
        default:
            return nil
        }
    }

    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return "is not valid YAML: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, _):
            return "is not valid YAML: repeated key \(duplicates.map(visible).joined(separator: ", "))"
        case .reader(let problem, _, _, _):
            return "is not valid YAML: \(problem)"
        default:
            return "is not valid YAML"
        }
    }
}

extension Node {
    /// Whether the scalar resolved to YAML null (`null`, `~` or nothing).
    var isNullValue: Bool { tag.rawValue == Tag.Name.null.rawValue }
    /// Whether the scalar resolved to a YAML integer.
    var isIntValue: Bool { tag.rawValue == Tag.Name.int.rawValue }
}
