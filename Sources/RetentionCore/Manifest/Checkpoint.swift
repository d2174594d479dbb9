import Foundation

/// A compliance officer's signed record that she saw the manifest chain up to one manifest, made
/// with her own key on her own machine (`retention witness`).
///
/// The batch machine's key can re-sign any manifest, and its database's ledger belongs to the same
/// administrator; a checkpoint does not. Each records the file SHA-256 of every manifest it saw for
/// the first time, so a manifest re-signed, replaced or removed after it was witnessed is named by
/// its sequence, without the batch machine's key or database. A DSSE envelope like a manifest's,
/// checkable with OpenSSL the same way.
public struct Checkpoint: Codable, Sendable, Equatable {
    public static let payloadType = "application/vnd.retention.checkpoint.v1+json"

    /// A manifest as the checkpoint saw it.
    public struct Seen: Codable, Sendable, Equatable {
        public var sequence: Int64
        public var sha256: String
    }

    public var checkpointVersion: Int64 = 1
    /// This checkpoint's number in the officer's folder (1, 2, ...) and the file SHA-256 of the one before.
    public var number: Int64
    public var previousSHA256: String?
    /// The key id of the batch key that signed the manifests.
    public var manifestKeyID: String
    /// The head of the chain: the newest manifest's sequence, its file SHA-256 and its night (UTC).
    public var sequence: Int64
    public var manifestSHA256: String
    public var lastNight: String
    /// How many manifests the chain held, and the first one's night.
    public var manifests: Int64
    public var firstNight: String
    /// When it was made, by the witnessing machine's clock (UTC).
    public var madeAt: String
    /// The manifests seen for the first time (after the previous checkpoint's head), oldest first.
    public var seen: [Seen]

    enum CodingKeys: String, CodingKey {
        case number, sequence, manifests, seen
        case checkpointVersion = "checkpoint_version"
        case previousSHA256 = "previous_sha256"
        case manifestKeyID = "manifest_keyid"
        case manifestSHA256 = "manifest_sha256"
        case lastNight = "last_night"
        case firstNight = "first_night"
        case madeAt = "made_at"
    }

    // Every member is written, `null` included, so a checkpoint always has the same members.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(checkpointVersion, forKey: .checkpointVersion)
        try container.encode(number, forKey: .number)
        try container.encode(previousSHA256, forKey: .previousSHA256)
        try container.encode(manifestKeyID, forKey: .manifestKeyID)
        try container.encode(sequence, forKey: .sequence)
        try container.encode(manifestSHA256, forKey: .manifestSHA256)
        try container.encode(lastNight, forKey: .lastNight)
        try container.encode(manifests, forKey: .manifests)
        try container.encode(firstNight, forKey: .firstNight)
        try container.encode(madeAt, forKey: .madeAt)
        try container.encode(seen, forKey: .seen)
    }

    /// The file name: `checkpoint-000004.json`, so `ls` lists them in order.
    public var fileName: String { String(format: "checkpoint-%06lld.json", number) }

    /// The night a checkpoint was made, for sentences: `2026-03-01`.
    public var madeOn: String { String(madeAt.prefix(10)) }
}

/// What an officer's checkpoints say of a manifest folder: the newest checkpoint, and every
/// manifest that changed or went missing since it was witnessed.
public struct WitnessFindings: Sendable {
    /// One manifest that is no longer as witnessed: its sequence, the night it stood for, and why.
    public struct Change: Sendable, Equatable {
        public var sequence: Int64
        public var night: String?
        public var file: String?
        public var text: String
    }

    public var latest: Checkpoint?
    /// Problems of the checkpoint folder itself (a checkpoint not signed by the key, a gap).
    public var folderProblems: [String]
    public var changes: [Change]
    public var witnessKeyID: String

    /// `witnessed up to manifest 42 of 2026-02-11 (checkpoint 4, made 2026-02-12) by key ab12...`.
    public var summary: String {
        guard let latest else {
            return folderProblems.isEmpty ? "no checkpoint in the folder: nothing witnessed yet"
                : "no checkpoint in the folder that this key signed and that fits the others: nothing shown as witnessed"
        }
        return "witnessed up to manifest \(latest.sequence) of \(latest.lastNight) (checkpoint \(latest.number), made "
            + "\(latest.madeOn)) by key \(witnessKeyID.prefix(16))…"
    }

    public var isClean: Bool { folderProblems.isEmpty && changes.isEmpty }
}
