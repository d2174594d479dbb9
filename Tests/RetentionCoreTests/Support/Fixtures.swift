import Foundation
@testable import RetentionCore

/// Hand-made rows for the reference schema, one per case the loan policy must tell apart.
///
/// Expected with the shipped loan policy (30 days; BANGOR 14; PORTLAND 90):
/// due ids 1, 3, 5; kept by consent id 6; kept by keep_when ids 7, 8; not candidates 2, 4, 9 and 10, 11
/// (no patron link left: the patron column marks a loan as anonymized).
let loanCases = """
    INSERT INTO libraries (code, name) VALUES ('AUGUSTA', 'A'), ('BANGOR', 'B'), ('PORTLAND', 'P');
    INSERT INTO patrons (id, library_code, first_name, last_name, email, keep_history) OVERRIDING SYSTEM VALUE VALUES
        (1, 'AUGUSTA', 'CANARY-GIVEN-1', 'CANARY-FAMILY-1', 'canary1@example.org', false),
        (2, 'AUGUSTA', 'CANARY-GIVEN-2', 'CANARY-FAMILY-2', 'canary2@example.org', true);
    INSERT INTO loans (id, library_code, patron_id, item_barcode, checked_out_at, due_at, returned_at, fines_owed, status, notes)
    OVERRIDING SYSTEM VALUE VALUES
        (1,  'AUGUSTA',  1, 'I1',  now() - interval '60 days', now() - interval '40 days', now() - interval '40 days', 0, 'returned', 'CANARY-NOTE-1'),
        (2,  'AUGUSTA',  1, 'I2',  now() - interval '60 days', now() - interval '40 days', now() - interval '20 days', 0, 'returned', 'CANARY-NOTE-2'),
        (3,  'BANGOR',   1, 'I3',  now() - interval '60 days', now() - interval '40 days', now() - interval '20 days', 0, 'returned', NULL),
        (4,  'PORTLAND', 1, 'I4',  now() - interval '60 days', now() - interval '40 days', now() - interval '40 days', 0, 'returned', NULL),
        (5,  'PORTLAND', 1, 'I5',  now() - interval '160 days', now() - interval '140 days', now() - interval '100 days', 0, 'returned', NULL),
        (6,  'AUGUSTA',  2, 'I6',  now() - interval '60 days', now() - interval '40 days', now() - interval '40 days', 0, 'returned', 'CANARY-NOTE-6'),
        (7,  'AUGUSTA',  1, 'I7',  now() - interval '60 days', now() - interval '40 days', now() - interval '40 days', 5, 'returned', NULL),
        (8,  'AUGUSTA',  1, 'I8',  now() - interval '60 days', now() - interval '40 days', now() - interval '40 days', 0, 'lost', NULL),
        (9,  'AUGUSTA',  1, 'I9',  now() - interval '10 days', now() + interval '11 days', NULL, 0, 'out', NULL),
        (10, 'AUGUSTA',  NULL, 'I10', now() - interval '60 days', now() - interval '40 days', now() - interval '40 days', 0, 'returned', NULL),
        (11, 'AUGUSTA',  NULL, 'I11', now() - interval '60 days', now() - interval '40 days', now() - interval '40 days', 0, 'returned', 'CANARY-NOTE-11');
    """

/// An independent count of the loans the shipped loan policy makes due, written by hand.
let independentLoanDueCount = """
    SELECT count(*) FROM loans l
    WHERE l.returned_at < now() - CASE l.library_code WHEN 'BANGOR' THEN interval '14 days'
                                                      WHEN 'PORTLAND' THEN interval '90 days'
                                                      ELSE interval '30 days' END
      AND NOT (l.fines_owed > 0 OR l.status IN ('lost', 'claims-returned'))
      AND NOT EXISTS (SELECT 1 FROM patrons p WHERE p.id = l.patron_id AND p.keep_history)
      AND l.patron_id IS NOT NULL
    """

/// Independent counts of the rows the two shipped delete policies make due.
let independentAttendanceDueCount = "SELECT count(*) FROM event_attendance WHERE attended_at < now() - interval '90 days'"
let independentSignupDueCount = """
    SELECT count(*) FROM computer_signups
    WHERE started_at < now() - CASE library_code WHEN 'PORTLAND' THEN interval '7 days'
                                                 WHEN 'ORONO' THEN interval '30 days'
                                                 ELSE interval '14 days' END
    """

extension TestDatabase {
    /// Runs the core engine (not the binary) on a policy folder.
    @discardableResult
    func run(_ folder: URL, only: [String] = [], options: RunOptions = RunOptions()) throws -> RunSummary {
        try Runner(connection: connection, logger: quietLogger).run(try resolve(folder, only: only), options: options,
                                                                    manifests: try manifestSettings())
    }

    /// Plans a policy folder with the core engine.
    func plan(_ folder: URL, only: [String] = []) throws -> PlanReport {
        try Planner.plan(try resolve(folder, only: only), on: connection, logger: quietLogger)
    }

    /// Sums of the ledger for a run, per policy and library.
    func ledger(run: Int64) throws -> [String: Int64] {
        var sums: [String: Int64] = [:]
        for row in try connection.query("""
            SELECT policy || '/' || coalesce(library, '*'), sum(rows)::text FROM retention.batches
            WHERE run_id = $1::int8 GROUP BY 1
            """, [String(run)]).rows {
            sums[row[0]!] = Int64(row[1]!)!
        }
        return sums
    }
}

/// 30,000 visits all 100 days old, each named `canary` and its id, and a delete policy for them
/// (retain 10 days, `patron: id`): every row is due.
func visitsTable(_ db: TestDatabase, canary: String) throws -> PolicyFolder {
    try db.sql("""
        CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, name text);
        INSERT INTO visits SELECT g, now() - interval '100 days', '\(canary)' || g FROM generate_series(1, 30000) g;
        ANALYZE visits;
        """)
    return try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 10 days\naction: delete\npatron: id\n"])
}
