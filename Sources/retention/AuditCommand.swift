import ArgumentParser
import Foundation
import Logging
import RetentionCore

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Looks for personal data no policy covers, in a READ ONLY transaction; prints names and counts, never a value.",
        discussion: """
            Reports tables that reference a patron table (by foreign key or by a column name like patron_id, \
            borrower_id, card_number) but that no policy covers; columns whose names suggest data the \
            privacy policy says not to collect (social security number, race, colour, religion, sex, \
            national origin, disability, marital status, political affiliation); and text columns holding \
            values shaped like U.S. social security numbers, counted on the server per table and column. \
            Tables larger than --sample-rows are sampled (TABLESAMPLE SYSTEM); the report says which and how \
            many rows were examined. Columns the user may not SELECT are listed as not examined.
            Policies come from --policies (environment: RETENTION_POLICIES); the database from --db or \
            libpq's environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGSERVICE, PGPASSFILE, ...).
            Exit: 0 nothing found, 1 something found, 64 bad command line, 65 invalid policy file, \
            69 database unreachable, 77 permission denied, 78 configuration error.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var policyFolder: PolicyOptions
    @OptionGroup var database: ConnectionOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(help: ArgumentHelp("Sample tables larger than this many rows (planner estimate), aiming at about this many.",
                               valueName: "n"))
    var sampleRows: Int = 100_000

    func validate() throws {
        guard sampleRows >= 1 else { throw ValidationError("--sample-rows must be 1 or more") }
    }

    func run() throws {
        let (settings, logger) = try global.begin(policyFolder, database)
        var found = false
        try perform(logger) {
            let policies = try Retention.loadPolicies(directory: settings.policies)
            let connection = try Retention.connect(settings, logger: logger)
            let report = try Audit.run(policies: policies, on: connection, sampleRows: sampleRows)
            print(json ? AuditRendering.json(report) : AuditRendering.text(report), terminator: "")
            found = report.hasFindings
        }
        if found { throw ExitCode(ExitStatus.failure.rawValue) }
    }
}
