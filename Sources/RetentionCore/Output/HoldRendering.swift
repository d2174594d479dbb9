import Foundation

/// Renders holds for staff: one block per hold with its scope in words.
public enum HoldRendering {
    public static func text(_ holds: [Hold], includeReleased: Bool) -> String {
        guard !holds.isEmpty else {
            return includeReleased ? "No legal holds on record.\n" : "No active legal holds.\n"
        }
        var out = ""
        for hold in holds {
            out += "hold \(hold.id)  \(hold.isActive ? "ACTIVE" : "released")  \(visible(hold.reference))\n"
            if !hold.reason.isEmpty { out += "  reason:   \(visible(hold.reason))\n" }
            out += "  placed:   \(hold.placedAt) by \(visible(hold.placedBy))\n"
            out += "  covers:   \(scope(hold))\n"
            if let releasedAt = hold.releasedAt {
                out += "  released: \(releasedAt) by \(visible(hold.releasedBy ?? "?"))\n"
            }
        }
        return out
    }

    /// The scope in words; a hold with none freezes everything.
    static func scope(_ hold: Hold) -> String {
        scope(HoldScope(patron: hold.patron, policy: hold.policy, library: hold.library, from: hold.heldFrom,
                        until: hold.heldUntil, timeZone: hold.timeZone), patronHidden: hold.patronHidden)
    }

    /// A scope in words, as `hold place` confirms it and `hold list` shows it.
    public static func scope(_ scope: HoldScope, patronHidden: Bool = false) -> String {
        var parts: [String] = []
        if let patron = scope.patron { parts.append("patron \(visible(patron))") }
        if patronHidden { parts.append("one patron (identifier shown to retention_holds members only)") }
        if let policy = scope.policy { parts.append("policy \(visible(policy))") }
        if let library = scope.library { parts.append("library \(visible(library))") }
        let zone = scope.timeZone.map { " (days in \(visible($0)))" } ?? ""
        switch (scope.from, scope.until) {
        case let (from?, until?): parts.append("records dated from \(visible(from)) until \(visible(until))\(zone)")
        case let (from?, nil): parts.append("records dated from \(visible(from))\(zone)")
        case let (nil, until?): parts.append("records dated before \(visible(until))\(zone)")
        default: break
        }
        return parts.isEmpty ? "ALL records of every policy: all purging is frozen" : parts.joined(separator: ", ")
    }

    public static func json(_ holds: [Hold]) -> String {
        JSONOutput.text(holds)
    }
}
