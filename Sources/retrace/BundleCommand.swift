import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceKit
import RetraceLedger
import RetraceVerification

/// `retrace bundle <identity | certificate> --out FILE`: the offline proof bundle of one product, or
/// the certificate bundle of a recycling certificate (the batch statement with every member's chain).
struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Write a product's offline proof bundle, or a certificate's (verify it with verify-bundle).",
        discussion: """
            With --server the bundle is verified under --governance-key/--log-key before it is written: \
            a bundle that does not verify is never saved.
            """
    )

    @Argument(help: "The product identity, in any form, or a recycling certificate number.")
    var subject: String
    @Option(help: "The ledger file (SQLite).")
    var db: String?
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var freshness: FreshnessOptions
    @OptionGroup var trust: TrustOptions
    @Option(help: "The bundle file to write.")
    var out: String
    @Flag(help: "Overwrite an existing file.")
    var force = false
    @OptionGroup var output: JSONFlag

    func run() throws {
        let product = try? IdentityParser.parse(subject).sgtin
        if FileManager.default.fileExists(atPath: out), !force {
            throw CLIError.usage("\(out) already exists; choose another path or pass --force")
        }
        let bundles: [ProofBundle]
        if let server = try remote.address(db: db) {
            let anchors = try Remote.anchors(trust)
            let subject = self.subject
            bundles = try Remote.run(remote, server: server, anchors: anchors, freshness: freshness) { ledger in
                if let product {
                    return [try ProofBundle(parsing: try await ledger.verifiedBundle(product).bytes)]
                }
                return try await Self.certificateBundles(subject, ledger: ledger)
            }
        } else {
            try freshness.requireServer("bundle")
            let path = try RemoteOptions.requireDB(db)
            let ledger = try LedgerAccess.openReadOnly(path)
            let verifier = Verifier(ledger: ledger)
            do {
                if let product {
                    // With the log's cosigned checkpoint when it gathers cosignatures (spec/witness.md).
                    bundles = [FreshnessOptions.cosigned(try verifier.bundle(scan: product.digitalLink), db: path)]
                } else {
                    let found = try verifier.certificateEvidence(certificate: subject)
                    guard !found.bundles.isEmpty else { throw Self.noCertificate(subject, singles: found.products) }
                    bundles = found.bundles
                }
            } catch let error as VerificationError { throw VerificationMapping.cliError(error) }
        }
        try write(bundles, product: product)
        Remote.printWitnessed(json: output.json)
    }

    /// Certificate bundles from a server, each verified here and checked to carry the certificate.
    static func certificateBundles(_ certificate: String, ledger: RemoteLedger) async throws -> [ProofBundle] {
        let found = try await ledger.client.certificateEvidence(certificate)
        var bundles: [ProofBundle] = []
        for value in found["bundles"]?.arrayValue ?? [] {
            let bundle = try ProofBundle(json: value)
            let verified = try ledger.verifier.verify(bundle)
            guard verified.certificate?.entry.statement.details["certificate"]?.stringValue == certificate else {
                throw VerificationError(
                    .certificateMismatch,
                    "the server answered certificate \(certificate) with another certificate's bundle"
                )
            }
            bundles.append(bundle)
        }
        guard !bundles.isEmpty else {
            throw noCertificate(certificate, singles: (found["products"]?.arrayValue ?? []).compactMap(\.stringValue))
        }
        return bundles
    }

    static func noCertificate(_ certificate: String, singles: [String]) -> CLIError {
        guard singles.isEmpty else {
            return CLIError(
                CLIError.refused,
                "certificate \(certificate) is on single-product recycle statements, not a batch: its evidence is "
                    + "each product's own bundle (`retrace bundle PRODUCT`): \(singles.joined(separator: ", "))"
            )
        }
        return CLIError(CLIError.refused, "no recycle statement carries certificate \(certificate)")
    }

    /// One file per bundle: `out`, then `out` with `-2`, `-3` … before the extension when a
    /// certificate number is on several batch statements (nothing is left out silently).
    private func write(_ bundles: [ProofBundle], product: SGTIN?) throws {
        var written: [(path: String, bundle: ProofBundle, bytes: Int)] = []
        for (position, bundle) in bundles.enumerated() {
            let path = position == 0 ? out : Self.numbered(out, position + 1)
            let bytes: [UInt8]
            do { bytes = try bundle.encoded() } catch { throw VerificationMapping.cliError(error) }
            try LedgerAccess.writeNew(path, bytes, force: force)
            written.append((path, bundle, bytes.count))
        }
        if output.json {
            let items: [JSONValue] = written.map { item in
                .object([
                    "out": .string(item.path), "product": product.map { .string($0.digitalLink) } ?? .null,
                    "certificate": product == nil ? .string(subject) : .null,
                    "products": .integer(Int64(item.bundle.products.count)),
                    "events": .integer(Int64(item.bundle.products.reduce(0) { $0 + $1.events.count })),
                    "bytes": .integer(Int64(item.bytes)),
                    "rosterEntries": .integer(Int64(item.bundle.roster.count)),
                ])
            }
            // One bundle is one object (the shape of version 1); several are an array of them.
            try Output.json(items.count == 1 ? items[0] : .array(items))
        } else {
            for item in written {
                if let product {
                    let events = item.bundle.products.first?.events.count ?? 0
                    Output.print("Wrote \(item.path): \(events) events of \(product.digitalLink), \(item.bytes) bytes")
                } else {
                    Output.print(
                        "Wrote \(item.path): certificate \(subject) over \(item.bundle.products.count) products, "
                            + "\(item.bytes) bytes"
                    )
                }
            }
        }
    }

    static func numbered(_ path: String, _ number: Int) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        guard !ext.isEmpty else { return path + "-\(number)" }
        return String(path.dropLast(ext.count + 1)) + "-\(number).\(ext)"
    }
}
