import Foundation
import Yams

/// One thing wrong in a policy file, with where it is when known.
public struct PolicyProblem: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let column: Int?
    public let message: String

    public var description: String {
        switch (line, column) {
        case let (line?, column?): return "\(visible(file)):\(line):\(column): \(message)"
        case let (line?, nil): return "\(visible(file)):\(line): \(message)"
        default: return "\(visible(file)): \(message)"
        }
    }
}

/// The problems found in a policy set; any one of them stops the whole set.
public struct PolicyErrors: RetentionError {
    public let problems: [PolicyProblem]
    /// 65 for problems in the files alone, 78 for problems found against the live catalog.
    public let exitCode: ExitStatus

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Reads policy files and checks their form (SPEC §3), without a database.
///
/// Every problem in every file is collected, so one `retention check` shows them all.
public enum PolicyLoader {
    /// The policy files of `directory`: its `*.yaml` and `*.yml` files, sorted by name.
    public static func files(in directory: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw UsageError("policy folder \(directory) does not exist or is not a folder", exitCode: .config)
        }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw UsageError("policy folder \(directory) cannot be read", exitCode: .config)
        }
        let files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        guard !files.isEmpty else {
            let examples = names.filter { $0.hasSuffix(".yaml.example") }.sorted()
            let hint = examples.isEmpty ? "" : "; its examples are disabled (\(examples.map(visible).joined(separator: ", "))): "
                + "adapt one and enable it with cp NAME.yaml.example NAME.yaml"
            throw UsageError("policy folder \(directory) holds no *.yaml files\(hint)", exitCode: .config)
        }
        return files.map { (directory as NSString).appendingPathComponent($0) }
    }

    /// Loads and checks every policy file of `directory`; throws `PolicyErrors` (65) listing all problems.
    public static func load(directory: String) throws -> [Policy] {
        try load(files: files(in: directory))
    }

    /// Loads and checks the given policy files as one set (names must be unique across them).
    public static func load(files: [String]) throws -> [Policy] {
        var policies: [Policy] = []
        var problems: [PolicyProblem] = []
        for file in files {
            let data: Data
            switch BoundedFile.read(file, atMost: BoundedFile.largestSettings) {
            case .success(let read): data = read
            case .failure(let problem):
                problems.append(PolicyProblem(file: file, line: nil, column: nil, message: problem.description))
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                problems.append(PolicyProblem(file: file, line: nil, column: nil, message: "is not UTF-8 text"))
                continue
            }
            let sha256 = sha256Hex(data)
            switch parse(yaml: text, file: file, sha256: sha256) {
            case .success(let policy): policies.append(policy)
            case .failure(let errors): problems += errors.problems
            }
        }
        var firstFile: [String: String] = [:]
        for policy in policies {
            if let other = firstFile[policy.name] {
                problems.append(PolicyProblem(
                    file: policy.file, line: nil, column: nil,
                    message: "policy name '\(policy.name)' is already used by \(other); names must be unique"))
            } else {
                firstFile[policy.name] = policy.file
            }
        }
        // A hold names a patron or library once; two policies reading them from different columns of
        // one table would each keep only its own column's rows, and purge the other's.
        for (index, policy) in policies.enumerated() {
            for other in policies[..<index] where other.table == policy.table {
                for (what, key, mine, theirs) in [("patron", "patron", policy.patron, other.patron),
                                                  ("library", "libraries.column", policy.libraries?.column, other.libraries?.column)]
                where mine != nil && theirs != nil && mine != theirs {
                    let position = policy.position(key)
                    problems.append(PolicyProblem(file: policy.file, line: position?.line, column: position?.column, message:
                        "policies \(other.name) and \(policy.name) both purge \(policy.table) but read the \(what) from different "
                        + "columns (\(visible(theirs!)), \(visible(mine!))): a hold on a \(what) would keep the rows of one and "
                        + "let the other purge them; give both the same \(what) column"))
                }
            }
        }
        if !problems.isEmpty { throw PolicyErrors(problems: problems, exitCode: .dataError) }
        return policies
    }

    /// Parses one policy file's text.
    public static func parse(yaml: String, file: String, sha256: String = "") -> Result<Policy, PolicyErrors> {
        var reader = NodeReader(file: file)
        let root: Node?
        do {
            root = try BoundedFile.composeYAML(yaml)
        } catch let error as BoundedFile.AnchorRefused {
            reader.problems.append(PolicyProblem(file: file, line: error.position.line, column: error.position.column,
                                                 message: error.message))
            return .failure(PolicyErrors(problems: reader.problems, exitCode: .dataError))
        } catch let error as YamlError {
            reader.problem(at: nil, NodeReader.describe(error), mark: NodeReader.mark(of: error))
            return .failure(PolicyErrors(problems: reader.problems, exitCode: .dataError))
        } catch {
            reader.problem(at: nil, "is not valid YAML")
            return .failure(PolicyErrors(problems: reader.problems, exitCode: .dataError))
        }
        guard let root else {
            reader.problem(at: nil, "is empty; expected a policy (name, version, description, table, ...)")
            return .failure(PolicyErrors(problems: reader.problems, exitCode: .dataError))
        }
        reader.refuseControlCharacters(root)
        guard reader.problems.isEmpty else { return .failure(PolicyErrors(problems: reader.problems, exitCode: .dataError)) }
        let policy = reader.policy(root, sha256: sha256)
        if let policy, reader.problems.isEmpty { return .success(policy) }
        return .failure(PolicyErrors(problems: reader.problems, exitCode: .dataError))
    }
}

/// Walks a composed YAML tree, collecting problems with their marks.
struct NodeReader {
    let file: String
    var problems: [PolicyProblem] = []
    /// Where each part of the policy stands, for `Policy.positions`.
    var positions: [String: SourcePosition] = [:]

    mutating func remember(_ key: String, _ node: Node?) {
        if let mark = node?.mark { positions[key] = SourcePosition(line: mark.line, column: mark.column) }
    }

    static let topKeys = ["name", "version", "description", "table", "key", "age", "retain", "action", "cascade",
                          "set", "patron", "consent", "keep_when", "libraries"]

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
        for key in Self.topKeys { remember(key, map[key]) }
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
        let libraries = libraries(map["libraries"])
        let cascade = cascade(map["cascade"])
        if action == .anonymize, map["cascade"] != nil {
            problem(at: map["cascade"], "cascade is only for action: delete (an anonymizing update changes no other table)")
        }

        guard let name, let version, let description, let table, let key, let age, let retain, let action else {
            return nil
        }
        return Policy(name: name, version: version, description: description, table: table, key: key, age: age,
                      retain: retain, action: action, set: assignments, patron: patron, consent: consent,
                      keepWhen: keepWhen, libraries: libraries, cascade: cascade, positions: positions, file: file,
                      sha256: sha256)
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
            remember("set.\(column)", keyNode)
            assignments.append(Assignment(column: column, value: value.isNullValue ? nil : scalar.string))
        }
        return assignments
    }

    /// `cascade: [public.loan_notes, ...]`: schema-qualified tables, each once.
    mutating func cascade(_ node: Node?) -> [QualifiedName] {
        guard let node else { return [] }
        guard case .sequence(let list) = node, !list.isEmpty else {
            problem(at: node, "cascade must be a list of tables like [public.loan_notes]")
            return []
        }
        var tables: [QualifiedName] = []
        for element in list {
            guard case .scalar = element else {
                problem(at: element, "cascade must list schema-qualified table names like public.loan_notes")
                continue
            }
            guard let table = qualifiedName(["cascade": element], "cascade") else { continue }
            if tables.contains(table) {
                problem(at: element, "cascade lists \(table) twice")
                continue
            }
            remember("cascade.\(table.schema).\(table.name)", element)
            tables.append(table)
        }
        return tables
    }

    mutating func consent(_ node: Node?) -> Policy.Consent? {
        guard let node else { return nil }
        guard let map = mapping(node, "consent", keys: ["table", "key", "keep_if"]) else { return nil }
        for key in ["table", "key", "keep_if"] { remember("consent.\(key)", map[key]) }
        let table = qualifiedName(map, "table")
        let key = identifier(map, "key", required: true)
        let keepIf = identifier(map, "keep_if", required: true)
        guard let table, let key, let keepIf else { return nil }
        return Policy.Consent(table: table, key: key, keepIf: keepIf)
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
            remember("keep_when.\(conditions.count)", item)
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
        remember("libraries.column", map["column"])
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
            remember("libraries.\(field).\(key.string)", keyNode)
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
