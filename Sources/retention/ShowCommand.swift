import ArgumentParser
import Foundation
import Logging
import RetentionCore

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prints one manifest for a person: when, status, and per policy what was purged and kept.",
        discussion: """
            Says whether the signature verified (with --public-key). --schema prints the JSON Schema of \
            a manifest's payload instead. Exit: 0 shown, 1 signature does not verify, 78 unreadable.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var key: PublicKeyOptions

    @Flag(help: "Print the manifest's payload as JSON.")
    var json = false

    @Flag(help: "Print the JSON Schema (draft 2020-12) of a manifest's payload, and nothing else.")
    var schema = false

    @Argument(help: "The manifest file, or a folder of them (its newest is shown).")
    var manifest: String?

    func validate() throws {
        if schema && (manifest != nil || json) { throw ValidationError("--schema takes no manifest and no --json") }
        if !schema && manifest == nil { throw ValidationError("give the manifest file to show (or --schema)") }
    }

    func run() throws {
        if schema {
            print(Manifest.jsonSchema, terminator: "")
            return
        }
        let (settings, logger) = try global.begin(key)
        try perform(logger) {
            // A folder: its newest manifest (names start with the run's time and sequence).
            var path = manifest ?? ""
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                guard let newest = names.filter({ $0.hasSuffix(".manifest.json") }).sorted().last else {
                    throw UsageError("no manifest in the folder \(visible(path))", exitCode: .config)
                }
                path = (path as NSString).appendingPathComponent(newest)
            }
            let shown = try ManifestReading.read(path: path, publicKeyPath: settings.publicKey)
            print(json ? ManifestRendering.json(shown.manifest, signature: shown.signature)
                       : ManifestRendering.text(shown.manifest, path: path, signature: shown.signature), terminator: "")
            if case .failed = shown.signature { throw ExitCode(ExitStatus.failure.rawValue) }
        }
    }
}
