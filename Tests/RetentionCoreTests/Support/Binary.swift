import Foundation

/// What a finished process printed and how it ended.
struct ProcessResult {
    let status: Int32
    let stdout: String
    let stderr: String
    var output: String { stdout + stderr }
}

/// Runs a shell command to its end with `system()`, capturing its output.
///
/// For commands that leave a daemon behind (`scripts/pg.sh start`): Foundation's `Process` waits
/// until every descendant has closed a descriptor it passes down, which a server never does.
func runShell(_ command: String) -> ProcessResult {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("retention-shell-\(UUID().uuidString)")
    let out = base.appendingPathExtension("out").path
    let err = base.appendingPathExtension("err").path
    defer {
        try? FileManager.default.removeItem(atPath: out)
        try? FileManager.default.removeItem(atPath: err)
    }
    let status = system("\(command) >'\(out)' 2>'\(err)' </dev/null")
    return ProcessResult(status: (status >> 8) & 0xff,
                         stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
}

/// Runs a program to its end and captures its output (through files, so large output cannot block it).
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
    let process = try startProcess(executable, arguments, environment: environment)
    return process.wait()
}

/// A running child process whose output goes to temporary files.
final class ChildProcess {
    let process: Process
    private let out: URL
    private let err: URL

    init(process: Process, out: URL, err: URL) {
        self.process = process
        self.out = out
        self.err = err
    }

    /// Waits for the end and returns the status and output.
    func wait() -> ProcessResult {
        process.waitUntilExit()
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        let stdout = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        return ProcessResult(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }
}

func startProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ChildProcess {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("retention-test-\(UUID().uuidString)")
    let out = base.appendingPathExtension("out")
    let err = base.appendingPathExtension("err")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return ChildProcess(process: process, out: out, err: err)
}

/// The `retention` executable built beside the test bundle.
let retentionBinary: String = {
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("retention").path,
        Bundle.main.bundleURL.appendingPathComponent("retention").path,
        repositoryRoot.appendingPathComponent(".build/debug/retention").path,
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
}()

extension TestDatabase {
    /// The environment for the binary: the test's PG* settings, this database, no RETENTION_* leaking in.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RETENTION_") }
        environment["PGDATABASE"] = name
        if let server {
            environment["PGHOST"] = server.host
            environment["PGPORT"] = server.port
            environment["PGUSER"] = "postgres"
        }
        environment["RETENTION_MANIFESTS"] = manifestFolder
        environment["RETENTION_SIGNING_KEY"] = signingKeyPath
        environment["RETENTION_PUBLIC_KEY"] = publicKeyPath
        // A machine with the package installed has /etc/retention/retention.yaml; tests read no config file.
        environment["RETENTION_CONFIG"] = "/dev/null"
        environment.merge(extra) { $1 }
        return environment
    }

    /// Runs `retention ARGS` against this database and waits for it.
    func retention(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ProcessResult {
        try runProcess(retentionBinary, arguments, environment: environment(extra))
    }

    /// Starts `retention ARGS` against this database without waiting.
    func startRetention(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ChildProcess {
        try startProcess(retentionBinary, arguments, environment: environment(extra))
    }
}
