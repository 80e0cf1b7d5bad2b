import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceWitness

/// `retrace keygen NAME`: a new Ed25519 key pair in the C2SP signed-note formats.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create a key pair: NAME.key (private, mode 0600) and NAME.pub."
    )

    @Argument(help: "The key name, e.g. northwind.example (no '+', spaces or control characters).")
    var name: String
    @Option(help: "Directory to write the files into (created if missing).")
    var out: String = "."
    @Flag(help: "Overwrite existing key files.")
    var force = false
    @Flag(
        help: "Make a witness's cosigner key (C2SP tlog-cosignature/v1, signature type 0x04) instead of a signing key."
    )
    var cosigner = false
    @OptionGroup var output: JSONFlag

    func run() throws {
        let keyText: String
        let verifierText: String
        let fingerprint: String
        if cosigner {
            let signer: CosignerSigner
            do { signer = try CosignerSigner.generate(name: name) } catch {
                throw CLIError.usage("invalid key name: \(error.reason)")
            }
            (keyText, verifierText) = (signer.privateKeyText, signer.verifier.description)
            fingerprint = Hex.encode(
                SHA256.hash([CosignerVerifier.algorithm] + signer.verifier.publicKey.rawRepresentation)
            )
        } else {
            let signer: NoteSigner
            do { signer = try NoteSigner.generate(name: name) } catch {
                throw CLIError.usage("invalid key name: \(error.reason)")
            }
            (keyText, verifierText) = (signer.privateKeyText, signer.verifier.description)
            fingerprint = Hex.encode(signer.verifier.publicKey.fingerprint)
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CLIError.usage("--out \(out) is a file, not a directory") }
        } else {
            // A new party's key folder is made here rather than sending the user off to mkdir first.
            do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
                throw CLIError.usage("cannot create the directory \(out): \(error.localizedDescription)")
            }
        }
        let base = name.replacingOccurrences(of: "/", with: "_")
        let keyPath = (out as NSString).appendingPathComponent(base + ".key")
        let pubPath = (out as NSString).appendingPathComponent(base + ".pub")
        if !force {
            for path in [keyPath, pubPath] where FileManager.default.fileExists(atPath: path) {
                throw CLIError.usage("\(path) already exists; choose another name or pass --force")
            }
        }
        try LedgerAccess.writeNew(keyPath, Array((keyText + "\n").utf8), mode: 0o600, force: force)
        try LedgerAccess.writeNew(pubPath, Array((verifierText + "\n").utf8), force: force)
        if output.json {
            try Output.json(
                .object([
                    "name": .string(name), "verifierKey": .string(verifierText),
                    "fingerprint": .string(fingerprint), "privateKeyFile": .string(keyPath),
                    "publicKeyFile": .string(pubPath),
                ])
            )
        } else {
            Output.print(
                Output.fields([
                    ("private key", "\(keyPath) (mode 0600; keep it secret)"), ("public key", pubPath),
                    ("verifier", verifierText), ("fingerprint", fingerprint),
                ])
            )
        }
    }
}
