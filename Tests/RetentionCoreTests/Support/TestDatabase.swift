import Foundation
import Logging
@testable import RetentionCore

/// The repository's root folder, found from this file's path.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A logger that drops everything, for core calls in tests.
let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// A database of its own for one test, on the server named by the PG* environment; dropped at the end.
///
/// Each integration test gets its own database, so tests run in any order and in parallel, and a
/// test's `retention` schema (runs, ledger, holds) is its own.
final class TestDatabase {
    let name: String
    let connection: Connection
    /// A folder of this test's own with a signing key pair (`keys/`) and a manifest folder (`manifests/`).
    let files: URL

    /// The server, when not the one of the PG* environment: a test's own (`OwnServer`).
    let server: OwnServer?

    /// Creates a fresh database, optionally with the reference schema, the tool's schema and the
    /// demo data of `demoLoans` loans: on the tests' own server a copy of a template database made
    /// once per fixture (`Templates`), on another server loaded afresh.
    init(reference: Bool = true, setup: Bool = true, demoLoans: Int? = nil, server: OwnServer? = nil) throws {
        self.server = server
        (name, files) = try Self.newNameAndFiles()
        let admin = try Connection(conninfo: (server?.conninfo ?? "") + " dbname=postgres")
        if server == nil {
            let template = try Templates.shared.template(reference: reference, setup: setup, demoLoans: demoLoans)
            try admin.execute(unsafeSQL: "CREATE DATABASE \(quoteIdentifier(name)) TEMPLATE \(quoteIdentifier(template))")
            connection = try Connection(conninfo: " dbname=\(name)")
        } else {
            try admin.execute(unsafeSQL: "CREATE DATABASE \(quoteIdentifier(name))")
            connection = try Connection(conninfo: (server?.conninfo ?? "") + " dbname=\(name)")
            try Templates.fill(connection, conninfo: conninfo, reference: reference, setup: setup, demoLoans: demoLoans)
        }
    }

    /// A copy of the database `template` (made by the test itself, as Evergreen's schema is), with
    /// this test's own keys and manifest folder; the tool's schema only where the template has it.
    /// `copy` makes the copy from the template's name and the new one's (default: `CREATE DATABASE
    /// ... TEMPLATE`).
    init(copyOf template: String, copy: ((_ template: String, _ name: String) throws -> Void)? = nil) throws {
        server = nil
        (name, files) = try Self.newNameAndFiles()
        if let copy {
            try copy(template, name)
        } else {
            let admin = try Connection(conninfo: " dbname=postgres")
            try admin.execute(unsafeSQL: "CREATE DATABASE \(quoteIdentifier(name)) TEMPLATE \(quoteIdentifier(template))")
        }
        connection = try Connection(conninfo: " dbname=\(name)")
    }

    /// A new database name, and this test's folder with a signing key pair and a manifest folder.
    private static func newNameAndFiles() throws -> (String, URL) {
        let name = "rt_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        let files = FileManager.default.temporaryDirectory.appendingPathComponent("retention-test-\(name)")
        try FileManager.default.createDirectory(at: files.appendingPathComponent("keys"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: files.appendingPathComponent("manifests"), withIntermediateDirectories: true)
        _ = try SigningKeys.generate(in: files.appendingPathComponent("keys").path)
        return (name, files)
    }

    deinit {
        try? FileManager.default.removeItem(at: files)
        if let admin = try? Connection(conninfo: (server?.conninfo ?? "") + " dbname=postgres") {
            _ = try? admin.execute(unsafeSQL: "DROP DATABASE IF EXISTS \(quoteIdentifier(name)) WITH (FORCE)")
        }
    }

    var manifestFolder: String { files.appendingPathComponent("manifests").path }
    var signingKeyPath: String { files.appendingPathComponent("keys/\(SigningKeys.privateKeyFileName)").path }
    var publicKeyPath: String { files.appendingPathComponent("keys/\(SigningKeys.publicKeyFileName)").path }

    /// The manifest settings of this test: its own key and folder.
    func manifestSettings() throws -> ManifestSettings {
        try ManifestSettings(directory: manifestFolder, signingKeyPath: signingKeyPath)
    }

    /// The manifest files written so far, oldest first.
    func manifestFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: manifestFolder).filter { !$0.hasPrefix(".") }.sorted()
            .map { (manifestFolder as NSString).appendingPathComponent($0) }
    }

    /// A libpq conninfo for this database (host, port and user come from the environment).
    var conninfo: String { (server?.conninfo ?? "") + " dbname=\(name)" }

    /// Runs `body`, the test's own SQL, with `public` on the search path: it names its tables
    /// unqualified, while the connection, as every session of the tool, searches pg_catalog alone
    /// (the library calls a test makes on it run as the tool's would).
    func inPublic<T>(_ body: () throws -> T) throws -> T {
        try connection.execute(unsafeSQL: "SET search_path = public")
        defer { _ = try? connection.execute(unsafeSQL: "SET search_path = pg_catalog, pg_temp") }
        return try body()
    }

    /// Another session on this database for the test's own SQL (a clerk, a lock holder): with
    /// `public` on its search path, as the test's SQL names its tables unqualified.
    func session() throws -> Connection {
        let session = try Connection(conninfo: conninfo)
        try session.execute(unsafeSQL: "SET search_path = public")
        return session
    }

    /// Runs SQL of the test's own (fixtures, assertions).
    func sql(_ text: String) throws { try inPublic { try connection.execute(unsafeSQL: text) } }

    /// The first column of the first row as an integer.
    func int(_ query: String, _ params: [String?] = []) throws -> Int64 {
        let value = try inPublic { try connection.query(unsafeSQL: query, params).rows.first?[0] ?? nil }
        return Int64(value ?? "") ?? -1
    }

    /// The first column of every row.
    func strings(_ query: String) throws -> [String?] {
        try inPublic { try connection.query(unsafeSQL: query).rows.map { $0[0] } }
    }


    /// Loads the policies of a folder and resolves them against this database.
    func resolve(_ directory: URL, only: [String] = []) throws -> [ResolvedPolicy] {
        try Retention.resolve(try Retention.loadPolicies(directory: directory.path, only: only), on: connection)
    }

    /// A snapshot of the whole database's user data: table name and an md5 of its rows, sorted.
    func fingerprint() throws -> [String] {
        let tables = try connection.query("""
            SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables ORDER BY 1
            """).rows.compactMap { $0[0] }
        return try tables.map { table in
            let digest = try connection.query(unsafeSQL: "SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM \(table) t")
                .rows[0][0] ?? ""
            return "\(table) \(digest)"
        }
    }
}

/// A folder of policy files for one test, removed at the end.
final class PolicyFolder {
    let url: URL

    init(_ files: [String: String] = [:]) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("retention-policies-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, text) in files { try write(name, text) }
    }

    /// A copy of the shipped `policies/` folder.
    static func shipped() throws -> PolicyFolder {
        let folder = try PolicyFolder()
        let source = repositoryRoot.appendingPathComponent("policies")
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: folder.url.appendingPathComponent(name))
        }
        return folder
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A PostgreSQL server of one test's own (`scripts/pg.sh`), for tests that stop it or need it quiet.
final class OwnServer {
    let directory: String
    let host: String
    let port: String

    /// A server of the test's own, started by `scripts/pg.sh start`.
    convenience init() throws { try self.init(command: "start") }

    /// A streaming standby of `primary` (`scripts/pg.sh standby`: pg_basebackup -R), on a socket of its own.
    convenience init(standbyOf primary: OwnServer) throws { try self.init(command: "standby", of: primary.directory) }

    /// A server whose clock is `offset` away from this machine's (libfaketime's `FAKETIME`, like
    /// `+400d`), as a database host with a broken clock; `nil` when the machine lacks libfaketime.
    convenience init?(clockOffset offset: String) throws {
        guard let library = fakeTimeLibrary else { return nil }
        try self.init(command: "start", environment: "LD_PRELOAD='\(library)' FAKETIME='\(offset)' ")
    }

    private init(command: String, of primary: String? = nil, environment: String = "") throws {
        directory = "/tmp/rt-own-\(UUID().uuidString.prefix(8))"
        let started = runShell("\(environment)bash '\(repositoryRoot.appendingPathComponent("scripts/pg.sh").path)' \(command) '\(directory)'"
                               + (primary.map { " '\($0)'" } ?? ""))
        var values: [String: String] = [:]
        for line in started.stdout.split(separator: "\n") {
            let parts = line.replacingOccurrences(of: "export ", with: "").split(separator: "=", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        guard started.status == 0, let host = values["PGHOST"], let port = values["PGPORT"] else {
            throw UsageError("could not start a server: \(started.stderr)", exitCode: .failure)
        }
        self.host = host
        self.port = port
    }

    /// Host, port and user, to put before a `dbname=` in a conninfo.
    var conninfo: String { "host=\(host) port=\(port) user=postgres" }

    /// Stops the server only (`restart` starts it again on the same port).
    func restart() -> ProcessResult {
        runShell("bash '\(repositoryRoot.appendingPathComponent("scripts/pg.sh").path)' restart '\(directory)'")
    }

    deinit { _ = runShell("bash '\(repositoryRoot.appendingPathComponent("scripts/pg.sh").path)' stop '\(directory)'") }
}

/// Tests read their own assertion queries by position; the program decodes rows by column name only.
extension Row {
    subscript(position: Int) -> String? { values[position] }
    func map<T>(_ transform: (String?) throws -> T) rethrows -> [T] { try values.map(transform) }
}

/// Whether the test server offers an optional extension (install-deps.sh skips pg_repack and
/// pg_dirtyread when installing them would upgrade the server), for `.enabled(if:)`.
func serverOffers(_ extensionName: String) -> Bool {
    let query = Statement("SELECT count(*) AS offered FROM pg_available_extensions WHERE name = $1", [extensionName])
    return ((try? Connection(conninfo: "dbname=postgres").query(query).single().int64("offered")) ?? 0) > 0
}

/// The template databases of the test process, one per fixture (reference schema or not, the
/// tool's schema or not, demo data of how many loans), each made on first use: a test's database
/// is a copy of one (`CREATE DATABASE ... TEMPLATE`), which costs far less than loading the schemas
/// and the demo data again. They live on the tests' throwaway server, which goes with them.
final class Templates: @unchecked Sendable {
    static let shared = Templates()
    private let lock = NSLock()
    private var made: [String: String] = [:]

    /// The template database of a fixture, made now if it is the first to ask.
    func template(reference: Bool, setup: Bool, demoLoans: Int?) throws -> String {
        let key = "\(reference)-\(setup)-\(demoLoans ?? 0)"
        lock.lock()
        defer { lock.unlock() }
        if let name = made[key] { return name }
        let name = "rt_template_\(ProcessInfo.processInfo.processIdentifier)_\(made.count)"
        try Connection(conninfo: "dbname=postgres").execute(unsafeSQL: "CREATE DATABASE \(quoteIdentifier(name))")
        // Its session ends here: a database with a session cannot be copied.
        try Self.fill(try Connection(conninfo: "dbname=\(name)"), conninfo: "dbname=\(name)", reference: reference,
                      setup: setup, demoLoans: demoLoans)
        made[key] = name
        return name
    }

    /// Loads a fixture into an empty database.
    static func fill(_ connection: Connection, conninfo: String, reference: Bool, setup: Bool, demoLoans: Int?) throws {
        if reference {
            // The reference schema names its tables unqualified; the tool's sessions search pg_catalog alone.
            try connection.execute(unsafeSQL: "SET search_path = public; "
                                   + String(contentsOf: repositoryRoot.appendingPathComponent("sql/reference-schema.sql"), encoding: .utf8)
                                   + "; SET search_path = pg_catalog, pg_temp")
        }
        if setup { try RetentionSchema.install(on: connection, logger: quietLogger) }
        if let demoLoans { try loadDemoData(loans: demoLoans, conninfo: conninfo) }
    }

    /// Loads `sql/demo-data.sql` with psql, as the demo does.
    static func loadDemoData(loans: Int, conninfo: String) throws {
        let result = try runProcess("/usr/bin/env", ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", "loans=\(loans)",
                                                    "-d", conninfo, "-f", repositoryRoot.appendingPathComponent("sql/demo-data.sql").path])
        guard result.status == 0 else { throw UsageError("demo data failed: \(result.stderr)", exitCode: .failure) }
    }
}
