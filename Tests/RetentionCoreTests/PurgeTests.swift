import Foundation
import Testing
@testable import RetentionCore

@Suite struct PurgeTests {
    @Test func anonymizesExactlyTheDueLoans() throws {
        let db = try TestDatabase()
        try db.sql(loanCases)
        let policies = try PolicyFolder.shipped()
        let untouched = "SELECT md5(string_agg(l::text, ',' ORDER BY id)) FROM loans l WHERE id NOT IN (1, 3, 5)"
        let before = try db.strings(untouched)

        let plan = try db.plan(policies.url, only: ["loan-history"])
        let libraries = Dictionary(uniqueKeysWithValues: plan.policies[0].libraries.map { ($0.library ?? "", $0) })
        #expect(libraries["AUGUSTA"]?.due == 1)
        #expect(libraries["AUGUSTA"]?.counts[.consent] == 1)
        #expect(libraries["AUGUSTA"]?.counts[.keepWhen] == 2)
        #expect(libraries["BANGOR"]?.due == 1)
        #expect(libraries["PORTLAND"]?.due == 1)
        #expect(libraries["PORTLAND"]?.oldestDueDays == 100)
        #expect(try db.int(independentLoanDueCount) == 3)

        let summary = try db.run(policies.url, only: ["loan-history"])
        #expect(summary.status == .completed)
        #expect(summary.policies[0].rows == 3)
        let anonymized = try db.strings("SELECT id::text FROM loans WHERE patron_id IS NULL AND notes IS NULL ORDER BY loans.id")
        #expect(anonymized
                == ["1", "3", "5", "10"])
        #expect(try db.strings(untouched) == before)
        #expect(try db.ledger(run: summary.runID) == ["loan-history/AUGUSTA": 1, "loan-history/BANGOR": 1,
                                                      "loan-history/PORTLAND": 1])
        let kept = try db.connection.query("""
            SELECT sum(kept_consent)::text, sum(kept_rule)::text, sum(kept_hold)::text
            FROM retention.batches WHERE run_id = $1::int8
            """, [String(summary.runID)]).rows[0]
        #expect(kept.values == ["1", "2", "0"])
    }

    @Test func secondAnonymizeRunChangesAndCountsNothing() throws {
        let db = try TestDatabase()
        try db.sql(loanCases)
        let policies = try PolicyFolder.shipped()
        let first = try db.run(policies.url, only: ["loan-history"])
        #expect(first.policies[0].rows == 3)
        let after = try db.fingerprint()
        let second = try db.run(policies.url, only: ["loan-history"])
        #expect(second.policies[0].rows == 0)
        #expect(second.policies[0].batches == 0)
        #expect(try db.int("SELECT coalesce(sum(rows), 0) FROM retention.batches WHERE run_id = $1::int8",
                           [String(second.runID)]) == 0)
        // Only the tool's own ledger moved; no row of the consortium's tables changed.
        let userTables = { (print: [String]) in print.filter { !$0.hasPrefix("retention.") } }
        #expect(userTables(try db.fingerprint()) == userTables(after))
    }

    @Test func planEqualsRunEqualsIndependentCountForEveryShippedPolicy() throws {
        let db = try TestDatabase(demoLoans: 4000)
        let policies = try PolicyFolder.shipped()
        let independent = [
            "loan-history": try db.int(independentLoanDueCount),
            "event-attendance": try db.int(independentAttendanceDueCount),
            "computer-signups": try db.int(independentSignupDueCount),
        ]
        let plan = try db.plan(policies.url)
        let attendanceBefore = try db.int("SELECT count(*) FROM event_attendance")
        let signupsBefore = try db.int("SELECT count(*) FROM computer_signups")
        let summary = try db.run(policies.url, options: RunOptions(batchSize: 500))
        #expect(summary.status == .completed)
        for policy in plan.policies {
            let outcome = try #require(summary.policies.first { $0.name == policy.name })
            #expect(policy.due > 0)
            #expect(policy.due == independent[policy.name], "\(policy.name)")
            #expect(outcome.rows == policy.due, "\(policy.name)")
            #expect(outcome.batches > 1, "small batches: \(policy.name)")
            // The ledger per library equals the plan per library.
            let ledger = try db.ledger(run: summary.runID)
            for library in policy.libraries where library.due > 0 {
                #expect(ledger["\(policy.name)/\(library.library ?? "*")"] == library.due)
            }
        }
        #expect(try db.int("SELECT count(*) FROM event_attendance")
                == attendanceBefore - independent["event-attendance"]!)
        #expect(try db.int("SELECT count(*) FROM computer_signups") == signupsBefore - independent["computer-signups"]!)
        #expect(try db.int(independentLoanDueCount) == 0)
        #expect(try db.int(independentAttendanceDueCount) == 0)
        #expect(try db.int(independentSignupDueCount) == 0)
        let replan = try db.plan(policies.url)
        #expect(replan.policies.allSatisfy { $0.due == 0 })
    }

    /// Consent tables the kept rows' consent is looked up in per row (an index leads with the key,
    /// whole or partial on `keep_if`) or hashed (none usable): the same rows go and stay either way.
    @Test(arguments: [
        ("public.patrons", "", true),  // the reference schema's partial index on keep_history
        ("public.consent_pk", "CREATE TABLE consent_pk (id bigint PRIMARY KEY, keep bool)", true),
        ("public.consent_bare", "CREATE TABLE consent_bare (id bigint, keep bool)", false),
        ("public.consent_other", "CREATE TABLE consent_other (id bigint, keep bool); CREATE INDEX ON consent_other (id) WHERE id > 0", false),
        ("public.consent_view", "CREATE VIEW consent_view AS SELECT id, keep_history AS keep FROM patrons", false),
    ])
    func consentKeepsTheSameRowsLookedUpOrHashed(table: String, create: String, indexed: Bool) throws {
        let db = try TestDatabase(demoLoans: 4000)
        if !create.isEmpty, !create.contains("VIEW") {
            try db.sql("\(create); INSERT INTO \(table) SELECT id, keep_history FROM patrons; ANALYZE \(table)")
        } else if !create.isEmpty {
            try db.sql(create)
        }
        let shipped = try PolicyFolder.shipped()
        var policy = try String(contentsOf: shipped.url.appendingPathComponent("loan-history.yaml"), encoding: .utf8)
        if table != "public.patrons" {
            policy = policy.replacingOccurrences(of: "table: public.patrons", with: "table: \(table)")
                .replacingOccurrences(of: "keep_if: keep_history", with: "keep_if: keep")
        }
        let folder = try PolicyFolder(["loan-history.yaml": policy])
        #expect(try db.resolve(folder.url)[0].consentIndexed == indexed)
        let consenting = try db.int("""
            SELECT count(*) FROM loans l JOIN patrons p ON p.id = l.patron_id AND p.keep_history
            WHERE l.returned_at < now() - CASE l.library_code WHEN 'BANGOR' THEN interval '14 days'
                                                              WHEN 'PORTLAND' THEN interval '90 days' ELSE interval '30 days' END
            """)
        let due = try db.int(independentLoanDueCount)
        #expect(consenting > 10 && due > 100)
        // Batches of 4 keys where the index allows lookups: more consenting patrons than four per
        // key, so every purge statement looks them up (`PurgeSQL.looksUpConsent`); else hashed.
        let patrons = try db.int("SELECT count(*) FROM patrons WHERE keep_history")
        #expect(PurgeSQL.looksUpConsent(consenting: patrons, keys: 4) && !PurgeSQL.looksUpConsent(consenting: patrons, keys: 300))
        let summary = try db.run(folder.url, options: RunOptions(batchSize: indexed ? 4 : 300))
        #expect(summary.policies[0].rows == due)
        #expect(summary.policies[0].batches > 3)
        #expect(try db.int("SELECT sum(kept_consent) FROM retention.batches WHERE run_id = $1::int8",
                           [String(summary.runID)]) == consenting)
        #expect(try db.int(independentLoanDueCount) == 0)
    }

    @Test func planCountsWithoutGroupingKeysWhenNothingCanKeepARow() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("CREATE TABLE visits (id int PRIMARY KEY, at timestamptz)")
        let folder = try PolicyFolder([
            "v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: at\nretain: 10 days\naction: delete\n",
        ])
        let resolved = try #require(try db.resolve(folder.url).first)
        let cutoffs = Cutoffs(standard: "2026-01-01", libraries: [])
        // No library, hold, consent, keep_when or reference: no key; a hold's test is one again.
        #expect(PurgeSQL(resolved).countQuery(cutoffs: cutoffs, holds: .none).sql.contains("HAVING count(*) > 0"))
        #expect(!PurgeSQL(resolved).countQuery(cutoffs: cutoffs, holds: .none).sql.contains("GROUP BY 1"))
        #expect(PurgeSQL(resolved).countQuery(cutoffs: cutoffs, holds: .scoped).sql.contains("GROUP BY 2) g"))

        // An empty table plans as one line with nothing due, as with keys.
        var plan = try db.plan(folder.url)
        #expect(plan.policies[0].libraries.map(\.due) == [0])
        #expect(plan.policies[0].libraries[0].oldestDueDays == nil)

        // 0.5 to 39.5 days old: the 30 rows from 10.5 days on are due.
        try db.sql("INSERT INTO visits SELECT g, now() - interval '1 day' * g + interval '12 hours' FROM generate_series(1, 40) g")
        plan = try db.plan(folder.url)
        #expect(plan.policies[0].libraries.map(\.due) == [30])
        #expect(plan.policies[0].libraries[0].oldestDueDays == 39)

        // A hold without a patron keeps every row of a policy without a patron column.
        try db.sql("INSERT INTO retention.holds (reference) VALUES ('court order')")
        plan = try db.plan(folder.url)
        #expect(plan.policies[0].due == 0)
        #expect(plan.policies[0].counts[.hold] == 30)

        try db.sql("UPDATE retention.holds SET released_by = 'staff', released_at = now()")
        let summary = try db.run(folder.url)
        #expect(summary.policies[0].rows == 30)
        #expect(try db.int("SELECT count(*) FROM visits") == 10)
        // Counted after the run with the same query: nothing due, recorded as one row of zero.
        #expect(try db.strings("SELECT coalesce(library, '-') || ':' || still_due FROM retention.run_remaining WHERE run_id = \(summary.runID)")
                == ["-:0"])
    }

    @Test func rowExactlyAtTheCutoffIsKept() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (id int PRIMARY KEY, at timestamptz, day date);
            INSERT INTO visits VALUES
                (1, '2026-01-01 12:00:00.000000+00', '2025-12-31'),
                (2, '2026-01-01 12:00:00.000001+00', '2026-01-01'),
                (3, '2026-01-01 11:59:59.999999+00', '2026-01-02'),
                (4, NULL, NULL);
            """)
        let folder = try PolicyFolder([
            "at.yaml": "name: at\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: at\nretain: 1 day\naction: delete\n",
            "day.yaml": "name: day\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: day\nretain: 1 day\naction: delete\n",
        ])
        let resolved = try db.resolve(folder.url)
        _ = try db.int("INSERT INTO retention.runs (tool_version) VALUES ('test') RETURNING id")
        func purge(_ name: String, cutoff: String) throws -> Int64 {
            let policy = try #require(resolved.first { $0.policy.name == name })
            let sql = PurgeSQL(policy)
            let cutoffs = Cutoffs(standard: cutoff, libraries: [])
            try db.connection.query(sql.boundStatement(size: 100, first: true, cutoffs: cutoffs))
            let statement = sql.purgeStatement(cutoffs: cutoffs)
            return try db.connection.query(statement).rows.reduce(0) { $0 + Int64($1[1]!)! }
        }
        #expect(try purge("at", cutoff: "2026-01-01 12:00:00+00") == 1)
        #expect(try db.strings("SELECT id::text FROM visits ORDER BY id") == ["1", "2", "4"])
        #expect(try purge("day", cutoff: "2026-01-01") == 1)
        #expect(try db.strings("SELECT id::text FROM visits ORDER BY id") == ["2", "4"])
    }

    @Test func dateCutoffKeepsTheRowOfTheCutoffDay() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (id int PRIMARY KEY, day date);
            INSERT INTO visits VALUES (1, current_date - 30), (2, current_date - 31), (3, NULL), (4, current_date);
            """)
        let folder = try PolicyFolder([
            "v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: day\nretain: 30 days\naction: delete\n",
        ])
        let summary = try db.run(folder.url)
        #expect(summary.policies[0].rows == 1)
        #expect(try db.strings("SELECT id::text FROM visits ORDER BY id") == ["1", "3", "4"])
    }

    @Test func maxRuntimeStopsCleanlyAndTheNextRunFinishes() throws {
        let db = try TestDatabase(demoLoans: 4000)
        let policies = try PolicyFolder.shipped()
        let due = try db.int(independentAttendanceDueCount)
        let stopped = try db.run(policies.url, only: ["event-attendance"],
                                 options: RunOptions(batchSize: 10, maxRuntime: 0.000_001))
        #expect(stopped.status == .stopped)
        #expect(try db.strings("SELECT status FROM retention.runs WHERE id = \(stopped.runID)") == ["stopped"])
        let done = try db.int("SELECT coalesce(sum(rows), 0) FROM retention.batches WHERE run_id = \(stopped.runID)")
        #expect(done == stopped.policies[0].rows)
        #expect(done < due)
        #expect(try db.int(independentAttendanceDueCount) == due - done)
        let rest = try db.run(policies.url, only: ["event-attendance"])
        #expect(rest.status == .completed)
        #expect(rest.policies[0].rows == due - done)
        #expect(try db.int(independentAttendanceDueCount) == 0)
    }

    @Test func activeHoldsKeepRowsAndReleasedOnesDoNot() throws {
        let db = try TestDatabase()
        try db.sql(loanCases + """
            INSERT INTO retention.holds (reference, patron, policy) VALUES ('Case 1', '1', 'loan-history');
            INSERT INTO retention.holds (reference, library, released_by, released_at)
                VALUES ('Case 2', 'PORTLAND', 'clerk', now());
            """)
        let policies = try PolicyFolder.shipped()
        let plan = try db.plan(policies.url, only: ["loan-history"])
        // Patron 1's loans past the cutoff (1, 3, 5, 7, 8) are held; the consenting patron's loan 6 is kept by consent.
        #expect(plan.policies[0].due == 0)
        #expect(plan.policies[0].counts[.hold] == 5)
        #expect(plan.policies[0].counts[.consent] == 1)
        let summary = try db.run(policies.url, only: ["loan-history"])
        #expect(summary.policies[0].rows == 0)
        #expect(summary.policies[0].libraries.reduce(0) { $0 + $1.counts[.hold] } == 5)
        #expect(try db.strings("SELECT id::text FROM loans WHERE patron_id = 1 AND notes IS NULL ORDER BY loans.id")
                == ["3", "4", "5", "7", "8", "9"])
        try db.sql("UPDATE retention.holds SET released_by = 'clerk', released_at = now() WHERE reference = 'Case 1'")
        let after = try db.run(policies.url, only: ["loan-history"])
        #expect(after.policies[0].rows == 3)
    }

    @Test func setupIsIdempotent() throws {
        let db = try TestDatabase()
        try db.sql("INSERT INTO retention.holds (reference) VALUES ('order 1')")
        let before = try db.fingerprint()
        try RetentionSchema.install(on: db.connection, logger: quietLogger)
        try RetentionSchema.install(on: db.connection, logger: quietLogger)
        #expect(try db.fingerprint() == before)
    }
}
