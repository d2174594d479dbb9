import ArgumentParser
import Foundation
import Logging
import RetentionCore

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validates the policy files; with --catalog also against the live database.",
        discussion: """
            With --catalog it connects (--db CONNINFO, or libpq's environment) and checks tables, columns, keys, \
            types, values, periods, foreign keys and privileges. Exit: 0 valid, 64 bad command line, \
            65 invalid policy file, 69 database unreachable, 75 a table locked past the lock timeout (try again), \
            77 permission denied, 78 policy names a missing table or column or a value its column cannot take.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var policyFolder: PolicyOptions
    @OptionGroup var database: ConnectionOptions

    @Flag(help: "Also check the policies against the database's catalog.")
    var catalog = false

    func run() throws {
        let (settings, logger) = try global.begin(policyFolder, database)
        try perform(logger) {
            let policies = try Retention.loadPolicies(directory: settings.policies)
            var erasureNotes: [String] = []
            if catalog {
                let connection = try Retention.connect(settings, logger: logger)
                let resolved = try Retention.resolve(policies, on: connection, lockTimeout: settings.lockTimeout)
                erasureNotes = try Erasure.plan(resolved, allowExclusiveLock: false, on: connection).notes
                let references = ForeignKeys.notes(for: resolved)
                erasureNotes += references.notes + Catalog.triggerNotes(for: resolved)
                for line in references.warnings { logger.warning("\(line)") }
                for line in try Holds.unmatched(policies: policies, on: connection) { logger.warning("\(line)") }
                for line in try Partman.warnings(for: resolved, on: connection) { logger.warning("\(line)") }
                for line in try Catalog.unnamedLibraryWarnings(for: resolved, on: connection) { logger.warning("\(line)") }
                for line in try PolicyVersions.unchangedVersionWarnings(policies, on: connection) { logger.warning("\(line)") }
            }
            let against = catalog ? " and the database catalog" : ""
            print("\(policies.count) \(policies.count == 1 ? "policy" : "policies") valid\(against): "
                  + policies.map { "\($0.name) v\($0.version)" }.joined(separator: ", "))
            for note in erasureNotes { print(note) }
        }
    }
}
