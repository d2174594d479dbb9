import Foundation

/// One month of the nights calendar: weeks from Monday, each day lettered by how its run ended.
struct MonthView {
    struct Day { let day, symbol, status, title: String }
    struct Week { let days: [Day] }
    let name: String
    let weeks: [Week]

    static let weekdays = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]

    /// The months of the period, each with the period's nights in place and blanks around them.
    static func months(_ nights: [ComplianceReport.Night]) -> [MonthView] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let byDate = Dictionary(nights.map { ($0.date, $0) }) { first, _ in first }
        var months: [MonthView] = []
        for key in nights.map({ String($0.date.prefix(7)) }).reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } } {
            guard let first = ReportRequest.day(key + "-01"),
                  let count = calendar.range(of: .day, in: .month, for: first)?.count else { continue }
            // Monday first: Calendar's weekday 1 is Sunday.
            let lead = (calendar.component(.weekday, from: first) + 5) % 7
            var cells = Array(repeating: Day(day: "", symbol: "", status: "blank", title: ""), count: lead)
            for number in 1...count {
                let date = key + String(format: "-%02d", number)
                if let night = byDate[date] {
                    cells.append(Day(day: "\(number)", symbol: NightWords.symbol(night.status), status: night.status.rawValue,
                                     title: "\(date): \(NightWords.meaning(night.status))"))
                } else {
                    cells.append(Day(day: "\(number)", symbol: "", status: "outside", title: "\(date): outside the period"))
                }
            }
            while cells.count % 7 != 0 { cells.append(Day(day: "", symbol: "", status: "blank", title: "")) }
            let weeks = stride(from: 0, to: cells.count, by: 7).map { Week(days: Array(cells[$0..<($0 + 7)])) }
            months.append(MonthView(name: monthName(key), weeks: weeks))
        }
        return months
    }

    /// `2026-03` as `March 2026`.
    static func monthName(_ key: String) -> String {
        let names = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                     "November", "December"]
        let month = Int(key.suffix(2)) ?? 1
        return "\(names[max(0, min(11, month - 1))]) \(key.prefix(4))"
    }
}

/// One policy's part of the page: a dated chart of rows per night, the numbers night by night
/// (printed whole), totals per version, and per library what was kept and what remains.
struct PolicyView {
    struct Bar { let x, y, height, label: String }
    struct Tick { let x, label: String }
    struct KeptBar { let reason, count, most, width: String }
    struct Library {
        let policyName, name, rows, retain, lastCutoff, stillDue, oldestDueDays, evidence: String
        let kept: [KeptBar]
    }
    struct NumberTable {
        struct Row { let day: String; let cells: [String] }
        let months: [String]
        let rows: [Row]
    }
    struct VersionRow { let version, periods, span, rows: String }
    struct LibraryVersionRow { let name, version, period, span, rows: String }
    struct KeptRow { let name: String; let cells: [String] }

    let name, verb, action, table, rows, methods, maxPerNight, chartTitle, barWidth, latest: String
    let bars: [Bar]
    let ticks: [Tick]
    let numbers: [NumberTable]
    let versions: [VersionRow]
    let libraries: [Library]
    /// Per library and version, the rows purged and the period then.
    let libraryVersions: [LibraryVersionRow]
    /// The kept reasons any library of the policy had in the period, and per library "latest (most)".
    let keptHeaders: [String]
    let keptRows: [KeptRow]
    let hasKept: Bool

    init(_ policy: ComplianceReport.PolicySummary, nights: [ComplianceReport.Night], rules: [String], time: ReportTime) {
        let dates = nights.map(\.date)
        name = policy.name
        action = policy.action
        table = policy.table
        rows = TextTable.grouped(policy.rows)
        methods = policy.methods.joined(separator: ", ")
        latest = policy.latestRun.map(ReportPage.describe) ?? "no run"
        let top = max(policy.perNight.max() ?? 0, 1)
        maxPerNight = TextTable.grouped(top)
        let width = 720.0 / Double(max(dates.count, 1))
        barWidth = String(format: "%.2f", max(width - (width > 3 ? 1 : 0), 0.5))
        verb = policy.action == "anonymize" ? "anonymized" : "deleted"
        chartTitle = "Rows \(verb) per night by policy \(policy.name), from \(dates.first ?? "") to \(dates.last ?? ""); "
            + "highest \(TextTable.grouped(top))"
        let verb = verb
        bars = policy.perNight.enumerated().compactMap { index, value in
            guard value > 0 else { return nil }
            let height = 80.0 * Double(value) / Double(top)
            return Bar(x: String(format: "%.2f", Double(index) * width), y: String(format: "%.2f", 80 - height),
                       height: String(format: "%.2f", max(height, 1)), label: "\(dates[index]): \(TextTable.grouped(value)) rows \(verb)")
        }
        ticks = Self.ticks(dates, width: width)
        numbers = Self.numbers(policy.perNight, nights: nights)
        versions = policy.byVersion.map {
            VersionRow(version: "\($0.version)", periods: $0.periods.joined(separator: "; "),
                       span: $0.from == $0.until ? $0.from : "\($0.from) to \($0.until)", rows: TextTable.grouped($0.rows))
        }
        libraryVersions = policy.libraries.flatMap { library in
            library.byVersion.map {
                LibraryVersionRow(name: library.library ?? "all libraries", version: "\($0.version)", period: $0.periods.joined(separator: "; "),
                                  span: $0.from == $0.until ? $0.from : "\($0.from) to \($0.until)", rows: TextTable.grouped($0.rows))
            }
        }
        // Only the reasons that kept something on some night: a board reads no columns of zeros.
        let used = KeptReason.allCases.filter { reason in policy.libraries.contains { ($0.keptMost[reason] ?? 0) > 0 } }
        keptHeaders = used.map { Self.words($0, rules: rules) }
        keptRows = policy.libraries.map { library in
            KeptRow(name: library.library ?? "all libraries", cells: used.map { reason in
                let latest = library.kept[reason] ?? 0, most = library.keptMost[reason] ?? 0
                return TextTable.grouped(latest) + (most > latest ? " (most \(TextTable.grouped(most)))" : "")
            })
        }
        hasKept = !used.isEmpty
        let reasons = KeptReason.allCases.map { ($0, Self.words($0, rules: rules)) }
        let latest = latest
        libraries = policy.libraries.map { library in
            let top = max(library.keptMost.values.max() ?? 0, 1)
            let evidence: String
            switch (library.stillDue, library.unknownSince) {
            case (_, let since?): evidence = "unknown since \(ReportPage.describe(since)): no run since counted it"
            case (nil, nil): evidence = "not counted by \(latest)"
            case (0?, nil): evidence = "nothing past its period remained after \(latest), except kept rows"
            case (let due?, nil): evidence = "\(TextTable.grouped(due)) rows past their period remained after \(latest)"
            }
            return Library(policyName: policy.name, name: library.library ?? "all libraries", rows: TextTable.grouped(library.rows),
                           retain: library.retain, lastCutoff: time.minute(library.lastCutoff),
                           stillDue: library.unknownSince == nil ? library.stillDue.map(TextTable.grouped) ?? "not counted" : "unknown",
                           oldestDueDays: library.oldestDueDays.map { "\($0) days" } ?? "none", evidence: evidence,
                           kept: reasons.map { reason, words in
                               let count = library.kept[reason] ?? 0
                               return KeptBar(reason: words, count: TextTable.grouped(count),
                                              most: TextTable.grouped(library.keptMost[reason] ?? 0),
                                              width: String(format: "%.1f", 300 * Double(count) / Double(top)))
                           })
        }
    }

    /// A kept reason in plain words, with the policy's own rule where it has one.
    static func words(_ reason: KeptReason, rules: [String]) -> String {
        func rule(_ prefix: String) -> String? {
            rules.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        }
        switch reason {
        case .hold: return "legal hold"
        case .consent: return "patron chose to keep history"
        case .keepWhen: return rule("kept by rule while: ").map { "the policy's rule (\($0))" } ?? "the policy's rule"
        case .newest: return rule("keeps the ").map { "among the \($0)" } ?? "among the newest of their group"
        case .reference: return "still linked to a kept record"
        }
    }

    /// The chart's dated axis: the first of each month for a long period, every seventh night otherwise.
    static func ticks(_ dates: [String], width: Double) -> [Tick] {
        let long = dates.count > 62
        return dates.enumerated().compactMap { index, date in
            let firstOfMonth = date.hasSuffix("-01")
            guard long ? firstOfMonth || index == 0 && dates.count - index > 20 : index % 7 == 0 else { return nil }
            let label = long ? String(MonthView.monthName(String(date.prefix(7))).prefix(3))
                + (date.dropFirst(5).hasPrefix("01") || index == 0 ? " \(date.prefix(4))" : "") : String(date.dropFirst(5))
            return Tick(x: String(format: "%.2f", Double(index) * width), label: label)
        }
    }

    /// The numbers night by night, a column a month and a row a day (12 months a table): a dash for
    /// a night without a run, blank outside the month or the period.
    static func numbers(_ perNight: [Int64], nights: [ComplianceReport.Night]) -> [NumberTable] {
        var months: [String] = []
        var values: [String: String] = [:]
        for (index, night) in nights.enumerated() {
            let month = String(night.date.prefix(7))
            if months.last != month { months.append(month) }
            // As the calendar marks them: no run, evidence missing, evidence altered (their rows are not in the totals).
            switch night.status {
            case .missing: values[night.date] = "–"
            case .removed: values[night.date] = "X"
            case .altered: values[night.date] = "A"
            default: values[night.date] = TextTable.grouped(perNight[index])
            }
        }
        return stride(from: 0, to: months.count, by: 12).map { start in
            let chunk = Array(months[start..<min(start + 12, months.count)])
            let rows = (1...31).map { day in
                NumberTable.Row(day: "\(day)", cells: chunk.map { values[$0 + String(format: "-%02d", day)] ?? "" })
            }
            return NumberTable(months: chunk.map { String(MonthView.monthName($0).prefix(3)) + " " + String($0.prefix(4)) }, rows: rows)
        }
    }
}
