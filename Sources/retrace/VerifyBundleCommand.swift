import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceVerification
import RetraceWitness

/// `retrace verify-bundle <file>`: offline verification with only the trust-root keys.
struct VerifyBundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-bundle",
        abstract: "Verify a proof bundle offline with only the trust roots (no database, no network).",
        discussion: "Without --governance-key and --log-key, keys/governance.pub and keys/log.pub are used if present."
    )

    @Argument(help: "The bundle file.")
    var file: String
    @OptionGroup var trust: TrustOptions
    @OptionGroup var freshness: FreshnessOptions
    @OptionGroup var output: JSONFlag

    func run() throws {
        let anchors = try trust.offlineAnchors(quiet: output.json)
        let bytes = try LedgerAccess.readFile(file, what: "bundle")
        let verified: VerifiedBundle
        do { verified = try EvidenceVerifier(anchors: anchors).verify(bytes: bytes) } catch {
            let failure = VerificationMapping.cliError(error)
            // Name the keys used, so a bundle of another ledger checked against the working
            // directory's default keys is not mistaken for a forgery.
            var message =
                failure.message + "; checked with log key \(anchors.logKey.name) and governance key "
                + anchors.governance.map(\.name).joined(separator: ", ")
            if trust.governanceKey == nil || trust.logKey == nil {
                message += " (the default trust roots keys/governance.pub and keys/log.pub of the working directory)"
            }
            if let signers = Self.checkpointSigners(bytes), !signers.contains(anchors.logKey.name) {
                message +=
                    "; the bundle's checkpoint is signed by \(signers.joined(separator: ", ")): "
                    + "pass that ledger's keys with --governance-key and --log-key"
            }
            throw CLIError(failure.exitCode, message)
        }
        // The bundle verified, so it parses; its checkpoint note may carry witness cosignatures.
        let witnessed = try (try? ProofBundle(parsing: bytes)).flatMap {
            try freshness.check(note: $0.checkpoint, logKey: anchors.logKey)
        }
        if output.json {
            try Output.json(
                FreshnessOptions.adding(
                    witnessed,
                    to: .object([
                        "verified": .bool(true),
                        "checkpoint": .object([
                            "origin": .string(verified.checkpoint.origin),
                            "treeSize": .integer(Int64(verified.checkpoint.size)),
                            "root": .string(Hex.encode(verified.checkpoint.rootHash)),
                        ]),
                        "products": .array(
                            verified.products.map {
                                .object([
                                    "product": .string($0.product.digitalLink), "passport": .string($0.passport.hex),
                                    "events": .integer(Int64($0.events.count)), "phase": .string($0.state.phase.name),
                                    "productClass": $0.productClass.map { .string($0.details.name) } ?? .null,
                                ])
                            }
                        ),
                        "certificate": verified.certificate.map { .string($0.id.hex) } ?? .null,
                        "completeness": .string(verified.completeness.description),
                    ])
                )
            )
        } else {
            Output.print("VERIFIED \(file)")
            Output.print(
                Output.fields(
                    [
                        ("checkpoint", "\(verified.checkpoint.origin) size \(verified.checkpoint.size)"),
                        ("history", verified.completeness.description),
                    ]
                        + verified.products.map {
                            (
                                "product",
                                "\($0.product.digitalLink): \($0.events.count) events, now \($0.state.phase.name)"
                            )
                        }
                        + verified.products.compactMap { product in
                            // The class in force, proven by the class chain's head (verification.md §4.4).
                            product.productClass.map { productClass in
                                (
                                    "class",
                                    ([productClass.details.name] + (productClass.details.model.map { [$0] } ?? []))
                                        .joined(separator: " ")
                                        + " (GTIN \(productClass.details.gtin), entry \(productClass.index))"
                                )
                            }
                        },
                    indent: "  "
                )
            )
            if let witnessed { Output.print(FreshnessOptions.line(witnessed)) }
        }
    }

    /// The key names on the bundle's checkpoint note (its "— name signature" lines), read without trusting them.
    static func checkpointSigners(_ bytes: [UInt8]) -> [String]? {
        guard let bundle = try? ProofBundle(parsing: bytes) else { return nil }
        return bundle.checkpoint.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("\u{2014} ") else { return nil }
            return line.dropFirst(2).split(separator: " ").first.map(String.init)
        }
    }
}
