import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceRules
import RetraceStorage

/// `retrace init`: a new ledger with its origin, log key and first signed roster.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new ledger: origin, log key, and the first roster signed by governance."
    )

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The log's origin line, e.g. example.com/retrace.")
    var origin: String
    @Option(name: .customLong("log-key"), help: "The log's private key file (signs checkpoints).")
    var logKey: String
    @Option(name: .customLong("governance-key"), help: "The governance private key file (signs the roster).")
    var governanceKey: String
    @Option(help: "The roster document (JSON), e.g. keys/roster.json.")
    var roster: String
    @Option(help: "The roster's time (default: now).")
    var time: String?
    @OptionGroup var output: JSONFlag

    func run() throws {
        let path = database.db
        if FileManager.default.fileExists(atPath: path) {
            throw CLIError.usage("\(path) already exists; choose a new path for a new ledger")
        }
        let log = try LedgerAccess.readPrivateKey(logKey, what: "log key")
        let governance = try LedgerAccess.readPrivateKey(governanceKey, what: "governance key")
        let document = try RosterFiles.readDocument(roster)
        guard document.governance.contains(governance.verifier) else {
            throw CLIError.usage(
                "the roster's governance keys do not include \(governance.verifier.name); "
                    + "sign with a governance key the roster lists"
            )
        }
        let signed = try RosterFiles.sign(
            document,
            previous: nil,
            with: governance,
            time: LedgerAccess.parseTime(time, option: "--time")
        )
        let ledger: Ledger
        // Only what this command created is removed on failure: never a ledger that was already there.
        let store = try StoreLocation.create(path)
        do {
            ledger = try Ledger.create(
                store: store,
                origin: origin,
                logSigner: log,
                governance: [governance.verifier],
                roster: signed
            )
        } catch {
            LedgerAccess.removeCreatedLedger(path)
            throw error
        }
        let head = try LedgerFacts.head(ledger)
        if output.json {
            try Output.json(
                .object([
                    "db": .string(path), "origin": .string(origin), "logKey": .string(log.verifier.description),
                    "governance": .array([.string(governance.verifier.description)]),
                    "roster": .string(signed.id.hex), "treeSize": .integer(Int64(head.size)),
                    "checkpoint": .string(head.note),
                ])
            )
        } else {
            Output.print("Created ledger \(path)")
            Output.print(
                Output.fields(
                    [
                        ("origin", origin), ("log key", log.verifier.description),
                        ("governance", governance.verifier.description), ("roster", signed.id.hex),
                        ("parties", document.parties.map(\.id).joined(separator: ", ")), ("tree size", "\(head.size)"),
                    ],
                    indent: "  "
                )
            )
        }
    }
}
