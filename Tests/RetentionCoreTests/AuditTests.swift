import Foundation
import Testing
@testable import RetentionCore

/// Problems planted in the reference schema for the audit, each with canary values that must never be printed.
///
/// Expected: uncovered public.reading_list (foreign key) and public.sms_log (column name `card_number`);
/// suspicious columns public.patrons.ssn and the survey.responses columns listed in `expectedSuspicious`;
/// 7 SSN-shaped values in public.loans.notes and none anywhere else.
let auditPlanted = """
    ALTER TABLE patrons ADD COLUMN ssn text;
    UPDATE patrons SET ssn = 'CANARY-SSN-COLUMN';

    CREATE TABLE reading_list (
        id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        patron_id bigint NOT NULL REFERENCES patrons,
        title     text
    );
    INSERT INTO reading_list (patron_id, title) VALUES (1, 'CANARY-READING-1');

    CREATE TABLE sms_log (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        card_number text,
        sent_at     timestamptz,
        body        text
    );
    INSERT INTO sms_log (card_number, sent_at, body) VALUES ('CANARY-CARD-1', now(), 'CANARY-SMS-1');

    -- Names that must not be taken for patron references.
    CREATE TABLE desk_shifts (
        id            integer PRIMARY KEY,
        member        text,
        "user"        text,
        customer      text,
        user_name     text,
        patron_count  integer,
        created_by_user integer
    );

    CREATE SCHEMA survey;
    CREATE TABLE survey.responses (
        id               integer PRIMARY KEY,
        dob_race         text,
        soc_sec_no       text,
        "socialSecurityNumber" text,
        marital_stat     text,
        polit_party      text,
        "patronReligion" text,
        gender_code      text,
        "SEX"            text,
        skin_colour      text,
        "ethnicOrigin"   text,
        natl_origin      text,
        nationality      text,
        disab_flag       text,
        "disabilityType" text,
        race_religion    text,
        -- Names that must not match.
        trace_id         text,
        embraced_at      timestamptz,
        sextant          integer,
        essex_branch     text,
        is_disabled      boolean,
        party_size       integer,
        polite_reminder  boolean,
        label_color      text,
        grace_period     interval,
        origin           text,
        assn_code        text,
        racetrack        text,
        status           text
    );
    INSERT INTO survey.responses (id, dob_race, soc_sec_no, marital_stat, trace_id)
    VALUES (1, 'CANARY-RACE-1', 'CANARY-SOCSEC-1', 'CANARY-MARITAL-1', 'CANARY-TRACE-1');

    -- Staff notes: 7 values shaped like social security numbers among notes that only look alike.
    INSERT INTO loans (id, library_code, patron_id, item_barcode, checked_out_at, due_at, returned_at, notes)
    OVERRIDING SYSTEM VALUE
    SELECT 100 + n, 'AUGUSTA', 1, 'AUDIT-' || n, now() - interval '5 days', now() + interval '9 days', NULL, note
    FROM unnest(ARRAY[
        'CANARY-AUDIT-1 called about 123-45-6789 today',
        '078-05-1120',
        'SSN: 219099999',
        'social security no. 219 09 9998',
        '(ssn 111-22-3333)',
        'Soc. Sec. 555.12.3456',
        'id 987-65-4321,CANARY-AUDIT-2',
        'phone 207-555-0134',
        'ISBN 978-0-14-303943-3',
        'due 2024-01-15',
        'ref 1123-45-6789',
        'ref 123-45-67890',
        'zip 04330-1234',
        'barcode 123456789',
        'unlabelled 123 45 6789',
        '12-345-6789',
        'CANARY-AUDIT-3'
    ]) WITH ORDINALITY AS t(note, n);
    """

/// The values planted above that no output may contain.
let auditCanaries = ["CANARY", "canary", "123-45-6789", "078-05-1120", "219099999", "219 09 9998", "111-22-3333",
                     "555.12.3456", "987-65-4321", "207-555-0134"]

/// The suspicious columns the planted schema must produce, as `schema.table.column: categories`.
let expectedSuspicious = [
    "public.patrons.ssn: social_security_number",
    "survey.responses.dob_race: race",
    "survey.responses.soc_sec_no: social_security_number",
    "survey.responses.socialSecurityNumber: social_security_number",
    "survey.responses.marital_stat: marital_status",
    "survey.responses.polit_party: political_affiliation",
    "survey.responses.patronReligion: religion",
    "survey.responses.gender_code: sex",
    "survey.responses.SEX: sex",
    "survey.responses.skin_colour: colour",
    "survey.responses.ethnicOrigin: national_origin",
    "survey.responses.natl_origin: national_origin",
    "survey.responses.nationality: national_origin",
    "survey.responses.disab_flag: disability",
    "survey.responses.disabilityType: disability",
    "survey.responses.race_religion: race,religion",
]

extension AuditReport {
    var suspiciousLines: [String] {
        suspiciousColumns.map { "\($0.schema).\($0.table).\($0.column): \($0.categories.map(\.rawValue).joined(separator: ","))" }
    }

    var uncoveredLines: [String] {
        uncoveredTables.flatMap { table in
            table.references.map { reference in
                "\(table.schema).\(table.table) \(reference.columns.joined(separator: ",")) "
                    + (reference.references.map { "fk \($0.schema).\($0.table)" } ?? "name")
            }
        }
    }

    var ssnLines: [String] {
        ssnShapedValues.map { "\($0.schema).\($0.table).\($0.column) \($0.rows)/\($0.rowsExamined)\($0.sampled ? " sampled" : "")" }
    }
}

/// `retention audit`: uncovered patron references, suspicious column names, SSN-shaped values; no values printed.
@Suite struct AuditTests {
    func audit(_ db: TestDatabase, _ folder: PolicyFolder, sampleRows: Int = 100_000) throws -> AuditReport {
        try Audit.run(policies: try Retention.loadPolicies(directory: folder.url.path), on: db.connection, sampleRows: sampleRows)
    }

    func decode(_ json: String) throws -> AuditReport {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(AuditReport.self, from: Data(json.utf8))
    }

    @Test func columnNameRules() {
        let hits: [String: [AuditReport.Category]] = [
            "ssn": [.socialSecurityNumber], "patron_ssn": [.socialSecurityNumber], "SSNLast4": [.socialSecurityNumber],
            "soc_sec_no": [.socialSecurityNumber], "socsecno": [.socialSecurityNumber],
            "social_security_number": [.socialSecurityNumber], "socialSecurityNumber": [.socialSecurityNumber],
            "race": [.race], "dob_race": [.race], "dobRace": [.race], "racial_group": [.race],
            "skin_colour": [.colour], "skinColor": [.colour], "complexion": [.colour],
            "religion": [.religion], "patron_religion": [.religion], "relig": [.religion], "religious_pref": [.religion],
            "sex": [.sex], "SEX": [.sex], "gender": [.sex], "gender_identity": [.sex], "gndr": [.sex],
            "sexual_orientation": [.sex],
            "ethnicity": [.nationalOrigin], "ethnic_group": [.nationalOrigin], "nationality": [.nationalOrigin],
            "national_origin": [.nationalOrigin], "natl_origin": [.nationalOrigin], "citizenship": [.nationalOrigin],
            "disability": [.disability], "disab": [.disability], "disabilities": [.disability], "handicap": [.disability],
            "marital_status": [.maritalStatus], "marital_stat": [.maritalStatus], "maritalStatus": [.maritalStatus],
            "political_party": [.politicalAffiliation], "polit_party": [.politicalAffiliation],
            "politics": [.politicalAffiliation],
            "race_religion": [.race, .religion],
        ]
        for (name, expected) in hits {
            #expect(AuditRules.categories(ofColumn: name) == expected, "\(name)")
        }
        let misses = ["trace", "trace_id", "embraced", "grace_period", "bracelet", "racetrack", "sextant", "essex_branch",
                      "sussex", "is_disabled", "disabled_at", "party_size", "polite_reminder", "label_color", "color",
                      "origin", "data_origin", "assn_code", "classno", "status", "birth_date", "first_name", "address",
                      "keep_history", "notes", "national_library", "social_media", "security_code", "sin"]
        for name in misses {
            #expect(AuditRules.categories(ofColumn: name).isEmpty, "\(name)")
        }
        #expect(AuditRules.words("SSNLast4_dobRace") == ["ssn", "last", "dob", "race"])
    }

    @Test func patronNameRules() {
        for name in ["patron_id", "PatronID", "patron", "borrower", "borrowernumber", "borrower_id", "member_id",
                     "card_number", "cardnumber", "library_card", "user_id", "customer_id", "patron_barcode"] {
            #expect(AuditRules.isPatronColumnName(name), "\(name)")
        }
        for name in ["user", "member", "customer", "user_name", "patron_count", "created_by_user", "member_library",
                     "item_barcode", "library_code", "id"] {
            #expect(!AuditRules.isPatronColumnName(name), "\(name)")
        }
        for name in ["patrons", "Patron", "borrowers", "members", "users", "customers"] {
            #expect(AuditRules.isPatronTableName(name), "\(name)")
        }
        #expect(!AuditRules.isPatronTableName("patron_notes"))
    }

    @Test func findsExactlyThePlantedProblemsAndChangesNothing() throws {
        let db = try TestDatabase()
        try db.sql(loanCases)
        try db.sql(auditPlanted)
        let policies = try PolicyFolder.shipped()
        let before = try db.fingerprint()
        let report = try audit(db, policies)
        #expect(try db.fingerprint() == before)

        #expect(report.patronTables == [.init(schema: "public", table: "patrons")])
        #expect(report.uncoveredLines == ["public.reading_list patron_id fk public.patrons", "public.sms_log card_number name"])
        #expect(report.suspiciousLines == expectedSuspicious)
        #expect(report.ssnLines == ["public.loans.notes 7/\(11 + 17)"])
        #expect(report.notExamined.isEmpty)
        #expect(report.hasFindings)
        // The shipped policies' tables, the patron table and the tool's own schema are never uncovered.
        let uncovered = Set(report.uncoveredTables.map { "\($0.schema).\($0.table)" })
        for table in ["public.loans", "public.event_attendance", "public.computer_signups", "public.patrons"] {
            #expect(!uncovered.contains(table))
        }
        #expect(!report.scannedTables.contains { $0.schema == "retention" })
        #expect(!report.suspiciousColumns.contains { $0.schema == "retention" })
        #expect(report.scannedTables.allSatisfy { !$0.sampled })
        #expect(report.scannedTables.first { $0.table == "loans" }?.rowsExamined == 28)
    }

    /// Copies without a key back: an audit trail with every column of `patrons` (Evergreen's
    /// `auditor.actor_usr_history` is one), and a log a trigger on `loans` fills (its function names
    /// the table without a schema, found by the function's own search path); a table sharing three
    /// of the patrons' eleven columns is no copy. Names only, in text and JSON.
    @Test func findsTablesThatCopyPatronOrPolicyRows() throws {
        let db = try TestDatabase()
        try db.sql(loanCases)
        try db.sql("""
            CREATE SCHEMA auditor;
            CREATE TABLE auditor.patrons_history (audit_id bigserial PRIMARY KEY, audit_time timestamptz NOT NULL DEFAULT now(),
                                                  audit_action char(1), LIKE public.patrons);
            CREATE FUNCTION auditor.audit_patrons() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN INSERT INTO auditor.patrons_history (audit_action, id, library_code, first_name)
                    VALUES ('U', OLD.id, OLD.library_code, OLD.first_name); RETURN NEW; END $$;
            CREATE TRIGGER audit_patrons AFTER UPDATE ON public.patrons FOR EACH ROW EXECUTE FUNCTION auditor.audit_patrons();
            CREATE TABLE public.loan_log (loan_id bigint, at timestamptz);
            CREATE FUNCTION public.log_loan() RETURNS trigger LANGUAGE plpgsql SET search_path = public AS $$
              BEGIN INSERT INTO loan_log VALUES (NEW.id, now()); RETURN NEW; END $$;
            CREATE TRIGGER log_loans AFTER INSERT ON public.loans FOR EACH ROW EXECUTE FUNCTION public.log_loan();
            CREATE TABLE public.contacts (id bigint, first_name text, email text);
            CREATE MATERIALIZED VIEW auditor.loans_snapshot AS SELECT * FROM public.loans;
            """)
        let report = try audit(db, try PolicyFolder.shipped())
        let copies = report.copiedTables.map { "\($0.schema).\($0.table) \($0.of) \($0.via.rawValue) \($0.detail)" }
        #expect(copies == ["auditor.loans_snapshot public.loans columns 10 of 10 columns",
                           "auditor.patrons_history public.patrons columns 11 of 11 columns",
                           "public.loan_log public.loans trigger trigger log_loans on public.loans inserts into it"], "\(copies)")
        #expect(report.hasFindings)
        let text = AuditRendering.text(report)
        #expect(text.contains("Tables that copy a patron or policy table's rows but no policy covers: 3"), "\(text)")
        #expect(AuditRendering.json(report).contains("\"copied_tables\""))
    }

    @Test func theReferenceSchemaWithTheShippedPoliciesIsClean() throws {
        let db = try TestDatabase()
        try db.sql(loanCases)
        let policies = try PolicyFolder.shipped()
        let report = try audit(db, policies)
        #expect(!report.hasFindings, "\(AuditRendering.text(report))")
        #expect(report.patronTables == [.init(schema: "public", table: "patrons")])

        let text = try db.retention(["audit", "--policies", policies.url.path])
        #expect(text.status == 0, "\(text.output)")
        #expect(text.stdout.contains("Nothing found."))
        let json = try db.retention(["audit", "--json", "--policies", policies.url.path])
        #expect(json.status == 0)
        let decoded = try decode(json.stdout)
        #expect(decoded.database == db.name && decoded.sampleRows == 100_000 && decoded.patronTables == report.patronTables)
        #expect(!decoded.hasFindings && decoded.notExamined.isEmpty)
        #expect(decoded.scannedTables.map(\.table) == report.scannedTables.map(\.table))
    }

    @Test func binaryExits1WithFindingsAndPrintsNoValue() throws {
        let db = try TestDatabase()
        try db.sql(loanCases)
        try db.sql(auditPlanted)
        let policies = try PolicyFolder.shipped()
        let before = try db.fingerprint()
        let text = try db.retention(["audit", "--policies", policies.url.path, "--log-level", "trace"])
        #expect(text.status == 1, "\(text.stderr)")
        #expect(text.stdout.contains("Found 19 problems."))
        #expect(text.stdout.contains("public.reading_list  patron_id    foreign key to public.patrons"))
        #expect(text.stdout.contains("survey.responses.dob_race"))
        #expect(text.stdout.contains("public.loans.notes"))
        let json = try db.retention(["audit", "--json", "--policies", policies.url.path, "--log-format", "text"])
        #expect(json.status == 1)
        let report = try decode(json.stdout)
        #expect(report.uncoveredLines == ["public.reading_list patron_id fk public.patrons", "public.sms_log card_number name"])
        #expect(report.suspiciousLines == expectedSuspicious)
        #expect(report.ssnLines == ["public.loans.notes 7/28"])
        #expect(try db.fingerprint() == before)
        let output = text.output + json.output
        for canary in auditCanaries {
            #expect(!output.contains(canary), "\(canary)")
        }
    }

    @Test func bigTablesAreSampledAndSaySo() throws {
        let db = try TestDatabase()
        try db.sql("""
            CREATE TABLE public.gate_log (id integer PRIMARY KEY, entry text);
            INSERT INTO public.gate_log SELECT g, 'badge 123-45-6789' FROM generate_series(1, 200000) g;
            CREATE TABLE public.gate_notes (id integer PRIMARY KEY, entry text);
            INSERT INTO public.gate_notes SELECT g, 'nothing here ' || g FROM generate_series(1, 300) g;
            """)
        let policies = try PolicyFolder.shipped()
        let report = try audit(db, policies, sampleRows: 5_000)
        let scan = try #require(report.scannedTables.first { $0.table == "gate_log" })
        #expect(scan.sampled)
        #expect(scan.samplePercent.map { $0 > 0 && $0 < 100 } == true)
        #expect(scan.rowsExamined > 0 && scan.rowsExamined < 200_000, "\(scan)")
        let found = try #require(report.ssnShapedValues.first)
        #expect(report.ssnShapedValues.count == 1)
        // Every row holds one, so the count equals the sample's size: the count is of the sample, stated as such.
        #expect(found.table == "gate_log" && found.sampled && found.rows == scan.rowsExamined && found.rowsExamined == scan.rowsExamined)
        let small = try #require(report.scannedTables.first { $0.table == "gate_notes" })
        #expect(!small.sampled && small.rowsExamined == 300 && small.samplePercent == nil)

        let text = try db.retention(["audit", "--sample-rows", "5000", "--policies", policies.url.path])
        #expect(text.status == 1)
        #expect(text.stdout.contains("sampled public.gate_log: "))
        #expect(text.stdout.contains("rows examined of about"))
        #expect(!text.output.contains("123-45-6789"))
        #expect(try db.retention(["audit", "--sample-rows", "0", "--policies", policies.url.path]).status == 64)
    }

    @Test func columnsTheUserCannotReadAreNotExamined() throws {
        let db = try TestDatabase()
        try db.sql(loanCases)
        let role = "audit_" + db.name
        try db.sql("""
            CREATE TABLE public.desk_notes (id integer PRIMARY KEY, note text, topic text);
            INSERT INTO public.desk_notes VALUES (1, 'CANARY-DESK 123-45-6789', 'x');
            CREATE ROLE \(quoteIdentifier(role)) LOGIN;
            GRANT SELECT (id, topic) ON public.desk_notes TO \(quoteIdentifier(role));
            GRANT SELECT ON public.loans TO \(quoteIdentifier(role));
            -- A row-level security policy that raises for this role: one table not examined, not the end of the audit.
            CREATE TABLE public.guarded (id integer, memo text);
            INSERT INTO public.guarded VALUES (1, 'CANARY-GUARD');
            CREATE FUNCTION public.refuse(text) RETURNS boolean LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'no %', $1; END$$;
            ALTER TABLE public.guarded ENABLE ROW LEVEL SECURITY;
            CREATE POLICY refuse ON public.guarded USING (public.refuse(memo));
            GRANT SELECT ON public.guarded TO \(quoteIdentifier(role));
            """)
        defer {
            try? db.sql("DROP OWNED BY \(quoteIdentifier(role)); DROP ROLE \(quoteIdentifier(role))")
        }
        let policies = try PolicyFolder.shipped()
        let report: AuditReport
        do {
            let connection = try Connection(conninfo: "dbname=\(db.name) user=\(role)")
            report = try Audit.run(policies: try Retention.loadPolicies(directory: policies.url.path), on: connection,
                                   sampleRows: 100_000)
        }
        let skipped = report.notExamined.map { "\($0.table) \($0.columns.joined(separator: ",")): \($0.reason)" }
        #expect(skipped.contains("desk_notes note: no SELECT privilege"))
        #expect(skipped.contains("guarded memo: reading it failed with SQLSTATE P0001 (code in the database, such as a row-level "
                                 + "security policy, raised an error)"), "\(skipped)")
        #expect(skipped.contains("patrons library_code,first_name,last_name,address,phone,email,drivers_license: no SELECT privilege"))
        #expect(!skipped.contains { $0.hasPrefix("loans ") })
        #expect(report.scannedTables.contains { $0.table == "desk_notes" && $0.textColumns == 1 })
        #expect(report.ssnShapedValues.isEmpty)
        #expect(!report.hasFindings)

        let result = try db.retention(["audit", "--policies", policies.url.path], environment: ["PGUSER": role])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Not examined: "))
        #expect(result.stdout.contains("Nothing found in the columns examined."))
        #expect(!result.output.contains("CANARY"))
    }

    @Test func patronTablesFromConsentAndFromThePolicysPatronKey() throws {
        let db = try TestDatabase()
        try db.sql("""
            CREATE TABLE public.readers (id integer PRIMARY KEY, keep boolean NOT NULL DEFAULT false);
            CREATE TABLE public.visits (id integer PRIMARY KEY, reader integer REFERENCES public.readers, at timestamptz);
            CREATE TABLE public.wishlist (id integer PRIMARY KEY, reader integer REFERENCES public.readers);
            CREATE TABLE public.holds_shelf (id integer PRIMARY KEY, borrower integer);
            """)
        let policies = try PolicyFolder.shipped()
        try policies.write("visits.yaml", """
            name: visits
            version: 1
            description: Visits are kept a week.
            table: public.visits
            key: id
            age: at
            retain: 7 days
            action: delete
            patron: reader
            """)
        let report = try audit(db, policies)
        #expect(report.patronTables == [.init(schema: "public", table: "patrons"), .init(schema: "public", table: "readers")])
        #expect(report.uncoveredLines == ["public.holds_shelf borrower name", "public.wishlist reader fk public.readers"])
    }

    @Test func partitionsAreAuditedThroughTheirParent() throws {
        let db = try TestDatabase()
        try db.sql(loanCases)
        try db.sql("""
            CREATE TABLE public.visits (patron_id bigint REFERENCES patrons, at timestamptz NOT NULL, note text)
                PARTITION BY RANGE (at);
            CREATE TABLE public.visits_old PARTITION OF public.visits FOR VALUES FROM ('2000-01-01') TO ('2020-01-01');
            CREATE TABLE public.visits_new PARTITION OF public.visits FOR VALUES FROM ('2020-01-01') TO ('2100-01-01');
            INSERT INTO public.visits VALUES (1, '2010-05-05', 'CANARY 123-45-6789'), (2, '2024-05-05', 'CANARY 078-05-1120'),
                                             (2, '2024-05-06', 'nothing');
            """)
        let report = try audit(db, try PolicyFolder.shipped())
        #expect(report.uncoveredLines == ["public.visits patron_id fk public.patrons"])
        #expect(report.ssnLines == ["public.visits.note 2/3"])
        #expect(!report.scannedTables.contains { $0.table.hasPrefix("visits_") })
    }
}
