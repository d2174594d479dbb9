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

    func verdict(_ json: [String: Any]) -> (state: String, summary: String, problems: [String]) {
        let verdict = json["verdict"] as? [String: Any] ?? [:]
        return (verdict["state"] as? String ?? "", verdict["summary"] as? String ?? "", verdict["problems"] as? [String] ?? [])
    }

    @Test func aYearReportNamesTheFailedAndMissingNightsAndCountsWhatTheManifestsSay() throws {
        let year = try year()
        #expect(year.ledgerStatus == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(year.ledgerJSON.utf8)) as? [String: Any])
        let (state, _, problems) = verdict(json)
        let failed = try #require(year.specials["failed"]?.first), missing = try #require(year.specials["missing"]?.first)
        let recovered = try #require(year.specials["recovered"]?.first)
        #expect(state == "failed")
        #expect(problems.contains("no run on \(missing)"))
        #expect(problems.contains { $0.hasSuffix("on \(failed) failed") })
        #expect(problems.count == 2, "\(problems)")

        let nights = json["nights"] as? [[String: Any]] ?? []
        #expect(nights.count == 365)
        #expect(json["since"] as? String == "2026-01-01" && json["until"] as? String == "2026-12-31")
        func status(_ date: String) -> String? { nights.first { $0["date"] as? String == date }?["status"] as? String }
        #expect(status(missing) == "missing" && status(failed) == "failed" && status(recovered) == "recovered")
        #expect(nights.filter { $0["status"] as? String == "completed" }.count == 362)

        // The counts are the manifests' own, summed.
        let files = try Verifier.files(in: [year.manifests])
        let manifests = try files.map { try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: $0))).payload) }
        #expect(manifests.count == 364)
        let policy = try #require((json["policies"] as? [[String: Any]])?.first)
        let purged = manifests.flatMap(\.policies).reduce(Int64(0)) { $0 + $1.rows }
        // Kept rows are counted again by every run: the report gives the last run's and the most of one night.
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

        // The policy's versions, each from the night a run first used it.
        let register = json["register"] as? [[String: Any]] ?? []
        #expect(register.map { ($0["version"] as? NSNumber)?.intValue } == [1, 2])
        #expect(register.last?["since"] as? String == year.specials["version"]?.first)
        // Only the file of the recorded digest gives a description: version 1's file is gone.
        #expect(register.first?["description"] == nil && register.last?["description"] is String)

        // Holds from the ledger: a patron hold shows as "one patron", never who.
        let holds = json["holds"] as? [[String: Any]] ?? []
        #expect(holds.count == 2)
        #expect(holds.first?["scope"] as? String == "one patron, policy visits")
        #expect(holds.last?["scope"] as? String == "policy visits, library NORTH")
        #expect((holds.last?["released_at"] as? String)?.hasPrefix(year.specials["release"]?.first ?? "-") == true)

        // No personal data: no patron, no row value.
        for text in [year.ledgerJSON, year.ledgerHTML] {
            #expect(!text.contains("900007") && !text.contains("YEAR-CANARY") && !text.contains("LATE-CANARY"))
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
        var (status, json, _) = try year.report(june, manifests: tampered)
        #expect(status == 1 && verdict(json).state == "failed")
        #expect(verdict(json).problems.contains { $0.hasPrefix((victim as NSString).lastPathComponent) && $0.contains("bad signature") },
                "\(verdict(json).problems)")

        // Removed: the night is missing and the next manifest has no predecessor.
        let removed = try year.copyOfManifests()
        let gone = try file(removed, "20260615")
        try FileManager.default.removeItem(atPath: gone)
        (status, json, _) = try year.report(june, manifests: removed)
        #expect(status == 1 && verdict(json).problems.contains("no run on 2026-06-15"), "\(verdict(json).problems)")
        #expect(verdict(json).problems.contains { $0.hasPrefix("20260616") }, "\(verdict(json).problems)")

        // Signed with another key: named as such.
        let foreign = try year.copyOfManifests()
        let other = FileManager.default.temporaryDirectory.appendingPathComponent("retention-other-\(UUID().uuidString.prefix(8))")
        let otherKey = try SigningKeys.loadPrivateKey(path: try SigningKeys.generate(in: other.path).privateKeyPath)
        let resigned = try file(foreign, "20260620")
        let original = try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath: resigned)))
        try otherKey.sign(payloadType: original.payloadType, payload: original.payload).fileData().write(to: URL(fileURLWithPath: resigned))
        (status, json, _) = try year.report(june, manifests: foreign)
        #expect(status == 1)
        #expect(verdict(json).problems.contains { $0.hasPrefix("20260620") && $0.contains("signed by another key") }, "\(verdict(json).problems)")
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
        let out = folder.appendingPathComponent("r.html").path
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
        #expect(dom.stdout.contains("<p class=\"verdict bad\" id=\"verdict-line\"><strong>failed:</strong>"))
        for section in ["verdict", "nights", "purged", "kept", "schedule", "holds", "policies", "elsewhere", "appendix", "signoff"] {
            #expect(dom.stdout.contains("<section id=\"\(section)\""), "section \(section)")
        }
        let printed = try runProcess("/usr/bin/chromium", offline + ["--no-pdf-header-footer", "--print-to-pdf=\(pdf)", "file://\(page)"])
        #expect(printed.status == 0 && FileManager.default.fileExists(atPath: pdf), "\(printed.stderr.suffix(500))")
        let info = try runProcess("/usr/bin/pdfinfo", [pdf])
        let pages = info.stdout.split(separator: "\n").first { $0.hasPrefix("Pages:") }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        #expect(pages > 1)
        let text = try runProcess("/usr/bin/pdftotext", ["-layout", pdf, "-"])
        #expect(text.stdout.contains("failed:") && text.stdout.contains("Retention report: 2026-01-01 to 2026-12-31"))
        #expect(text.stdout.contains("Prepared by:"))
        // A picture for a person to look at (kept out of git: it is in the test's temporary folder).
        _ = try runProcess("/usr/bin/chromium", offline + ["--screenshot=\(shot)", "--window-size=1100,3000", "file://\(page)"])
        #expect(FileManager.default.fileExists(atPath: shot))
    }
}
