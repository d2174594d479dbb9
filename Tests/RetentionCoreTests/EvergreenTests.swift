import Foundation
import Testing
@testable import RetentionCore

/// Evergreen's own schema (a pinned, unmodified copy, `Tests/Fixtures/evergreen`), data written
/// through its own tables and triggers, its own purge functions on one copy and `retention` with
/// `policies/evergreen` on another: the same rows stay, and the manifest says what left.
///
/// Needs PL/Perl for the server (`postgresql-plperl-15`, installed by `scripts/install-deps.sh`
/// where that upgrades nothing); skipped without it.
@Suite(.serialized) struct EvergreenTests {
    static let script = repositoryRoot.appendingPathComponent("scripts/evergreen.sh").path

    /// Whether the server can load Evergreen's schema (its Perl functions need PL/Perl).
    static let available: Bool = {
        guard let admin = try? Connection(conninfo: " dbname=postgres"),
              let row = try? admin.query("SELECT count(*) AS n FROM pg_catalog.pg_available_extensions WHERE name = 'plperl'").single()
        else { return false }
        return (try? row.int64("n")) == 1
    }()

    /// A database with Evergreen's schema, its retention flags and data of 4,000 circulations and
    /// 2,000 holds, made once per test process; copies of it are the tests' databases.
    static let template: Result<String, EvergreenSetupFailed> = {
        let name = "rt_evergreen_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        for step in [["load", name], ["flags", name], ["data", name, "--circs", "4000", "--holds", "2000", "--patrons", "400"]] {
            guard let result = try? runProcess("/bin/bash", [script] + step), result.status == 0 else {
                return .failure(EvergreenSetupFailed(step: step[0]))
            }
        }
        return .success(name)
    }()

    struct EvergreenSetupFailed: Error, CustomStringConvertible {
        let step: String
        var description: String { "scripts/evergreen.sh \(step) failed" }
    }

    /// The tables compared, and the key of each.
    static let compared = ["action.circulation", "action.aged_circulation", "action.hold_request", "action.aged_hold_request"]

    func keys(_ db: TestDatabase, _ table: String) throws -> Set<String> {
        Set(try db.strings("SELECT id::text FROM \(table)").compactMap { $0 })
    }

    @Test(.enabled(if: available)) func retentionLeavesWhatEvergreensOwnPurgeLeaves() throws {
        let template = try Self.template.get()
        // Copied by the script, which carries over the settings Evergreen's functions need.
        let clone = { (template: String, name: String) throws in
            let result = try runProcess("/bin/bash", [Self.script, "clone", template, name])
            guard result.status == 0 else { throw EvergreenSetupFailed(step: "clone") }
        }
        let evergreen = try TestDatabase(copyOf: template, copy: clone)
        let ours = try TestDatabase(copyOf: template, copy: clone)
        let before = try Dictionary(uniqueKeysWithValues: Self.compared.map { ($0, try keys(ours, $0)) })
        let open = try ours.int("SELECT count(*) FROM action.circulation WHERE xact_finish IS NULL")
        let owing = """
            SELECT count(*) FROM action.circulation c JOIN money.materialized_billable_xact_summary s ON s.id = c.id
            WHERE s.balance_owed <> 0
            """
        let owed = try ours.int(owing)
        #expect(open > 0 && owed > 0)

        // Evergreen's own purge on one copy.
        let purged = try runProcess("/bin/bash", [Self.script, "purge", evergreen.name])
        #expect(purged.status == 0, "\(purged.stderr)")

        // retention on the other: its schema, the consent view, the policies of policies/evergreen.
        let policies = repositoryRoot.appendingPathComponent("policies/evergreen")
        let view = try String(contentsOf: policies.appendingPathComponent("hold-history-choices.sql"), encoding: .utf8)
        try ours.connection.execute(unsafeSQL: view)
        #expect(try ours.retention(["setup"]).status == 0)
        let check = try ours.retention(["check", "--catalog", "--policies", policies.path])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("trigger age_parent_circ on action.circulation runs action.age_parent_circ_on_delete() when "
                                      + "policy evergreen-circulations deletes rows: declared under triggers"), "\(check.stdout)")
        let run = try ours.retention(["run", "--policies", policies.path, "--log-format", "text"])
        #expect(run.status == 0, "\(run.stderr)")

        // The same rows stay, and the same rows were archived, table by table.
        for table in Self.compared {
            let theirs = try keys(evergreen, table), mine = try keys(ours, table)
            #expect(mine == theirs, "\(table): \(mine.subtracting(theirs).count) rows only retention kept, \(theirs.subtracting(mine).count) only Evergreen kept")
        }
        let leftCirculations = before["action.circulation"]!.subtracting(try keys(ours, "action.circulation")).count
        let leftHolds = before["action.hold_request"]!.subtracting(try keys(ours, "action.hold_request")).count
        #expect(leftCirculations > 500 && leftHolds > 300)
        // Nothing open was touched: every unfinished loan and every loan with money owed is still there.
        #expect(try ours.int("SELECT count(*) FROM action.circulation WHERE xact_finish IS NULL") == open)
        #expect(try ours.int(owing) == owed)

        // The manifest counts exactly what left each table, and verifies.
        let manifest = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: try #require(try ours.manifestFiles().last)))).payload)
        let rows = Dictionary(uniqueKeysWithValues: manifest.policies.map { ($0.name, $0.rows) })
        #expect(rows["evergreen-circulations"] == Int64(leftCirculations))
        #expect((rows["evergreen-fulfilled-holds"] ?? 0) + (rows["evergreen-cancelled-holds"] ?? 0) == Int64(leftHolds))
        #expect(manifest.policies.first { $0.name == "evergreen-circulations" }?.counts[.newest] ?? 0 > 0)
        #expect(manifest.policies.contains { $0.counts[.consent] > 0 })
        #expect(try ours.retention(["verify", "--ledger", ours.manifestFolder]).status == 0)
    }
}
