import ArgumentParser
import Foundation
import Logging
import RetentionCore

struct HoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Legal holds from court orders: rows a hold covers are never purged while it is active.",
        discussion: """
            A hold matches a row when every scope it sets matches (patron, policy, library, time window over \
            the policy's age column); a hold with no scope freezes all purging and needs --all. A hold placed \
            during a run takes effect from its next batch. Holds are never deleted. Needs the retention_holds \
            role (sql/roles.sql). Exit: 0, 64 bad arguments or no such hold, 69, 75 a lock another session holds, 77, 78.
            """,
        subcommands: [Place.self, List.self, Release.self])

    struct Place: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Places a legal hold.",
            discussion: "Exit: 0 placed, 64 bad arguments (no scope without --all, unknown policy, bad date), 69, 75, 77, 78.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var policyFolder: PolicyOptions
        @OptionGroup var database: ConnectionOptions

        @Option(help: "The court order or case number (required).")
        var reference: String

        @Option(help: ArgumentHelp("Why the records are held (required).",
                                   discussion: "The reference and the reason appear in the compliance report: never a patron's name or number."))
        var reason: String

        @Option(help: "Hold this patron's records (the value of the policies' patron column).")
        var patron: String?

        @Option(help: "Hold only the records of this policy.")
        var policy: String?

        @Option(help: "Hold only the records of this library (the value of the policy's library column).")
        var library: String?

        @Option(help: "Hold records dated on or after this day, like 2026-03-01 (a calendar day in the timezone setting's zone, else the server's).")
        var from: String?

        @Option(help: "Hold records dated before this day, like 2026-04-01.")
        var until: String?

        @Flag(help: "Place a hold with no scope: it freezes all purging until released.")
        var all = false

        var scope: HoldScope {
            HoldScope(patron: nonEmpty(patron), policy: nonEmpty(policy), library: nonEmpty(library),
                      from: nonEmpty(from), until: nonEmpty(until))
        }

        func validate() throws {
            // A repeated option keeps only its last value: two patrons copied from one court order
            // would hold the second alone.
            for option in ["--reference", "--reason", "--patron", "--policy", "--library", "--from", "--until"] {
                let count = CommandLine.arguments.filter { $0 == option || $0.hasPrefix(option + "=") }.count
                if count > 1 {
                    throw ValidationError("\(option) is given \(count) times; a hold takes one: place one hold per patron, library or window")
                }
            }
            if reference.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("--reference must name the court order or case number")
            }
            // An empty value (`--patron "$P"` with P unset) is a mistake, not an option left out:
            // the hold would cover far more than meant.
            for (option, value) in [("--patron", patron), ("--policy", policy), ("--library", library), ("--from", from),
                                    ("--until", until)] where value?.trimmingCharacters(in: .whitespaces).isEmpty == true {
                throw ValidationError("\(option) is empty")
            }
            if scope.isEmpty && !all {
                throw ValidationError("a hold without --patron, --policy, --library, --from or --until freezes all purging; "
                                      + "say so with --all")
            }
            if !scope.isEmpty && all { throw ValidationError("--all is for a hold with no scope") }
        }

        func run() throws {
            let (settings, logger) = try global.begin(policyFolder, database)
            try perform(logger) {
                // Before anything is read: the reference and reason go into the compliance report.
                try Holds.refusePatronData(reference: reference, reason: reason, patron: scope.patron)
                // A policy name with a typo, or a patron or library written in a form no policy's
                // column writes, would hold nothing: check them against the policy files and catalog.
                var policies: [Policy] = []
                if scope.policy != nil || scope.patron != nil || scope.library != nil {
                    policies = try PolicyLoader.load(directory: settings.policies)
                } else if scope.from != nil || scope.until != nil {
                    // Only for the window's checks: a window alone needs no policy files.
                    policies = (try? PolicyLoader.load(directory: settings.policies)) ?? []
                }
                if let policy = scope.policy, !policies.contains(where: { $0.name == policy }) {
                    throw UsageError("--policy \(visible(policy)): no policy of that name in \(settings.policies) "
                                     + "(there are: \(policies.map(\.name).joined(separator: ", ")))", exitCode: .usage)
                }
                let connection = try Retention.connect(settings, logger: logger)
                try RetentionSchema.requireInstalled(on: connection)
                try Holds.refuseWindowOverTwoAges(scope, policies: policies)
                let typed = scope.patron
                var scope = try Holds.canonicalScope(scope, policies: policies, on: connection)
                scope.timeZone = settings.timezone
                let warnings = try Holds.patronWarnings(scope, policies: policies, on: connection)
                let (id, placed) = try Holds.place(reference: reference, reason: reason, scope: scope,
                                                   covered: try HoldCoverage.record(scope, policies: policies, asTyped: typed == scope.patron,
                                                                                    on: connection),
                                                   on: connection)
                // The window's days are checked by `place`.
                for warning in try warnings + Holds.windowWarnings(placed, policies: policies, on: connection) {
                    logger.warning("\(warning)")
                }
                scope = placed
                print("placed hold \(id): \(visible(reference))")
                print("  covers: \(HoldRendering.scope(scope))")
                let whole = Holds.keptWhole(by: scope, policies: policies)
                if !whole.isEmpty {
                    print("  keeps every row of \(whole.joined(separator: ", ")): \(whole.count == 1 ? "that policy cannot" : "those policies cannot") "
                          + "tell \(scope.patron != nil ? "patrons" : "libraries") apart")
                }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lists active legal holds (with --all, released ones too).",
            discussion: "The patron identifier is shown to retention_holds members only. Exit: 0, 69, 75, 77, 78.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var database: ConnectionOptions

        @Flag(help: "Also list released holds.")
        var all = false

        @Flag(help: "Print the holds as JSON.")
        var json = false

        func run() throws {
            let (settings, logger) = try global.begin(database)
            try perform(logger) {
                let connection = try Retention.connect(settings, logger: logger)
                try RetentionSchema.requireInstalled(on: connection)
                let holds = try Holds.list(includeReleased: all, on: connection)
                print(json ? HoldRendering.json(holds) : HoldRendering.text(holds, includeReleased: all), terminator: "")
            }
        }
    }

    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Releases a legal hold; the next run may purge what it held. The record stays.",
            discussion: "Exit: 0 released, 64 no such active hold, 69, 75, 77, 78.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var database: ConnectionOptions

        @Argument(help: "The hold's number, from `retention hold list`.")
        var id: Int64

        func run() throws {
            let (settings, logger) = try global.begin(database)
            try perform(logger) {
                let connection = try Retention.connect(settings, logger: logger)
                try RetentionSchema.requireInstalled(on: connection)
                try Holds.release(id: id, on: connection)
                print("released hold \(id)")
            }
        }
    }
}
