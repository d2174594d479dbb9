import Foundation
import Testing
@testable import RetentionCore

/// Foreign keys into a policy's table: renewal chains, rows something still points to, cascades.
@Suite struct ForeignKeyTests {
    /// An ILS-shaped circulation table where a renewal is a new row pointing to the loan it renewed.
    ///
    /// 20,000 loans returned 100 days ago (due under a 30-day policy), except every 21st from 15,001
    /// on, returned 5 days ago. From 10,001 on every 7th is a renewal of the loan 7,000 before it,
    /// so chains of three (g, g - 7,000, g - 14,000 for g > 17,000) cross batches and sessions; a
    /// chain whose newest link is recent keeps every link.
    static let schema = """
        CREATE TABLE circulation (
            id          bigint PRIMARY KEY,
            patron_id   bigint,
            returned_at timestamptz,
            parent_circ bigint REFERENCES circulation %DEFER%,
            status      text NOT NULL DEFAULT 'returned',
            note        text
        );
        CREATE INDEX ON circulation (parent_circ);
        INSERT INTO circulation (id, patron_id, returned_at, parent_circ, note)
        SELECT g, g % 500,
               CASE WHEN g > 15000 AND g % 21 = 0 THEN now() - interval '5 days' ELSE now() - interval '100 days' END,
               CASE WHEN g > 10000 AND g % 7 = 0 THEN g - 7000 END,
               'CANARY-NOTE-' || g
        FROM generate_series(1, 20000) g;
        -- A chain of three whose middle link a keep_when keeps: the chain stays whole, both ways.
        INSERT INTO circulation (id, patron_id, returned_at, parent_circ, status) VALUES
            (30001, 1, now() - interval '100 days', NULL, 'returned'),
            (30002, 1, now() - interval '100 days', 30001, 'lost'),
            (30003, 1, now() - interval '100 days', 30002, 'returned');
        -- A renewal returned long ago of a loan still out: the renewal stays while the loan does.
        INSERT INTO circulation (id, patron_id, returned_at, parent_circ, status) VALUES
            (30011, 2, NULL, NULL, 'out'),
            (30012, 2, now() - interval '100 days', 30011, 'returned');
        ANALYZE circulation;
        """

    static let policy = """
        name: circulation
        version: 1
        description: Circulation history is kept 30 days after return.
        table: public.circulation
        key: id
        age: returned_at
        retain: 30 days
        action: delete
        patron: patron_id
        keep_when:
          - { column: status, op: "=", value: lost }
        """

    /// The due rows that may go, counted by hand: due by age and `keep_when`, not pointed to by a
    /// row of another table, and in no chain (linked either way, however far) with a row that stays.
    static func independentPurgeable(fines: Bool = false) -> String {
        """
        WITH RECURSIVE stays(id) AS (
            SELECT id FROM circulation
            WHERE NOT (returned_at < now() - interval '30 days') OR returned_at IS NULL OR status = 'lost'
            \(fines ? "UNION SELECT circ_id FROM fines WHERE circ_id IS NOT NULL" : "")
            UNION
            SELECT n.id FROM stays s CROSS JOIN LATERAL (
                SELECT c.parent_circ AS id FROM circulation c WHERE c.id = s.id AND c.parent_circ IS NOT NULL
                UNION ALL SELECT c.id FROM circulation c WHERE c.parent_circ = s.id) n
        )
        SELECT count(*) FROM circulation
        WHERE returned_at < now() - interval '30 days' AND status <> 'lost' AND id NOT IN (SELECT id FROM stays WHERE id IS NOT NULL)
        """
    }

    func prepared(deferred: Bool = true, extraSQL: String = "", policy: String = ForeignKeyTests.policy) throws -> (TestDatabase, PolicyFolder) {
        let db = try TestDatabase(reference: false)
        try db.sql(Self.schema.replacingOccurrences(of: "%DEFER%", with: deferred ? "DEFERRABLE INITIALLY DEFERRED" : "") + extraSQL)
        return (db, try PolicyFolder(["circulation.yaml": policy]))
    }

    @Test(arguments: [true, false])
    func chainsWhollyDueGoTogetherAndAChainWithALinkThatStaysKeepsItsOlderLinks(deferred: Bool) throws {
        let (db, folder) = try prepared(deferred: deferred)
        let purgeable = try db.int(Self.independentPurgeable())
        let dueByAge = try db.int("SELECT count(*) FROM circulation WHERE returned_at < now() - interval '30 days' AND status <> 'lost'")
        #expect(purgeable > 15_000 && purgeable < dueByAge)
        let plan = try db.plan(folder.url).policies[0]
        #expect(plan.due == purgeable)
        #expect(plan.counts[.reference] == dueByAge - purgeable)
        #expect(plan.counts[.keepWhen] == 1)

        var options = RunOptions(batchSize: 700)
        options.jobs = 2
        let summary = try db.run(folder.url, options: options)
        #expect(summary.status == .completed)
        #expect(summary.policies[0].sessions == 2)
        #expect(summary.policies[0].rows == purgeable)
        #expect(try db.int("SELECT sum(rows) FROM retention.batches") == purgeable)
        #expect(try db.int("SELECT sum(kept_reference) FROM retention.batches") >= 1)
        #expect(try db.int("SELECT count(*) FROM circulation") == 20_005 - purgeable)
        // Nothing left is purgeable, and every row that stayed still has the row it points to.
        #expect(try db.int(Self.independentPurgeable()) == 0)
        #expect(try db.int("""
            SELECT count(*) FROM circulation c WHERE c.parent_circ IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM circulation p WHERE p.id = c.parent_circ)
            """) == 0)
        // The middle link that keep_when keeps keeps its chain whole: the link it points to and the renewal of it.
        #expect(try db.strings("SELECT id::text FROM circulation WHERE id > 30000 ORDER BY id") == ["30001", "30002", "30003", "30011", "30012"])
        // Chains whose links all fell in different batches and sessions went whole.
        #expect(try db.int("SELECT count(*) FROM circulation WHERE id IN (17017, 10017, 3017, 17024, 10024, 3024)") == 0)
        // A chain whose newest link is recent stays whole: 17,010 (recent), 10,010, 3,010.
        #expect(try db.int("SELECT count(*) FROM circulation WHERE id IN (17010, 10010, 3010)") == 3)

        let manifest = try #require(try manifests(db).first)
        #expect(manifest.manifestVersion == Manifest.currentVersion)
        #expect(manifest.policies[0].rows == purgeable)
        #expect(manifest.policies[0].counts[.reference] == (try db.int("SELECT sum(kept_reference) FROM retention.batches")))
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
        // A second run changes nothing and counts nothing purged.
        let again = try db.run(folder.url, options: options)
        #expect(again.policies[0].rows == 0)
        #expect(try db.int("SELECT count(*) FROM circulation") == 20_005 - purgeable)
    }

    func manifests(_ db: TestDatabase) throws -> [Manifest] {
        try db.manifestFiles().map { try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: $0))).payload) }
    }

    @Test func rowsAnotherTableStillPointsToAreKeptAsReferenced() throws {
        let (db, folder) = try prepared(extraSQL: """
            CREATE TABLE fines (id int PRIMARY KEY, circ_id bigint REFERENCES circulation, amount numeric, memo text);
            CREATE INDEX ON fines (circ_id);
            INSERT INTO fines SELECT g, g * 3, 1.50, 'CANARY-FINE-' || g FROM generate_series(1, 1000) g;
            """)
        let purgeable = try db.int(Self.independentPurgeable(fines: true))
        let plan = try db.plan(folder.url).policies[0]
        #expect(plan.due == purgeable)
        let result = try db.retention(["run", "--policies", folder.url.path, "--batch-size", "1000", "--log-level", "trace"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try db.int("SELECT sum(rows) FROM retention.batches") == purgeable)
        #expect(try db.int(Self.independentPurgeable(fines: true)) == 0)
        // Every fine still has its loan.
        #expect(try db.int("SELECT count(*) FROM fines f JOIN circulation c ON c.id = f.circ_id") == 1000)
        let files = try db.manifestFiles().map { try String(contentsOfFile: $0, encoding: .utf8) }
        for text in [result.output] + files { #expect(!text.contains("CANARY"), "\(text)") }
    }

    @Test func cascadeIntoAnUndeclaredTableStopsTheRunBeforeAnyChange() throws {
        let (db, folder) = try prepared(extraSQL: """
            CREATE TABLE circ_notes (id int PRIMARY KEY, circ_id bigint REFERENCES circulation ON DELETE CASCADE, body text);
            INSERT INTO circ_notes SELECT g, g, 'CANARY-BODY-' || g FROM generate_series(1, 500) g;
            """)
        let before = try db.fingerprint()
        for command in [["check", "--catalog"], ["plan"], ["run"]] {
            let result = try db.retention(command + ["--policies", folder.url.path, "--log-format", "text"])
            #expect(result.status == 78, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("circ_notes_circ_id_fkey of public.circ_notes is ON DELETE CASCADE"), "\(result.stderr)")
            #expect(result.stderr.contains("circulation.yaml:4:8:"), "\(result.stderr)")
        }
        #expect(try db.fingerprint() == before)
    }

    @Test(arguments: ["ON DELETE CASCADE", "ON DELETE SET NULL"])
    func declaredCascadeChangesItsTableAndCountsExactlyThoseRows(action: String) throws {
        let (db, folder) = try prepared(extraSQL: """
            CREATE TABLE circ_notes (id int PRIMARY KEY, circ_id bigint REFERENCES circulation \(action), body text);
            CREATE INDEX ON circ_notes (circ_id);
            INSERT INTO circ_notes SELECT g, g, 'CANARY-BODY-' || g FROM generate_series(1, 20000, 4) g;
            """, policy: Self.policy + "\ncascade: [public.circ_notes]\n")
        let purgeable = try db.int(Self.independentPurgeable())
        let plan = try db.plan(folder.url).policies[0]
        let result = try db.retention(["run", "--policies", folder.url.path, "--batch-size", "2000", "--log-format", "text"])
        #expect(result.status == 0, "\(result.stderr)")
        let left = try db.int(action.hasSuffix("CASCADE") ? "SELECT count(*) FROM circ_notes" : "SELECT count(*) FROM circ_notes WHERE circ_id IS NOT NULL")
        let changed = 5000 - left
        #expect(changed > 3000)
        #expect(try db.int("SELECT sum(rows) FROM retention.batches") == purgeable)
        #expect(try db.int("SELECT sum((cascaded->>'public.circ_notes')::int8) FROM retention.batches") == changed)
        let manifest = try #require(try manifests(db).first)
        #expect(manifest.policies[0].cascaded == ["public.circ_notes": changed])
        #expect(plan.cascaded == ["public.circ_notes": changed])
        #expect(!result.output.contains("CANARY"))
        #expect(try db.retention(["verify", "--ledger", db.manifestFolder]).status == 0)
    }

    @Test func compositeKeysAndAPartitionedPointingTableAreRespected() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (id int PRIMARY KEY, branch text NOT NULL, seq int NOT NULL, seen timestamptz,
                                 UNIQUE (branch, seq));
            INSERT INTO visits SELECT g, 'B' || (g % 3), g, now() - interval '100 days' FROM generate_series(1, 300) g;
            CREATE TABLE visit_log (branch text, seq int, logged date NOT NULL, FOREIGN KEY (branch, seq) REFERENCES visits (branch, seq))
                PARTITION BY RANGE (logged);
            CREATE TABLE visit_log_old PARTITION OF visit_log FOR VALUES FROM ('2000-01-01') TO ('2100-01-01');
            CREATE INDEX ON visit_log (branch, seq);
            INSERT INTO visit_log SELECT 'B' || (g % 3), g, current_date FROM generate_series(1, 300, 10) g;
            """)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 10 days\naction: delete\n"])
        let plan = try db.plan(folder.url).policies[0]
        #expect(plan.due == 270 && plan.counts[.reference] == 30)
        let check = try db.retention(["check", "--catalog", "--policies", folder.url.path])
        #expect(check.status == 0 && check.stdout.contains("a due row it points to is kept (referenced)"), "\(check.stdout)")
        let run = try db.run(folder.url)
        #expect(run.policies[0].rows == 270)
        #expect(try db.int("SELECT count(*) FROM visits") == 30)
        #expect(try db.int("SELECT sum(kept_reference) FROM retention.batches") == 30)
    }

    /// A cascade that leads back into the policy's own table through another one would delete rows
    /// the policy keeps (not due, held): refused (78) even when declared. A `SET NULL` cascade whose
    /// changed column another table points to `ON UPDATE SET NULL` changes that table too: it must be
    /// declared like any cascade (78 naming it), and then is counted.
    @Test func cascadesFollowedThroughCyclesAndUpdateActionsAreRefusedOrDeclared() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE loans (id bigint PRIMARY KEY, patron_id bigint, returned_at date, note_id bigint);
            CREATE TABLE loan_notes (id bigint PRIMARY KEY, loan_id bigint REFERENCES loans ON DELETE CASCADE);
            ALTER TABLE loans ADD FOREIGN KEY (note_id) REFERENCES loan_notes ON DELETE CASCADE;
            CREATE TABLE visits (id bigint PRIMARY KEY, patron_id bigint, seen date);
            CREATE TABLE visit_notes (id bigint PRIMARY KEY, visit_id bigint UNIQUE REFERENCES visits ON DELETE SET NULL);
            CREATE TABLE disputes (id bigint PRIMARY KEY, visit_id bigint REFERENCES visit_notes (visit_id) ON UPDATE SET NULL);
            CREATE INDEX ON loan_notes (loan_id); CREATE INDEX ON loans (note_id); CREATE INDEX ON disputes (visit_id);
            """)
        let policy = { (name: String, table: String, age: String, cascade: String) -> String in
            "name: \(name)\nversion: 1\ndescription: d\ntable: public.\(table)\nkey: id\nage: \(age)\nretain: 30 days\n"
                + "action: delete\npatron: patron_id\ncascade: [\(cascade)]\n"
        }
        let cycle = try PolicyFolder(["l.yaml": policy("loans", "loans", "returned_at", "public.loan_notes, public.loans")])
        let refused = try db.retention(["check", "--catalog", "--policies", cycle.url.path, "--log-format", "text"])
        #expect(refused.status == 78 && refused.stderr.contains("a cascade cannot lead back into the policy's table"), "\(refused.stderr)")

        let undeclared = try PolicyFolder(["v.yaml": policy("visits", "visits", "seen", "public.visit_notes")])
        let update = try db.retention(["check", "--catalog", "--policies", undeclared.url.path, "--log-format", "text"])
        #expect(update.status == 78 && update.stderr.contains("is ON UPDATE SET NULL: deleting rows of public.visits would change "
                                                                + "public.disputes"), "\(update.stderr)")
        let declared = try PolicyFolder(["v.yaml": policy("visits", "visits", "seen", "public.visit_notes, public.disputes")])
        #expect(try db.retention(["check", "--catalog", "--policies", declared.url.path]).status == 0)
    }

    @Test func missingIndexIsNamedWithTheStatementThatAddsIt() throws {
        let (db, folder) = try prepared(extraSQL: """
            CREATE TABLE fines (id int PRIMARY KEY, circ_id bigint REFERENCES circulation);
            """)
        let check = try db.retention(["check", "--catalog", "--policies", folder.url.path, "--log-format", "text"])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stderr.contains("foreign key fines_circ_id_fkey of public.fines has no index on its columns"), "\(check.stderr)")
        #expect(check.stderr.contains(#"CREATE INDEX ON "public"."fines" ("circ_id");"#))
        #expect(!check.stderr.contains("circulation_parent_circ_fkey of public.circulation has no index"))
    }

    @Test func anonymizingAColumnAForeignKeyPointsToIsRefused() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE cards (id int PRIMARY KEY, barcode text UNIQUE, issued timestamptz);
            CREATE TABLE uses (id int PRIMARY KEY, barcode text REFERENCES cards (barcode));
            """)
        let folder = try PolicyFolder(["c.yaml": "name: c\nversion: 1\ndescription: d\ntable: public.cards\nkey: id\nage: issued\nretain: 10 days\naction: anonymize\nset:\n  barcode: null\n"])
        let result = try db.retention(["check", "--catalog", "--policies", folder.url.path, "--log-format", "text"])
        #expect(result.status == 78)
        #expect(result.stderr.contains("c.yaml:10:3: set may not change barcode: foreign key uses_barcode_fkey of public.uses points to it"),
                "\(result.stderr)")
    }

    @Test func cascadeListingATableNoForeignKeyReachesIsRefused() throws {
        let (db, folder) = try prepared(extraSQL: "CREATE TABLE unrelated (id int PRIMARY KEY);",
                                        policy: Self.policy + "\ncascade: [public.unrelated]\n")
        let result = try db.retention(["check", "--catalog", "--policies", folder.url.path, "--log-format", "text"])
        #expect(result.status == 78)
        #expect(result.stderr.contains("cascade lists public.unrelated, but no foreign key"), "\(result.stderr)")
        let anonymize = try PolicyFolder(["a.yaml": validLoanPolicy + "\ncascade: [public.patrons]\n"])
        let form = try db.retention(["check", "--policies", anonymize.url.path, "--log-format", "text"])
        #expect(form.status == 65 && form.stderr.contains("cascade is only for action: delete"), "\(form.stderr)")
        // Malformed or hostile lists are refused from the file alone, before anything connects.
        for (list, message) in [("public.unrelated", "cascade must be a list of tables"),
                                ("[retention.batches]", "the tool's own schema retention"),
                                ("[pg_catalog.pg_class]", "PostgreSQL's system catalogs"),
                                ("[public.unrelated, public.unrelated]", "cascade lists public.unrelated twice"),
                                ("[unrelated]", "must be a schema-qualified table name"),
                                ("[\"public.un\\u0007related\"]", "holds a control character")] {
            let bad = try PolicyFolder(["circulation.yaml": Self.policy + "\ncascade: \(list)\n"])
            let result = try db.retention(["check", "--policies", bad.url.path, "--log-format", "text"])
            #expect(result.status == 65 && result.stderr.contains(message), "\(list): \(result.stderr)")
        }
    }

    @Test func thePurgerRoleNeedsOnlyThePointingColumns() throws {
        let (db, folder) = try prepared(extraSQL: """
            CREATE TABLE fines (id int PRIMARY KEY, circ_id bigint REFERENCES circulation, memo text);
            CREATE INDEX ON fines (circ_id);
            INSERT INTO fines SELECT g, g * 3, 'CANARY-FINE-' || g FROM generate_series(1, 100) g;
            """)
        let role = "fk_purger_\(db.name.suffix(8))"
        try db.sql("""
            DO $$ BEGIN CREATE ROLE \(role) LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
            GRANT USAGE ON SCHEMA retention TO \(role);
            GRANT SELECT ON retention.schema_version, retention.holds TO \(role);
            GRANT SELECT, INSERT, UPDATE ON retention.runs, retention.run_policies TO \(role);
            GRANT SELECT, INSERT ON retention.batches, retention.run_remaining TO \(role);
            GRANT SELECT (id, patron_id, returned_at, parent_circ, status) ON circulation TO \(role);
            GRANT DELETE ON circulation TO \(role);
            GRANT CONNECT ON DATABASE \(db.name) TO \(role);
            """)
        defer { try? db.sql("DROP OWNED BY \(role); DROP ROLE IF EXISTS \(role)") }
        let denied = try db.retention(["run", "--policies", folder.url.path, "--log-format", "text"], environment: ["PGUSER": role])
        #expect(denied.status == 77, "\(denied.stderr)")
        #expect(denied.stderr.contains("SELECT on column public.fines.circ_id"), "\(denied.stderr)")
        try db.sql("GRANT USAGE ON SCHEMA public TO \(role); GRANT SELECT (circ_id) ON fines TO \(role)")
        let run = try db.retention(["run", "--policies", folder.url.path], environment: ["PGUSER": role])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try db.int(Self.independentPurgeable(fines: true)) == 0)
        #expect(try db.int("SELECT count(*) FROM fines f JOIN circulation c ON c.id = f.circ_id") == 100)
    }
}
