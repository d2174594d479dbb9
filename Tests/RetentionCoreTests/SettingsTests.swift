import Foundation
import Testing
@testable import RetentionCore

/// The config file and the shared settings: precedence, paths, refusals, and `retention config`.
@Suite struct SettingsTests {
    /// A config file with `text` in a folder of its own.
    func configFile(_ text: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("retention-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("retention.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    func refusal(_ body: () throws -> Settings) -> UsageError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? UsageError
        }
    }

    @Test func commandLineWinsOverEnvironmentOverFileOverDefault() throws {
        let file = try configFile("jobs: 3\nlock_timeout: 7s\nstatement_timeout: 30s\nlog_level: notice\n")
        let settings = try Settings(commandLine: [.jobs: "5"], configOption: file.path,
                                    environment: ["RETENTION_JOBS": "4", "RETENTION_LOCK_TIMEOUT": "9s"])
        #expect(settings.jobs == 5)
        #expect(settings.setting(.jobs)?.source == .commandLine("--jobs"))
        #expect(settings.lockTimeout == "9s")
        #expect(settings.setting(.lockTimeout)?.source == .environment("RETENTION_LOCK_TIMEOUT"))
        #expect(settings.statementTimeout == "30s")
        #expect(settings.setting(.statementTimeout)?.source == .file(path: file.path, line: 3))
        #expect(settings.logLevel == "notice")
        #expect(settings.batchSize == nil)
        #expect(settings.setting(.maxRuntime) == nil)
        #expect(settings.setting(.policies)?.source == .builtIn)
        #expect(settings.policies == "policies")
    }

    /// A default is written once, in the setting's declaration: the help says it, an unset setting
    /// takes it, and the run's own defaults are it; a bad value of every checked setting is refused.
    @Test func eachDefaultIsDeclaredOnceAndUsedEverywhere() throws {
        let unset = try Settings(commandLine: [:], configOption: nil, environment: ["RETENTION_CONFIG": "/dev/null"])
        for key in SettingKey.allCases {
            let definition = key.definition
            if let builtIn = definition.builtIn {
                #expect(key.helpAbstract.hasSuffix(" (default: \(builtIn)).") && unset.setting(key)?.value == builtIn, "\(key)")
                #expect(unset.setting(key)?.source == .builtIn)
            } else {
                #expect(unset.setting(key) == nil, "\(key)")
            }
            #expect(key.helpDiscussion.hasPrefix("Also: \(key.environmentName), `\(key.rawValue)` in the config file"))
        }
        let options = RunOptions()
        #expect(options.lockTimeout == unset.lockTimeout && options.statementTimeout == unset.statementTimeout)
        #expect(options.jobs == unset.jobs && options.maxClockSkew == unset.maxClockSkew)
        for key in [SettingKey.logFormat, .logLevel, .batchSize, .jobs, .maxRuntime, .lockTimeout, .statementTimeout,
                    .maxReplicaLag, .maxWALRate, .maxClockSkew] {
            let refused = refusal { try Settings(commandLine: [:], configOption: nil, environment: [key.environmentName: "x9"]) }
            #expect(refused?.exitCode == .config && refused?.description.hasPrefix("\(key.environmentName) must be") == true,
                    "\(key): \(String(describing: refused?.description))")
        }
    }

    @Test func relativePathsInTheFileAreReadFromItsFolder() throws {
        let file = try configFile("policies: policies\nmanifests: ../manifests\nsigning_key: keys/signing.pem\npublic_key: /srv/public.pem\n")
        let folder = file.deletingLastPathComponent()
        let settings = try Settings(commandLine: [:], configOption: file.path, environment: [:])
        #expect(settings.policies == folder.appendingPathComponent("policies").path)
        #expect(settings.manifests == folder.deletingLastPathComponent().appendingPathComponent("manifests").path)
        #expect(settings.signingKey == folder.appendingPathComponent("keys/signing.pem").path)
        #expect(settings.publicKey == "/srv/public.pem")
        // From the command line, a relative path stays relative to the current folder.
        let given = try Settings(commandLine: [.policies: "mine"], configOption: file.path, environment: [:])
        #expect(given.policies == "mine")
    }

    @Test func configFileComesFromOptionThenEnvironmentAndAnEmptyFileSetsNothing() throws {
        let file = try configFile("jobs: 3\n")
        let other = try configFile("jobs: 4\n")
        #expect(try Settings(commandLine: [:], configOption: file.path, environment: ["RETENTION_CONFIG": other.path]).jobs == 3)
        #expect(try Settings(commandLine: [:], configOption: nil, environment: ["RETENTION_CONFIG": other.path]).jobs == 4)
        let empty = try Settings(commandLine: [:], configOption: "/dev/null", environment: [:])
        #expect(empty.jobs == RunOptions.defaultJobs)
        #expect(try Settings(commandLine: [:], configOption: try configFile("# nothing yet\n").path, environment: [:]).jobs == 2)
        // An empty environment variable counts as not set.
        #expect(try Settings(commandLine: [:], configOption: file.path, environment: ["RETENTION_JOBS": ""]).jobs == 3)
    }

    @Test func badConfigFilesAreRefusedWithTheirLineAndExit78() throws {
        let cases: [(String, String)] = [
            ("db: dbname=x\nmanifest: /var/lib/retention\n", "line 2: unknown setting 'manifest'"),
            ("db: \"dbname=x password=Hunter2Canary\"\n", "line 1: db holds a password"),
            ("jobs: 99\n", "line 1: jobs must be between 1 and 16; found '99'"),
            ("batch_size: lots\n", "line 1: batch_size must be a whole number"),
            ("max_runtime: soon\n", "line 1: max_runtime must be a duration"),
            ("lock_timeout: 5 fortnights\n", "line 1: lock_timeout must be a PostgreSQL time"),
            ("log_format: xml\n", "line 1: log_format must be text or json"),
            ("policies: [a, b]\n", "line 1: policies must be a single value"),
            ("db: [unclosed\n", "is not valid YAML"),
            ("- db\n- jobs\n", "expected a mapping of settings"),
            ("db: \"dbname='unterminated\"\n", "line 1: db is not a libpq connection string"),
        ]
        for (text, message) in cases {
            let file = try configFile(text)
            let error = refusal { try Settings(commandLine: [:], configOption: file.path, environment: [:]) }
            #expect(error?.exitCode == .config, "\(text)")
            #expect(error?.description.contains(message) == true, "\(text): \(error?.description ?? "accepted")")
            #expect(error?.description.contains("Hunter2Canary") == false)
            #expect(error?.description.contains("\n") == false)
        }
        let missing = refusal { try Settings(commandLine: [:], configOption: "/nonexistent/retention.yaml", environment: [:]) }
        #expect(missing?.exitCode == .config)
        #expect(missing?.description == "config file /nonexistent/retention.yaml: no such file")
    }

    @Test func badValueIs64OnTheCommandLineAnd78InTheEnvironment() throws {
        let onCommandLine = refusal { try Settings(commandLine: [.jobs: "0"], configOption: "/dev/null", environment: [:]) }
        #expect(onCommandLine?.exitCode == .usage)
        #expect(onCommandLine?.description == "--jobs must be between 1 and 16; found '0'")
        let inEnvironment = refusal { try Settings(commandLine: [:], configOption: "/dev/null", environment: ["RETENTION_MAX_RUNTIME": "soon"]) }
        #expect(inEnvironment?.exitCode == .config)
        #expect(inEnvironment?.description.hasPrefix("RETENTION_MAX_RUNTIME must be a duration") == true)
    }

    @Test func configCommandShowsEachValueAndItsSourceButNoPassword() throws {
        let file = try configFile("db: \"dbname=library user=retention\"\npolicies: policies\njobs: 3\n")
        let result = try runProcess(retentionBinary, ["config", "--config", file.path, "--db", "dbname=library password=Hunter2Canary",
                                                      "--log-format", "text"],
                                    environment: ["RETENTION_JOBS": "4", "PATH": "/usr/bin:/bin"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.output.contains("Hunter2Canary"))
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "Config file: \(file.path) (--config)")
        func line(_ key: String) -> String { lines.first { $0.hasPrefix("  \(key) ") } ?? "" }
        #expect(line("db").contains("password='********'"))
        #expect(line("db").hasSuffix("command line (--db)"))
        #expect(line("policies").contains(file.deletingLastPathComponent().appendingPathComponent("policies").path))
        #expect(line("policies").hasSuffix("config file (\(file.path) line 2)"))
        #expect(line("jobs").hasSuffix("environment (RETENTION_JOBS)"))
        #expect(line("jobs").contains(" 4 "))
        #expect(line("lock_timeout").hasSuffix("default"))
        #expect(line("manifests").contains("not set"))

        let json = try runProcess(retentionBinary, ["config", "--config", file.path, "--json"], environment: ["PATH": "/usr/bin:/bin"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let entries = object?["settings"] as? [[String: Any]] ?? []
        #expect(entries.map { $0["key"] as? String } == SettingKey.allCases.map(\.rawValue))
        #expect(entries.first { $0["key"] as? String == "jobs" }?["value"] as? String == "3")
    }

    @Test func runTakesEverySettingFromTheConfigFile() throws {
        let db = try TestDatabase()
        try db.sql(loanCases)
        let policies = try PolicyFolder.shipped()
        // Relative paths, read from the file's folder (the test's files: keys/, manifests/, policies -> shipped).
        try FileManager.default.createSymbolicLink(at: db.files.appendingPathComponent("policies"), withDestinationURL: policies.url)
        let file = db.files.appendingPathComponent("retention.yaml")
        try """
            # retention's shared settings
            db: "dbname=\(db.name)"
            policies: policies
            manifests: manifests
            signing_key: keys/retention-signing.pem
            public_key: keys/retention-public.pem
            jobs: 1
            """.write(to: file, atomically: true, encoding: .utf8)
        // Nothing but the file says which database, policies, folder and keys.
        var environment = db.environment(["RETENTION_CONFIG": file.path])
        for name in ["PGDATABASE", "RETENTION_MANIFESTS", "RETENTION_SIGNING_KEY", "RETENTION_PUBLIC_KEY"] {
            environment[name] = nil
        }
        let due = try db.plan(policies.url).policies.reduce(Int64(0)) { $0 + $1.due }
        #expect(due > 0)
        let run = try runProcess(retentionBinary, ["run", "--log-format", "text"], environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        let written = try FileManager.default.contentsOfDirectory(atPath: db.manifestFolder).filter { $0.hasSuffix(".manifest.json") }
        #expect(written.count == 1)
        #expect(try db.plan(policies.url).policies.reduce(Int64(0)) { $0 + $1.due } == 0)
        let verify = try runProcess(retentionBinary, ["verify", "manifests"], environment: environment)
        // `manifests` here is relative to the current folder, not the file's: it names nothing.
        #expect(verify.status != 0)
        let verified = try runProcess(retentionBinary, ["verify", db.manifestFolder], environment: environment)
        #expect(verified.status == 0, "\(verified.output)")
    }
}
