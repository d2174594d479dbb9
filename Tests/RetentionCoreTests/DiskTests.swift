import Foundation
import Testing
@testable import RetentionCore

/// What a purge leaves in the table's files, read straight from the heap (docs/operations.md, "What erasure means on disk").
@Suite struct DiskTests {
    /// How many of `canaries` occur in the table's main heap file (all its 1 GB segments).
    func copiesInHeap(_ db: TestDatabase, table: String, canaries: [String]) throws -> Int {
        try db.sql("CHECKPOINT")
        let path = try #require(try db.strings("""
            SELECT current_setting('data_directory') || '/' || pg_relation_filepath('\(table)')
            """).first ?? nil)
        var bytes = Data()
        var segment = 0
        while let data = FileManager.default.contents(atPath: segment == 0 ? path : "\(path).\(segment)") {
            bytes.append(data)
            segment += 1
        }
        return canaries.filter { bytes.range(of: Data($0.utf8)) != nil }.count
    }

    @Test func deleteAndPlainVacuumLeaveThePurgedBytesInTheHeapFile() throws {
        let db = try TestDatabase(reference: false)
        try db.sql("""
            CREATE TABLE visits (id int PRIMARY KEY, seen timestamptz, name text);
            INSERT INTO visits SELECT g, now() - interval '100 days', 'HEAP-CANARY-' || lpad(g::text, 5, '0')
            FROM generate_series(1, 500) g;
            INSERT INTO visits SELECT g, now(), 'KEPT-ROW-' || lpad(g::text, 5, '0') FROM generate_series(501, 600) g;
            """)
        let canaries = (1...500).map { "HEAP-CANARY-" + String(format: "%05d", $0) }
        #expect(try copiesInHeap(db, table: "visits", canaries: canaries) == 500)
        let folder = try PolicyFolder(["v.yaml": "name: v\nversion: 1\ndescription: d\ntable: public.visits\nkey: id\nage: seen\nretain: 10 days\naction: delete\n"])
        var options = RunOptions()
        options.vacuum = true
        let summary = try db.run(folder.url, options: options)
        #expect(summary.policies[0].rows == 500)
        #expect(try db.int("SELECT count(*) FROM visits") == 100)
        // VACUUM marks the space free without zeroing it: the purged rows' bytes are still in the file.
        let left = try copiesInHeap(db, table: "visits", canaries: canaries)
        #expect(left >= 450, "copies left after DELETE + VACUUM: \(left)")
        let manifest = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: try db.manifestFiles()[0]))).payload)
        #expect(manifest.policies[0].maintenance?.method == "vacuum")
        // Only a rewrite removes them (what `run --erase` will do).
        try db.sql("VACUUM FULL visits")
        #expect(try copiesInHeap(db, table: "visits", canaries: canaries) == 0)
        #expect(try copiesInHeap(db, table: "visits", canaries: (501...600).map { "KEPT-ROW-" + String(format: "%05d", $0) }) == 100)
    }
}
