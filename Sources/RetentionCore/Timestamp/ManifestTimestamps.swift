import Crypto
import Foundation
import Logging
import SwiftASN1
import X509

/// Trusted timestamps of manifests: a token (RFC 3161) from an authority beside each manifest,
/// `NAME.manifest.tsr` (the authority's response, DER), which `openssl ts -verify` checks too.
///
/// A token proves the manifest's bytes existed at the authority's time: a manifest re-signed later
/// with the batch machine's key carries a token for other bytes, a token of a later time, or none.
public enum ManifestTimestamps {
    /// How long runs ask again for a token they could not get, and how late a token may come and
    /// still be only noted (a later run's retry), not failed.
    public static let retryWindow: TimeInterval = 7 * 86_400
    /// A token this long after its run finished is on time (the run's night).
    public static let onTime: TimeInterval = 3_600

    /// The token file beside a manifest file.
    public static func tokenPath(for manifest: String) -> String {
        (manifest.hasSuffix(".json") ? String(manifest.dropLast(5)) : manifest) + ".tsr"
    }

    /// Asks the authority for a token for each manifest in `folder` that lacks one: the newest and those
    /// since the last one stamped, started within `retryWindow`. Never throws: a run's purge is done;
    /// what could not be stamped is logged and returned (metrics), and the next run asks again.
    public static func stampMissing(folder: String, authority: TimestampAuthority, logger: Logger, now: Date = Date()) -> Int {
        let manifests = ((try? Verifier.files(in: [folder])) ?? []).filter { startTime(ofFile: $0) != nil }
            .sorted { ($0 as NSString).lastPathComponent < ($1 as NSString).lastPathComponent }
        let lastStamped = manifests.lastIndex { FileManager.default.fileExists(atPath: tokenPath(for: $0)) }
        let due = manifests.indices.filter { index in
            let recent = startTime(ofFile: manifests[index]).map { now.timeIntervalSince($0) <= retryWindow } ?? false
            return index > (lastStamped ?? -1) && (recent || index == manifests.count - 1)
        }.map { manifests[$0] }
        var missing = 0
        for (index, path) in due.enumerated() {
            let name = visible((path as NSString).lastPathComponent)
            do {
                guard case .success(let bytes) = BoundedFile.read(path, atMost: BoundedFile.largestManifest) else {
                    throw LocalProblem(description: "the manifest cannot be read")
                }
                let (response, time) = try authority.stamp(sha256: Array(SHA256.hash(data: bytes)))
                guard try AtomicFile.write(response, to: tokenPath(for: path), mode: 0o640, naming: .exclusive) == .written else {
                    throw LocalProblem(description: "a file (or a link) named like its token is in the way: "
                                       + "\(visible((tokenPath(for: path) as NSString).lastPathComponent))")
                }
                logger.info("manifest timestamped by \(authority.name)", metadata: [
                    "manifest.file": "\(name)", "timestamp.time": "\(ISO8601DateFormatter().string(from: time))"])
            } catch let problem as LocalProblem {
                // This file's own trouble: the others are still asked for.
                missing += 1
                logger.warning("manifest not timestamped", metadata: ["manifest.file": "\(name)", "error": "\(problem)"])
            } catch {
                missing += due.count - index
                logger.warning("manifest not timestamped; the next run asks again", metadata: [
                    "manifest.file": "\(name)", "error": "\(error)", "manifests.not_asked": "\(due.count - index - 1)"])
                // An authority that failed once is not asked again this run: a run waits for one timeout at most.
                break
            }
        }
        return missing
    }

    /// A manifest or its token's place that cannot be used, whatever the authority.
    private struct LocalProblem: Error, CustomStringConvertible { let description: String }

    /// When the run of a manifest file began, from its name (`20261207T010000Z-000042.manifest.json`).
    static func startTime(ofFile path: String) -> Date? {
        let name = (path as NSString).lastPathComponent
        guard name.count == 37, name.hasSuffix(".manifest.json") else { return nil }
        let strategy = Date.ISO8601FormatStyle(dateSeparator: .omitted, timeSeparator: .omitted)
        return try? Date(String(name.prefix(16)), strategy: strategy)
    }

    /// An instant a manifest records (`2026-12-07T01:00:00.123456Z`), to the second.
    static func instant(_ text: String) -> Date? {
        try? Date(String(text.prefix(19)) + "Z", strategy: .iso8601)
    }
}

extension Verifier {
    /// Checks each verified manifest's token against the authority's CA: a token that does not verify,
    /// is for other bytes, or came long after its run is a problem; one a later run fetched is noted.
    /// From the first manifest with a token on, a manifest without one is a problem once runs have
    /// stopped asking (`retryWindow`); with no token at all the folder is not timestamped, a problem.
    public static func checkTimestamps(_ report: inout VerificationReport, authorities: [Certificate], now: Date = Date()) {
        let order = report.files.indices.filter { report.files[$0].manifest != nil }
            .sorted { report.files[$0].manifest!.sequence < report.files[$1].manifest!.sequence }
        var seenToken = false
        for index in order {
            let manifest = report.files[index].manifest!
            let path = ManifestTimestamps.tokenPath(for: report.files[index].path)
            guard FileManager.default.fileExists(atPath: path) else {
                guard seenToken else { continue }
                let finished = ManifestTimestamps.instant(manifest.finishedAt) ?? now
                if now.timeIntervalSince(finished) <= ManifestTimestamps.retryWindow {
                    report.files[index].notes.append("not timestamped yet: the next run asks the authority again")
                } else {
                    report.files[index].problems.append("no timestamp (.tsr) beside it, though the manifests before it have one: "
                                                        + "it was removed, or the authority was out of reach for over a week")
                }
                continue
            }
            if !seenToken { report.timestampedFrom = manifest.sequence }
            seenToken = true
            switch check(tokenAt: path, manifestSHA256: report.files[index].sha256, manifest: manifest, authorities: authorities) {
            case .success(let note): if let note { report.files[index].notes.append(note) }
            case .failure(let problem): report.files[index].problems.append(problem.description)
            }
        }
        if !seenToken && !order.isEmpty {
            report.general.append("no manifest has a timestamp (.tsr) beside it: are the runs given tsa_url?")
        }
    }

    private struct Problem: Error, CustomStringConvertible { let description: String }

    /// A note for a token a later run fetched, or the token's problem.
    private static func check(tokenAt path: String, manifestSHA256: String, manifest: Manifest,
                              authorities: [Certificate]) -> Result<String?, Problem> {
        let token: TimeStampToken
        do {
            guard case .success(let data) = BoundedFile.read(path, atMost: 1 << 20) else { throw Problem(description: "") }
            guard let node = try TimeStampResponse(derEncoded: Array(data)).token else { throw Problem(description: "") }
            token = try TimeStampToken(node)
        } catch {
            return .failure(Problem(description: "its timestamp \(visible((path as NSString).lastPathComponent)) is not a readable time-stamp response"))
        }
        if let problem = token.problem(trusting: authorities) { return .failure(Problem(description: "its timestamp: \(problem)")) }
        let hex = token.info.imprint.digest.map { String(format: "%02x", $0) }.joined()
        guard token.info.imprint.algorithm.oid == TimeStampOID.sha256, hex == manifestSHA256 else {
            return .failure(Problem(description: "its timestamp is for other bytes: the manifest was changed or replaced after it "
                                    + "was stamped, or the .tsr belongs to another file"))
        }
        let time = token.info.genTime
        let stamped = ISO8601DateFormatter().string(from: time)
        guard let started = ManifestTimestamps.instant(manifest.startedAt), let finished = ManifestTimestamps.instant(manifest.finishedAt) else {
            return .success(nil)
        }
        if time < started - 300 {
            return .failure(Problem(description: "its timestamp (\(stamped)) is earlier than its run began: the clock that recorded the run was wrong"))
        }
        let late = time.timeIntervalSince(finished)
        if late <= ManifestTimestamps.onTime { return .success(nil) }
        let days = String(format: "%.1f", late / 86_400)
        if late <= ManifestTimestamps.retryWindow {
            return .success("timestamped late, at \(stamped), \(days) days after its run (a later run asked again): "
                            + "the token proves the manifest existed from then on, not on its night")
        }
        return .failure(Problem(description: "timestamped at \(stamped), \(days) days after its run finished: later than any run "
                                + "asks again, as a manifest re-signed or stamped after the fact would be"))
    }
}
