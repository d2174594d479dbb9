import Foundation
import Logging

extension StatusReport {
    /// Everything `retention status` reports for one config: the ledger, the manifest folder's
    /// chain and the last run's manifest, what would stop tonight's run, the timer's next start;
    /// judged. Throws the `RetentionError` that makes the status unknown (the database cannot be
    /// reached, or has no retention schema).
    public static func gather(_ settings: Settings, logger: Logger) throws -> StatusReport {
        let connection = try Retention.connect(settings, logger: logger)
        var report = try read(on: connection)
        // The policy folder, read once: a folder that cannot be read is a blocker; its policies are checked when it can.
        let folder = Result { try Retention.loadPolicies(directory: settings.policies) }
        report.blockers = tonightsBlockers(folder, settings, on: connection)
        if report.lastRun != nil, let policies = try? folder.get() {
            try report.checkApplied(policies.map(\.name), on: connection)
            // What a policy no longer in the folder left due is no longer tonight's business.
            report.due = report.due.filter { due in policies.contains { $0.name == due.policy } }
        }
        if let manifests = settings.manifests {
            report.checkChain(in: manifests, on: connection)
            report.checkManifest(in: manifests)
        }
        report.nextRun = nextStart(of: Instances.timer(of: settings.instance))
        report.judge()
        return report
    }

    /// What `check --catalog` would find tonight: the policy folder and each policy against the catalog.
    static func tonightsBlockers(_ folder: Result<[Policy], any Error>, _ settings: Settings, on connection: Connection) -> [String] {
        do {
            // A standby, or a database whose transactions are read-only, takes no purge tonight.
            let readOnly = try connection.query("""
                SELECT pg_catalog.pg_is_in_recovery() AS standby,
                       pg_catalog.current_setting('default_transaction_read_only') OPERATOR(pg_catalog.=) 'on' AS read_only
                """).single()
            if try readOnly.bool("standby") {
                return ["the database is a standby in recovery: tonight's run could change nothing (exit 69); point it at the primary"]
            }
            if try readOnly.bool("read_only") {
                return ["default_transaction_read_only is on for this database or role: tonight's run could change nothing (exit 69)"]
            }
            _ = try Retention.resolve(try folder.get(), on: connection, lockTimeout: settings.lockTimeout)
            return []
        } catch let error as RetentionError {
            return [String(error.description.split(separator: "\n").first ?? "")]
        } catch {
            return ["\(error)"]
        }
    }

    /// A timer's next start as systemd says, on a machine run by systemd with the unit installed.
    static func nextStart(of timer: String) -> String? {
        guard FileManager.default.fileExists(atPath: "/run/systemd/system"),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/systemctl") else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/systemctl")
        process.arguments = ["show", timer, "--property=NextElapseUSecRealtime", "--value"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && !text.isEmpty && text != "n/a" ? text : nil
    }
}

/// `retention status --all-instances`: the status of every instance with a config file (the
/// default one first), a section each, and the worst of them as the verdict and the exit status.
public struct InstancesStatus: Encodable, Sendable {
    /// One instance's status, or why it is unknown (its config file refused, its database out of reach).
    public struct Entry: Encodable, Sendable {
        public let instance: String
        public let configFile: String
        public let report: StatusReport?
        public let unknown: String?

        public var level: StatusReport.Level { report?.level ?? .unknown }
        public var verdict: String { report?.verdict ?? unknown ?? "" }

        public func encode(to encoder: any Encoder) throws {
            try report?.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(instance, forKey: .instance)
            try container.encode(configFile, forKey: .configFile)
            try container.encode(level, forKey: .level)
            try container.encodeIfPresent(unknown, forKey: .unknown)
        }
        enum Key: String, CodingKey { case instance, configFile = "config_file", level, unknown }
    }

    public var instances: [Entry]
    /// Why there is no instance to report on (an empty or unreadable folder).
    public var none: String?

    /// The worst instance's level (critical, then unknown, then warning); unknown with no instance.
    public var level: StatusReport.Level { worst?.level ?? .unknown }

    private var worst: Entry? { instances.max { $0.level.severity < $1.level.severity } }

    /// Reads every instance's config file with `settings` (the command line's own options merged)
    /// and gathers its status; an instance that fails is unknown, and the others are still read.
    public static func gather(environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger,
                              settings: (Instances.Instance) throws -> Settings) -> InstancesStatus {
        let found: [Instances.Instance]
        do {
            found = try Instances.all(environment: environment)
        } catch let error as RetentionError {
            return InstancesStatus(instances: [], none: error.description)
        } catch {
            return InstancesStatus(instances: [], none: "\(error)")
        }
        let entries = found.map { instance -> Entry in
            do {
                let report = try StatusReport.gather(try settings(instance), logger: logger.with(instance: instance.name))
                return Entry(instance: instance.name, configFile: instance.configFile, report: report, unknown: nil)
            } catch let error as RetentionError {
                return Entry(instance: instance.name, configFile: instance.configFile, report: nil,
                             unknown: String(error.description.split(separator: "\n").first ?? ""))
            } catch {
                return Entry(instance: instance.name, configFile: instance.configFile, report: nil, unknown: "\(error)")
            }
        }
        let folder = Instances.directory(environment: environment)
        return InstancesStatus(instances: entries, none: entries.isEmpty ? "no instance: no config file in \(visible(folder))" : nil)
    }

    /// The verdict line (the worst instance's, named), a line of every instance's level, then a
    /// section per instance: the text `status --instance NAME` prints.
    public var text: String {
        guard let worst else { return "RETENTION UNKNOWN: \(none ?? "no instance")\n" }
        let allWell = instances.allSatisfy { $0.level == .ok }
        var out = "RETENTION \(level.word): "
            + (allWell ? "every instance's last night completed and nothing is due" : "\(worst.instance): \(worst.verdict)") + "\n"
        out += "instances:    " + instances.map { "\($0.instance) \($0.level.word)" }.joined(separator: ", ") + "\n"
        for entry in instances {
            out += "\n== \(entry.instance) (\(visible(entry.configFile)))\n"
            out += entry.report?.text ?? "RETENTION UNKNOWN: \(entry.verdict)\n"
        }
        return out
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(level, forKey: .level)
        try container.encode(instances, forKey: .instances)
        try container.encodeIfPresent(none, forKey: .unknown)
    }
    enum Key: String, CodingKey { case level, instances, unknown }
}

extension Logger {
    /// This logger with the instance's name in every line's metadata.
    func with(instance: String) -> Logger {
        var logger = self
        logger[metadataKey: "instance"] = "\(instance)"
        return logger
    }
}
