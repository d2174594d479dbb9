import Foundation
import Testing
@testable import RetentionCore

/// Hostile passes 14 and 15: a nightly `run --only` that purged some policies and never the others
/// while status said OK and the report said verified; holds edited between runs, a window moved
/// within its first day, a release backdated; an authority that hangs or answers without end.
@Suite struct HostileInputVITests {
    @Test func aNightlyRunWithOnlyIsNotReportedAsAKeptSchedule() throws {
        let (db, policies) = try ManifestTests().withRuns(0)
        let only = try db.retention(["run", "--policies", policies.url.path, "--only", "event-attendance", "--quiet"])
        #expect(only.status == 0, "\(only.output)")
        // The manifest names what --only left out.
        let manifest = try Manifest(payload: try DSSEEnvelope(fileData: try Data(contentsOf: URL(fileURLWithPath:
            try #require(try Verifier.files(in: [db.manifestFolder]).last)))).payload)
        #expect(manifest.leftOut == ["computer-signups", "loan-history"], "\(manifest.options)")
        let status = try db.retention(["status", "--policies", policies.url.path, "--log-format", "text"])
        #expect(status.status == 1, "\(status.output)")
        #expect(status.stdout.hasPrefix("RETENTION WARNING: policy computer-signups of the policy folder has not been applied by any run ever")
                && status.stdout.contains("warning: policy loan-history of the policy folder has not been applied by any run ever"),
                "\(status.stdout)")
        let out = db.files.appendingPathComponent("report.json").path
        let report = try db.retention(["report", "--manifests", db.manifestFolder, "--format", "json", "--out", out])
        #expect(report.status == 1 && report.stdout.hasPrefix("not verified: "), "\(report.output)")
        #expect(try String(contentsOfFile: out, encoding: .utf8).contains(
            "policies computer-signups, loan-history left out of the night's run (run --only): not purged that night"))

        // A full run the same night applies them: the schedule is kept after all, and status no longer warns of them.
        #expect(try db.retention(["run", "--policies", policies.url.path, "--quiet"]).status == 0)
        let after = try db.retention(["status", "--policies", policies.url.path, "--log-format", "text"])
        #expect(!after.stdout.contains("has not been applied"), "\(after.stdout)")
        let again = try db.retention(["report", "--manifests", db.manifestFolder, "--format", "json", "--out", out])
        #expect(!(try String(contentsOfFile: out, encoding: .utf8)).contains("left out of the night's run"), "\(again.output)")
    }

    /// The officer's mix-ups: an empty folder to witness, her public key given as her key, a
    /// checkpoint folder whose only checkpoint another key signed; each said in words that fit.
    @Test func witnessMixUpsAreNamedForWhatTheyAre() throws {
        let (db, _) = try ManifestTests().withRuns(1)
        let officer = try SigningKeys.generate(in: db.files.appendingPathComponent("officer").path)
        let state = db.files.appendingPathComponent("checkpoints").path
        let empty = db.files.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let none = try db.retention(["witness", "--key", officer.privateKeyPath, "--state", state, empty])
        #expect(none.status == 1 && none.stdout.contains("no manifest files in ") && none.stdout.contains("nothing to witness"),
                "\(none.output)")
        let publicKey = try db.retention(["witness", "--key", officer.publicKeyPath, "--state", state, db.manifestFolder])
        #expect(publicKey.status == 78 && publicKey.stderr.contains("is a public key; give the private key"), "\(publicKey.output)")
        // A checkpoint signed by another key: not "nothing witnessed yet".
        let stranger = try SigningKeys.generate(in: db.files.appendingPathComponent("stranger").path)
        #expect(try db.retention(["witness", "--key", stranger.privateKeyPath, "--state", state, db.manifestFolder]).status == 0)
        let foreign = try db.retention(["verify", "--witness-key", officer.publicKeyPath, "--checkpoints", state, db.manifestFolder])
        #expect(foreign.status == 1 && foreign.stdout.contains("no checkpoint in the folder that this key signed")
                && !foreign.stdout.contains("nothing witnessed yet"), "\(foreign.output)")
    }

    /// A hold edited between two runs (its patron, a window's start moved within its first day) holds
    /// nothing of what it held, and the next run records the edited hold: caught from the manifests
    /// alone, and against the database; a release dated before a run that recorded the hold in force too.
    @Test func holdsEditedBetweenRunsOrReleasedBackdatedAreCaught() throws {
        let (db, policies) = try HoldTests().prepared()
        let day = try #require(try db.strings("SELECT to_char(now() - interval '20 days', 'YYYY-MM-DD')").first ?? nil)
        let next = try #require(try db.strings("SELECT to_char(now() - interval '19 days', 'YYYY-MM-DD')").first ?? nil)
        for arguments in [["--reference", "CV-2026-7", "--reason", "subpoena", "--patron", "4"],
                          ["--reference", "Window W", "--reason", "audit", "--policy", "visits", "--from", day, "--until", next]] {
            let placed = try db.retention(["hold", "place", "--policies", policies.url.path] + arguments)
            #expect(placed.status == 0, "\(placed.output)")
        }
        let run = ["run", "--policies", policies.url.path, "--quiet"]
        #expect(try db.retention(run).status == 0)
        // The window's start moved to the last second of its first day: the days shown are the same.
        try db.sql("UPDATE retention.holds SET held_from = held_from + interval '23 hours 59 minutes' WHERE id = 2")
        let moved = try db.retention(["verify", "--ledger", db.manifestFolder])
        #expect(moved.status == 1 && moved.stdout.contains("hold 2 (Window W) differs from the database's: its patron, library or window "
                                                           + "was changed after this run"), "\(moved.output)")
        try db.sql("UPDATE retention.holds SET patron = '3' WHERE id = 1")
        #expect(try db.retention(run).status == 0)
        // The second run recorded the edited holds: the manifests alone show it.
        let history = try db.retention(["verify", db.manifestFolder])
        #expect(history.status == 1 && history.stdout.contains("hold 1 (CV-2026-7): its record changed between the runs")
                && history.stdout.contains("hold 2 (Window W): its record changed between the runs")
                && history.stdout.contains("manifest 1 recorded it otherwise"), "\(history.output)")
        // A release dated before the runs that recorded the hold in force.
        let (other, otherPolicies) = try HoldTests().prepared()
        #expect(try other.retention(["hold", "place", "--policies", otherPolicies.url.path, "--reference", "R", "--reason", "r",
                                     "--patron", "2"]).status == 0)
        #expect(try other.retention(["run", "--policies", otherPolicies.url.path, "--quiet"]).status == 0)
        #expect(try other.retention(["hold", "release", "1"]).status == 0)
        #expect(try other.retention(["verify", "--ledger", other.manifestFolder]).status == 0)
        try other.sql("UPDATE retention.holds SET released_at = '2020-01-01' WHERE id = 1")
        let backdated = try other.retention(["verify", "--ledger", other.manifestFolder])
        #expect(backdated.status == 1 && backdated.stdout.contains("though the run recorded it in force: its release was backdated"),
                "\(backdated.output)")
    }

    /// A night stopped at its row cap, then a `run --only` of another policy: the first night's
    /// rows are not "purged by" the second, and status still shows them due.
    @Test func aLaterRunOfOtherPoliciesDoesNotCatchUpWithAStoppedNight() throws {
        let (db, policies) = try ManifestTests().withRuns(0)
        #expect(try db.retention(["run", "--policies", policies.url.path, "--quiet", "--max-rows", "1"]).status == 0)
        #expect(try db.retention(["run", "--policies", policies.url.path, "--quiet", "--only", "event-attendance"]).status == 0)
        let status = try db.retention(["status", "--policies", policies.url.path, "--log-format", "text"])
        #expect(status.status == 1 && status.stdout.contains("rows still due after run 1"), "\(status.output)")
        let out = db.files.appendingPathComponent("report.json").path
        let report = try db.retention(["report", "--manifests", db.manifestFolder, "--format", "json", "--out", out])
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(report.status == 1 && text.contains("its rows were still due at the end of the period") && !text.contains("purged by run 2"),
                "\(report.output)")
    }

    /// An authority that takes the request and never answers, or announces 3 GB: the run waits one
    /// timeout at most, asks no further authority this run, reads no more than 1 MiB, and exits 0.
    @Test func anAuthorityThatHangsOrAnswersWithoutEndDoesNotHoldTheRun() throws {
        let (db, policies) = try ManifestTests().withRuns(0)
        let run = ["run", "--policies", policies.url.path]
        #expect(try db.retention(run + ["--tsa-url", "http://127.0.0.1:1/"]).status == 0)
        let hanging = try TestAuthority(in: db.files, mode: "--hang")
        let slow = try db.retention(run + ["--tsa-url", hanging.url, "--log-format", "text"])
        #expect(slow.status == 0 && slow.stderr.contains("did not answer within 20 s") && slow.stderr.contains("manifests.not_asked=1"),
                "\(slow.output)")
        let huge = try TestAuthority(in: db.files, mode: "--huge")
        let big = try db.retention(run + ["--tsa-url", huge.url])
        #expect(big.status == 0 && big.stderr.contains("sent a response larger than 1 MiB"), "\(big.output)")
        // A link in the token's place: not "timestamped", and counted.
        let metrics = db.files.appendingPathComponent("retention.prom").path
        let authority = try TestAuthority(in: db.files, reuse: hanging)
        let files = try Verifier.files(in: [db.manifestFolder])
        for file in files { try? FileManager.default.removeItem(atPath: ManifestTimestamps.tokenPath(for: file)) }
        #expect(try db.retention(run + ["--tsa-url", authority.url, "--quiet"]).status == 0)
        let newest = try #require(try Verifier.files(in: [db.manifestFolder]).last)
        try FileManager.default.removeItem(atPath: ManifestTimestamps.tokenPath(for: newest))
        _ = try db.retention(run + ["--quiet"])
        let last = try #require(try Verifier.files(in: [db.manifestFolder]).last)
        try FileManager.default.createSymbolicLink(atPath: ManifestTimestamps.tokenPath(for: last), withDestinationPath: "/nonexistent/x")
        let blocked = try db.retention(run + ["--tsa-url", authority.url, "--metrics-file", metrics, "--only", "event-attendance"])
        #expect(blocked.stderr.contains("named like its token is in the way"), "\(blocked.output)")
    }

    /// A password in the authority's address is never shown: not by `config`, not in a refusal.
    @Test func theAuthoritysPasswordIsNeverShown() throws {
        let db = try TestDatabase(reference: false)
        let config = try db.retention(["config"], environment: ["RETENTION_TSA_URL": "http://alice:S3cretPW@127.0.0.1/tsa"])
        #expect(config.status == 0 && config.stdout.contains("http://127.0.0.1/tsa") && !config.output.contains("S3cretPW"), "\(config.output)")
        let refused = try db.retention(["config", "--log-format", "text"], environment: ["RETENTION_TSA_URL": "ftp://alice:S3cretPW@127.0.0.1/"])
        #expect(refused.status == 78 && !refused.output.contains("S3cretPW"), "\(refused.output)")
    }

    /// A hold the last run recorded in force, deleted (to be put back after a night) or released
    /// with a date before that run: the next run refuses before it changes anything; a manifest
    /// re-signed without a hold that the one before recorded in force is caught from the files alone.
    @Test func aHoldThatDropsOutOfTheRecordIsRefusedAndCaught() throws {
        let (db, policies) = try HoldTests().prepared()
        #expect(try db.retention(["hold", "place", "--policies", policies.url.path, "--reference", "CV-9", "--reason", "r",
                                  "--patron", "4"]).status == 0)
        let run = ["run", "--policies", policies.url.path, "--quiet"]
        #expect(try db.retention(run).status == 0)
        try db.sql("CREATE TABLE saved_hold AS SELECT * FROM retention.holds; DELETE FROM retention.holds")
        let before = try db.int("SELECT count(*) FROM public.visits")
        let refused = try db.retention(run)
        #expect(refused.status == 78 && refused.stderr.contains("hold 1 (CV-9), in force at the last run (manifest 1), is no longer in force")
                && refused.stderr.contains("nothing was changed"), "\(refused.output)")
        try db.sql("INSERT INTO retention.holds OVERRIDING SYSTEM VALUE SELECT * FROM saved_hold")
        try db.sql("UPDATE retention.holds SET released_at = placed_at, released_by = 'postgres'")
        #expect(try db.retention(run).status == 78)
        #expect(try db.int("SELECT count(*) FROM public.visits") == before)
        try db.sql("UPDATE retention.holds SET released_at = NULL, released_by = NULL")
        #expect(try db.retention(run).status == 0)
        // The batch key re-signs manifest 2 without the hold: the files alone show it.
        try WitnessTests().rewriteChain(db.manifestFolder, from: 2, key: try SigningKeys.loadPrivateKey(path: db.signingKeyPath)) { payload in
            payload["holds"] = .array([])
        }
        let verify = try db.retention(["verify", db.manifestFolder])
        #expect(verify.status == 1 && verify.stdout.contains("hold 1 (CV-9), in force at manifest 1, is missing here: deleted or released "
                                                             + "backdated between the runs"), "\(verify.output)")
    }

    /// Pass 17: a policy that now dates its rows by another column moves every window hold on it;
    /// a release (or a placing) dated after the database's clock ends a hold now while the record
    /// shows it in force. Both are refused before anything changes.
    @Test func aWindowHoldsAgeColumnChangedOrAHoldDatedAheadIsRefused() throws {
        let (db, policies) = try HoldTests().prepared()
        try db.sql("ALTER TABLE visits ADD COLUMN seen2 timestamptz; UPDATE visits SET seen2 = seen - interval '3 days'")
        let day = try #require(try db.strings("SELECT to_char(now() - interval '20 days', 'YYYY-MM-DD')").first ?? nil)
        let next = try #require(try db.strings("SELECT to_char(now() - interval '19 days', 'YYYY-MM-DD')").first ?? nil)
        #expect(try db.retention(["hold", "place", "--policies", policies.url.path, "--reference", "W-1", "--reason", "r",
                                  "--policy", "visits", "--from", day, "--until", next]).status == 0)
        #expect(try db.retention(["run", "--policies", policies.url.path, "--quiet"]).status == 0)
        let text = try String(contentsOf: policies.url.appendingPathComponent("visits.yaml"), encoding: .utf8)
        let moved = try PolicyFolder(["visits.yaml": text.replacingOccurrences(of: "age: seen\n", with: "age: seen2\n")
            .replacingOccurrences(of: "version: 1\n", with: "version: 2\n")])
        let before = try db.int("SELECT count(*) FROM public.visits")
        for command in ["plan", "run"] {
            let refused = try db.retention([command, "--policies", moved.url.path])
            #expect(refused.status == 78 && refused.output.contains("hold 1's window was matched against column seen of public.visits "
                                                                   + "when it was placed; policy visits now dates its rows by seen2"),
                    "\(command): \(refused.output)")
        }
        #expect(try db.int("SELECT count(*) FROM public.visits") == before)
        // A release dated five years ahead: the purge would take it as released tonight.
        #expect(try db.retention(["hold", "place", "--policies", policies.url.path, "--reference", "P-2", "--reason", "r",
                                  "--patron", "3"]).status == 0)
        #expect(try db.retention(["run", "--policies", policies.url.path, "--quiet"]).status == 0)
        try db.sql("UPDATE retention.holds SET released_at = now() + interval '5 years', released_by = 'postgres' WHERE id = 2")
        let ahead = try db.retention(["run", "--policies", policies.url.path])
        #expect(ahead.status == 78 && ahead.stderr.contains("hold 2 (P-2) is placed or released at a time after the database's clock"),
                "\(ahead.output)")
        #expect(try db.int("SELECT count(*) FROM public.visits") == before)
    }
}
