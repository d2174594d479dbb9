import ArgumentParser
import Foundation
import Logging
import RetentionCore

struct Witness: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The compliance officer's countersignature: checks the manifest chain and writes a signed checkpoint of it.",
        discussion: """
            Run by the compliance officer with her own key (made once with `retention keygen`, kept off the batch \
            machine), on her own machine or share, weekly for example. It verifies the manifests as `verify` does \
            (with the batch machine's public key), checks that every manifest her earlier checkpoints in DIR saw is \
            still there with the same file SHA-256, and writes the next checkpoint to DIR: the newest manifest's \
            sequence and SHA-256, the first and last night, and every manifest seen for the first time, signed \
            with her key. A manifest re-signed, replaced or removed after she witnessed it is named by its sequence \
            and nothing is written. `retention verify --witness-key` and `retention report --checkpoints` use the \
            checkpoints. Exit: 0 written, 1 the chain does not verify or changed since a checkpoint (nothing written), \
            64, 78 (a key or the folder cannot be read or written).
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var manifestKey: PublicKeyOptions

    @Option(help: ArgumentHelp("The officer's private key (retention keygen), never the batch machine's.", valueName: "file"))
    var key: String

    @Option(help: ArgumentHelp("The folder of the officer's checkpoints (made when missing).", valueName: "dir"))
    var state: String

    @Argument(help: "Manifest files or folders.")
    var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give one or more manifest files or folders") }
        // Her checkpoints must not live where the batch machine's administrator keeps the manifests.
        let state = resolvedPath(self.state)
        for path in paths where resolvedPath(path) == state {
            throw ValidationError("--state is the manifest folder: keep the checkpoints in a folder of your own")
        }
    }

    func run() throws {
        let (settings, logger) = try global.begin(manifestKey)
        try perform(logger) {
            let verifying = try SigningKeys.loadPublicKey(path: try requirePublicKey(settings.publicKey))
            let officer = try SigningKeys.loadPrivateKey(path: key)
            guard officer.keyID != verifying.keyID else {
                throw UsageError("--key is the batch machine's own key: a checkpoint must be signed with the officer's key "
                                 + "(retention keygen --out DIR on her machine)", exitCode: .usage)
            }
            switch try RetentionCore.Witness.witness(paths: paths, manifestKey: verifying, officerKey: officer, state: state) {
            case .written(let checkpoint, let path, let new):
                print("checkpoint \(checkpoint.number) written to \(visible(path)): manifests up to \(checkpoint.sequence) "
                      + "(\(checkpoint.firstNight) to \(checkpoint.lastNight)), \(new) new since the last checkpoint; "
                      + "witnessed by key \(officer.keyID.prefix(16))…")
            case .refused(let problems):
                for problem in problems { print("FAIL  \(problem)") }
                throw ExitCode(ExitStatus.failure.rawValue)
            }
        }
    }
}
