import Foundation
import Testing
@testable import RetentionCore

/// `--jobs N` means N sessions purging at once, whatever the client's cores: on a client pinned to
/// one CPU, the server is seen running N of the run's statements at the same moment.
@Suite struct ParallelTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset"), "needs taskset (util-linux)"),
          arguments: [2, 3])
    func jobsRunAtOnceOnAClientWithOneCPU(jobs: Int) throws {
        let db = try TestDatabase(reference: false)
        // Each deleted row costs the server 2 ms (a declared trigger that only waits), so every batch
        // is slow on the server and fast on the client: what overlaps is the sessions' waiting.
        try db.sql("""
            CREATE TABLE public.t (id bigint PRIMARY KEY, at date);
            INSERT INTO t SELECT g, '2020-01-01' FROM generate_series(1, 3000) g;
            ANALYZE t;
            CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.002); RETURN OLD; END $$;
            CREATE TRIGGER slow BEFORE DELETE ON t FOR EACH ROW EXECUTE FUNCTION public.slow();
            """)
        let folder = try PolicyFolder(["t.yaml": "name: t\nversion: 1\ndescription: d\ntable: public.t\nkey: id\nage: at\n"
                                       + "retain: 1 day\naction: delete\ntriggers: [public.slow]\n"])
        let child = try startProcess("/usr/bin/taskset", ["-c", "0", retentionBinary, "run", "--policies", folder.url.path,
                                                          "--jobs", "\(jobs)", "--batch-size", "50", "--quiet"],
                                     environment: db.environment())
        var most: Int64 = 0
        for _ in 0..<1500 where most < Int64(jobs) {
            most = max(most, try db.int("""
                SELECT count(*) FROM pg_catalog.pg_stat_activity
                WHERE datname = current_database() AND state = 'active' AND pid <> pg_catalog.pg_backend_pid()
                  AND wait_event = 'PgSleep'
                """))
            Thread.sleep(forTimeInterval: 0.005)
        }
        let result = child.wait()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(most == Int64(jobs), "at most \(most) of \(jobs) sessions were seen working at once")
        #expect(try db.int("SELECT count(*) FROM t") == 0)
    }
}
