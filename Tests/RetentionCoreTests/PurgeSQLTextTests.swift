import Foundation
import Testing
@testable import RetentionCore

/// The generated SQL as text, part by part (as gh-ost's builder tests read theirs): values are
/// bound in order, names quoted, the kept reasons in `KeptReason.allCases` order. The tests against
/// the server (PurgeTests, HoldTests, ForeignKeyTests) prove what the statements do.
@Suite struct PurgeSQLTextTests {
    /// A policy from its file's text, resolved by hand as the catalog would resolve it.
    func sql(_ yaml: String, ageType: ResolvedPolicy.AgeType = .timestamptz, patronType: String? = "bigint",
             references: [ForeignKeyRef] = []) throws -> PurgeSQL {
        let policy = try PolicyLoader.parse(yaml: "name: p\nversion: 1\ndescription: d\n" + yaml, file: "p.yaml").get()
        var resolved = ResolvedPolicy(policy: policy, tableOID: "16384", keyType: "integer", ageType: ageType)
        resolved.patronType = policy.patron == nil ? nil : patronType
        resolved.references = references
        return PurgeSQL(resolved)
    }

    let loans = "table: public.loans\nkey: id\nage: returned_at\nretain: 30 days\naction: delete\npatron: patron_id\n"

    @Test func fragmentsNumberTheirValuesInOrderWhereverTheyNest() {
        let inner: SQL = "a = \(bind: "x") AND b = ANY (\(bind: ["1", "2\""]))"
        let outer = SQL("SELECT 1 FROM \(QualifiedName(schema: "public", name: "we\"ird")) t WHERE \(bind: nil) IS NULL AND \(inner)")
            .statement
        #expect(outer.sql == #"SELECT 1 FROM "public"."we""ird" t WHERE $1 IS NULL AND a = $2 AND b = ANY ($3::text[])"#)
        #expect(outer.params == [nil, "x", #"{"1","2\""}"#])
        #expect(["x", "y"].map { value -> SQL in "\(name: value)" }.joined(separator: ", ").statement.sql == #""x", "y""#)
    }

    @Test func olderPicksTheCutoffByTheRowsLibrary() throws {
        let purge = try sql("table: public.loans\nkey: id\nage: returned_at\nretain: 30 days\naction: delete\n"
                            + "libraries:\n  column: branch\n  retain:\n    BANGOR: 14 days\n")
        let statement = purge.older(Cutoffs(standard: "2026-01-01", libraries: [("BANGOR", "2026-02-01")])).statement
        #expect(statement.sql == #"t."returned_at" < CASE WHEN t."branch"::text = $1 THEN $2::timestamptz ELSE $3::timestamptz END"#)
        #expect(statement.params == ["BANGOR", "2026-02-01", "2026-01-01"])
    }

    @Test func aPatronHoldIsReadAsTheIntegerColumnsType() throws {
        let held = try sql(loans).held(.scoped).statement
        // As assigning it would read it: `0001` and `+1` are patron 1; the cast runs only on digits.
        #expect(held.sql.contains(#"CASE WHEN t."patron_id" IN (SELECT v.p FROM (SELECT CASE WHEN h.patron ~ $"#))
        #expect(held.sql.contains(#"THEN CASE WHEN h.patron::numeric BETWEEN -9223372036854775808 AND 9223372036854775807 THEN h.patron::numeric::bigint END END AS p"#))
        #expect(held.params.allSatisfy { $0 == "p" || $0 == #"^\s*[+-]?[0-9]+\s*$"# || $0 == #"^(0|-?[1-9][0-9]*)$"# })
    }

    @Test func firstReasonFollowsKeptReasonsOrder() throws {
        let purge = try sql(loans + "keep_when:\n  - { column: disputed, op: \"=\", value: \"true\" }\n")
        let text = PurgeSQL.firstReason(purge.tests(referenced: "true")).statement.sql
        let positions = ["THEN 1", "THEN 2", "THEN 3", "THEN 4", "THEN 5"].map { text.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil } && positions == positions.sorted { $0! < $1! })
        #expect(text.hasSuffix("WHEN false THEN 4 WHEN true THEN 5 ELSE 0 END"))
        #expect(text.contains(#"WHEN COALESCE((t."disputed" = $"#))
        let (due, counts) = PurgeSQL.countsByFirstReason("g")
        #expect(due.statement.sql == "NOT g.kept_hold AND NOT g.kept_consent AND NOT g.kept_rule AND NOT g.kept_newest AND NOT g.kept_reference")
        #expect(counts.statement.sql.contains(
            "coalesce(sum(g.n) FILTER (WHERE NOT g.kept_hold AND NOT g.kept_consent AND g.kept_rule), 0)::int8 AS kept_by_keep_when"))
        #expect(PurgeSQL.keptFlags("reason").statement.sql.hasPrefix("(reason = 1)::int AS kept_hold, (reason = 2)::int AS kept_consent"))
    }

    @Test func aCountGroupsOnlyByTestsThatCanKeepARow() throws {
        let cutoffs = Cutoffs(standard: "2026-01-01", libraries: [])
        let none = try sql(loans).countQuery(cutoffs: cutoffs, holds: .none).sql
        #expect(none.contains("HAVING count(*) > 0") && none.contains("false AS kept_hold"))
        let scoped = try sql(loans).countQuery(cutoffs: cutoffs, holds: .scoped).sql
        #expect(scoped.contains("GROUP BY 2) g") && scoped.contains("AS kept_by_reference"))
        #expect(!scoped.contains("WITH RECURSIVE staying"))
    }

    @Test func aSelfReferenceWalksTheChainAndKeepsItWhole() throws {
        let renews = ForeignKeyRef(name: "renews", referencing: QualifiedName(schema: "public", name: "loans"), referencingOID: "16384",
                                   columns: ["renews_id"], referencedColumns: ["id"], onDelete: .noAction, onUpdate: .noAction,
                                   isSelf: true, indexed: true)
        let purge = try sql(loans, references: [renews])
        #expect(purge.children(of: "d.k").statement.sql
                == #"SELECT x."id" AS k FROM "public"."loans" x WHERE x."renews_id" = d.k OFFSET 0"#)
        let statement = purge.purgeStatement(cutoffs: Cutoffs(standard: "2026-01-01", libraries: []))
        #expect(statement.sql.hasPrefix("WITH RECURSIVE due AS MATERIALIZED ("))
        #expect(statement.sql.contains("stays(k) AS (") && statement.sql.contains("ANY (ARRAY(SELECT k FROM doomed))"))
        // Every placeholder has its value, and none is left unnumbered.
        let highest = statement.sql.matches(of: /\$([0-9]+)/).compactMap { Int($0.1) }.max()
        #expect(highest == statement.params.count)
    }

    @Test func theLedgerWritesOneColumnPerReason() throws {
        let statement = try sql(loans).ledgerStatement(cutoffs: Cutoffs(standard: "2026-01-01", libraries: []), runID: 7, batch: 3,
                                                       purged: [(library: nil, rows: 5)])
        #expect(statement.sql.contains("(run_id, batch, policy, library, rows, kept_hold, kept_consent, kept_rule, kept_newest, kept_reference, cascaded"))
        #expect(statement.sql.contains("sum(kept_hold), sum(kept_consent), sum(kept_rule), sum(kept_newest), sum(kept_reference)"))
        #expect(statement.params.first == "[[null,5]]" && statement.params.contains("7") && statement.params.contains("3"))
    }
}
