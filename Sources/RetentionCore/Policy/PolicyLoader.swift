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
                for (key, message) in policy.columnConflicts(with: other.companion, purging: "both purge \(policy.table)") {
                    let position = policy.position(key)
                    problems.append(PolicyProblem(file: policy.file, line: position?.line, column: position?.column, message: message))
                }
            }
        }
        if !problems.isEmpty { throw PolicyErrors(problems: problems, exitCode: .dataError) }
        let companions = policies.map(\.companion)
        for index in policies.indices {
            policies[index].companions = companions.filter { $0.name != policies[index].name }
        }
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
