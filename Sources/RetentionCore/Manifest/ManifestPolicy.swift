import Foundation

/// What one policy did in one run: its identity, cutoff and counts, in total and per library.
public struct ManifestPolicy: Codable, Sendable, Equatable {
    public var name: String
    public var version: Int64
    public var fileSHA256: String
    public var table: String
    /// `delete` or `anonymize` (`Policy.Action`), kept as the file's text: a manifest is read back
    /// from disk, and `verify` must show and judge whatever text a file holds, a forged or future one too.
    public var action: String
    public var retain: String
    public var cutoff: String
    public var batches: Int64
    /// What was done to the table after the last batch, or `nil`.
    public var maintenance: Maintenance?
    public var libraries: [ManifestLibrary]
    /// Rows a declared cascade deleted or changed, per table (`schema.table`); from version 2 on.
    public var cascaded: [String: Int64] = [:]
    /// The policy in words (description and rules) as the run applied it; from version 6 on, `nil`
    /// for a run recorded before the ledger kept them.
    public var words: PolicyWords?

    /// The counts of all libraries together; written beside them for the reader's convenience.
    public var counts: Counts { libraries.reduce(Counts()) { $0 + $1.counts } }
    public var rows: Int64 { counts.rows }
    /// What the run left due, over all libraries.
    public var remaining: Remaining { Remaining(libraries.map(\.remaining)) }

    enum CodingKeys: String, CodingKey {
        case name, version, table, action, retain, cutoff, batches, maintenance, libraries, cascaded, description, rules
        case fileSHA256 = "file_sha256"
    }

    init(name: String, version: Int64, fileSHA256: String, table: String, action: String, retain: String,
         cutoff: String, batches: Int64, maintenance: Maintenance? = nil, libraries: [ManifestLibrary],
         cascaded: [String: Int64] = [:], words: PolicyWords? = nil) {
        self.cascaded = cascaded
        self.words = words
        self.name = name
        self.version = version
        self.fileSHA256 = fileSHA256
        self.table = table
        self.action = action
        self.retain = retain
        self.cutoff = cutoff
        self.batches = batches
        self.maintenance = maintenance
        self.libraries = libraries
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        version = try container.decode(Int64.self, forKey: .version)
        fileSHA256 = try container.decode(String.self, forKey: .fileSHA256)
        table = try container.decode(String.self, forKey: .table)
        action = try container.decode(String.self, forKey: .action)
        retain = try container.decode(String.self, forKey: .retain)
        cutoff = try container.decode(String.self, forKey: .cutoff)
        batches = try container.decode(Int64.self, forKey: .batches)
        maintenance = try container.decode(Maintenance?.self, forKey: .maintenance)
        libraries = try container.decode([ManifestLibrary].self, forKey: .libraries)
        if (decoder.userInfo[.manifestVersion] as? Int64 ?? Manifest.currentVersion) >= 2 {
            cascaded = try container.decode([String: Int64].self, forKey: .cascaded)
        }
        if (decoder.userInfo[.manifestVersion] as? Int64 ?? Manifest.currentVersion) >= PolicyWords.manifestVersion {
            let description = try container.decode(String?.self, forKey: .description)
            let rules = try container.decode([String]?.self, forKey: .rules)
            if let description, let rules { words = PolicyWords(description: description, rules: rules) }
        }
        // The totals must equal the sum of the libraries.
        guard try Counts(from: decoder, rowsKey: "rows") == counts, try Remaining(from: decoder) == remaining else {
            throw JSONFormatError("policy \(visible(name)): its totals are not the sums of its libraries")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(version, forKey: .version)
        try container.encode(fileSHA256, forKey: .fileSHA256)
        try container.encode(table, forKey: .table)
        try container.encode(action, forKey: .action)
        try container.encode(retain, forKey: .retain)
        try container.encode(cutoff, forKey: .cutoff)
        try container.encode(batches, forKey: .batches)
        try container.encode(maintenance, forKey: .maintenance)
        try container.encode(libraries, forKey: .libraries)
        if (encoder.userInfo[.manifestVersion] as? Int64 ?? Manifest.currentVersion) >= 2 {
            try container.encode(cascaded, forKey: .cascaded)
        }
        if (encoder.userInfo[.manifestVersion] as? Int64 ?? Manifest.currentVersion) >= PolicyWords.manifestVersion {
            try container.encode(words?.description, forKey: .description)
            try container.encode(words?.rules, forKey: .rules)
        }
        try counts.encode(to: encoder, rowsKey: "rows")
        try remaining.encode(to: encoder)
    }
}

