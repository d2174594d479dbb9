import ArgumentParser
import Foundation
import Logging
import RetentionCore

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dry run: what tonight's run would purge, per policy and library, in a READ ONLY transaction.",
        discussion: "Prints cutoffs and counts only, never a row value. Exit: 0, 64, 65, 69, 75 (a table locked or a statement past its timeout: try again), 77, 78.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var policyFolder: PolicyOptions
    @OptionGroup var database: ConnectionOptions

    @Flag(help: "Print the plan as JSON.")
    var json = false

    @Option(name: .customLong("only"), help: "Plan only this policy (repeatable).")
    var only: [String] = []

    func run() throws {
        let (settings, logger) = try global.begin(policyFolder, database)
        try perform(logger) {
            let policies = try Retention.loadPolicies(directory: settings.policies, only: only)
            let connection = try Retention.connect(settings, logger: logger)
            let resolved = try Retention.resolve(policies, on: connection, for: .plan, lockTimeout: settings.lockTimeout)
            let report = try Planner.plan(resolved, on: connection, logger: logger)
            print(json ? PlanRendering.json(report) : PlanRendering.text(report), terminator: "")
        }
    }
}
