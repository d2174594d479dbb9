import Foundation
import Testing
@testable import RetentionCore

/// A year of real nightly manifests (`scripts/year-of-manifests.sh`, a server under libfaketime),
/// made once for the suite, with the reports that need its ledger made before its server stops.
final class Year: Sendable {
    let folder: URL
    /// The special nights' dates by name (`failed`, `missing`, `recovered`, `version`, `hold`, `release`).
    let specials: [String: [String]]
    let ledgerJSON: String
    let ledgerHTML: String
    let ledgerStatus: Int32

    var manifests: String { folder.appendingPathComponent("manifests").path }
    var publicKey: String { folder.appendingPathComponent("keys/retention-public.pem").path }
    var environment: [String: String] {
        ["PATH": "/usr/bin:/bin", "RETENTION_CONFIG": "/dev/null", "RETENTION_POLICIES": folder.appendingPathComponent("policies").path]
    }

    static let shared = Result { try Year() }

    private init() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("retention-year-\(UUID().uuidString.prefix(8))")
        self.folder = folder
        let script = repositoryRoot.appendingPathComponent("scripts/year-of-manifests.sh").path
        let made = runShell("bash '\(script)' '\(folder.path)' --retention '\(retentionBinary)'")
        let pg = repositoryRoot.appendingPathComponent("scripts/pg.sh").path
        defer { _ = runShell("bash '\(pg)' stop '\(folder.appendingPathComponent("pg").path)'") }
        guard made.status == 0 else { throw UsageError("year-of-manifests.sh failed: \(made.stderr)", exitCode: .failure) }
        var specials: [String: [String]] = [:]
        for line in made.stdout.split(separator: "\n") where line.hasPrefix("special ") {
            let parts = line.split(separator: " ").map(String.init)
            specials[parts[1], default: []].append(parts[2])
        }
        self.specials = specials
        // The server's PG* variables, for the reports that read the ledger.
        var environment = ["PATH": "/usr/bin:/bin", "RETENTION_CONFIG": "/dev/null", "PGDATABASE": "postgres",
                           "RETENTION_POLICIES": folder.appendingPathComponent("policies").path]
        let env = try String(contentsOf: folder.appendingPathComponent("pg.env"), encoding: .utf8)
        for line in env.split(separator: "\n") {
            let parts = line.replacingOccurrences(of: "export ", with: "").split(separator: "=", maxSplits: 1)
            if parts.count == 2 { environment[String(parts[0])] = String(parts[1]) }
        }
        let base = ["report", "--manifests", folder.appendingPathComponent("manifests").path, "--ledger",
                    "--public-key", folder.appendingPathComponent("keys/retention-public.pem").path, "--backup-retention", "35 days"]
        let json = folder.appendingPathComponent("ledger.json").path, html = folder.appendingPathComponent("ledger.html").path
        let jsonRun = try runProcess(retentionBinary, base + ["--format", "json", "--out", json], environment: environment)
        let htmlRun = try runProcess(retentionBinary, base + ["--out", html], environment: environment)
        guard jsonRun.status == htmlRun.status else { throw UsageError("reports disagree: \(jsonRun.output) \(htmlRun.output)", exitCode: .failure) }
        ledgerStatus = jsonRun.status
        ledgerJSON = try String(contentsOfFile: json, encoding: .utf8)
        ledgerHTML = try String(contentsOfFile: html, encoding: .utf8)
    }

    /// A report over `manifests` (default: the year's), as JSON.
    func report(_ arguments: [String], manifests: String? = nil) throws -> (status: Int32, json: [String: Any], output: String) {
        let out = folder.appendingPathComponent("report-\(UUID().uuidString.prefix(8)).json").path
        let result = try runProcess(retentionBinary, ["report", "--manifests", manifests ?? self.manifests, "--format", "json",
                                                      "--out", out] + arguments, environment: environment)
        let json = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out)))) as? [String: Any] ?? [:]
        return (result.status, json, result.output)
    }

    /// A copy of the year's manifest folder, for a test that damages it.
    func copyOfManifests() throws -> String {
        let copy = folder.appendingPathComponent("copy-\(UUID().uuidString.prefix(8))")
        try FileManager.default.copyItem(atPath: manifests, toPath: copy.path)
        return copy.path
    }
}

@Suite(.serialized) struct ReportTests {
    func year() throws -> Year { try Year.shared.get() }

    /// The verdict, each problem as `DATE KIND: TEXT` (the date empty when it has none).
    func verdict(_ json: [String: Any]) -> (state: String, summary: String, problems: [String]) {
        let verdict = json["verdict"] as? [String: Any] ?? [:]
        let problems = (verdict["problems"] as? [[String: Any]] ?? []).map {
            "\($0["date"] as? String ?? "") \($0["kind"] as? String ?? ""): \($0["text"] as? String ?? "")"
        }
        return (verdict["state"] as? String ?? "", verdict["summary"] as? String ?? "", problems)
    }

    func night(_ json: [String: Any], _ date: String) -> String? {
        (json["nights"] as? [[String: Any]])?.first { $0["date"] as? String == date }?["status"] as? String
    }

    @Test func aYearReportNamesTheFailedAndMissingNightsAndCountsWhatTheManifestsSay() throws {
        let year = try year()
        #expect(year.ledgerStatus == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(year.ledgerJSON.utf8)) as? [String: Any])
        let (state, _, problems) = verdict(json)
        let failed = try #require(year.specials["failed"]?.first), missing = try #require(year.specials["missing"]?.first)
        let recovered = try #require(year.specials["recovered"]?.first), stopped = try #require(year.specials["stopped"]?.first)
        #expect(state == "failed")
        // Schedule problems in date order, each with its cause in plain words and when its rows were purged.
        #expect(problems.count == 4, "\(problems)")
        #expect(problems.first?.hasPrefix("\(failed) schedule: run ") == true
                && problems.first?.contains("failed: a table stayed locked by other work (waited --lock-timeout 200ms") == true
                && problems.first?.hasSuffix("1 night late") == true, "\(problems)")
        #expect(problems.contains("\(missing) schedule: no run"))
        #expect(problems.contains { $0.hasPrefix("\(recovered) schedule: run ") && $0.contains("died during the run") })
        #expect(problems.last?.hasPrefix("\(stopped) schedule: run ") == true
                && problems.last?.contains("stopped at its row cap of 5,000 rows a night; its rows were purged by run ") == true
                && problems.last?.hasSuffix("1 night late") == true, "\(problems)")

        let nights = json["nights"] as? [[String: Any]] ?? []
        #expect(nights.count == 365)
        #expect(json["since"] as? String == "2026-01-01" && json["until"] as? String == "2026-12-31")
        func status(_ date: String) -> String? { nights.first { $0["date"] as? String == date }?["status"] as? String }
        #expect(status(missing) == "missing" && status(failed) == "failed" && status(recovered) == "recovered")
        #expect(status(stopped) == "stopped")
        #expect(nights.filter { $0["status"] as? String == "completed" }.count == 361)

        // The counts are the manifests' own, summed.
        let files = try Verifier.files(in: [year.manifests])
        let manifests = try files.map { try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: $0))).payload) }
        #expect(manifests.count == 364)
        let policy = try #require((json["policies"] as? [[String: Any]])?.first)
        let purged = manifests.flatMap(\.policies).reduce(Int64(0)) { $0 + $1.rows }
        // Kept rows are counted again by every run: the report gives the latest run's and the most of one night.
        let lastHeld = try #require(manifests.last?.policies.first?.counts[.hold])
        let mostHeld = manifests.flatMap(\.policies).map { $0.counts[.hold] }.max() ?? 0
        #expect((policy["rows"] as? NSNumber)?.int64Value == purged)
        #expect(((policy["kept"] as? [String: Any])?["kept_by_hold"] as? NSNumber)?.int64Value == lastHeld)
        #expect(((policy["kept_most"] as? [String: Any])?["kept_by_hold"] as? NSNumber)?.int64Value == mostHeld)
        #expect(lastHeld > 0 && mostHeld > lastHeld && purged > 365 * 20)
        let perNight = (policy["per_night"] as? [NSNumber] ?? []).map(\.int64Value)
        #expect(perNight.count == 365 && perNight.reduce(0, +) == purged)
        // The last completed run left nothing due in either library.
        let libraries = policy["libraries"] as? [[String: Any]] ?? []
        #expect(Set(libraries.compactMap { $0["library"] as? String }) == ["NORTH", "SOUTH"])
        #expect(libraries.allSatisfy { ($0["still_due"] as? NSNumber)?.int64Value == 0 })

        // The policy's versions, each from the night a run first used it, in the words its manifests record
        // (version 1's file is gone, its manifests keep it), and what changed; totals split by version.
        let version = try #require(year.specials["version"]?.first)
        let register = json["register"] as? [[String: Any]] ?? []
        #expect(register.map { ($0["version"] as? NSNumber)?.intValue } == [1, 2])
        #expect(register.last?["since"] as? String == version)
        #expect(register.first?["description"] as? String == "Visit records let staff follow up on a visit for a month.")
        #expect((register.first?["rules"] as? [String])?.first == "deletes rows of public.visits whose seen is older than 30 days")
        #expect((register.last?["changes"] as? [String]) == ["version 1 -> 2", "period 30 days -> 25 days", "description rewritten"])
        let byVersion = policy["by_version"] as? [[String: Any]] ?? []
        #expect(byVersion.map { $0["periods"] as? [String] ?? [] } == [["30 days", "SOUTH: 45 days"], ["25 days", "SOUTH: 45 days"]])
        #expect(byVersion.last?["from"] as? String == version)
        #expect(byVersion.compactMap { ($0["rows"] as? NSNumber)?.int64Value }.reduce(0, +) == purged)

        // No personal data: no patron, no row value.
        for text in [year.ledgerJSON, year.ledgerHTML] {
            #expect(!text.contains("900007") && !text.contains("900002") && !text.contains("YEAR-CANARY") && !text.contains("LATE-CANARY"))
        }
        // One file for a year, small enough to mail (the time is in scripts/bench-report.sh).
        #expect(year.ledgerHTML.utf8.count < 2_000_000)
    }

    @Test func aCleanPeriodIsVerifiedAndExits0() throws {
        let year = try year()
        let (status, json, output) = try year.report(["--public-key", year.publicKey, "--since", "2026-06-01", "--until", "2026-06-30"])
        #expect(status == 0, "\(output)")
        let (state, summary, problems) = verdict(json)
        #expect(state == "verified" && problems.isEmpty)
        #expect(summary.hasPrefix("30 of 30 nights from 2026-06-01 to 2026-06-30 have a run (30 manifests), every one signed by key"))
        #expect(output.hasPrefix("verified: 30 of 30 nights"))
    }

    /// Nights before the first manifest are before the job ran, not nights it missed.
    @Test func nightsBeforeTheFirstManifestAreNotMissedNights() throws {
        let year = try year()
        let (status, json, _) = try year.report(["--public-key", year.publicKey, "--since", "2025-12-01", "--until", "2026-01-31"])
        #expect(status == 0, "\(verdict(json).problems)")
        #expect(verdict(json).summary.contains("31 of 62 nights from 2025-12-01 to 2026-01-31 have a run (31 manifests); the manifests begin on 2026-01-01"),
                "\(verdict(json).summary)")
    }

    @Test func withoutAPublicKeyTheVerdictIsCouldNotCheck() throws {
        let year = try year()
        let (status, json, _) = try year.report(["--since", "2026-06-01", "--until", "2026-06-30"])
        #expect(status == 0)
        #expect(verdict(json).state == "could not check")
        #expect(verdict(json).summary.hasPrefix("no public key was given"))
    }

    @Test func aTamperedRemovedOrForeignManifestFailsTheVerdictNamingTheFile() throws {
        let year = try year()
        let june = ["--public-key", year.publicKey, "--since", "2026-06-01", "--until", "2026-06-30"]
        func file(_ folder: String, _ day: String) throws -> String {
            let name = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasPrefix(day) })
            return (folder as NSString).appendingPathComponent(name)
        }
        // Tampered: one count changed in the payload, the signature kept.
        let tampered = try year.copyOfManifests()
        let victim = try file(tampered, "20260610")
        var envelope = try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: victim)))
        let text = String(decoding: envelope.payload, as: UTF8.self)
        envelope = DSSEEnvelope(payloadType: envelope.payloadType,
                                payload: Data(text.replacingOccurrences(of: "\"kept_by_hold\":", with: "\"kept_by_hold\":1").utf8),
                                signatures: envelope.signatures)
        try envelope.fileData().write(to: URL(fileURLWithPath: victim))
        var (status, json, output) = try year.report(june, manifests: tampered)
        #expect(status == 1 && verdict(json).state == "failed" && output.hasPrefix("not verified: 1 problem from 2026-06-01"), "\(output)")
        // Evidence altered, on its night, naming the file; the night is not "no run".
        func sequence(_ path: String) -> Int { Int((path as NSString).lastPathComponent.dropFirst(17).prefix(6)) ?? -1 }
        #expect(verdict(json).problems == ["2026-06-10 evidence: manifest \(sequence(victim)) (\((victim as NSString).lastPathComponent)) was altered or "
                                           + "is not this key's: bad signature: the payload or the signature was altered after signing"],
                "\(verdict(json).problems)")
        #expect(night(json, "2026-06-10") == "altered")

        // Removed: evidence missing, named by sequence, and its night shows as removed; a night without
        // a run and without a gap in the chain (April's) stays a schedule problem of its own.
        let removed = try year.copyOfManifests()
        let gone = try file(removed, "20260615")
        try FileManager.default.removeItem(atPath: gone)
        let missing = try #require(year.specials["missing"]?.first)
        (status, json, _) = try year.report(["--public-key", year.publicKey, "--since", "2026-04-01", "--until", "2026-06-30"],
                                            manifests: removed)
        #expect(status == 1)
        #expect(verdict(json).problems.first == "\(missing) schedule: no run")
        #expect(verdict(json).problems.last == ("2026-06-15 evidence: manifest \(sequence(gone)) is missing from the folder: removed from the chain "
                                           + "between manifest \(sequence(gone) - 1) (2026-06-14) and manifest \(sequence(gone) + 1) (2026-06-16)"), "\(verdict(json).problems)")
        #expect(night(json, "2026-06-15") == "removed" && night(json, missing) == "missing")

        // Signed with another key: named as such.
        let foreign = try year.copyOfManifests()
        let other = FileManager.default.temporaryDirectory.appendingPathComponent("retention-other-\(UUID().uuidString.prefix(8))")
        let otherKey = try SigningKeys.loadPrivateKey(path: try SigningKeys.generate(in: other.path).privateKeyPath)
        let resigned = try file(foreign, "20260620")
        let original = try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: resigned)))
        try otherKey.sign(payloadType: original.payloadType, payload: original.payload).fileData().write(to: URL(fileURLWithPath: resigned))
        (status, json, _) = try year.report(june, manifests: foreign)
        #expect(status == 1)
        #expect(verdict(json).problems.contains { $0.hasPrefix("2026-06-20 evidence: manifest ") && $0.contains("(20260620")
            && $0.contains("signed by another key") }, "\(verdict(json).problems)")
    }

    /// After a night stopped at its row cap, the report shows what that night left due, from that
    /// run, and cannot say verified; the night after, it shows the rows purged one night late.
    @Test func aStoppedNightsBacklogIsReportedFromThatRun() throws {
        let year = try year()
        let stopped = try #require(year.specials["stopped"]?.first)
        let (status, json, _) = try year.report(["--public-key", year.publicKey, "--since", "2026-10-01", "--until", stopped])
        #expect(status == 1)
        let files = try Verifier.files(in: [year.manifests])
        let last = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath:
            try #require(files.first { ($0 as NSString).lastPathComponent.hasPrefix(stopped.replacingOccurrences(of: "-", with: "")) })))).payload)
        let due = try #require(last.policies.first?.remaining.stillDue)
        #expect(last.status == "stopped" && due >= 25_000)
        let policy = try #require((json["policies"] as? [[String: Any]])?.first)
        let libraries = policy["libraries"] as? [[String: Any]] ?? []
        #expect(libraries.compactMap { ($0["still_due"] as? NSNumber)?.int64Value }.reduce(0, +) == due)
        #expect((policy["latest_run"] as? [String: Any])?["status"] as? String == "stopped")
        #expect(verdict(json).problems.contains { $0.hasPrefix("\(stopped) schedule: run \(last.sequence) stopped at its row cap") && $0.hasSuffix("its rows were still due at the end of the period") })
        #expect(verdict(json).problems.contains("\(stopped) schedule: policy visits: \(TextTable.grouped(due)) rows past their period "
                                                + "remained after the latest run, manifest \(last.sequence) (\(stopped)), the oldest "
                                                + "dated \(last.policies[0].remaining.oldestDueDays ?? -1) days before the run"), "\(verdict(json).problems)")
    }

    /// A run that died counted nothing of what it left: a report that ends on its night says what
    /// remains is unknown since that run, never 0, and cannot say verified.
    @Test func aNightThatDiedLeavesWhatRemainsUnknownSinceThatRun() throws {
        let year = try year()
        let recovered = try #require(year.specials["recovered"]?.first)
        let (status, json, _) = try year.report(["--public-key", year.publicKey, "--since", "2026-05-25", "--until", recovered])
        #expect(status == 1)
        let libraries = (json["policies"] as? [[String: Any]])?.first?["libraries"] as? [[String: Any]] ?? []
        #expect(!libraries.isEmpty && libraries.allSatisfy { $0["still_due"] == nil && ($0["unknown_since"] as? [String: Any])?["date"] as? String == recovered },
                "\(libraries)")
        #expect(verdict(json).problems.contains { $0.hasPrefix("\(recovered) schedule: policy visits: what remains due is unknown since manifest ") },
                "\(verdict(json).problems)")
    }

    /// The register of holds comes from the signed manifests, without the database: each hold with
    /// its scope (a patron never named), who placed it (the person and the database role) and its release.
    @Test func holdsComeFromTheManifestsWithoutTheDatabase() throws {
        let year = try year()
        let (_, json, _) = try year.report(["--public-key", year.publicKey])
        let holds = json["holds"] as? [[String: Any]] ?? []
        #expect(holds.count == 2)
        #expect(holds.first?["scope"] as? String == "one patron, policy visits")
        #expect(holds.first?["placed_by"] as? String == "\(SystemUser.current) (database role postgres)")
        #expect(holds.first?["released_at"] == nil)
        #expect(holds.last?["scope"] as? String == "policy visits, library NORTH")
        #expect((holds.last?["released_at"] as? String)?.hasPrefix(year.specials["release"]?.first ?? "-") == true)
        // Placed on night 120 and released on night 250 by SQL (no person recorded): the newest record says so.
        #expect(holds.last?["released_by"] as? String == "database role postgres (the person was not recorded)")
        #expect((holds.last?["first_recorded"] as? NSNumber)?.intValue == 120)
        #expect(!String(decoding: try JSONSerialization.data(withJSONObject: holds), as: UTF8.self).contains("900007"))
    }

    /// `verify --expect-daily` names the missed night and fails; without the flag the chain alone holds.
    @Test func verifyExpectDailyNamesTheMissedNight() throws {
        let year = try year()
        let plain = try runProcess(retentionBinary, ["verify", "--public-key", year.publicKey, year.manifests], environment: year.environment)
        #expect(plain.status == 0, "\(plain.stdout.suffix(300))")
        let daily = try runProcess(retentionBinary, ["verify", "--expect-daily", "--public-key", year.publicKey, year.manifests],
                                   environment: year.environment)
        #expect(daily.status == 1)
        let missing = try #require(year.specials["missing"]?.first)
        #expect(daily.stdout.contains("FAIL  no run on \(missing)\n"), "\(daily.stdout.suffix(300))")
        #expect(daily.stdout.split(separator: "\n").filter { $0.hasPrefix("FAIL") }.count == 1)
    }

    @Test func hostileTextFromPoliciesAndHoldsIsRenderedAsText() throws {
        let html = try year().ledgerHTML
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(&#39;policy&#39;)&lt;/script&gt; &lt;/table&gt; &quot;quoted&quot;"))
        // A right-to-left override is shown, not obeyed.
        #expect(html.contains("<bdi>Court order [U+202E] &lt;/table&gt; &quot;quoted&quot; &amp; more</bdi>"))
        #expect(!html.contains("\u{202E}"))
        #expect(html.contains("<bdi>Case &lt;script&gt;alert(&#39;hold&#39;)&lt;/script&gt; 7</bdi>"))
        // Self-contained: nothing is fetched from anywhere.
        #expect(!html.contains("http://") || !html.contains("src=\"http"))
        #expect(!html.contains("<link") && !html.contains("<img") && !html.contains("@import"))
    }

    /// A manifest folder that is missing, empty, or a report that cannot be written: 78, one line, no file.
    @Test func aMissingOrEmptyFolderOrUnwritableOutputIsAConfigurationError() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("retention-empty-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Beside the manifest folder, not in it: a report never goes where the evidence is.
        let out = folder.path + "-r.html"
        let environment = ["PATH": "/usr/bin:/bin", "RETENTION_CONFIG": "/dev/null"]
        for (manifests, extra, message) in [
            ("/nonexistent/manifests", [String](), "manifest folder /nonexistent/manifests does not exist or is not a folder"),
            (folder.path, [], "no manifest in \(folder.path): nothing to report"),
            (folder.path, ["--since", "2026-01-01"], "no manifest in \(folder.path): nothing to report"),
        ] {
            let result = try runProcess(retentionBinary, ["report", "--manifests", manifests, "--out", out, "--log-format", "text"] + extra,
                                        environment: environment)
            #expect(result.status == 78, "\(result.stderr)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        let unwritable = try runProcess(retentionBinary, ["report", "--manifests", folder.path, "--since", "2026-01-01",
                                                          "--until", "2026-01-02", "--out", "/nonexistent/r.html"], environment: environment)
        #expect(unwritable.status == 78 && unwritable.stderr.contains("cannot write the report"), "\(unwritable.output)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// The page escapes per Unicode scalar: a quote followed by a combining mark is one character, and
    /// still escaped; bidi and control characters are shown; a status a payload invents becomes `unknown`.
    @Test func escapingWorksPerScalarAndUnknownStatusesAreNotRendered() {
        let escaped = ReportRendering.Escaping().escapeText("\"\u{301} style=x <a href='y'> & \u{202E}\u{0007} café\n")
        #expect(escaped == "&quot;\u{301} style=x &lt;a href=&#39;y&#39;&gt; &amp; [U+202E][U+0007] café\n")
        #expect(ReportBuilder.knownStatus("completed") == "completed")
        #expect(ReportBuilder.knownStatus("x\" style=\"position:fixed") == "unknown")
    }

    /// In a real browser, offline: the DOM has the verdict and every section, and printing gives pages of text.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
                    && FileManager.default.isExecutableFile(atPath: "/usr/bin/pdftotext"), "needs chromium and poppler-utils"))
    func theReportReadsInABrowserOfflineAndPrintsToPDF() throws {
        let year = try year()
        let page = year.folder.appendingPathComponent("ledger.html").path
        let pdf = year.folder.appendingPathComponent("report.pdf").path
        let shot = year.folder.appendingPathComponent("report.png").path
        let offline = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                       "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                       "--user-data-dir=\(year.folder.appendingPathComponent("chromium").path)"]
        let dom = try runProcess("/usr/bin/chromium", offline + ["--dump-dom", "file://\(page)"])
        #expect(dom.status == 0, "\(dom.stderr.suffix(500))")
        #expect(dom.stdout.contains("<p class=\"verdict bad\" id=\"verdict-line\"><strong>Not verified:</strong>"))
        for section in ["verdict", "reading", "nights", "purged", "kept", "schedule", "holds", "policies", "elsewhere", "glossary", "appendix"] {
            #expect(dom.stdout.contains("<section id=\"\(section)\""), "section \(section)")
        }
        let printed = try runProcess("/usr/bin/chromium", offline + ["--no-pdf-header-footer", "--print-to-pdf=\(pdf)", "file://\(page)"])
        #expect(printed.status == 0 && FileManager.default.fileExists(atPath: pdf), "\(printed.stderr.suffix(500))")
        let info = try runProcess("/usr/bin/pdfinfo", [pdf])
        let pages = info.stdout.split(separator: "\n").first { $0.hasPrefix("Pages:") }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        #expect(info.stdout.contains("612 x 792 pts (letter)"), "\(info.stdout)")
        let text = try (1...max(pages, 1)).map { try runProcess("/usr/bin/pdftotext", ["-f", "\($0)", "-l", "\($0)", "-layout", pdf, "-"]).stdout }
        // The cover: the verdict, the problems in date order, the signature lines.
        let cover = text.first ?? ""
        #expect(cover.contains("Retention report: 2026-01-01 to 2026-12-31") && cover.contains("Not verified:"))
        #expect(cover.contains("What is wrong, in date order") && cover.contains("Prepared by:"))
        #expect(cover.contains("schedule") && cover.contains("no run"))
        // A year fits in 8 Letter pages before the appendix, which starts on a page of its own.
        let appendix = try #require(text.firstIndex { $0.contains("Appendix for auditors") })
        #expect(appendix <= 8, "the appendix starts on page \(appendix + 1) of \(pages)")
        // Printed whole: the calendar's months and weekdays, the numbers night by night (the capped night's 5,000).
        let body = text[..<appendix].joined(separator: "\n")
        #expect(body.contains("January 2026") && body.contains("December 2026") && body.contains("Mo") && body.contains("Su"))
        #expect(body.contains("Rows deleted night by night") && body.contains("5,000"))
        // One line a manifest, never split: each file's name and digest on the same page.
        let files = try Verifier.files(in: [year.manifests]).map { ($0 as NSString).lastPathComponent }
        #expect(files.count == 364)
        for name in files {
            let page = text.firstIndex { $0.contains(name) }
            #expect(page.map { text[$0].contains(name + " ") } == true, "\(name) is not printed whole")
        }
        // A4 on request.
        let a4 = year.folder.appendingPathComponent("a4.html").path, a4pdf = year.folder.appendingPathComponent("a4.pdf").path
        let made = try runProcess(retentionBinary, ["report", "--manifests", year.manifests, "--paper", "a4", "--out", a4], environment: year.environment)
        // Without a key the signatures go unchecked, but the year's missed night needs none: not verified, written.
        #expect(made.status == 1 && made.stdout.hasPrefix("not verified: ") && made.stdout.contains("no signature was verified"),
                "\(made.output)")
        _ = try runProcess("/usr/bin/chromium", offline + ["--no-pdf-header-footer", "--print-to-pdf=\(a4pdf)", "file://\(a4)"])
        #expect(try runProcess("/usr/bin/pdfinfo", [a4pdf]).stdout.contains("(A4)"))
        // A picture for a person to look at (kept out of git: it is in the test's temporary folder).
        _ = try runProcess("/usr/bin/chromium", offline + ["--screenshot=\(shot)", "--window-size=1100,3000", "file://\(page)"])
        #expect(FileManager.default.fileExists(atPath: shot))
    }
}
