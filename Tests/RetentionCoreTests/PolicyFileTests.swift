import Foundation
import Testing
@testable import RetentionCore

/// A valid policy for the reference loans table; tests change one thing at a time.
let validLoanPolicy = """
    name: loan-history
    version: 3
    description: Kept 30 days after return for disputes.
    table: public.loans
    key: id
    age: returned_at
    retain: 30 days
    action: anonymize
    set:
      patron_id: null
      notes: null
    patron: patron_id
    consent:
      table: public.patrons
      key: id
      keep_if: keep_history
    keep_when:
      - { column: fines_owed, op: ">", value: 0 }
      - { column: status, op: in, value: [lost, claims-returned] }
    libraries:
      column: library_code
      retain:
        BANGOR: 14 days
        PORTLAND: 90 days
    """

/// Parses one policy text and returns its problems (empty when valid).
func problems(_ yaml: String, file: String = "policies/p.yaml") -> [PolicyProblem] {
    switch PolicyLoader.parse(yaml: yaml, file: file) {
    case .success: return []
    case .failure(let errors): return errors.problems
    }
}

@Suite struct PolicyFileTests {
    @Test func acceptsTheSpecExamplePolicy() throws {
        let policy = try PolicyLoader.parse(yaml: validLoanPolicy, file: "p.yaml").get()
        #expect(policy.name == "loan-history")
        #expect(policy.version == 3)
        #expect(policy.table == QualifiedName(schema: "public", name: "loans"))
        #expect(policy.retain.interval == "30 days")
        #expect(policy.action == .anonymize)
        #expect(policy.set == [Assignment(column: "patron_id", value: nil), Assignment(column: "notes", value: nil)])
        #expect(policy.keepWhen == [Condition(column: "fines_owed", op: .greater, values: ["0"]),
                                    Condition(column: "status", op: .in, values: ["lost", "claims-returned"])])
        #expect(policy.libraries?.retain.map(\.library) == ["BANGOR", "PORTLAND"])
        #expect(policy.consent == Policy.Consent(table: QualifiedName(schema: "public", name: "patrons"), key: "id",
                                                 keepIf: "keep_history"))
    }

    @Test func shippedPoliciesAreValid() throws {
        let policies = try PolicyLoader.load(directory: repositoryRoot.appendingPathComponent("policies").path)
        #expect(Set(policies.map(\.name)) == ["event-attendance", "computer-signups", "loan-history"])
        #expect(policies.allSatisfy { $0.sha256.count == 64 && !$0.description.isEmpty })
    }

    @Test(arguments: [
        ("30 days", "30 days"), ("1 day", "1 days"), ("2 weeks", "14 days"), ("6 months", "6 months"),
        ("1 year", "1 years"), ("P30D", "30 days"), ("P1Y", "1 years"), ("P1Y2M10D", "1 years 2 months 10 days"),
        ("P2W", "14 days"), ("PT36H", "129600 seconds"),
    ])
    func parsesPeriods(text: String, interval: String) throws {
        #expect(try #require(Period(parsing: text)).interval == interval)
    }

    @Test(arguments: ["-30 days", "thirty days", "30 fortnights", "0 days", "P", "P1", "PT", "30", "P1Y-2M", "9999999 days", ""])
    func rejectsBadPeriods(text: String) {
        #expect(Period(parsing: text) == nil)
    }

    @Test func malformedYAMLNamesFileLineAndColumn() throws {
        let found = problems("name: x\nversion: [1,\n", file: "policies/broken.yaml")
        let problem = try #require(found.first)
        #expect(problem.file == "policies/broken.yaml")
        #expect(problem.line != nil)
        #expect(problem.description.hasPrefix("policies/broken.yaml:"))
        #expect(problem.message.contains("not valid YAML"))
    }

    @Test func unknownKeyNamesItsLine() throws {
        let found = problems(validLoanPolicy + "\nretian: 3 days\n")
        let problem = try #require(found.first)
        #expect(found.count == 1)
        #expect(problem.message.contains("unknown key 'retian'"))
        #expect(problem.line == 25)
        #expect(problem.column == 1)
    }

    @Test func wrongTypeNamesTheNode() throws {
        let found = problems(validLoanPolicy.replacingOccurrences(of: "version: 3", with: "version: three"))
        let problem = try #require(found.first)
        #expect(problem.message.contains("version must be a whole number"))
        #expect(problem.line == 2 && problem.column == 10)
    }

    @Test func negativePeriodIsAnError() throws {
        let found = problems(validLoanPolicy.replacingOccurrences(of: "retain: 30 days", with: "retain: -30 days"))
        #expect(found.map(\.message) == ["retain must not be negative, found '-30 days'"])
        #expect(found.first?.line == 7)
    }

    @Test func unparsablePeriodIsAnError() throws {
        let found = problems(validLoanPolicy.replacingOccurrences(of: "BANGOR: 14 days", with: "BANGOR: a fortnight"))
        #expect(found.count == 1)
        #expect(found.first?.message.contains("period of library 'BANGOR' must be") == true)
        #expect(found.first?.line == 23)
    }

    @Test func setWithoutAnonymizeIsAnError() throws {
        let found = problems(validLoanPolicy.replacingOccurrences(of: "action: anonymize", with: "action: delete"))
        #expect(found.map(\.message) == ["set is only for action: anonymize (this policy deletes rows)"])
    }

    @Test func anonymizeWithoutSetIsAnError() throws {
        let yaml = validLoanPolicy.replacingOccurrences(of: "set:\n  patron_id: null\n  notes: null\n", with: "")
        #expect(problems(yaml).map(\.message) == ["action anonymize needs set: the columns to clear and their new values"])
    }

    @Test func missingRequiredKeysAreEachNamed() throws {
        let found = problems("name: x\nversion: 1\n")
        let messages = found.map(\.message)
        for key in ["description", "table", "key", "age", "retain", "action"] {
            #expect(messages.contains("missing required key '\(key)'"))
        }
    }

    @Test func badNameAndUnqualifiedTableAreErrors() throws {
        var yaml = validLoanPolicy.replacingOccurrences(of: "name: loan-history", with: "name: Loan History")
        yaml = yaml.replacingOccurrences(of: "table: public.loans", with: "table: loans")
        let messages = problems(yaml).map(\.message)
        #expect(messages.count == 2)
        #expect(messages.contains { $0.hasPrefix("name 'Loan History' must be lowercase") })
        #expect(messages.contains { $0.hasPrefix("table must be a schema-qualified table name") })
    }

    @Test func badConditionsAreErrors() throws {
        let yaml = validLoanPolicy.replacingOccurrences(of: """
              - { column: fines_owed, op: ">", value: 0 }
            """, with: """
              - { column: fines_owed, op: "~", value: 0 }
              - { column: fines_owed, op: ">" }
              - { column: status, op: in, value: lost }
              - { column: status, op: is null, value: 1 }
              - { column: status, op: "=", value: x; DROP TABLE patrons, extra: 1 }
            """)
        let messages = problems(yaml).map(\.message)
        #expect(messages.contains { $0.hasPrefix("op '~' is not one of") })
        #expect(messages.contains("op '>' needs one value (for NULL use op: is null)"))
        #expect(messages.contains { $0.hasPrefix("op 'in' needs a list of values") })
        #expect(messages.contains("op 'is null' takes no value"))
        #expect(messages.contains { $0.hasPrefix("unknown key 'extra' in a keep_when condition") })
    }

    @Test func consentNeedsPatron() throws {
        let yaml = validLoanPolicy.replacingOccurrences(of: "patron: patron_id\n", with: "")
        #expect(problems(yaml).map(\.message) == ["consent needs patron: the column naming the patron"])
    }

    @Test func twoPoliciesWithOneNameAreAnError() throws {
        let folder = try PolicyFolder(["a.yaml": validLoanPolicy, "b.yaml": validLoanPolicy])
        let error = try #require(throws: PolicyErrors.self) { try PolicyLoader.load(directory: folder.url.path) }
        #expect(error.exitCode == .dataError)
        #expect(error.problems.count == 1)
        #expect(error.description.contains("b.yaml: policy name 'loan-history' is already used by"))
        #expect(error.description.contains("a.yaml"))
    }

    @Test func everyBadFileIsReportedAtOnce() throws {
        let folder = try PolicyFolder(["a.yaml": "name: [", "b.yaml": "- a list", "c.yaml": ""])
        let error = try #require(throws: PolicyErrors.self) { try PolicyLoader.load(directory: folder.url.path) }
        #expect(Set(error.problems.map { URL(fileURLWithPath: $0.file).lastPathComponent }) == ["a.yaml", "b.yaml", "c.yaml"])
    }

    @Test func missingOrEmptyFolderIsAConfigurationError() throws {
        let missing = try #require(throws: UsageError.self) { try PolicyLoader.load(directory: "/nonexistent/policies") }
        #expect(missing.exitCode == .config)
        let folder = try PolicyFolder()
        let empty = try #require(throws: UsageError.self) { try PolicyLoader.load(directory: folder.url.path) }
        #expect(empty.description.contains("holds no *.yaml files"))
        // The package's folder: examples only, which the message names with how to enable one.
        let examples = try PolicyFolder(["loans.yaml.example": validLoanPolicy])
        let disabled = try #require(throws: UsageError.self) { try PolicyLoader.load(directory: examples.url.path) }
        #expect(disabled.exitCode == .config)
        #expect(disabled.description.hasSuffix("its examples are disabled (loans.yaml.example): adapt one and enable it with cp NAME.yaml.example NAME.yaml"))
    }

    @Test func identifiersAreQuotedAndLookAlikesShown() {
        #expect(quoteIdentifier("a\"b; DROP TABLE x; --") == "\"a\"\"b; DROP TABLE x; --\"")
        #expect(QualifiedName(schema: "public", name: "p\u{430}trons").description == "public.p\\u{430}trons")
        #expect(visible("a\nb") == "a\\u{a}b")
    }
}
