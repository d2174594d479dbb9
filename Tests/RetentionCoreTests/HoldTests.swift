import Foundation
import Testing
@testable import RetentionCore

/// Legal holds: each scope keeps exactly its rows, release lets the next run purge them (SPEC §8).
@Suite struct HoldTests {
    /// Visits of patrons 1...4 at libraries A and B, one per day from 1 to 120 days ago, and a policy
    /// that deletes them after 10 days (library A: 30 days).
    func prepared() throws -> (TestDatabase, PolicyFolder) {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (id int PRIMARY KEY, patron int, branch text, seen timestamptz) WITH (fillfactor = 10);
            INSERT INTO visits SELECT g, 1 + g % 4, CASE WHEN g % 3 = 0 THEN 'A' ELSE 'B' END,
                                      now() - g * interval '1 day' + interval '1 hour'
            FROM generate_series(1, 120) g;
            """)
        let folder = try PolicyFolder(["visits.yaml": """
            name: visits
            version: 1
            description: d
            table: public.visits
            key: id
            age: seen
            retain: 10 days
            action: delete
            patron: patron
            libraries:
              column: branch
              retain:
                A: 30 days
            """, "other.yaml": """
            name: other
            version: 1
            description: a second policy on another table, for policy-scoped holds
            table: public.other
            key: id
            age: seen
            retain: 1 day
            action: delete
            """])
        try db.sql("CREATE TABLE other (id int PRIMARY KEY, seen timestamptz)")
        return (db, folder)
    }

    static let due = "(branch = 'A' AND seen < now() - interval '30 days') OR (branch = 'B' AND seen < now() - interval '10 days')"

    /// Scope arguments and the independent SQL for the due rows the hold must keep.
    static let scopes: [(arguments: [String], held: String)] = [
        (["--patron", "2"], "patron = 2"),
        (["--policy", "visits"], "true"),
        (["--policy", "other"], "false"),
        (["--library", "A"], "branch = 'A'"),
        (["--from", "2026-01-01", "--until", "2026-06-01"], "seen >= '2026-01-01' AND seen < '2026-06-01'"),
        (["--until", "2026-09-01"], "seen < '2026-09-01'"),
        (["--patron", "3", "--library", "B"], "patron = 3 AND branch = 'B'"),
        (["--patron", "1", "--policy", "visits", "--from", "2026-08-01"], "patron = 1 AND seen >= '2026-08-01'"),
        (["--all"], "true"),
    ]

    @Test(arguments: 0..<scopes.count)
    func eachScopeKeepsExactlyItsRows(scope index: Int) throws {
        let (db, policies) = try prepared()
        let (arguments, held) = Self.scopes[index]
        let place = try db.retention(["hold", "place", "--reference", "Case \(index)", "--reason", "court order",
                                      "--policies", policies.url.path] + arguments)
        #expect(place.status == 0, "\(place.stderr)")
        let dueCount = try db.int("SELECT count(*) FROM visits WHERE \(Self.due)")
        let heldCount = try db.int("SELECT count(*) FROM visits WHERE (\(Self.due)) AND (\(held))")
        #expect(dueCount == 103)

        let plan = try db.plan(policies.url, only: ["visits"])
        #expect(plan.policies[0].counts[.hold] == heldCount)
        #expect(plan.policies[0].due == dueCount - heldCount)
        let run = try db.run(policies.url)
        #expect(run.policies.first { $0.name == "visits" }?.rows == dueCount - heldCount)
        #expect(try db.int("SELECT count(*) FROM visits WHERE (\(Self.due)) AND NOT (\(held))") == 0)
        #expect(try db.int("SELECT count(*) FROM visits WHERE \(Self.due)") == heldCount)
        let manifest = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: try db.manifestFiles().last!))).payload)
        #expect(manifest.policies.first { $0.name == "visits" }?.counts[.hold] == heldCount)

        let release = try db.retention(["hold", "release", "1"])
        #expect(release.status == 0)
        let after = try db.run(policies.url)
        #expect(after.policies.first { $0.name == "visits" }?.rows == heldCount)
        #expect(try db.int("SELECT count(*) FROM visits WHERE \(Self.due)") == 0)
    }

    /// A patron hold on a policy whose table has no patron column holds all its rows: the tool
    /// cannot tell the patron's rows apart, and a court order wins over a purge.
    @Test func patronHoldKeepsEveryRowOfAPolicyWithoutPatronColumn() throws {
        let (db, policies) = try prepared()
        try db.sql("INSERT INTO other SELECT g, now() - g * interval '1 day' FROM generate_series(1, 30) g")
        let place = try db.retention(["hold", "place", "--reference", "Case 9", "--reason", "court order",
                                      "--policies", policies.url.path, "--patron", "2"])
        #expect(place.status == 0, "\(place.stderr)")
        let old = try db.int("SELECT count(*) FROM other WHERE seen < now() - interval '1 day'")
        let plan = try db.plan(policies.url, only: ["other"])
        #expect(old >= 29 && plan.policies[0].counts[.hold] == old && plan.policies[0].due == 0)
        let run = try db.run(policies.url, only: ["other"])
        #expect(run.policies[0].rows == 0)
        #expect(try db.int("SELECT count(*) FROM other") == 30)
        #expect(try db.int("SELECT sum(kept_hold) FROM retention.batches WHERE policy = 'other'") == old)
    }

    /// A patron column of integers reads a hold's text as it reads an assigned value: `02` holds
    /// patron 2 and `3` patron 3; `x` and a number out of range hold nothing, and fail nothing.
    @Test func patronHoldsMatchIntegerPatronsByTheirValue() throws {
        let (db, policies) = try prepared()
        try db.sql("""
            INSERT INTO retention.holds (reference, patron) VALUES ('a', '02'), ('b', 'x'), ('c', '99999999999999999999'), ('d', '3');
            """)
        let heldCount = try db.int("SELECT count(*) FROM visits WHERE (\(Self.due)) AND patron IN (2, 3)")
        let plan = try db.plan(policies.url, only: ["visits"])
        #expect(plan.policies[0].counts[.hold] == heldCount)
        let run = try db.run(policies.url, only: ["visits"])
        #expect(run.policies[0].libraries.reduce(0) { $0 + $1.counts[.hold] } == heldCount)
        #expect(try db.int("SELECT count(*) FROM visits WHERE (\(Self.due))") == heldCount)
    }

    @Test func holdCommandsRecordWhoAndWhenAndRefuseMistakes() throws {
        let (db, policies) = try prepared()
        let noScope = try db.retention(["hold", "place", "--reference", "Case 9", "--reason", "r"])
        #expect(noScope.status == 64 && noScope.stderr.contains("freezes all purging; say so with --all"))
        let typo = try db.retention(["hold", "place", "--reference", "Case 9", "--reason", "r", "--policy", "vists",
                                     "--policies", policies.url.path, "--log-format", "text"])
        #expect(typo.status == 64 && typo.stderr.contains("no policy of that name"))
        let badDate = try db.retention(["hold", "place", "--reference", "Case 9", "--reason", "r", "--from", "someday",
                                        "--log-format", "text"])
        #expect(badDate.status == 64 && badDate.stderr.contains("--from/--until"))
        let backwards = try db.retention(["hold", "place", "--reference", "Case 9", "--reason", "r", "--from", "2026-02-01",
                                          "--until", "2026-01-01", "--log-format", "text"])
        #expect(backwards.status == 64)
        // A patron's number or card in the reference or reason would reach the compliance report.
        for (option, text, why) in [("--reason", "card 21234000567890", "may be a card or patron number"),
                                    ("--reason", "card 2123 4000 5678 90", "may be a card or patron number"),
                                    ("--reason", "card 2123-4000-5678-90", "may be a card or patron number"),
                                    ("--reason", "card \u{FF12}\u{FF11}\u{FF12}\u{FF13}\u{FF14}\u{FF10}\u{FF10}", "may be a card or patron number"),
                                    ("--reference", "Order re lib0042x", "contains the held patron's value"),
                                    ("--reference", "Order re LIB-0042-X", "contains the held patron's value")] {
            var arguments = ["hold", "place", "--reference", "CV-9", "--reason", "r", "--patron", "LIB0042X",
                             "--policies", policies.url.path, "--log-format", "text"]
            arguments[arguments.firstIndex(of: option)! + 1] = text
            let refused = try db.retention(arguments)
            #expect(refused.status == 64 && refused.stderr.contains(why), "\(refused.stderr)")
            #expect(!refused.output.contains("0042") && !refused.output.contains("2123"))
        }
        #expect(try db.int("SELECT count(*) FROM retention.holds") == 0)

        let placed = try db.retention(["hold", "place", "--reference", "CV-2026-113", "--reason", "subpoena", "--patron", "4",
                                        "--policies", policies.url.path])
        #expect(placed.status == 0)
        let id = try #require(placed.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).dropFirst(2).first?.dropLast()).description
        let list = try db.retention(["hold", "list"])
        #expect(list.stdout.contains("hold \(id)  ACTIVE  CV-2026-113"))
        #expect(list.stdout.contains("covers:   patron 4"))
        #expect(list.stdout.contains("by postgres"))
        #expect(try db.retention(["hold", "release", id]).status == 0)
        let twice = try db.retention(["hold", "release", id, "--log-format", "text"])
        #expect(twice.status == 64 && twice.stderr.contains("already released by postgres"))
        #expect(try db.retention(["hold", "release", "99"]).status == 64)
        #expect(try db.retention(["hold", "list"]).stdout == "No active legal holds.\n")
        let all = try db.retention(["hold", "list", "--all", "--json"])
        let holds = try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]]
        #expect(holds?.count == 1)
        #expect(holds?.first?["released_by"] as? String == "postgres")
        #expect(try db.int("SELECT count(*) FROM retention.holds WHERE released_at IS NOT NULL") == 1)
    }

    @Test func holdPlacedDuringARunTakesEffectFromTheNextBatch() throws {
        let (db, policies) = try prepared()
        // A clerk locks the first visit, so the run waits inside its first batch; the hold comes meanwhile.
        let clerk = try db.session()
        try clerk.execute(unsafeSQL: "BEGIN; SELECT * FROM visits WHERE id = 11 FOR UPDATE;")
        let child = try db.startRetention(["run", "--policies", policies.url.path, "--only", "visits", "--batch-size", "1"])
        var waiting = false
        for _ in 0..<200 where !waiting {
            Thread.sleep(forTimeInterval: 0.02)
            waiting = try db.int("""
                SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
                """) == 1
        }
        #expect(waiting)
        #expect(try db.retention(["hold", "place", "--reference", "Late order", "--reason", "r", "--patron", "1",
                                  "--policies", policies.url.path]).status == 0)
        try clerk.execute(unsafeSQL: "COMMIT")
        let result = child.wait()
        #expect(result.status == 0, "\(result.stderr)")
        // Every due visit of patron 1 outside the first batch's block is still there.
        let firstBatchHeld = try db.int("SELECT count(*) FROM retention.batches WHERE batch = 1 AND kept_hold > 0")
        #expect(firstBatchHeld == 0)
        let kept = try db.int("SELECT count(*) FROM visits WHERE patron = 1 AND (\(Self.due))")
        #expect(kept > 0)
        #expect(try db.int("SELECT sum(kept_hold) FROM retention.batches") == kept)
    }
}

/// Holds in the signed record: each manifest records the holds in force and those released since
/// the run before, never their patron, and `verify --ledger` catches a hold row deleted or edited since.
@Suite struct HoldRecordTests {
    @Test func manifestsRecordHoldsWithoutThePatronAndVerifyCatchesADeletedHold() throws {
        let (db, policies) = try HoldTests().prepared()
        for arguments in [["--reference", "CV-2026-113", "--reason", "subpoena", "--patron", "4"],
                          ["--reference", "Audit A", "--reason", "branch audit", "--library", "A"]] {
            #expect(try db.retention(["hold", "place", "--policies", policies.url.path] + arguments).status == 0)
        }
        #expect(try db.retention(["run", "--policies", policies.url.path, "--quiet"]).status == 0)
        #expect(try db.retention(["hold", "release", "2"]).status == 0)
        #expect(try db.retention(["run", "--policies", policies.url.path, "--quiet"]).status == 0)
        let manifests = try db.manifestFiles().map {
            try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: $0))).payload)
        }
        #expect(manifests.count == 2)
        let first = try #require(manifests.first?.holds), second = try #require(manifests.last?.holds)
        #expect(first.map(\.id) == [1, 2] && first.allSatisfy(\.inForce))
        #expect(first[0].kind == "patron" && first[0].policy == nil && first[1].kind == "scope" && first[1].library == "A")
        #expect(first.allSatisfy { $0.placedByUser == SystemUser.current && !$0.placedBy.isEmpty })
        // Released between the runs: the second manifest records the release, with who.
        #expect(second.map(\.id) == [1, 2] && second[0].inForce && !second[1].inForce)
        #expect(second[1].releasedByUser == SystemUser.current)
        // The policy in words, with its description.
        #expect(manifests[0].policies.first { $0.name == "visits" }?.words?.rules.contains(
            "legal holds on a patron match column patron; holds by policy, library and dates apply too") == true)
        // No member names a patron's value.
        let payload = String(decoding: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: try db.manifestFiles()[0]))).payload,
                             as: UTF8.self)
        #expect(!payload.contains("\"patron\":") && payload.contains("\"kind\":\"patron\""))

        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
        try db.sql("DELETE FROM retention.holds WHERE id = 1")
        let deleted = try db.retention(["verify", "--ledger", db.manifestFolder])
        #expect(deleted.status == 1)
        #expect(deleted.stdout.contains("hold 1 (CV-2026-113) is recorded here but no longer in the database: deleted"), "\(deleted.stdout)")
        try db.sql("UPDATE retention.holds SET released_at = released_at + interval '1 day' WHERE id = 2")
        let edited = try db.retention(["verify", "--ledger", db.manifestFolder])
        #expect(edited.stdout.contains("hold 2 (Audit A) differs from the database's: its record was changed after this run"), "\(edited.stdout)")
    }

    /// A manifest records no patron, but a seal of the hold's patron and library: a hold whose patron
    /// was changed after a run (to let that patron's rows be purged, then changed back) is caught.
    @Test func aHoldWhosePatronOrLibraryWasEditedAfterARunIsCaughtByItsSeal() throws {
        let (db, policies) = try HoldTests().prepared()
        for arguments in [["--reference", "CV-2026-5", "--reason", "subpoena", "--patron", "4"],
                          ["--reference", "Audit B", "--reason", "branch audit", "--library", "A"]] {
            #expect(try db.retention(["hold", "place", "--policies", policies.url.path] + arguments).status == 0)
        }
        #expect(try db.retention(["run", "--policies", policies.url.path, "--quiet"]).status == 0)
        let file = try #require(try db.manifestFiles().first)
        let payload = String(decoding: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: file))).payload, as: UTF8.self)
        let manifest = try Manifest(payload: Data(payload.utf8))
        #expect(manifest.manifestVersion == 7 && manifest.holds?.allSatisfy { ($0.seal?.count ?? 0) == 64 } == true)
        // The seal is keyed by a value only the database has: not the bare hash of the card number.
        #expect(!payload.contains(sha256Hex(Data("4".utf8))))
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
        for (edit, back) in [("UPDATE retention.holds SET patron = '41' WHERE id = 1", "UPDATE retention.holds SET patron = '4' WHERE id = 1"),
                             ("UPDATE retention.holds SET patron = '04' WHERE id = 1", "UPDATE retention.holds SET patron = '4' WHERE id = 1"),
                             ("UPDATE retention.holds SET library = 'CANARY Jane Doe' WHERE id = 2",
                              "UPDATE retention.holds SET library = 'A' WHERE id = 2")] {
            try db.sql(edit)
            let caught = try db.retention(["verify", "--ledger", db.manifestFolder])
            let id = edit.hasSuffix("id = 1") ? "1 (CV-2026-5)" : "2 (Audit B)"
            // A patron changed shows only in the seal; a library also in the recorded library itself.
            let words = edit.contains("patron") ? "its patron, library or window was changed after this run" : "its record was changed after this run"
            #expect(caught.status == 1 && caught.stdout.contains("hold \(id) differs from the database's: \(words)"), "\(edit): \(caught.stdout)")
            #expect(!caught.output.contains("CANARY"))
            try db.sql(back)
        }
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
    }
}

/// A purge batch that waits for a hold being placed sees the hold once it has the lock, whatever
/// isolation the database or role makes the default: under repeatable read a plain BEGIN would take
/// the batch's snapshot in the very statement that waits, before the hold committed.
@Suite struct HoldIsolationTests {
    final class Box: @unchecked Sendable { var value: Int64? }

    @Test(arguments: ["read committed", "repeatable read", "serializable"])
    func aBatchWaitingForAHoldSeesItUnderAnyDefaultIsolation(isolation: String) throws {
        let db = try TestDatabase(reference: false)
        try db.sql("ALTER DATABASE \(db.name) SET default_transaction_isolation = '\(isolation)'")
        let clerk = try db.session(), conninfo = db.conninfo
        try clerk.execute(unsafeSQL: "BEGIN")
        try HoldLock.takeForPlacing(on: clerk)
        try clerk.query("INSERT INTO retention.holds (reference, reason) VALUES ('CV-1', 'r')")
        let seen = Box()
        let done = DispatchSemaphore(value: 0)
        Thread {
            guard let batch = try? Connection(conninfo: conninfo) else { done.signal(); return }
            seen.value = try? batch.transaction {
                try HoldLock.shareForBatch(on: batch)
                return try batch.query("SELECT count(*) AS n FROM retention.holds").single().int64("n")
            }
            done.signal()
        }.start()
        var waiting = false
        for _ in 0..<250 where !waiting {
            Thread.sleep(forTimeInterval: 0.02)
            waiting = try db.int("""
                SELECT count(*) FROM pg_catalog.pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'
                """) == 1
        }
        #expect(waiting)
        try clerk.execute(unsafeSQL: "COMMIT")
        done.wait()
        #expect(seen.value == 1)
    }
}
