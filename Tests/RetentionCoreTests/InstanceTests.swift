import Foundation
import Testing
@testable import RetentionCore

/// Instances, one database each: `--instance NAME` reads `NAME.yaml` of the config folder, each
/// instance keeps its own manifest folder, chain and metrics, and `status --all-instances` judges
/// them all.
@Suite struct InstanceTests {
    /// Runs the binary with no database, no RETENTION_* but `extra`.
    func retention(_ arguments: [String], _ extra: [String: String]) throws -> ProcessResult {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RETENTION_") }
        environment.merge(extra) { $1 }
        return try runProcess(retentionBinary, arguments + ["--log-format", "text"], environment: environment)
    }

    @Test func instanceNamesAndConflictsAreRefusedWithTheirExitStatus() throws {
        let folder = try PolicyFolder(["north.yaml": "jobs: 3\n"])
        let env = folder.environment
        // Bad names and --instance with --config: usage errors (64), before anything is read.
        for name in ["a b", "-north", "../etc/passwd", "nörth", "north.yaml", String(repeating: "a", count: 65), ""] {
            let result = try retention(["config", "--instance=\(name)"], env)
            #expect(result.status == 64, "\(name): \(result.output)")
            // An empty value is a missing one to the parser.
            #expect(name.isEmpty || result.stderr.contains("--instance: an instance name is letters, digits, - and _, at most 64 characters"), "\(result.stderr)")
        }
        let both = try retention(["config", "--instance", "north", "--config", "/dev/null"], env)
        #expect(both.status == 64 && both.stderr.contains("--instance and --config name the config file both"), "\(both.stderr)")
        // A good name whose file does not exist: 78, one line naming the file and the instances there are.
        let missing = try retention(["plan", "--instance", "south"], env)
        #expect(missing.status == 78)
        #expect(missing.stderr == "retention: error: instance south: no config file \(folder.url.path)/south.yaml (instances here: north)\n",
                "\(missing.stderr)")
        let longest = try retention(["config", "--instance", String(repeating: "a", count: 64)], env)
        #expect(longest.status == 78, "\(longest.output)")
        // The instance's file is read; the command line still wins over it.
        let shown = try retention(["config", "--instance", "north"], env)
        #expect(shown.status == 0)
        #expect(shown.stdout.hasPrefix("Config file: \(folder.url.path)/north.yaml (--instance north)\n"), "\(shown.stdout)")
        #expect(shown.stdout.contains("jobs               3"), "\(shown.stdout)")
        // The environment: RETENTION_INSTANCE reads it; a bad one, or with RETENTION_CONFIG, is 78.
        let fromEnvironment = try retention(["config"], env.merging(["RETENTION_INSTANCE": "north"]) { $1 })
        #expect(fromEnvironment.stdout.hasPrefix("Config file: \(folder.url.path)/north.yaml (RETENTION_INSTANCE north)\n"))
        let bad = try retention(["config"], env.merging(["RETENTION_INSTANCE": "no/rth"]) { $1 })
        #expect(bad.status == 78 && bad.stderr.contains("RETENTION_INSTANCE: an instance name is"), "\(bad.stderr)")
        let conflict = try retention(["config"], env.merging(["RETENTION_INSTANCE": "north", "RETENTION_CONFIG": "/dev/null"]) { $1 })
        #expect(conflict.status == 78 && conflict.stderr.contains("RETENTION_INSTANCE and RETENTION_CONFIG name the config file both"))
        // ... and the command line's --config wins over RETENTION_INSTANCE, as over any environment.
        let overridden = try retention(["config", "--config", "/dev/null"], env.merging(["RETENTION_INSTANCE": "south"]) { $1 })
        #expect(overridden.status == 0 && overridden.stdout.hasPrefix("Config file: /dev/null (--config)"), "\(overridden.output)")
        // --all-instances reads each instance's own settings: none of one instance's options.
        for options in [["--instance", "north"], ["--config", "/dev/null"], ["--db", "dbname=x"], ["--manifests", "/tmp"], ["--policies", "/tmp"]] {
            let result = try retention(["status", "--all-instances"] + options, env)
            #expect(result.status == 64 && result.stderr.contains("--all-instances reads each instance's own config file"), "\(result.stderr)")
        }
    }

    /// An instance's file names its database; RETENTION_DB or --db winning over it is said before
    /// connecting (hostile pass 13: a run went to another database with only the "connected to" line).
    @Test func aDatabaseOverridingTheInstancesFileIsNamedBeforeConnecting() throws {
        let folder = try PolicyFolder(["north.yaml": "db: dbname=north_db\n"])
        let env = folder.environment.merging(["RETENTION_DB": "host=/nonexistent dbname=other connect_timeout=1"]) { $1 }
        let result = try retention(["plan", "--instance", "north"], env)
        #expect(result.status == 69)
        #expect(result.stderr.contains("instance north's config file names its database, but environment (RETENTION_DB) names another"),
                "\(result.stderr)")
        let plain = try retention(["plan", "--instance", "north", "--db", "host=/nonexistent dbname=north_db connect_timeout=1"], folder.environment)
        #expect(plain.stderr.contains("instance north's config file names its database, but command line (--db) names another"), "\(plain.stderr)")
    }

    @Test func theInstancesOfAFolderAreItsConfigFilesTheDefaultFirst() throws {
        let folder = try PolicyFolder(["north.yaml": "", "retention.yaml": "", "east-2.yaml": "", "retention.yaml.dpkg-dist": "",
                                       ".north.yaml.swp": "", "bad name.yaml": "", "notes.txt": ""])
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("policies.yaml"), withIntermediateDirectories: true)
        #expect(try Instances.all(environment: folder.environment).map(\.name) == ["retention", "east-2", "north"])
        let settings = try Settings(commandLine: [:], configOption: nil, instanceOption: "north", environment: folder.environment)
        #expect(settings.instance == "north" && settings.configFile?.path == folder.url.appendingPathComponent("north.yaml").path)
        let byDefault = try Settings(commandLine: [:], configOption: nil, environment: folder.environment)
        #expect(byDefault.instance == "retention" && byDefault.configFile?.chosenBy == "default path")
        #expect(Instances.timer(of: "north") == "retention@north.timer")
        #expect(Instances.timer(of: "retention") == "retention.timer" && Instances.timer(of: nil) == "retention.timer")
        #expect(Instances.directory(environment: [:]) == "/etc/retention")
        // With no instance at all, status over them is unknown (3), in one line.
        let empty = try PolicyFolder()
        let none = try retention(["status", "--all-instances"], empty.environment)
        #expect(none.status == 3 && none.stdout == "RETENTION UNKNOWN: no instance: no config file in \(empty.url.path)\n", "\(none.output)")
    }

    /// An instance's metrics are labelled with its name, so that several instances' files in one
    /// node_exporter folder hold no series twice; the default instance's are as they were.
    @Test func anInstancesMetricsCarryItsName() throws {
        let summary = RunSummary(runID: 4, status: .completed, startedAt: "", policies: [])
        var facts = MetricsFile.RunFacts(summary: summary, finished: Date(timeIntervalSince1970: 1_800_000_000), seconds: 2,
                                         batchSecondsMax: [:], replicaLagPauses: 0)
        // Lines sorted: the registry emits its metrics in no fixed order.
        func lines(_ text: String) -> [Substring] { text.split(separator: "\n").sorted() }
        let plain = MetricsFile.render(facts, previousSuccess: nil)
        facts.instance = "retention"
        #expect(lines(MetricsFile.render(facts, previousSuccess: nil)) == lines(plain))
        #expect(!plain.contains("retention_instance"))
        facts.instance = "north"
        let north = MetricsFile.render(facts, previousSuccess: nil)
        let samples = north.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(!samples.isEmpty && samples.allSatisfy { $0.contains("retention_instance=\"north\"") }, "\(north)")
        // A later failed run keeps the labelled file's last success.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("retention-north-\(UUID().uuidString).prom")
        defer { try? FileManager.default.removeItem(at: file) }
        try north.write(to: file, atomically: true, encoding: .utf8)
        #expect(MetricsFile.previousSuccess(in: file.path) == 1_800_000_000)
    }

    /// Two instances, each its own database, config file, manifest folder and metrics file: each
    /// run keeps to its own chain, a folder of another instance's is refused, and `status
    /// --all-instances` judges both, the worst first (critical before unknown).
    @Test func statusOverTwoInstancesEachWithItsOwnChain() throws {
        let library = try TestDatabase(reference: false)
        let north = try TestDatabase(reference: false)
        let libraryPolicies = try visitsTable(library, canary: "LIBRARY-CANARY-")
        let northPolicies = try visitsTable(north, canary: "NORTH-CANARY-")
        func config(_ db: TestDatabase, _ policies: PolicyFolder, manifests: String? = nil, metrics: String? = nil) -> String {
            "db: \"dbname=\(db.name)\"\npolicies: \(policies.url.path)\nmanifests: \(manifests ?? db.manifestFolder)\n"
                + "signing_key: \(db.signingKeyPath)\npublic_key: \(db.publicKeyPath)\n" + (metrics.map { "metrics_file: \($0)\n" } ?? "")
        }
        let northMetrics = north.files.appendingPathComponent("retention-north.prom").path
        let folder = try PolicyFolder(["retention.yaml": config(library, libraryPolicies),
                                       "north.yaml": config(north, northPolicies, metrics: northMetrics)])
        // The test harness's own settings are not the instances': only the folder and libpq's server.
        let environment = folder.environment.merging(["RETENTION_MANIFESTS": "", "RETENTION_SIGNING_KEY": "", "RETENTION_PUBLIC_KEY": "",
                                                      "RETENTION_CONFIG": "", "PGDATABASE": ""]) { $1 }
        func retention(_ arguments: [String]) throws -> ProcessResult {
            try north.retention(arguments + ["--log-format", "text"], environment: environment)
        }
        func all(json: Bool = false) throws -> ProcessResult { try retention(["status", "--all-instances"] + (json ? ["--json"] : [])) }

        // North's night: its manifest in its folder, sequence 1; the library's untouched.
        let night = try retention(["run", "--instance", "north"])
        #expect(night.status == 0, "\(night.stderr)")
        #expect(try north.manifestFiles().count == 1 && (try north.manifestFiles().first?.hasSuffix("-000001.manifest.json")) == true)
        #expect(try library.manifestFiles().isEmpty && (try library.int("SELECT count(*) FROM visits")) == 30000)
        #expect(try north.int("SELECT count(*) FROM visits") == 0)
        #expect(try String(contentsOfFile: northMetrics, encoding: .utf8).contains("retention_run_status{status=\"completed\",retention_instance=\"north\"} 1")
                || (try String(contentsOfFile: northMetrics, encoding: .utf8)).contains("retention_instance=\"north\",status=\"completed\"} 1"))
        #expect(try retention(["verify", "--instance", "north", "--ledger", north.manifestFolder]).status == 0)

        // The library has no run yet (warning), north is well (OK): the worst is the library's.
        var result = try all()
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stdout.hasPrefix("RETENTION WARNING: retention: no run recorded yet\ninstances:    retention WARNING, north OK\n"),
                "\(result.stdout)")
        #expect(result.stdout.contains("\n== retention (\(folder.url.path)/retention.yaml)\nRETENTION WARNING: no run recorded yet\n"))
        #expect(result.stdout.contains("\n== north (\(folder.url.path)/north.yaml)\nRETENTION OK: the last night completed and nothing is due\n"))
        #expect(result.stdout.contains("connected to: database \(north.name) "), "\(result.stdout)")
        #expect(try retention(["status", "--instance", "north"]).status == 0)

        // An instance whose file names another instance's folder: its chain is another database's (78).
        try folder.write("mixed.yaml", config(north, northPolicies, manifests: library.manifestFolder))
        let mixed = try retention(["run", "--instance", "mixed"])
        #expect(mixed.status == 78, "\(mixed.stderr)")
        try FileManager.default.removeItem(at: folder.url.appendingPathComponent("mixed.yaml"))

        // The library's night stopped at its cap with no completed run (critical); an instance out
        // of reach (unknown): critical is the worse, and the verdict names its instance.
        #expect(try retention(["run", "--instance", "retention", "--max-rows", "1000"]).status == 0)
        try folder.write("south.yaml", "db: \"dbname=no_such_database_here\"\npolicies: \(northPolicies.url.path)\n")
        result = try all()
        #expect(result.status == 2, "\(result.output)")
        #expect(result.stdout.hasPrefix("RETENTION CRITICAL: retention: no run has completed with its manifest yet\n"
                                        + "instances:    retention CRITICAL, north OK, south UNKNOWN\n"), "\(result.stdout)")
        #expect(result.stdout.contains("\n== south (\(folder.url.path)/south.yaml)\nRETENTION UNKNOWN: "), "\(result.stdout)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try all(json: true).stdout.utf8)) as? [String: Any])
        #expect(json["level"] as? String == "critical")
        let instances = try #require(json["instances"] as? [[String: Any]])
        #expect(instances.map { $0["instance"] as? String } == ["retention", "north", "south"])
        #expect(instances.map { $0["level"] as? String } == ["critical", "ok", "unknown"])
        #expect((instances[0]["last_run"] as? [String: Any])?["status"] as? String == "stopped")
        #expect((instances[1]["last_run"] as? [String: Any])?["manifest_intact"] as? Bool == true)
        #expect(instances[2]["unknown"] is String && instances[2]["last_run"] == nil)
        #expect(instances[0]["config_file"] as? String == folder.url.appendingPathComponent("retention.yaml").path)

        // Both nights done: the one out of reach is what is left (unknown, 3), named.
        #expect(try retention(["run", "--instance", "retention"]).status == 0)
        result = try all()
        #expect(result.status == 3 && result.stdout.hasPrefix("RETENTION UNKNOWN: south: "), "\(result.stdout)")
        try FileManager.default.removeItem(at: folder.url.appendingPathComponent("south.yaml"))
        result = try all()
        #expect(result.status == 0 && result.stdout.hasPrefix("RETENTION OK: every instance's last night completed and nothing is due\n"),
                "\(result.stdout)")
        // Each chain its own: two manifests in the library's folder, one in north's; no row value anywhere.
        #expect(try library.manifestFiles().count == 2 && (try north.manifestFiles().count) == 1)
        #expect(!result.output.contains("CANARY"))
    }
}

/// A folder of files of one test's own serves as the instances' config folder too.
extension PolicyFolder {
    /// The environment that makes it the folder of config files (`RETENTION_CONFIG_DIR`).
    var environment: [String: String] { ["RETENTION_CONFIG_DIR": url.path] }
}
