import ArgumentParser
import Foundation
import Logging
import RetentionCore

struct Setup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Creates or upgrades the tool's own schema (retention: runs, batch ledger, legal holds).",
        discussion: "Safe to run again: it changes nothing on an installed database. Exit: 0, 69, 77, 78.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: ConnectionOptions

    func run() throws {
        let logger = global.makeLogger()
        try perform(logger) {
            let connection = try Retention.connect(database.conninfo, logger: logger)
            try RetentionCore.Setup.install(on: connection, logger: logger)
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validates the policy files; with --db also against the live catalog.",
        discussion: """
            `retention check --db` connects with libpq's environment; `retention check --db CONNINFO` with a             conninfo string or URI. Exit: 0 valid, 65 invalid policy file, 69 database unreachable,             78 policy names a missing table or column or a value its column cannot take.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(name: .customLong("db"), help: "Also check tables, columns, key, types and literals against the database.")
    var againstDatabase = false

    @Argument(help: "With --db: a libpq conninfo string or URI (default: libpq's environment).")
    var conninfo: String?

    func validate() throws {
        if conninfo != nil && !againstDatabase {
            throw ValidationError("a connection string goes with --db: retention check --db CONNINFO")
        }
    }

    func run() throws {
        let logger = global.makeLogger()
        try perform(logger) {
            let policies = try Retention.loadPolicies(directory: global.policies)
            if againstDatabase {
                let connection = try Retention.connect(conninfo, logger: logger)
                _ = try Retention.resolve(policies, on: connection)
            }
            let against = againstDatabase ? " and the database catalog" : ""
            print("\(policies.count) \(policies.count == 1 ? "policy" : "policies") valid\(against): "
                  + policies.map { "\($0.name) v\($0.version)" }.joined(separator: ", "))
        }
    }
}

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dry run: what tonight's run would purge, per policy and library, in a READ ONLY transaction.",
        discussion: "Prints cutoffs and counts only, never a row value. Exit: 0, 64, 65, 69, 77, 78.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: ConnectionOptions

    @Flag(help: "Print the plan as JSON.")
    var json = false

    @Option(name: .customLong("only"), help: "Plan only this policy (repeatable).")
    var only: [String] = []

    func run() throws {
        let logger = global.makeLogger()
        try perform(logger) {
            let policies = try Retention.loadPolicies(directory: global.policies, only: only)
            let connection = try Retention.connect(database.conninfo, logger: logger)
            let resolved = try Retention.resolve(policies, on: connection)
            let report = try Planner.plan(resolved, on: connection, logger: logger)
            print(json ? PlanRendering.json(report) : PlanRendering.text(report), terminator: "")
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Purges what the policies say is due, in batches, and records every batch in the ledger.",
        discussion: """
            One run at a time per database (advisory lock). Quiet on success with --quiet.
            Exit: 0 done (also when nothing was due or stopped at --max-runtime), 1 failed during the purge, \
            64, 65, 69, 75 another run holds the lock, 77 permission denied, 78 configuration error.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: ConnectionOptions

    @Option(help: "About how many rows each batch examines.")
    var batchSize: Int = RunOptions.defaultBatchSize

    @Option(help: "Stop cleanly after the batch that passes this duration, like 30m, 2h or 90s.")
    var maxRuntime: String?

    @Option(name: .customLong("only"), help: "Apply only this policy (repeatable).")
    var only: [String] = []

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be 1 or more") }
        if let maxRuntime, DurationText.seconds(maxRuntime) == nil {
            throw ValidationError("--max-runtime must be a duration like 90s, 30m or 2h, found '\(maxRuntime)'")
        }
    }

    func run() throws {
        let logger = global.makeLogger()
        try perform(logger) {
            let policies = try Retention.loadPolicies(directory: global.policies, only: only)
            let connection = try Retention.connect(database.conninfo, logger: logger)
            let resolved = try Retention.resolve(policies, on: connection)
            let options = RunOptions(batchSize: batchSize, maxRuntime: maxRuntime.flatMap(DurationText.seconds))
            let summary = try Runner(connection: connection, logger: logger).run(resolved, options: options)
            let rows = summary.policies.map { "\($0.name) \($0.action.rawValue)d \($0.rows)" }.joined(separator: ", ")
            logger.notice("run \(summary.status.rawValue): \(rows.isEmpty ? "no policies" : rows)",
                          metadata: ["run.id": "\(summary.runID)", "run.status": "\(summary.status.rawValue)"])
        }
    }
}
