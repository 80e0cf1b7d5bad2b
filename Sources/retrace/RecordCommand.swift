import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEPCIS
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceStorage

/// `retrace record <event-type>`: build one statement, sign it with the party's key, append it;
/// or `retrace record --from-epcis FILE`: the events of an EPCIS 2.0 document, all or none.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record", abstract: "Build, sign and append one event for a product, or the events of an EPCIS file.",
        discussion: "Event types: \(EventType.all.filter { $0 != .roster }.map(\.name).joined(separator: ", ")).")

    @Argument(help: "The event type, e.g. commission, ship, sell, return-receive (not with --from-epcis).")
    var eventType: String?
    @OptionGroup var database: DatabaseOptions
    @Option(help: "The signing party's private key file.")
    var key: String
    @Option(help: "The product identity, in any form (Digital Link, element string, EPC URN).")
    var product: String?
    @Option(
        name: .customLong("from-epcis"),
        help: "An EPCIS 2.0 JSON-LD document: sign each of its events as this party and append them all, or none.")
    var fromEPCIS: String?
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

    func validate() throws {
        if fromEPCIS != nil {
            guard eventType == nil, product == nil, details.isEmpty, time == nil, location == nil, previous == "auto"
            else {
                throw ValidationError("--from-epcis takes its events from the file: give no event type, --product, "
                    + "--detail, --time, --location or --previous")
            }
        } else {
            guard eventType != nil, product != nil else {
                throw ValidationError("give an event type and --product, or --from-epcis FILE")
            }
        }
    }

    func run() throws {
        if let fromEPCIS { return try recordEPCIS(fromEPCIS) }
        let eventType = self.eventType ?? ""
        let product = self.product ?? ""
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

    /// Maps every event of the file (refusing the file if one does not map), chains each product's
    /// statements from its current head in document order, signs them all and appends them as one
    /// all-or-nothing batch: a refusal names the EPCIS event it came from.
    private func recordEPCIS(_ path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CLIError.usage("cannot read \(path): \(error.localizedDescription)")
        }
        let events: [ImportedEvent]
        do { events = try EPCISImport.events(from: data) } catch {
            throw CLIError(CLIError.cannotCheck, "\(path): \(error.description)")
        }
        let signer = try LedgerAccess.readPrivateKey(key, what: "key")
        let fingerprint = try Digest(bytes: signer.verifier.publicKey.fingerprint)
        let reading = try LedgerAccess.openReadOnly(database.db)
        var heads: [String: Digest] = [:]
        var statements: [SignedStatement] = []
        for event in events {
            var previous: [Digest?] = []
            for product in event.products {
                if event.type == .commission {
                    previous.append(nil)
                } else if let head = heads[product.digitalLink] {
                    previous.append(head)
                } else if let stored = try reading.store.read({ try $0.head(of: product.digitalLink) }) {
                    previous.append(try Digest(bytes: stored.eventID))
                } else {
                    throw CLIError(
                        CLIError.refused,
                        "\(event.name): \(product.digitalLink) was never commissioned in this ledger; nothing was appended")
                }
            }
            let signed: SignedStatement
            do {
                if event.products.count > 1 {
                    let members = zip(event.products, previous).map { BatchMember(product: $0, previous: $1!) }
                    let statement = try Statement(
                        type: event.type, product: nil, previous: nil, batch: BatchMember.commitment(for: members),
                        signer: fingerprint, time: event.time, location: event.location, details: event.details)
                    signed = try SignedStatement.sign(statement, with: signer.privateKey, members: members)
                } else {
                    let statement = try Statement(
                        type: event.type, product: event.products[0], previous: previous[0], signer: fingerprint,
                        time: event.time, location: event.location, details: event.details)
                    signed = try SignedStatement.sign(statement, with: signer.privateKey)
                }
            } catch {
                throw CLIError(CLIError.cannotCheck, "\(event.name): \(CLIError.from(error).message)")
            }
            for product in event.products { heads[product.digitalLink] = signed.id }
            statements.append(signed)
        }
        do {
            let ledger = try LedgerAccess.openForAppend(database.db, logKeyFile: logKey, checking: statements)
            try AppendReport.print(try ledger.append(statements), json: output.json)
        } catch let error as LedgerError {
            let failed = CLIError.fromLedger(error)
            guard let position = error.statementIndex, position < events.count else { throw failed }
            throw CLIError(failed.exitCode, "\(events[position].name): \(failed.message)")
        }
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
