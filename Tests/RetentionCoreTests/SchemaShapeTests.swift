import Foundation
import Testing
@testable import RetentionCore

/// Policies work on schemas other than the reference one: any key type, time type, library type and schema.
@Suite struct SchemaShapeTests {
    struct Shape: Sendable {
        let key: String
        let keyValue: String
        let age: String
        let library: String
        /// The two library values as they print: `L0`/`L1` for text columns, `0`/`1` for integers.
        let libraries: [String]
        func libraryValue(_ g: Int) -> String {
            library.contains("int") ? libraries[g % 2] : "'\(libraries[g % 2])'"
        }
    }

    static let shapes: [Shape] = [
        Shape(key: "int", keyValue: "g", age: "timestamptz", library: "text", libraries: ["L0", "L1"]),
        Shape(key: "bigint", keyValue: "g", age: "timestamp", library: "int", libraries: ["0", "1"]),
        Shape(key: "uuid", keyValue: "md5(g::text)::uuid", age: "date", library: "smallint", libraries: ["0", "1"]),
        Shape(key: "text", keyValue: "'k-' || g", age: "timestamptz", library: "varchar(8)", libraries: ["L0", "L1"]),
        Shape(key: "numeric", keyValue: "g", age: "date", library: "text", libraries: ["L0", "L1"]),
    ]

    @Test(arguments: 0..<shapes.count)
    func purgesAnyKeyTimeAndLibraryType(shape index: Int) throws {
        let shape = Self.shapes[index]
        let db = try TestDatabase(reference: false)
        // Rows g = 1...40: age g days ago; library alternates. Library 1 keeps 30 days, the rest 10.
        let now = shape.age == "date" ? "current_date" : (shape.age == "timestamp" ? "localtimestamp" : "now()")
        try db.sql("""
            CREATE SCHEMA "Branch Data";
            CREATE TABLE "Branch Data".visits (pk \(shape.key) PRIMARY KEY, seen \(shape.age), branch \(shape.library), who text);
            INSERT INTO "Branch Data".visits
            SELECT \(shape.keyValue), \(now) - g * interval '1 day' + interval '1 hour',
                   CASE WHEN g % 2 = 0 THEN \(shape.libraryValue(0)) ELSE \(shape.libraryValue(1)) END, 'CANARY-' || g
            FROM generate_series(1, 40) g;
            """)
        let one = shape.libraries[1]
        let folder = try PolicyFolder(["v.yaml": """
            name: visits
            version: 1
            description: d
            table: Branch Data.visits
            key: pk
            age: seen
            retain: 10 days
            action: delete
            libraries:
              column: branch
              retain:
                "\(one)": 30 days
              names: ["\(shape.libraries[0])"]
            """])
        // Due: even g > 10 (library 0, 10 days) and odd g > 30 (library 1, 30 days); dates keep the cutoff day.
        let expected = (1...40).filter { g in g % 2 == 0 ? g > 10 : g > 30 }.count
        let plan = try db.plan(folder.url)
        #expect(plan.policies[0].due == Int64(expected))
        let summary = try db.run(folder.url, options: RunOptions(batchSize: 7))
        #expect(summary.policies[0].rows == Int64(expected))
        #expect(try db.int(#"SELECT count(*) FROM "Branch Data".visits"#) == Int64(40 - expected))
        #expect(summary.policies[0].libraries.compactMap(\.library).sorted() == shape.libraries)
    }

    @Test func purgesAPartitionedTableByTheLeadingColumnOfItsKey() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (id int, seen date NOT NULL, PRIMARY KEY (id, seen)) PARTITION BY RANGE (seen);
            CREATE TABLE visits_old PARTITION OF visits FOR VALUES FROM ('2000-01-01') TO ('2026-01-01');
            CREATE TABLE visits_new PARTITION OF visits FOR VALUES FROM ('2026-01-01') TO ('2100-01-01');
            INSERT INTO visits SELECT g, date '2026-06-01' - g * 2 FROM generate_series(1, 400) g;
            """)
        // A partitioned table's primary key must include the partition column: `key` is its first column.
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 1 year\naction: delete\n"])
        let expected = try db.int("SELECT count(*) FROM visits WHERE seen < (now() - interval '1 year')::date")
        let summary = try db.run(folder.url, options: RunOptions(batchSize: 30))
        #expect(expected > 0 && summary.policies[0].rows == expected)
        #expect(try db.int("SELECT count(*) FROM visits") == 400 - expected)
        #expect(try db.int("SELECT count(*) FROM visits WHERE seen < (now() - interval '1 year')::date") == 0)

        let second = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: seen\nage: seen\nretain: 1 year\naction: delete\n"])
        let error = try #require(throws: PolicyErrors.self) { try db.resolve(second.url) }
        #expect(error.description.contains("key seen does not lead the primary key of public.visits; it is (id, seen)"))
    }
}
