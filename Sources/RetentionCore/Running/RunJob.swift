import Foundation
import Logging

/// `retention run` as a whole: the preflight, the run, its metrics file and its summary line, and
/// the exit status it ends with; the command line only parses and calls it.
public struct RunJob {
    public var settings: Settings
    /// `--only`: the policies to apply (all when empty).
    public var only: [String] = []
    public var vacuum = false
    public var erase = false
    public var allowExclusiveLock = false
    /// Which stop signal came (SIGINT, SIGTERM), asked between batches; `nil` when none came.
    public var stopRequested: (@Sendable () -> Int32?)?
    /// Told once the run has its connection, before it changes anything (until then a stop signal
    /// may end the process: nothing is done yet).
    public var connected: (@Sendable () -> Void)?
    /// A display of the run's progress (a terminal), or `nil`.
    public var progress: (any RunProgress)?

    public init(settings: Settings) { self.settings = settings }

    /// Runs the job and returns the exit status it ends with: 0, 78 when the purge is done but its
    /// manifest could not be written, 130 or 143 after a stop signal. Throws a `RetentionError`
    /// for a run refused before it began (its metrics file says so, unless another run held the
    /// lock) or one that failed during the purge (`PurgeFailed`, with its metrics).
    public func run(logger: Logger) throws -> ExitStatus {
        do {
            return try purge(logger)
        } catch let error as RunLockBusy {
            // Another run holds the lock: no failure, and not a success either.
            if let path = settings.metricsFile { MetricsFile.writeSkipped(to: path, instance: settings.instance, logger: logger) }
            throw error
        } catch let error as RetentionError where !(error is PurgeFailed) && error.exitCode != .tempFail {
            // Refused before it began: the metrics say so too.
            if let path = settings.metricsFile { MetricsFile.writeRefusal(to: path, instance: settings.instance, logger: logger) }
            throw error
        }
    }

    private func purge(_ logger: Logger) throws -> ExitStatus {
        let all = try Retention.loadPolicies(directory: settings.policies)
        let policies = try Retention.select(only, from: all, directory: settings.policies)
        // Preflight: the run must be able to sign and write its manifest before it touches the database.
        let manifests = try ManifestSettings(directory: settings.manifests, signingKeyPath: settings.signingKey,
                                             policies: policies)
        if let path = settings.metricsFile { try MetricsFile.checkWritable(path) }
        let authority = try settings.timestampAuthority()
        let connection = try Retention.connect(settings, logger: logger)
        connected?()
        // The holds go into the manifest too: with many, it outgrows the first estimate.
        if let holds = ManifestStore.holdReserve(on: connection), holds > 0 {
            try ManifestStore.checkWritable(manifests.directory, bytes: ManifestStore.reserve(for: policies) + 2 * holds)
        }
        // A stop signal ends a statement that waits too long from the first catalog read on.
        connection.interruption = Runner.lateStop(stopRequested)
        let options = runOptions(leftOut: all.map(\.name).filter { !only.isEmpty && !only.contains($0) }.sorted())
        let clock = ContinuousClock()
        let began = clock.now
        let runner = Runner(connection: connection, logger: logger)
        // The metrics file is written at the end of every run that started, whatever its status.
        // The manifest is written: the authority stamps it (and those it missed), whatever the run's end.
        func recordMetrics(_ summary: RunSummary) {
            let untimestamped = authority.map {
                ManifestTimestamps.stampMissing(folder: manifests.directory, authority: $0, logger: logger)
            }
            guard let path = settings.metricsFile else { return }
            let longest = connection.isAlive ? (try? MetricsFile.batchSecondsMax(runID: summary.runID, on: connection)) ?? [:] : [:]
            var facts = MetricsFile.RunFacts(summary: summary, finished: Date(), seconds: Double(milliseconds(clock.now - began)) / 1000,
                                             batchSecondsMax: longest, replicaLagPauses: options.pacing?.pauses ?? 0)
            facts.instance = settings.instance
            facts.untimestamped = untimestamped
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
        let seconds = Double(milliseconds(clock.now - began)) / 1000
        let (level, line) = RunSummaryRendering.line(summary, seconds: seconds)
        logger.log(level: level, "\(line)", metadata: [
            "run.id": "\(summary.runID)", "run.status": "\(summary.status.rawValue)",
            "run.seconds": "\(String(format: "%.1f", seconds))",
            "manifest.path": "\(summary.manifestPath ?? "-")",
        ])
        if let error = summary.manifestError { return error.exitCode }
        if let signal = summary.signal { return signal == SIGINT ? .interrupted : .terminated }
        return .ok
    }

    /// The run's options from the settings and the command line.
    private func runOptions(leftOut: [String]) -> RunOptions {
        var options = RunOptions(batchSize: settings.batchSize, maxRuntime: settings.maxRuntime,
                                 lockTimeout: settings.lockTimeout, statementTimeout: settings.statementTimeout)
        options.jobs = settings.jobs
        options.maxRows = settings.maxRows
        options.leftOut = leftOut
        options.maxClockSkew = settings.maxClockSkew
        options.vacuum = vacuum
        options.erase = erase
        options.allowExclusiveLock = allowExclusiveLock
        options.stopRequested = stopRequested
        options.progress = progress
        if settings.maxReplicaLag != nil || settings.maxWALRate != nil {
            options.pacing = Pacing(maxReplicaLag: settings.maxReplicaLag, maxWALRateMBPerSecond: settings.maxWALRate)
        }
        return options
    }
}
