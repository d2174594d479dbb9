import ArgumentParser
import Foundation
import Logging
import RetentionCore

struct Setup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Creates or upgrades the tool's own schema (retention: runs, batch ledger, legal holds).",
        discussion: """
            Safe to run again: it changes nothing on an installed database. With --manifests and \
            --signing-key it also finds runs that died and writes their `recovered` manifests.
            With --after-restore, after the database was restored from a backup older than its newest \
            manifest, it writes a signed `restored` manifest that records the gap and continues the chain.
            Exit: 0, 69, 75 (a run is going; nothing was finalized), 77, 78.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: ConnectionOptions
    @OptionGroup var signing: SigningOptions

    @Flag(help: "The database was restored from a backup: record the gap to the manifest folder's chain in a signed manifest and go on from it.")
    var afterRestore = false

    func run() throws {
        let (settings, logger) = try global.begin(database, signing)
        try perform(logger) {
            if afterRestore {
                // Deliberate: the key and the folder are required, and the gap is signed.
                let manifests = try ManifestSettings(directory: settings.manifests, signingKeyPath: settings.signingKey)
                let connection = try Retention.connect(settings.db, logger: logger)
                try RetentionSchema.install(on: connection, logger: logger)
                if let path = try AfterRestore.continueChain(on: connection, settings: manifests, logger: logger) {
                    print("the chain goes on after the restore: \(visible(path)) records the gap")
                } else {
                    print("nothing to do: the manifest folder's chain and the database's ledger agree")
                }
                return
            }
            // Setup installs the schema; the manifest folder and key only serve finalizing runs that
            // died, so a folder that is not there yet is a note, not a refusal.
            // A user who may install the schema but not read the key (postgres) is no refusal either.
            var manifests: ManifestSettings?
            if let folder = settings.manifests, let key = settings.signingKey {
                do {
                    manifests = try ManifestSettings(directory: folder, signingKeyPath: key)
                } catch let error as RetentionError {
                    logger.notice("not finalizing runs that died (\(error.description)); the next run does")
                }
            }
            let connection = try Retention.connect(settings.db, logger: logger)
            try RetentionSchema.install(on: connection, logger: logger)
            try Retention.finalizeDeadRuns(on: connection, settings: manifests, logger: logger)
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validates the policy files; with --catalog also against the live database.",
        discussion: """
            With --catalog it connects (--db CONNINFO, or libpq's environment) and checks tables, columns, keys, \
            types, values, periods, foreign keys and privileges. Exit: 0 valid, 64 bad command line, \
            65 invalid policy file, 69 database unreachable, 77 permission denied, 78 policy names a missing \
            table or column or a value its column cannot take.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var policyFolder: PolicyOptions
    @OptionGroup var database: ConnectionOptions

    @Flag(help: "Also check the policies against the database's catalog.")
    var catalog = false

    func run() throws {
        let (settings, logger) = try global.begin(policyFolder, database)
        try perform(logger) {
            let policies = try Retention.loadPolicies(directory: settings.policies)
            var erasureNotes: [String] = []
            if catalog {
                let connection = try Retention.connect(settings.db, logger: logger)
                let resolved = try Retention.resolve(policies, on: connection, lockTimeout: settings.lockTimeout)
                erasureNotes = try Erasure.plan(resolved, allowExclusiveLock: false, on: connection).notes
                let references = ForeignKeys.notes(for: resolved)
                erasureNotes += references.notes
                for line in references.warnings { logger.warning("\(line)") }
                for line in try Holds.unmatched(policies: policies, on: connection) { logger.warning("\(line)") }
                for line in try Partman.warnings(for: resolved, on: connection) { logger.warning("\(line)") }
                for line in try Catalog.unnamedLibraryWarnings(for: resolved, on: connection) { logger.warning("\(line)") }
            }
            let against = catalog ? " and the database catalog" : ""
            print("\(policies.count) \(policies.count == 1 ? "policy" : "policies") valid\(against): "
                  + policies.map { "\($0.name) v\($0.version)" }.joined(separator: ", "))
            for note in erasureNotes { print(note) }
        }
    }
}

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dry run: what tonight's run would purge, per policy and library, in a READ ONLY transaction.",
        discussion: "Prints cutoffs and counts only, never a row value. Exit: 0, 64, 65, 69, 77, 78.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var policyFolder: PolicyOptions
    @OptionGroup var database: ConnectionOptions

    @Flag(help: "Print the plan as JSON.")
    var json = false

    @Option(name: .customLong("only"), help: "Plan only this policy (repeatable).")
    var only: [String] = []

    func run() throws {
        let (settings, logger) = try global.begin(policyFolder, database)
        try perform(logger) {
            let policies = try Retention.loadPolicies(directory: settings.policies, only: only)
            let connection = try Retention.connect(settings.db, logger: logger)
            let resolved = try Retention.resolve(policies, on: connection, for: .plan, lockTimeout: settings.lockTimeout)
            let report = try Planner.plan(resolved, on: connection, logger: logger)
            print(json ? PlanRendering.json(report) : PlanRendering.text(report), terminator: "")
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Purges what the policies say is due, in batches, and records every batch in the ledger.",
        discussion: """
            One run at a time per database (advisory lock). Quiet on success with --quiet.
            SIGTERM / SIGINT finish the current batch, write an `interrupted` manifest and exit 143 / 130.
            Exit: 0 done (also when nothing was due or stopped at --max-runtime), 1 failed during the purge, \
            64, 65, 69, 75 another run holds the lock, 77 permission denied, 78 configuration error \
            (missing signing key or manifest folder: --signing-key, --manifests or their settings).
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var policyFolder: PolicyOptions
    @OptionGroup var database: ConnectionOptions
    @OptionGroup var signing: SigningOptions

    @OptionGroup var batches: BatchOptions

    @Option(name: .customLong("only"), help: "Apply only this policy (repeatable).")
    var only: [String] = []

    @Flag(help: "Run plain VACUUM on each purged table after the last batch (needs the table owner's role).")
    var vacuum = false

    @Flag(help: "Rewrite each purged table so no byte of a purged row stays in its files (pg_repack when installed).")
    var erase = false

    @Flag(help: "Let --erase use VACUUM FULL when pg_repack is not available; it blocks each table while it is rewritten.")
    var allowExclusiveLock = false

    func validate() throws {
        if allowExclusiveLock && !erase { throw ValidationError("--allow-exclusive-lock goes with --erase") }
    }

    func run() throws {
        let (settings, logger) = try global.begin(policyFolder, database, signing, batches)
        try perform(logger) {
            do {
                try purge(settings, logger)
            } catch let error as RetentionError where !(error is PurgeFailed) && error.exitCode != .tempFail {
                // Refused before it began: the metrics say so too (another run holding the lock is no failure).
                if let path = settings.metricsFile { MetricsFile.writeRefusal(to: path, logger: logger) }
                throw error
            }
        }
    }

    /// The run itself: preflight, purge, metrics, and the summary line.
    private func purge(_ settings: Settings, _ logger: Logger) throws {
        let policies = try Retention.loadPolicies(directory: settings.policies, only: only)
        // Preflight: the run must be able to sign and write its manifest before it touches the database.
        let manifests = try ManifestSettings(directory: settings.manifests, signingKeyPath: settings.signingKey,
                                             policies: policies)
        if let path = settings.metricsFile { try MetricsFile.checkWritable(path) }
        let connection = try Retention.connect(settings.db, logger: logger)
        var options = RunOptions(batchSize: settings.batchSize, maxRuntime: settings.maxRuntime,
                                 lockTimeout: settings.lockTimeout, statementTimeout: settings.statementTimeout)
        options.jobs = settings.jobs
        options.maxClockSkew = settings.maxClockSkew
        options.vacuum = vacuum
        options.erase = erase
        options.allowExclusiveLock = allowExclusiveLock
        options.stopRequested = StopSignals.received
        if settings.maxReplicaLag != nil || settings.maxWALRate != nil {
            options.pacing = Pacing(maxReplicaLag: settings.maxReplicaLag, maxWALRateMBPerSecond: settings.maxWALRate)
        }
        if isatty(STDERR_FILENO) == 1 && !global.quiet { options.progress = TerminalProgress() }
        StopSignals.install()
        let clock = ContinuousClock()
        let began = clock.now
        let runner = Runner(connection: connection, logger: logger)
        // The metrics file is written at the end of every run that started, whatever its status.
        func recordMetrics(_ summary: RunSummary) {
            guard let path = settings.metricsFile else { return }
            let longest = connection.isAlive ? (try? MetricsFile.batchSecondsMax(runID: summary.runID, on: connection)) ?? [:] : [:]
            let facts = MetricsFile.RunFacts(summary: summary, finished: Date(), seconds: Double(milliseconds(clock.now - began)) / 1000,
                                             batchSecondsMax: longest, replicaLagPauses: options.pacing?.pauses ?? 0)
            MetricsFile.write(facts, to: path, logger: logger)
        }
        let summary: RunSummary
        do {
            let resolved: [ResolvedPolicy]
            do {
                resolved = try Retention.resolve(policies, on: connection, lockTimeout: settings.lockTimeout)
            } catch let busy as TablesBusy {
                // Gave up before the first batch: the night is still recorded (run row, manifest, metrics).
                throw (try? runner.recordGaveUp(busy, options: options, manifests: manifests)) ?? busy
            }
            summary = try runner.run(resolved, options: options, manifests: manifests)
        } catch let failure as PurgeFailed {
            recordMetrics(failure.summary)
            throw failure
        }
        recordMetrics(summary)
        let rows = summary.policies.map { "\($0.name) \($0.action.rawValue)d \($0.rows)" }.joined(separator: ", ")
        let seconds = Double(milliseconds(clock.now - began)) / 1000
        var level: Logger.Level = summary.status == .completed || summary.status == .stopped ? .notice : .warning
        var missing = ""
        if let error = summary.manifestError {
            level = .error
            missing = "; manifest NOT written (\(error.description)); every batch is in the ledger, and the next run "
                + "or `retention setup` with --manifests and --signing-key writes it"
        }
        logger.log(level: level, "run \(summary.status.rawValue) in \(String(format: "%.1f", seconds)) s: \(rows.isEmpty ? "no policies" : rows)\(missing)", metadata: [
            "run.id": "\(summary.runID)", "run.status": "\(summary.status.rawValue)",
            "run.seconds": "\(String(format: "%.1f", seconds))",
            "manifest.path": "\(summary.manifestPath ?? "-")",
        ])
        if let error = summary.manifestError { throw ExitCode(error.exitCode.rawValue) }
        if let signal = summary.signal {
            throw ExitCode(signal == SIGINT ? ExitStatus.interrupted.rawValue : ExitStatus.terminated.rawValue)
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Checks manifests: signatures, sequence numbers and the hash chain; with --ledger also the database's ledger.",
        discussion: """
            PATH is a manifest file or a folder of them. With --ledger (connecting with --db CONNINFO or libpq's \
            environment), every finished run in the ledger must have its manifest among the files, with equal counts. \
            With --expect-daily, every day (UTC) from the first manifest's to yesterday must have a run.
            Exit: 0 all hold, 1 any manifest fails a check (each bad file is named with what is wrong), \
            64 bad command line, 69 database unreachable, 78 missing public key.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var key: PublicKeyOptions

    @OptionGroup var database: ConnectionOptions

    @Flag(help: "Also check the manifests against the ledger in the database.")
    var ledger = false

    @Flag(help: "Also fail when a day (UTC) from the first manifest's to yesterday has no run: a missed night.")
    var expectDaily = false

    @Argument(help: "Manifest files or folders.")
    var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give one or more manifest files or folders") }
        try database.requireLedger(ledger, usage: "retention verify --ledger [--db CONNINFO] PATH...")
    }

    func run() throws {
        let (settings, logger) = try global.begin(key, database)
        try perform(logger) {
            let verifying = try SigningKeys.loadPublicKey(path: try requirePublicKey(settings.publicKey))
            let connection = ledger ? try Retention.connect(settings.db, logger: logger) : nil
            var report = try Verifier.verify(paths: paths, key: verifying, connection: connection)
            if expectDaily { Verifier.expectDaily(&report) }
            print(report.text, terminator: "")
            if !report.isValid { throw ExitCode(ExitStatus.failure.rawValue) }
        }
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prints one manifest for a person: when, status, and per policy what was purged and kept.",
        discussion: """
            Says whether the signature verified (with --public-key). --schema prints the JSON Schema of \
            a manifest's payload instead. Exit: 0 shown, 1 signature does not verify, 78 unreadable.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var key: PublicKeyOptions

    @Flag(help: "Print the manifest's payload as JSON.")
    var json = false

    @Flag(help: "Print the JSON Schema (draft 2020-12) of a manifest's payload, and nothing else.")
    var schema = false

    @Argument(help: "The manifest file.")
    var manifest: String?

    func validate() throws {
        if schema && (manifest != nil || json) { throw ValidationError("--schema takes no manifest and no --json") }
        if !schema && manifest == nil { throw ValidationError("give the manifest file to show (or --schema)") }
    }

    func run() throws {
        if schema {
            print(Manifest.jsonSchema, terminator: "")
            return
        }
        let (settings, logger) = try global.begin(key)
        try perform(logger) {
            let path = manifest ?? ""
            let shown = try ManifestReading.read(path: path, publicKeyPath: settings.publicKey)
            print(json ? ManifestRendering.json(shown.manifest, signature: shown.signature)
                       : ManifestRendering.text(shown.manifest, path: path, signature: shown.signature), terminator: "")
            if case .failed = shown.signature { throw ExitCode(ExitStatus.failure.rawValue) }
        }
    }
}

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Makes an Ed25519 key pair for signing manifests (PKCS#8 / SPKI PEM; private key mode 0600).",
        discussion: """
            Writes DIR/retention-signing.pem (keep it on the machine that runs `retention run`, readable by \
            its user only) and DIR/retention-public.pem (give it to whoever verifies manifests). Never \
            overwrites a key; creates the folder (mode 0700) when it is missing. Exit: 0, 78 (the folder cannot be made, or a key is already there).
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Folder for the key pair.", valueName: "dir"))
    var out: String

    func run() throws {
        let (_, logger) = try global.begin()
        try perform(logger) {
            let generated = try SigningKeys.generate(in: out)
            print("private key: \(visible(generated.privateKeyPath)) (mode 0600)")
            print("public key:  \(visible(generated.publicKeyPath))")
            print("key id:      \(generated.keyID)")
        }
    }
}

/// The public key file, or a configuration error (78) saying how to give one.
func requirePublicKey(_ path: String?) throws -> String {
    guard let path, !path.isEmpty else {
        throw UsageError("no public key: give --public-key FILE, RETENTION_PUBLIC_KEY or public_key in the config file", exitCode: .config)
    }
    return path
}

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prints every shared setting in effect and where it came from (never a password).",
        discussion: """
            Precedence: command line, then environment (RETENTION_DB, RETENTION_POLICIES, ...), then the \
            config file (--config, RETENTION_CONFIG, or /etc/retention/retention.yaml when it exists), then the \
            default. A relative path in the config file is read from the file's folder. \
            Exit: 0, 64 bad option value, 78 bad config file or environment value.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var policyFolder: PolicyOptions
    @OptionGroup var database: ConnectionOptions
    @OptionGroup var signing: SigningOptions
    @OptionGroup var key: PublicKeyOptions
    @OptionGroup var batches: BatchOptions

    @Flag(help: "Print the settings as JSON.")
    var json = false

    func run() throws {
        let (settings, _) = try global.begin(policyFolder, database, signing, key, batches)
        print(json ? SettingsRendering.json(settings) : SettingsRendering.text(settings), terminator: "")
    }
}
