import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceStorage

/// `retrace record <event-type>`: build one statement, sign it with the party's key, append it.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record", abstract: "Build, sign and append one event for a product.",
        discussion: "Event types: \(EventType.all.filter { $0 != .roster }.map(\.name).joined(separator: ", ")).")

    @Argument(help: "The event type, e.g. commission, ship, sell, return-receive.")
    var eventType: String
    @OptionGroup var database: DatabaseOptions
    @Option(help: "The signing party's private key file.")
    var key: String
    @Option(help: "The product identity, in any form (Digital Link, element string, EPC URN).")
    var product: String
    @Option(help: "The product's previous event id, or `auto` to read its current head.")
    var previous: String = "auto"
    @Option(help: "The event time, YYYY-MM-DDTHH:MM:SSZ (default: now).")
    var time: String?
    @Option(help: "Where it happened: a 13-digit GLN.")
    var location: String?
    @Option(name: .customLong("detail"), help: "A detail field as key=value; the value may be JSON (numbers, arrays).")
    var details: [String] = []
    @Option(
        name: .customLong("log-key"), help: "The log's private key (default: the embedded test key for test ledgers).")
    var logKey: String?
    @OptionGroup var output: JSONFlag

    func run() throws {
        let type: EventType
        do { type = try EventType(name: eventType) } catch {
            throw CLIError.usage("unknown event type \"\(eventType)\"; see `retrace record --help` for the list")
        }
        guard type != .roster else { throw CLIError.usage("rosters are appended with `retrace roster sign`") }
        let signer = try LedgerAccess.readPrivateKey(key, what: "key")
        let sgtin = try LedgerAccess.parseIdentity(product).sgtin
        let when = try LedgerAccess.parseTime(time, option: "--time")
        let detailObject = try Self.parseDetails(details)
        if let location {
            do { try GLN.validate(location, field: "--location") } catch {
                throw CLIError.usage("\(error.description); a location is a 13-digit GLN")
            }
        }
        let reading = try LedgerAccess.openReadOnly(database.db)
        var previousID: Digest?
        if type != .commission {
            if previous == "auto" {
                let head = try reading.store.read { try $0.head(of: sgtin.digitalLink) }
                guard let head else {
                    throw CLIError(
                        CLIError.refused, "\(sgtin.digitalLink) was never commissioned; nothing was appended")
                }
                previousID = try Digest(bytes: head.eventID)
            } else {
                previousID = try LedgerAccess.parseDigest(previous, option: "--previous")
            }
        }
        let statement = try Statement(
            type: type, product: sgtin, previous: previousID,
            signer: Digest(bytes: signer.verifier.publicKey.fingerprint), time: when, location: location,
            details: detailObject)
        let signed = try SignedStatement.sign(statement, with: signer.privateKey)
        let ledger = try LedgerAccess.openForAppend(database.db, logKeyFile: logKey, checking: [signed])
        let result = try ledger.append([signed])
        try AppendReport.print(result, json: output.json)
    }

    /// `key=value` pairs: a value that reads as JSON (a number, true/false, an array, an object or a
    /// quoted string) is taken as that JSON; anything else is a string.
    static func parseDetails(_ pairs: [String]) throws -> JSONObject {
        var object = JSONObject()
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw CLIError.usage("--detail \"\(pair)\" is not key=value")
            }
            let key = String(pair[..<equals])
            let text = String(pair[pair.index(after: equals)...])
            var value = JSONValue.string(text)
            if let first = text.first, "-0123456789[{\"tfn".contains(first),
                let parsed = try? CanonicalJSON.decode(Array(text.utf8), options: .lenient)
            {
                value = parsed
            }
            guard object[key] == nil else { throw CLIError.usage("--detail \(key) is given twice") }
            object[key] = value
        }
        return object
    }
}
