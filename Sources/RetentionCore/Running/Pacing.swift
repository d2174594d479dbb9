import Foundation
import Logging
import Synchronization

/// Holds every session of a run before its next batch while a streaming replica lags too far
/// behind (`--max-replica-lag`) or the server writes WAL faster than allowed (`--max-wal-rate`).
///
/// The replica's lag is the largest `replay_lag` of `pg_stat_replication` among standbys that have
/// not replayed all WAL yet (a caught-up standby shows its last measured lag for a while). Past the
/// limit every session waits, checking twice a second, until it is under half the limit; the run's
/// deadline and stop signals still end the wait. One log line when a pause begins and one when it
/// ends, not one per session. The WAL rate is the server's (all of its WAL, not only the run's),
/// measured from `pg_current_wal_lsn()` with a one-second burst allowance, so time spent waiting
/// for a replica earns no credit. Paused time counts once however many sessions wait.
public final class Pacing: Sendable {
    /// The largest replay lag allowed, in seconds.
    public let maxReplicaLag: Double?
    /// The WAL the server may write, in bytes per second.
    public let maxWALRate: Double?

    private struct State {
        var pausing = false
        var pauseBegan: ContinuousClock.Instant?
        var pauses = 0
        var paused: Duration = .zero
        /// The WAL allowance: bytes that may still be written, and when and at which LSN it was last updated.
        var walBudget = 0.0
        var walSeen: (lsn: Int64, at: ContinuousClock.Instant)?
        /// Every session waits until then for the WAL rate; the span is counted in `paused` once.
        var walResume: ContinuousClock.Instant?
    }
    private let state = Mutex(State())
    private let clock = ContinuousClock()

    public init(maxReplicaLag: Double?, maxWALRateMBPerSecond: Int?) {
        self.maxReplicaLag = maxReplicaLag
        self.maxWALRate = maxWALRateMBPerSecond.map { Double($0) * 1_048_576 }
    }

    /// How many times the run waited for a replica.
    public var pauses: Int { state.withLock { $0.pauses } }
    /// How long the run waited in all, for replicas and the WAL rate, in milliseconds.
    public var pausedMilliseconds: Int64 { state.withLock { milliseconds($0.paused) } }

    /// Refuses (77) a role that cannot read the replicas' lag before the first batch: without
    /// pg_monitor, `pg_stat_replication` shows no lag and the run would never wait.
    public func requirePrivileges(on connection: Connection) throws {
        guard maxReplicaLag != nil else { return }
        let row = try connection.query("""
            SELECT current_user::text AS name,
                   pg_has_role(current_user, 'pg_monitor', 'USAGE') OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')
                   OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS allowed
            """).single()
        if !(try row.bool("allowed")) {
            throw UsageError("--max-replica-lag needs the role to read pg_stat_replication: GRANT pg_monitor TO \(visible(try row.string("name")))",
                             exitCode: .noPermission)
        }
    }

    /// Waits until the next batch may go; returns how the walk must end instead (deadline or signal), or nil.
    func wait(on connection: Connection, options: RunOptions, deadline: ContinuousClock.Instant?, logger: Logger) throws -> Runner.WalkEnd? {
        func interrupted() -> Runner.WalkEnd? {
            if let signal = options.stopRequested?() { return .signal(signal) }
            if let deadline, clock.now >= deadline { return .deadline }
            return nil
        }
        if let limit = maxReplicaLag {
            var lag = try replicaLag(on: connection)
            // Another session's pause holds this one too, until the lag is under half the limit.
            if lag > limit || state.withLock({ $0.pausing }) {
                begin(lag: lag, limit: limit, logger: logger)
                defer { end(logger: logger) }
                while lag > limit / 2 {
                    if let end = interrupted() { return end }
                    Thread.sleep(forTimeInterval: 0.5)
                    lag = try replicaLag(on: connection)
                }
            }
        }
        if let rate = maxWALRate {
            let lsn = try connection.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::int8 AS lsn").single().int64("lsn")
            let now = clock.now
            let resume = state.withLock { state -> ContinuousClock.Instant? in
                if let seen = state.walSeen {
                    let earned = rate * Double(milliseconds(now - seen.at)) / 1000
                    state.walBudget = min(state.walBudget + earned, rate) - Double(max(lsn - seen.lsn, 0))
                }
                state.walSeen = (lsn, now)
                guard state.walBudget < 0 else { return state.walResume }
                let until = now + .milliseconds(Int64(-state.walBudget / rate * 1000))
                // The span past any wait already counted.
                let from = max(state.walResume ?? now, now)
                if until > from { state.paused += until - from }
                state.walResume = max(until, state.walResume ?? until)
                return state.walResume
            }
            while let resume, clock.now < resume {
                if let end = interrupted() { return end }
                Thread.sleep(forTimeInterval: min(0.5, Double(milliseconds(resume - clock.now)) / 1000))
            }
        }
        return nil
    }

    /// The largest replay lag in seconds among standbys that have WAL left to replay; 0 when none has.
    func replicaLag(on connection: Connection) throws -> Double {
        let row = try connection.query("""
            SELECT coalesce(max(extract(epoch FROM replay_lag) * 1000)
                            FILTER (WHERE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) > 0), 0)::int8 AS lag_ms
            FROM pg_stat_replication
            """).single()
        return Double(try row.int64("lag_ms")) / 1000
    }

    private func begin(lag: Double, limit: Double, logger: Logger) {
        let first = state.withLock { state -> Bool in
            guard !state.pausing else { return false }
            state.pausing = true
            state.pauseBegan = clock.now
            state.pauses += 1
            return true
        }
        if first {
            logger.notice("a replica lags \(String(format: "%.1f", lag)) s, more than --max-replica-lag \(String(format: "%g", limit)) s; waiting until it is under \(String(format: "%g", limit / 2)) s")
        }
    }

    private func end(logger: Logger) {
        let waited = state.withLock { state -> Duration? in
            guard state.pausing, let began = state.pauseBegan else { return nil }
            state.pausing = false
            let waited = clock.now - began
            state.paused += waited
            return waited
        }
        if let waited {
            logger.notice("the replica caught up after \(String(format: "%.1f", Double(milliseconds(waited)) / 1000)) s; purging again")
        }
    }
}
