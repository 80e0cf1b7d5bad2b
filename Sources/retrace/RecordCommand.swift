import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEPCIS
import RetraceEvents
import RetraceIdentity
import RetraceKit
import RetraceLedger
import RetraceStorage

/// `retrace record <event-type>`: build one statement, sign it with the party's key, append it —
/// to a ledger file, or to a remote ledger (`--server`), where the key never leaves this machine.
///
/// Several products (repeated `--product`, or `--products FILE`) make one batch statement
/// (spec/format.md §2.2): one signature over a Merkle root of the members, as a recall of a lot or
/// a recycler's pallet certificate is. Every product given is a member or the command refuses.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Build, sign and append one event for a product, or one batch event for many.",
        discussion: """
            Event types: \(EventType.productEvents.map(\.name).joined(separator: ", ")). \
            A brand owner describes a GTIN with `record product-class --gtin G --detail name=… [--detail model=…]` \
            (also image={"sha256":…,"url":"https://…"}, massGrams, materials). \
            Batch types (several products): \(EventType.batchable.map(\.name).sorted().joined(separator: ", ")).
            """
    )

    @Argument(help: "The event type, e.g. commission, ship, sell, return-receive (not with --from-epcis).")
    var eventType: String?
    @Option(
        name: .customLong("from-epcis"),
        help: "An EPCIS 2.0 JSON-LD document: sign each of its events as this party and append them all, or none."
    )
    var fromEPCIS: String?
    @Option(help: "The ledger file (SQLite).")
    var db: String?
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var freshness: FreshnessOptions
    @Option(help: "The signing party's private key file.")
    var key: String
    @Option(help: "A product identity, in any form (Digital Link, element string, EPC URN); repeat for a batch.")
    var product: [String] = []
    @Option(help: "A file of product identities, one per line (blank lines and lines starting with # are skipped).")
    var products: String?
    @Option(
        help: "product-class only: the GTIN described (14 digits); the statement extends its class chain."
    )
    var gtin: String?
    @Option(help: "The product's previous event id, or `auto` to read its current head (one product only).")
    var previous: String = "auto"
    @Option(help: "The event time, YYYY-MM-DDTHH:MM:SSZ (default: now).")
    var time: String?
    @Option(help: "Where it happened: a 13-digit GLN.")
    var location: String?
    @Option(name: .customLong("detail"), help: "A detail field as key=value; the value may be JSON (numbers, arrays).")
    var details: [String] = []
    @Option(
        name: .customLong("log-key"),
        help:
            "The log's private key (default: the embedded test key for test ledgers); with --server, the log's public key."
    )
    var logKey: String?
    @Option(
        name: .customLong("governance-key"),
        help: "With --server: the governance public key the answers are checked under."
    )
    var governanceKey: String?
    @Option(help: "With --server: how many times to sign afresh after a chain conflict (someone appended first).")
    var attempts: Int = 3
    @OptionGroup var output: JSONFlag

    func validate() throws {
        if fromEPCIS != nil {
            guard eventType == nil, product.isEmpty, products == nil, details.isEmpty, time == nil, location == nil,
                previous == "auto", remote.server == nil
            else {
                throw ValidationError(
                    "--from-epcis takes its events from the file, into a ledger file (--db): give no event type, "
                        + "--product(s), --detail, --time, --location, --previous or --server"
                )
            }
        } else {
            guard eventType != nil else { throw ValidationError("give an event type, or --from-epcis FILE") }
        }
    }

    func run() throws {
        if let fromEPCIS { return try recordEPCIS(fromEPCIS) }
        let eventType = self.eventType ?? ""
        let type: EventType
        do { type = try EventType(name: eventType) } catch {
            throw CLIError.usage("unknown event type \"\(eventType)\"; see `retrace record --help` for the list")
        }
        guard type != .roster else { throw CLIError.usage("rosters are appended with `retrace roster sign`") }
        if type == .productClass { return try recordClass() }
        guard gtin == nil else { throw CLIError.usage("--gtin is for product-class; give --product for events") }
        let signer = try LedgerAccess.readPrivateKey(key, what: "key")
        let items = try Self.productList(product, file: products)
        if items.count > 1 {
            guard EventType.batchable.contains(type) else {
                throw CLIError.usage(
                    "\(items.count) products were given, but \(type.name) is not a batch type "
                        + "(\(EventType.batchable.map(\.name).sorted().joined(separator: ", "))); record one product at a time"
                )
            }
            guard previous == "auto" else {
                throw CLIError.usage("--previous applies to one product; a batch reads each head")
            }
        }
        let when = try LedgerAccess.parseTime(time, option: "--time")
        let detailObject = try Self.parseDetails(details)
        if let location {
            do { try GLN.validate(location, field: "--location") } catch {
                throw CLIError.usage("\(error.description); a location is a 13-digit GLN")
            }
        }
        let explicit: Digest? =
            previous == "auto" || type == .commission
            ? nil : try LedgerAccess.parseDigest(previous, option: "--previous")
        let build: @Sendable ([SGTIN: Digest]) throws -> SignedStatement = { heads in
            try Self.sign(
                type,
                items,
                heads: heads,
                explicit: explicit,
                signer: signer,
                time: when,
                location: location,
                details: detailObject
            )
        }
        if let server = try remote.address(db: db) {
            let anchors = try Remote.anchors(governance: governanceKey, log: logKey)
            let attempts = max(1, self.attempts)
            let receipt = try Remote.run(remote, server: server, anchors: anchors, freshness: freshness) { ledger in
                try await ledger.record(attempts: attempts) {
                    var heads: [SGTIN: Digest] = [:]
                    if type != .commission, explicit == nil {
                        for item in items { heads[item] = try await ledger.head(of: item) }
                    }
                    return [try build(heads)]
                }
            }
            try Self.printReceipt(receipt, json: output.json, members: items.count)
            Remote.printWitnessed(json: output.json)
            return
        }
        try freshness.requireServer("record")
        let path = try RemoteOptions.requireDB(db)
        let reading = try LedgerAccess.openReadOnly(path)
        var heads: [SGTIN: Digest] = [:]
        if type != .commission, explicit == nil {
            try reading.store.read { reader in
                for item in items {
                    if let head = try reader.head(of: item.digitalLink) {
                        heads[item] = try Digest(bytes: head.eventID)
                    }
                }
            }
        }
        let signed = try build(heads)
        let ledger = try LedgerAccess.openForAppend(path, logKeyFile: logKey, checking: [signed])
        let result = try ledger.append([signed])
        try AppendReport.print(result, json: output.json)
    }

    /// `record product-class --gtin G`: a brand owner's description of a GTIN, chained on the
    /// GTIN's class head (read from the ledger file, or proven from the service's class bundle).
    private func recordClass() throws {
        guard product.isEmpty, products == nil, location == nil else {
            throw CLIError.usage("a product-class names a GTIN (--gtin), no --product(s) and no --location")
        }
        guard let text = gtin else { throw CLIError.usage("give the GTIN described: --gtin DIGITS") }
        let described: String
        do { described = try GTIN(text).digits } catch {
            throw CLIError.usage("--gtin \(text): \(error.description)")
        }
        let signer = try LedgerAccess.readPrivateKey(key, what: "key")
        let when = try LedgerAccess.parseTime(time, option: "--time")
        var detailObject = try Self.parseDetails(details)
        guard detailObject["gtin"] == nil else { throw CLIError.usage("give the GTIN as --gtin, not --detail gtin=") }
        detailObject["gtin"] = .string(described)
        let explicit: Digest? =
            previous == "auto" || previous == "none"
            ? nil : try LedgerAccess.parseDigest(previous, option: "--previous")
        let fixed = previous != "auto"
        let finalDetails = detailObject
        let build: @Sendable (Digest?) throws -> SignedStatement = { head in
            let statement = try Statement(
                type: .productClass,
                product: nil,
                previous: fixed ? explicit : head,
                signer: try Digest(bytes: signer.verifier.publicKey.fingerprint),
                time: when,
                details: finalDetails
            )
            return try SignedStatement.sign(statement, with: signer.privateKey)
        }
        if let server = try remote.address(db: db) {
            let anchors = try Remote.anchors(governance: governanceKey, log: logKey)
            let attempts = max(1, self.attempts)
            let receipt = try Remote.run(remote, server: server, anchors: anchors, freshness: freshness) { ledger in
                try await ledger.record(attempts: attempts) {
                    [try build(fixed ? nil : try await ledger.classHead(gtin: described))]
                }
            }
            try Self.printReceipt(receipt, json: output.json, members: 1)
            Remote.printWitnessed(json: output.json)
            return
        }
        try freshness.requireServer("record")
        let path = try RemoteOptions.requireDB(db)
        let reading = try LedgerAccess.openReadOnly(path)
        let head = try reading.store.read { reader in
            try reader.head(of: Statement.classChain(gtin: described)).map { try Digest(bytes: $0.eventID) }
        }
        let signed = try build(head)
        let ledger = try LedgerAccess.openForAppend(path, logKeyFile: logKey, checking: [signed])
        try AppendReport.print(try ledger.append([signed]), json: output.json)
    }

    /// The statement for `products`: one product's event, or a batch statement over all of them.
    static func sign(
        _ type: EventType,
        _ products: [SGTIN],
        heads: [SGTIN: Digest],
        explicit: Digest?,
        signer: NoteSigner,
        time: Timestamp,
        location: String?,
        details: JSONObject
    ) throws -> SignedStatement {
        func previous(_ item: SGTIN) throws -> Digest {
            if let explicit { return explicit }
            guard let head = heads[item] else {
                throw CLIError(CLIError.refused, "\(item.digitalLink) was never commissioned; nothing was appended")
            }
            return head
        }
        if products.count == 1 {
            let item = products[0]
            let statement = try Statement(
                type: type,
                product: item,
                previous: type == .commission ? nil : try previous(item),
                signer: try Digest(bytes: signer.verifier.publicKey.fingerprint),
                time: time,
                location: location,
                details: details
            )
            return try SignedStatement.sign(statement, with: signer.privateKey)
        }
        let members = try products.map { BatchMember(product: $0, previous: try previous($0)) }
        let statement = try Statement(
            type: type,
            product: nil,
            previous: nil,
            batch: BatchMember.commitment(for: members),
            signer: try Digest(bytes: signer.verifier.publicKey.fingerprint),
            time: time,
            location: location,
            details: details
        )
        return try SignedStatement.sign(statement, with: signer.privateKey, members: members)
    }

    /// Every product given, in order; a duplicate or an unreadable line is an error, never skipped.
    static func productList(_ flags: [String], file: String?) throws -> [SGTIN] {
        var texts: [(String, String)] = flags.map { ($0, "--product") }
        if let file {
            let text = try LedgerAccess.readText(file, what: "product list")
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces.union(.init(charactersIn: "\r")))
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                texts.append((trimmed, "\(file) line \(number + 1)"))
            }
        }
        guard !texts.isEmpty else {
            throw CLIError.usage("give the product: --product ID (repeatable) or --products FILE")
        }
        var seen: [SGTIN: String] = [:]
        var list: [SGTIN] = []
        for (text, origin) in texts {
            let item: SGTIN
            do { item = try LedgerAccess.parseIdentity(text).sgtin } catch let error as CLIError {
                throw CLIError.usage("\(origin): \(error.message); nothing was appended")
            }
            if let first = seen[item] {
                throw CLIError.usage(
                    "\(item.digitalLink) is given twice (\(first) and \(origin)); a batch names each product once"
                )
            }
            seen[item] = origin
            list.append(item)
        }
        guard list.count <= 100_000 else {
            throw CLIError.usage("\(list.count) products; a batch holds at most 100000")
        }
        return list
    }

    static func printReceipt(_ receipt: RemoteLedger.Receipt, json: Bool, members: Int) throws {
        if json {
            try Output.json(receipt.json)
            return
        }
        for entry in receipt.entries {
            Output.print(
                "Appended \(entry.event.short) at index \(entry.index)"
                    + (members > 1 ? " (one batch statement over \(members) products)" : "")
            )
        }
        Output.print(
            "Verified: included in checkpoint \(receipt.checkpoint.size) (root \(Hex.encode(receipt.checkpoint.rootHash).prefix(16))…) "
                + "signed by the log key you hold"
                + (receipt.attempts > 1 ? "; signed \(receipt.attempts) times after chain conflicts" : "")
        )
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
        let reading = try LedgerAccess.openReadOnly(try RemoteOptions.requireDB(db))
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
                        "\(event.name): \(product.digitalLink) was never commissioned in this ledger; nothing was appended"
                    )
                }
            }
            let signed: SignedStatement
            do {
                if event.products.count > 1 {
                    let members = zip(event.products, previous).map { BatchMember(product: $0, previous: $1!) }
                    let statement = try Statement(
                        type: event.type,
                        product: nil,
                        previous: nil,
                        batch: BatchMember.commitment(for: members),
                        signer: fingerprint,
                        time: event.time,
                        location: event.location,
                        details: event.details
                    )
                    signed = try SignedStatement.sign(statement, with: signer.privateKey, members: members)
                } else {
                    let statement = try Statement(
                        type: event.type,
                        product: event.products[0],
                        previous: previous[0],
                        signer: fingerprint,
                        time: event.time,
                        location: event.location,
                        details: event.details
                    )
                    signed = try SignedStatement.sign(statement, with: signer.privateKey)
                }
            } catch {
                throw CLIError(CLIError.cannotCheck, "\(event.name): \(CLIError.from(error).message)")
            }
            for product in event.products { heads[product.digitalLink] = signed.id }
            statements.append(signed)
        }
        do {
            let ledger = try LedgerAccess.openForAppend(
                try RemoteOptions.requireDB(db),
                logKeyFile: logKey,
                checking: statements
            )
            try AppendReport.print(try ledger.append(statements), json: output.json)
        } catch let error as LedgerError {
            let failed = CLIError.fromLedger(error)
            guard let position = error.statementIndex, position < events.count else { throw failed }
            throw CLIError(failed.exitCode, "\(events[position].name): \(failed.message)")
        }
    }

}
