import ArgumentParser
import Foundation
import Logging
import RetentionCore

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Makes an Ed25519 key pair for signing manifests (PKCS#8 / SPKI PEM; private key mode 0600).",
        discussion: """
            Writes DIR/retention-signing.pem (keep it on the machine that runs `retention run`, readable by \
            its user only) and DIR/retention-public.pem (give it to whoever verifies manifests). Never \
            overwrites a key; creates the folder (mode 0700) when it is missing. Exit: 0, 78 (the folder cannot be made, or a key is already there).
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Folder for the key pair.", valueName: "dir"))
    var out: String

    func run() throws {
        let (_, logger) = try global.begin()
        try perform(logger) {
            let generated = try SigningKeys.generate(in: out)
            print("private key: \(visible(generated.privateKeyPath)) (mode 0600)")
            print("public key:  \(visible(generated.publicKeyPath))")
            print("key id:      \(generated.keyID)")
        }
    }
}
