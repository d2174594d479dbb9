import Foundation
import Testing
@testable import RetentionCore

/// Policy problems that only the live catalog reveals: exit 78, and the database unchanged.
@Suite struct CatalogTests {
    /// Resolves `yaml` against a fresh reference database and returns the catalog error.
    func catalogError(_ yaml: String, extraSQL: String = "") throws -> (PolicyErrors, TestDatabase) {
        let db = try TestDatabase()
        try db.sql(loanCases + extraSQL)
        let folder = try PolicyFolder(["loans.yaml": yaml])
        let before = try db.fingerprint()
        let error = try #require(throws: PolicyErrors.self) { try db.resolve(folder.url) }
        #expect(error.exitCode == .config)
        #expect(error.problems.allSatisfy { $0.file.hasSuffix("loans.yaml") })
        #expect(try db.fingerprint() == before)
        return (error, db)
    }

    @Test func shippedPoliciesResolveAgainstTheReferenceSchema() throws {
        let db = try TestDatabase()
        let policies = try PolicyFolder.shipped()
        let resolved = try db.resolve(policies.url)
        #expect(resolved.count == 3)
        #expect(resolved.allSatisfy { $0.ageType == .timestamptz })
    }

    /// validLoanPolicy's lines: table on 4, key 5, age 6, set's notes 11, keep_when's second item 19, BANGOR 23.
    @Test(arguments: [
        ("public.loans", "public.lones", "4:8", "table public.lones does not exist"),
        ("key: id", "key: ident", "5:6", "column ident (key) does not exist"),
        ("age: returned_at", "age: fines_owed", "6:6", "age column fines_owed"),
        ("  notes: null", "  nodes: null", "11:3", "column nodes (set) does not exist"),
        ("value: [lost, claims-returned]", "value: [lost, 7]", "19:5", "keep_when status in"),
        ("BANGOR: 14 days", "BANGOR: 9000 years", "23:5", "library 'BANGOR'"),
    ])
    func catalogProblemsNameTheirFileLineAndColumn(from: String, to: String, position: String, message: String) throws {
        var yaml = validLoanPolicy.replacingOccurrences(of: from, with: to)
        if to == "value: [lost, 7]" {
            // A keep_when value the column's type cannot hold: status compared with an integer column.
            yaml = yaml.replacingOccurrences(of: "column: status", with: "column: fines_owed").replacingOccurrences(of: "[lost, 7]", with: "[lost, 7]")
        }
        let (error, _) = try catalogError(yaml)
        let problem = try #require(error.problems.first)
        #expect("\(problem.line.map(String.init) ?? "-"):\(problem.column.map(String.init) ?? "-")" == position, "\(error.description)")
        #expect(error.description.hasPrefix(problem.file + ":" + position + ": "), "\(error.description)")
        #expect(error.description.contains(message.replacingOccurrences(of: "keep_when status in", with: "keep_when fines_owed in")),
                "\(error.description)")
    }

    @Test func missingTable() throws {
        let (error, _) = try catalogError(validLoanPolicy.replacingOccurrences(of: "public.loans", with: "public.lones"))
        #expect(error.description.contains("table public.lones does not exist"))
    }

    @Test func missingColumns() throws {
        var yaml = validLoanPolicy.replacingOccurrences(of: "age: returned_at", with: "age: returned")
        yaml = yaml.replacingOccurrences(of: "  notes: null", with: "  memo: null")
        let (error, _) = try catalogError(yaml)
        #expect(error.problems.map(\.message) == [
            "column returned (age) does not exist in public.loans",
            "column memo (set) does not exist in public.loans",
        ])
    }

    @Test func keyThatIsNotThePrimaryKey() throws {
        let (error, _) = try catalogError(validLoanPolicy.replacingOccurrences(of: "key: id\nage", with: "key: item_barcode\nage"))
        #expect(error.description.contains("key item_barcode is not the primary key of public.loans; it is (id)"))
    }

    @Test func ageColumnThatIsNotATime() throws {
        let (error, _) = try catalogError(validLoanPolicy.replacingOccurrences(of: "age: returned_at", with: "age: fines_owed"))
        #expect(error.description.contains("age column fines_owed of public.loans is numeric; expected date, timestamp or timestamptz"))
    }

    @Test func setValueThatDoesNotFitItsColumn() throws {
        let yaml = validLoanPolicy.replacingOccurrences(of: "  patron_id: null", with: "  patron_id: nobody")
        let (error, _) = try catalogError(yaml)
        #expect(error.description.contains("set patron_id: 'nobody' does not fit bigint"))
    }

    @Test func nullIntoANotNullColumn() throws {
        let yaml = validLoanPolicy.replacingOccurrences(of: "  notes: null", with: "  item_barcode: null")
        let (error, _) = try catalogError(yaml)
        #expect(error.description.contains("set item_barcode: null does not fit, the column is NOT NULL"))
    }

    @Test func keepWhenAndLibraryValuesMustFitTheirColumns() throws {
        var yaml = validLoanPolicy.replacingOccurrences(of: "op: \">\", value: 0", with: "op: \">\", value: lots")
        yaml = yaml.replacingOccurrences(of: "column: library_code", with: "column: patron_id")
        let (error, _) = try catalogError(yaml)
        #expect(error.description.contains("keep_when fines_owed >: 'lots' does not fit its type numeric"))
        #expect(error.description.contains("library 'BANGOR' does not fit the type bigint of patron_id"))
    }

    @Test func consentColumnMustBeBoolean() throws {
        let (error, _) = try catalogError(validLoanPolicy.replacingOccurrences(of: "keep_if: keep_history", with: "keep_if: email"))
        #expect(error.description.contains("consent keep_if column email of public.patrons is text; expected boolean"))
    }

    @Test func consentKeyOfAnotherTypeIsFoundByTheServer() throws {
        let (error, _) = try catalogError(validLoanPolicy.replacingOccurrences(of: "  key: id\n  keep_if", with: "  key: email\n  keep_if"))
        #expect(error.description.contains("policy loan-history cannot be applied to public.loans: operator does not exist"))
    }

    @Test func viewIsNotAPolicyTable() throws {
        let (error, _) = try catalogError(validLoanPolicy.replacingOccurrences(of: "public.loans", with: "public.loan_view"),
                                          extraSQL: "CREATE VIEW loan_view AS SELECT * FROM loans;")
        #expect(error.description.contains("public.loan_view is not a table"))
    }

    @Test func missingToolSchemaAsksForSetup() throws {
        let db = try TestDatabase(setup: false)
        let policies = try PolicyFolder.shipped()
        let error = try #require(throws: UsageError.self) { try db.resolve(policies.url) }
        #expect(error.exitCode == .config)
        #expect(error.description.contains("run `retention setup` first"))
    }
}
