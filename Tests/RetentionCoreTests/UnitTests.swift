import Foundation
import Testing
@testable import RetentionCore

/// Pure pieces without a database: batch sizing, durations, and the one set of counts.
@Suite struct UnitTests {
    @Test(arguments: [
        (2_000, 80, 2_500),      // a little faster than the target: in proportion
        (2_000, 50, 3_000),      // twice as fast as the target: at most half again
        (2_000, 100, 2_000),     // on target: the same
        (2_000, 200, 1_000),     // twice as slow: half
        (2_000, 1_000, 1_000),   // far slower: at most half
        (2_000, 0, 3_000),       // too fast to measure: counted as 1 ms, so half again
        (150, 1_000, 100),       // never below the smallest
        (150_000, 10, 200_000),  // never above the largest
    ])
    func nextBatchScalesByTargetOverTimeWithinBounds(size: Int, tookMilliseconds: Int, expected: Int) {
        #expect(BatchSizing.next(after: size, took: .milliseconds(tookMilliseconds), target: .milliseconds(100)) == expected)
    }

    @Test(arguments: [
        (200, 130, 30, 300),     // fixed cost 30 ms: aims at 300 ms, half again at most
        (300, 300, 30, 300),     // 270 ms of work plus 30 fixed: on its aim, the same
        (300, 630, 30, 150),     // twice the work the aim leaves: half
        (2_000, 100, 5, 2_000),  // a small fixed cost: the target (100 ms) as before
        (2_000, 2_500, 2_400, 1_000), // waited on a lock (fixed cost up to a second): half
    ])
    func nextBatchAimsAtTenTimesItsFixedCostWhenThatIsLonger(size: Int, tookMilliseconds: Int, overheadMilliseconds: Int,
                                                              expected: Int) {
        #expect(BatchSizing.next(after: size, took: .milliseconds(tookMilliseconds), overhead: .milliseconds(overheadMilliseconds),
                                 target: .milliseconds(100)) == expected)
    }

    @Test func commandLineDurationsParseAndRefuseWhatIsNotOne() {
        #expect(DurationText.seconds("90") == 90)
        #expect(DurationText.seconds("90s") == 90)
        #expect(DurationText.seconds("30m") == 1_800)
        #expect(DurationText.seconds("1h30m") == 5_400)
        #expect(DurationText.seconds("0.5h") == 1_800)
        #expect(DurationText.seconds("168h") == 604_800)
        for bad in ["", "0", "0s", "-5s", "inf", "nan", "1e300", "169h", "5 minutes", "5x", "٣s", "m"] {
            #expect(DurationText.seconds(bad) == nil, "\(bad)")
        }
    }

    @Test func postgresTimesFollowTheServersUnits() {
        for good in ["5s", "500ms", "2min", "1h", "1d", "250", " 5 s ", "1.5s"] {
            #expect(PostgresDuration.isValid(good), "\(good)")
        }
        for bad in ["", "garbage", "-5s", "5 fortnights", "0", "2d", "5sec", "s"] {
            #expect(!PostgresDuration.isValid(bad), "\(bad)")
        }
    }

    @Test func countsAddUpByReasonAndReadTheirOwnColumns() throws {
        var total = Counts(rows: 3, kept: [.hold: 1])
        total += Counts(rows: 2, kept: [.consent: 4, .keepWhen: 5])
        #expect(total.rows == 5 && total[.hold] == 1 && total[.consent] == 4 && total[.keepWhen] == 5 && total.keptTotal == 10)
        let values = ["7"] + KeptReason.allCases.indices.map { String($0 + 1) }
        let row = QueryResult(columns: ["rows"] + KeptReason.allCases.map(\.rawValue), values: [values]).rows[0]
        #expect(try Counts(row: row) == Counts(rows: 7, kept: Dictionary(uniqueKeysWithValues:
            KeptReason.allCases.enumerated().map { ($1, Int64($0 + 1)) })))
        let missing = QueryResult(columns: ["rows"], values: [["7"]]).rows[0]
        #expect(throws: RowDecodingError.self) { try Counts(row: missing) }
    }

    /// Every kept reason reaches every output: adding one to `KeptReason` is all the renderers need.
    @Test func everyKeptReasonReachesPlanManifestAndText() throws {
        let counts = Counts(rows: 3, kept: Dictionary(uniqueKeysWithValues: KeptReason.allCases.enumerated().map { ($1, Int64(10 + $0)) }))
        let library = ManifestLibrary(library: "BANGOR", retain: "14 days", cutoff: "2026-11-18", counts: counts, batches: 1)
        let manifest = Manifest(runID: 1, sequence: 1, status: "completed", database: ManifestDatabase(name: "db", systemIdentifier: nil),
                                startedAt: "2026-12-02T02:00:00.000000Z", finishedAt: "2026-12-02T02:00:01.000000Z",
                                toolVersion: "t", previousSHA256: nil, options: [:],
                                policies: [ManifestPolicy(name: "p", version: 1, fileSHA256: "x", table: "public.t", action: "delete",
                                                          retain: "30 days", cutoff: "c", batches: 1, libraries: [library])])
        let payload = try JSONValue.parse(manifest.payload)
        let plan = PlanReport(at: "a", database: "db", policies: [PolicyPlan(
            name: "p", version: 1, table: "public.t", action: "delete", retain: "30 days",
            libraries: [LibraryPlan(period: library.period, counts: counts, oldestDueDays: 40)])])
        let planJSON = try JSONValue.parse(Data(PlanRendering.json(plan).utf8))
        let showText = ManifestRendering.text(manifest, path: "m.json", signature: .notChecked)
        let planText = PlanRendering.text(plan)
        for (index, reason) in KeptReason.allCases.enumerated() {
            let value = JSONValue.int(Int64(10 + index))
            #expect(payload["policies"]?.array?[0][reason.rawValue] == value)
            #expect(payload["policies"]?.array?[0]["libraries"]?.array?[0][reason.rawValue] == value)
            #expect(planJSON["policies"]?.array?[0]["libraries"]?.array?[0][reason.rawValue] == value)
            #expect(planJSON["policies"]?.array?[0][reason.rawValue] == value)
            #expect(showText.contains("\(10 + index) \(reason.phrase)") && showText.contains(reason.heading))
            #expect(planText.contains(reason.heading))
        }
        #expect(try Manifest(payload: manifest.payload) == manifest)
        #expect(try JSONDecoder().decode(PlanReport.self, from: Data(PlanRendering.json(plan).utf8)) == plan)
    }

    /// The check of the tool's own schema reads its columns from the schema script: tables' columns
    /// and every column added later, never a constraint's words.
    @Test func theSchemaCheckKnowsEveryColumnTheScriptCreates() {
        let columns = Set(RetentionSchema.expectedColumns)
        #expect(columns.isSuperset(of: ["schema_version.version", "runs.id", "runs.status", "runs.gap", "run_policies.maintenance",
                                        "batches.cascaded", "batches.kept_rule", "run_remaining.still_due", "holds.time_zone"]))
        #expect(columns.allSatisfy { $0.range(of: #"^[a-z_]+\.[a-z_]+$"#, options: .regularExpression) != nil }, "\(columns)")
        #expect(columns.count > 50)
    }

    /// A card number in free text, however it is written, and a case number that is not one.
    @Test func cardNumbersAreFoundWhateverTheirSeparatorsAndCaseNumbersPass() {
        for text in ["21234000567890", "card 2123 4000 5678 90", "2123-4000-5678-90", "2123.4000.5678.90", "\u{FF12}\u{FF11}\u{FF12}\u{FF13}\u{FF14}\u{FF10}",
                     "CV-\u{0664}\u{0667}\u{0661}\u{0661}\u{0662}\u{0663}", "CV-\u{0967}\u{0968}\u{0969}\u{096A}\u{096B}\u{096C}",
                     "CV 2999_0000_1000_07", "CV 2999\u{2013}0000\u{2013}1000\u{2013}07", "CV 2999 - 0000 - 1000 - 07",
                     "CV 2999  0000  1000  07", "CV 2999,0000,1000,07", "CV (2999)(0000)(1000)(07)", "CV 2999\u{00B7}0000\u{00B7}1000\u{00B7}07"] {
            #expect(PatronNumbers.holdsANumber(text), "\(text)")
        }
        for text in ["CV-2026-4512", "Order 2026-120", "case 12345", "2026-03-01 hearing", "Court order 7",
                     "hearings 2026-03-01, 2026-03-02; 2026-04-01"] {
            #expect(!PatronNumbers.holdsANumber(text), "\(text)")
        }
        #expect(PatronNumbers.withheld("card 2123 4000 5678 90, case CV-2026-4512") == "card [number withheld], case CV-2026-4512")
        #expect(PatronNumbers.contains("about L-I-B 0042x", "LIB0042X") && !PatronNumbers.contains("about LIB", "LIB0042X"))
        #expect(PatronNumbers.contains("card \u{0664}\u{0667}\u{0661}\u{0661}", "4711"))
    }
}
