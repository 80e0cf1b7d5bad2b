import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEPCIS
import RetraceEvents
import RetraceLedger
import RetraceStorage

/// `retrace export --out FILE`: the whole ledger as self-describing JSON lines (spec/format.md §7),
/// or, with `--format epcis`, its audited events as an EPCIS 2.0 document (spec/epcis.md).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the whole ledger to a JSON-lines export file, or as EPCIS 2.0.",
        discussion: """
            --format epcis audits the ledger (under --governance-key/--log-key, or the keys it records) and writes \
            every accepted event as an EPCIS 2.0 ObjectEvent; a ledger that fails its audit is not exported.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case retrace, epcis
    }

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The export file to write (must not exist unless --force).")
    var out: String
    @Option(help: "retrace (JSON lines, for audits and mirrors) or epcis (an EPCIS 2.0 JSON-LD document).")
    var format: Format = .retrace
    @Option(
        name: .customLong("gcp-length"),
        help: "EPCIS: GS1 Company Prefix length for GLNs under no company prefix of the roster (6-12)."
    )
    var gcpLength: Int = 7
    @OptionGroup var trust: TrustOptions
    @Flag(help: "Overwrite an existing export file.")
    var force = false
    @OptionGroup var output: JSONFlag

    func validate() throws {
        guard (6...12).contains(gcpLength) else { throw ValidationError("--gcp-length is 6 to 12 digits") }
    }

    func run() throws {
        let ledger = try LedgerAccess.openReadOnly(database.db)
        if FileManager.default.fileExists(atPath: out), !force {
            throw CLIError.usage("\(out) already exists; choose another path or pass --force")
        }
        if format == .epcis { return try exportEPCIS() }
        let temporary = out + ".partial"
        try LedgerAccess.writeNew(temporary, [], force: true)
        guard let handle = FileHandle(forWritingAtPath: temporary) else {
            throw CLIError.usage("cannot write \(out); check the directory is writable")
        }
        var lines = 0
        var bytes = 0
        do {
            try ledger.export { chunk in
                handle.write(Data(chunk))
                lines += 1
                bytes += chunk.count
            }
            try handle.close()
            if FileManager.default.fileExists(atPath: out) { try FileManager.default.removeItem(atPath: out) }
            try FileManager.default.moveItem(atPath: temporary, toPath: out)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        let head = try LedgerFacts.head(ledger)
        if output.json {
            try Output.json(
                .object([
                    "out": .string(out), "lines": .integer(Int64(lines)), "bytes": .integer(Int64(bytes)),
                    "treeSize": .integer(Int64(head.size)), "root": .string(Hex.encode(head.root)),
                ])
            )
        } else {
            Output.print("Exported \(head.size) entries (\(lines) lines, \(bytes) bytes) to \(out)")
        }
    }

    /// Streams the audited events into `OUT.partial`, renamed to OUT only once the audit has passed.
    private func exportEPCIS() throws {
        let temporary = out + ".partial"
        try LedgerAccess.writeNew(temporary, [], force: true)
        guard let handle = FileHandle(forWritingAtPath: temporary) else {
            throw CLIError.usage("cannot write \(out); check the directory is writable")
        }
        var bytes = 0
        do {
            let now = Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970))
            var writer = try EPCISDocumentWriter(created: now) { chunk in
                handle.write(Data(chunk))
                bytes += chunk.count
            }
            var codec = SGLNCodec(knownPrefixes: [], defaultPrefixLength: gcpLength)
            var rosterSeen: Digest?
            let report = try AuditedReading.read(db: database.db, trust: trust, label: "export") { event in
                if event.trust.rosterID != rosterSeen {
                    rosterSeen = event.trust.rosterID
                    codec = SGLNCodec(roster: event.trust.roster, defaultPrefixLength: gcpLength)
                }
                try writer.add(
                    EPCISExport.event(
                        statement: event.statement,
                        products: event.steps.map(\.product),
                        index: event.index,
                        received: event.entry.received,
                        sgln: codec
                    )
                )
            }
            try writer.finish()
            try handle.close()
            if FileManager.default.fileExists(atPath: out) { try FileManager.default.removeItem(atPath: out) }
            try FileManager.default.moveItem(atPath: temporary, toPath: out)
            if output.json {
                try Output.json(
                    .object([
                        "out": .string(out), "format": .string("epcis"), "events": .integer(Int64(writer.events)),
                        "bytes": .integer(Int64(bytes)), "treeSize": .integer(Int64(report.treeSize)),
                        "root": .string(Hex.encode(report.rootHash)),
                    ])
                )
            } else {
                Output.print(
                    "Exported \(writer.events) audited events of \(report.treeSize) entries as EPCIS 2.0 "
                        + "(\(bytes) bytes) to \(out)"
                )
            }
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }
}
