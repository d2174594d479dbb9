import Foundation

/// The run's check of the database clock, which computes every cutoff, before anything changes.
extension Runner {
    /// Refuses (78) to start when the database clock is more than `maxSkew` seconds from this
    /// machine's (`nil`: not compared), or earlier than the end of the previous run: a clock that jumped forward would purge
    /// rows inside their period, one set back would date the manifest before its predecessor.
    func checkClocks(maxSkew: Double?) throws {
        let before = Date()
        let row = try connection.query("""
            SELECT pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) AS now,
                   (SELECT pg_catalog.date_part('epoch', pg_catalog.max(greatest(r.started_at, r.finished_at)))
                    FROM retention.runs r) AS previous
            """).single()
        // The middle of the round trip is when the server most likely read its clock.
        let machine = before.timeIntervalSince1970 + Date().timeIntervalSince(before) / 2
        guard let database = Double(try row.string("now")) else { return }
        let skew = database - machine
        if let maxSkew, abs(skew) > maxSkew {
            throw UsageError("the database clock (\(Self.utc(database))) is \(Self.words(abs(skew))) \(skew > 0 ? "ahead of" : "behind") "
                             + "this machine's (\(Self.utc(machine))), more than --max-clock-skew \(Self.words(maxSkew)) allows: "
                             + "cutoffs computed on a wrong clock purge rows inside their period or date the manifest falsely; "
                             + "correct the clock (NTP) of the host that is wrong; nothing was changed", exitCode: .config)
        }
        if let previous = try row.optional("previous").flatMap(Double.init), database < previous {
            throw UsageError("the database clock (\(Self.utc(database))) is \(Self.words(previous - database)) before the end of "
                             + "the previous run (\(Self.utc(previous))): a manifest cannot start before its predecessor ended; "
                             + "correct the database host's clock; nothing was changed", exitCode: .config)
        }
    }

    /// A Unix time as `2026-12-07 02:15:00 UTC`, for messages.
    static func utc(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    /// A span in the largest whole unit that fits: `400 days`, `3 h`, `7 min`, `12 s`.
    static func words(_ seconds: Double) -> String {
        let whole = Int64(seconds.rounded(.down))
        // To the nearest unit: the two clocks are read a moment apart, so a 400-day jump reads 399.99 days.
        if whole >= 172_800 { return "\((whole + 43_200) / 86_400) days" }
        if whole >= 7_200 { return "\((whole + 1_800) / 3_600) h" }
        if whole >= 120 { return "\((whole + 30) / 60) min" }
        return "\(whole) s"
    }
}
