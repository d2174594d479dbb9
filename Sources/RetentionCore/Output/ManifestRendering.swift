import Foundation

/// Renders one manifest for a compliance officer: when, what status, and per policy what was purged and kept.
public enum ManifestRendering {
    /// What `retention show` says about the signature.
    public enum SignatureState: Sendable {
        case verified(keyID: String)
        case failed(String)
        case notChecked
    }

    public static func text(_ manifest: Manifest, path: String, signature: SignatureState) -> String {
        var out = "Manifest \(visible(path))\n"
        switch signature {
        case .verified(let keyID): out += "Signature:  verified (key \(keyID.prefix(16))...)\n"
        case .failed(let reason): out += "Signature:  NOT VERIFIED: \(reason)\n"
        case .notChecked: out += "Signature:  not checked (give --public-key FILE, RETENTION_PUBLIC_KEY or public_key in the config file)\n"
        }
        out += "Run:        \(manifest.runID), sequence \(manifest.sequence), status \(visible(manifest.status))"
            + " (\(statusMeaning(manifest)))\n"
        if !manifest.leftOut.isEmpty {
            out += "Left out:   \(manifest.leftOut.map(visible).joined(separator: ", ")) (run --only: this run did not apply them)\n"
        }
        out += "Database:   \(visible(manifest.databaseName))"
            + (manifest.database.oid.map { " (oid \($0))" } ?? "")
            + (manifest.systemIdentifier.map { " (system identifier \($0))" } ?? "") + "\n"
        if let error = manifest.error { out += "Error:      \(visible(error))\n" }
        out += "Started:    \(visible(manifest.startedAt)) (database clock)\n"
        out += "Finished:   \(visible(manifest.finishedAt))\n"
        out += "Tool:       retention \(visible(manifest.toolVersion))\n"
        out += "Previous:   " + (manifest.previousSHA256.map { "SHA-256 \(visible($0))" } ?? "none (first manifest of this database)") + "\n"
        for policy in manifest.policies {
            let verb = policy.action == "anonymize" ? "anonymized" : "deleted"
            out += "\n\(visible(policy.name)) v\(policy.version): \(visible(policy.action)) \(visible(policy.table)), "
                + "retain \(visible(policy.retain)), cutoff \(visible(policy.cutoff))\n"
            out += "  policy file SHA-256 \(visible(policy.fileSHA256))\n"
            let counts = policy.counts
            out += "  \(TextTable.grouped(counts.rows)) rows \(verb) in \(policy.batches) "
                + "\(policy.batches == 1 ? "batch" : "batches"); kept: "
                + KeptReason.allCases.map { "\(TextTable.grouped(counts[$0])) \($0.phrase)" }.joined(separator: ", ") + "\n"
            if let stillDue = policy.remaining.stillDue {
                out += "  still due after the run: \(TextTable.grouped(stillDue))"
                    + (policy.remaining.oldestDueDays.map { ", the oldest \($0) days old" } ?? "") + "\n"
            } else if manifest.manifestVersion >= Remaining.manifestVersion {
                out += "  still due after the run: not counted (unknown, not 0)\n"
            }
            if !policy.cascaded.isEmpty {
                // Rows other tables lost or gained through declared cascades and triggers: as much a
                // part of the purge as its own rows.
                out += "  also changed in other tables (declared cascades and triggers): "
                    + policy.cascaded.sorted { $0.key < $1.key }.map { "\(visible($0.key)) \(TextTable.grouped($0.value))" }
                        .joined(separator: ", ") + "\n"
            }
            if let maintenance = policy.maintenance {
                out += "  afterwards: \(visible(maintenance.method)) (\(maintenance.ms) ms)\n"
            }
            if policy.libraries.count > 1 || policy.libraries.first?.library != nil {
                let header = ["library", "retain", "cutoff", verb] + KeptReason.allCases.map(\.heading) + ["batches"]
                let rows = policy.libraries.map { library in
                    [library.library.map(visible) ?? "(none)", visible(library.period.retain), visible(library.period.cutoff),
                     TextTable.grouped(library.counts.rows)]
                        + KeptReason.allCases.map { TextTable.grouped(library.counts[$0]) } + ["\(library.batches)"]
                }
                out += TextTable.render(header: header, rows: rows, rightAligned: Set(3..<header.count))
            }
        }
        if let gap = manifest.gap {
            out += "\nThe database was restored from a backup: its ledger had written manifests up to sequence "
                + (gap.ledgerSequence.map(String.init) ?? "none") + ", the chain had reached sequence \(gap.chainSequence) "
                + "(SHA-256 \(visible(gap.chainSHA256))), so \(gap.runsLost) \(gap.runsLost == 1 ? "run is" : "runs are") in the "
                + "manifests but no longer in the database. Before the restore the chain named database "
                + "\(gap.previousDatabase.described). The chain goes on from here.\n"
        } else if manifest.policies.isEmpty {
            out += "\nNo policies were applied.\n"
        }
        return out
    }

    /// The payload itself, pretty-printed with sorted keys, for programs.
    /// The manifest's payload as signed, and what `show` found of its signature: `{"manifest": ...,
    /// "signature": {"state": "verified" | "failed" | "not checked", "key_id" | "problem"}}`.
    public static func json(_ manifest: Manifest, signature: SignatureState) -> String {
        var state: [String: JSONValue]
        switch signature {
        case .verified(let keyID): state = ["state": .string("verified"), "key_id": .string(keyID)]
        case .failed(let problem): state = ["state": .string("failed"), "problem": .string(problem)]
        case .notChecked: state = ["state": .string("not checked")]
        }
        let payload = (try? JSONValue.parse(manifest.payload)) ?? .null
        return JSONOutput.text(JSONValue.object(["manifest": payload, "signature": .object(state)]))
    }

    static func statusMeaning(_ manifest: Manifest) -> String {
        switch manifest.status {
        case "completed": return "every policy ran to the end"
        // Why, as the report says it: the row cap or the time limit.
        case "stopped": return (ReportProblems.cause(of: manifest) ?? "stopped") + "; the next run continues"
        case "interrupted": return "stopped by a signal after finishing a batch"
        case "failed": return "failed during the purge; the counts are those of the committed batches"
        case "recovered": return "the run died; this manifest was written later from the ledger"
        case "restored": return "no purge: records that the database was restored from a backup behind its manifests"
        default: return "unknown status"
        }
    }
}
