import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceKit
import RetraceLedger
import RetraceRules

/// `retrace roster`: who is trusted, and changing it (each change is a governance-signed log entry).
struct RosterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roster",
        abstract: "Show the roster in force; prepare a changed roster; sign and append it.",
        discussion: """
            Changes are made in two steps: add-party, rotate-key and revoke-key write a new roster document \
            (to --out or standard output, starting from the ledger's roster or --from FILE); `roster sign` signs \
            it with the governance key and appends it to the log.
            """,
        subcommands: [Show.self, New.self, AddParty.self, RotateKey.self, RevokeKey.self, Sign.self]
    )

    /// Where an edit starts from: a roster document file or the roster in force in a ledger.
    struct Base: ParsableArguments {
        @Option(help: "The ledger whose roster in force is the starting point.")
        var db: String?
        @Option(help: "Start from this roster document instead of the ledger's.")
        var from: String?
        @Option(help: "Write the new roster document here (default: standard output).")
        var out: String?

        func document() throws -> RosterDocument {
            if let from { return try RosterFiles.readDocument(from) }
            guard let db else { throw CLIError.usage("give --db LEDGER or --from ROSTER.json") }
            let ledger = try LedgerAccess.openReadOnly(db)
            guard let roster = try ledger.trustState().roster else {
                throw CLIError.usage("\(db) has no roster in force")
            }
            return roster
        }

        func write(_ object: JSONObject) throws {
            let document: RosterDocument
            do { document = try RosterDocument(json: .object(object)) } catch {
                throw CLIError(CLIError.refused, "the changed roster would be invalid: \(error.reason); fix the change")
            }
            let bytes = try CanonicalJSON.encode(document.json) + [0x0a]
            if let out {
                try LedgerAccess.writeNew(out, bytes, force: true)
                Output.error(
                    "wrote the new roster to \(out); append it with "
                        + "`retrace roster sign \(out) --db … --governance-key …`"
                )
            } else {
                FileHandle.standardOutput.write(Data(bytes))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the roster in force.",
            discussion:
                "With --server the roster chain is verified here from --governance-key (and the checkpoint under --log-key)."
        )
        @Option(help: "The ledger file (SQLite).")
        var db: String?
        @OptionGroup var remote: RemoteOptions
        @OptionGroup var freshness: FreshnessOptions
        @OptionGroup var trust: TrustOptions
        @OptionGroup var output: JSONFlag

        func run() throws {
            let trust: TrustState
            if let server = try remote.address(db: db) {
                trust = try Remote.run(
                    remote,
                    server: server,
                    anchors: try Remote.anchors(self.trust),
                    freshness: freshness
                ) { ledger in
                    try await ledger.roster().trust
                }
            } else {
                try freshness.requireServer("roster show")
                trust = try LedgerAccess.openReadOnly(try RemoteOptions.requireDB(db)).trustState()
            }
            guard let roster = trust.roster, let id = trust.rosterID else { throw CLIError.usage("no roster in force") }
            if output.json {
                try Output.json(
                    .object([
                        "roster": .string(id.hex), "time": trust.rosterTime.map { .string($0.description) } ?? .null,
                        "document": roster.json,
                    ])
                )
                return
            }
            Output.print("Roster \(id.short) in force since \(trust.rosterTime?.description ?? "?")")
            Output.print("governance: " + roster.governance.map(\.name).joined(separator: ", "))
            var rows = [["  id", "name", "roles", "keys", "prefixes / accreditation"]]
            for party in roster.parties {
                let keys = party.keys.map { key in
                    key.verifier.name + (roster.revocation(of: key.fingerprint) != nil ? " (revoked)" : "")
                        + (key.validUntil.map { " (until \($0))" } ?? "")
                }.joined(separator: ", ")
                let extra = (party.companyPrefixes + party.accreditations.map { "\($0.scheme) \($0.certificate)" })
                    .joined(separator: ", ")
                rows.append([
                    "  \(party.id)", party.name, party.roles.sorted().map(\.name).joined(separator: ","), keys, extra,
                ])
            }
            Output.print(Output.table(rows))
            for revocation in roster.revocations {
                Output.print("revoked: \(revocation.key.name) at \(revocation.time) (\(revocation.reason))")
            }
        }
    }

    /// `retrace roster new`: the first roster of a new ledger from key files and flags, checked
    /// against spec/roster.md before it is written, so nobody hand-writes the JSON.
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new",
            abstract: "Write a first roster from key files and flags (for `retrace init`).",
            discussion: """
                Each --party is one party as comma-separated key=value fields; list values are separated by '+': \
                id=northwind,name=Northwind Devices,roles=brand-owner,key=northwind.pub,prefixes=9506000,\
                gln=9506000000015+9506000000022. A recycler or refurbisher adds \
                accreditation=SCHEME|CERTIFICATE|VALID-FROM|VALID-UNTIL (repeat with '+'). Keys are valid from \
                --valid-from (default: now).
                """
        )
        @Option(name: .customLong("governance-key"), help: "A governance public key file (NAME.pub); repeatable.")
        var governanceKeys: [String] = []
        @Option(help: "A party, as id=…,name=…,roles=…,key=FILE.pub[,prefixes=…][,gln=…][,accreditation=…].")
        var party: [String] = []
        @Option(name: .customLong("valid-from"), help: "When the parties' keys start to be valid (default: now).")
        var validFrom: String?
        @Option(help: "The roster file to write.")
        var out: String
        @Flag(help: "Overwrite an existing file.")
        var force = false

        func run() throws {
            guard !governanceKeys.isEmpty else { throw CLIError.usage("give at least one --governance-key GOV.pub") }
            guard !party.isEmpty else { throw CLIError.usage("give at least one --party id=…,name=…,roles=…,key=…") }
            let from = try LedgerAccess.parseTime(validFrom, option: "--valid-from")
            let governance = try governanceKeys.map { try Remote.readVerifier($0, what: "governance key") }
            let parties = try party.enumerated().map { try Self.party($0.element, number: $0.offset + 1, from: from) }
            let object: JSONObject = [
                "version": .integer(1), "governance": .array(governance.map { .string($0.description) }),
                "parties": .array(parties), "revocations": .array([]),
            ]
            let document: RosterDocument
            do { document = try RosterDocument(json: .object(object)) } catch {
                throw CLIError.usage("the roster would not be valid (spec/roster.md): \(error.reason); fix the flags")
            }
            try LedgerAccess.writeNew(out, try CanonicalJSON.encode(document.json) + [0x0a], force: force)
            Output.print(
                "Wrote \(out): \(document.parties.count) parties under \(governance.map(\.name).joined(separator: ", ")); "
                    + "start the ledger with `retrace init --roster \(out) …`"
            )
        }

        /// One `--party` spec as the party object of spec/roster.md §2.2; an unknown or repeated field is refused.
        static func party(_ spec: String, number: Int, from: Timestamp) throws -> JSONValue {
            var fields: [String: String] = [:]
            for field in spec.split(separator: ",", omittingEmptySubsequences: true) {
                guard let equals = field.firstIndex(of: "="), equals != field.startIndex else {
                    throw CLIError.usage("--party \(number): \"\(field)\" is not key=value")
                }
                let key = String(field[..<equals]).trimmingCharacters(in: .whitespaces)
                guard ["id", "name", "roles", "key", "prefixes", "gln", "accreditation"].contains(key) else {
                    throw CLIError.usage(
                        "--party \(number): unknown field \"\(key)\" (id, name, roles, key, prefixes, gln, accreditation)"
                    )
                }
                guard fields[key] == nil else { throw CLIError.usage("--party \(number): \(key) is given twice") }
                fields[key] = String(field[field.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            }
            func list(_ key: String) -> [String] {
                (fields[key] ?? "").split(separator: "+").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }
            }
            guard let id = fields["id"], let name = fields["name"], let keyFile = fields["key"], !list("roles").isEmpty
            else { throw CLIError.usage("--party \(number) needs id=, name=, roles= and key=") }
            let key = try Remote.readVerifier(keyFile, what: "key of party \(id)")
            var object: JSONObject = [
                "id": .string(id), "name": .string(name), "roles": .array(list("roles").map { .string($0) }),
                "keys": .array([.object(["key": .string(key.description), "validFrom": .string(from.description)])]),
            ]
            if !list("prefixes").isEmpty { object["companyPrefixes"] = .array(list("prefixes").map { .string($0) }) }
            if !list("gln").isEmpty { object["locations"] = .array(list("gln").map { .string($0) }) }
            if !list("accreditation").isEmpty {
                object["accreditations"] = .array(
                    try list("accreditation").map { text in
                        let parts = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                        guard parts.count == 4 else {
                            throw CLIError.usage(
                                "--party \(number): accreditation \"\(text)\" is not SCHEME|CERTIFICATE|FROM|UNTIL"
                            )
                        }
                        return .object([
                            "scheme": .string(parts[0]), "certificate": .string(parts[1]),
                            "validFrom": .string(parts[2]), "validUntil": .string(parts[3]),
                        ])
                    }
                )
            }
            return .object(object)
        }
    }

    struct AddParty: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-party",
            abstract: "Add a party (a JSON object as in spec/roster.md) to the roster."
        )
        @OptionGroup var base: Base
        @Option(help: "The party's JSON file.")
        var party: String

        func run() throws {
            let bytes = try LedgerAccess.readFile(party, what: "party file")
            let value: JSONValue
            do { value = try CanonicalJSON.decode(bytes, options: .lenient) } catch {
                throw CLIError.usage("party file \(party) is not valid JSON: \(error)")
            }
            guard case .object = value else { throw CLIError.usage("party file \(party) is not a JSON object") }
            guard case .object(var object) = try base.document().json else { return }
            object["parties"] = .array((object["parties"]?.arrayValue ?? []) + [value])
            try base.write(object)
        }
    }

    struct RotateKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Give a party a new key and retire its current ones at --time."
        )
        @OptionGroup var base: Base
        @Option(help: "The party id.")
        var party: String
        @Option(name: .customLong("new-key"), help: "The new verifier key file (NAME.pub).")
        var newKey: String
        @Option(help: "When the new key starts and the old ones end (default: now).")
        var time: String?

        func run() throws {
            let key = try LedgerAccess.readPublicKey(newKey, what: "new key")
            let when = try LedgerAccess.parseTime(time, option: "--time")
            guard case .object(var object) = try base.document().json else { return }
            var parties = object["parties"]?.arrayValue ?? []
            guard let position = parties.firstIndex(where: { $0.objectValue?["id"]?.stringValue == party }),
                case .object(var entry) = parties[position]
            else { throw CLIError.usage("no party \"\(party)\" in the roster") }
            var keys: [JSONValue] = (entry["keys"]?.arrayValue ?? []).map { value in
                guard case .object(var old) = value else { return value }
                let until = old["validUntil"]?.stringValue.flatMap { try? Timestamp(parsing: $0) }
                if until == nil || until! > when { old["validUntil"] = .string(when.description) }
                return .object(old)
            }
            keys.append(.object(["key": .string(key.description), "validFrom": .string(when.description)]))
            entry["keys"] = .array(keys)
            parties[position] = .object(entry)
            object["parties"] = .array(parties)
            try base.write(object)
        }
    }

    struct RevokeKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke-key",
            abstract: "Revoke a key from --time (statements signed before stay valid)."
        )
        @OptionGroup var base: Base
        @Option(help: "The verifier key file (NAME.pub) of the key to revoke.")
        var key: String
        @Option(help: "key-compromise, superseded, cessation-of-operation, affiliation-changed, privilege-withdrawn.")
        var reason: String = "key-compromise"
        @Option(help: "From when the key is revoked (default: now).")
        var time: String?

        func run() throws {
            let verifier = try LedgerAccess.readPublicKey(key, what: "key")
            guard Revocation.Reason(name: reason) != nil else {
                throw CLIError.usage("unknown reason \"\(reason)\"; see `retrace roster revoke-key --help`")
            }
            let when = try LedgerAccess.parseTime(time, option: "--time")
            guard case .object(var object) = try base.document().json else { return }
            let revocation: JSONValue = .object([
                "key": .string(verifier.description), "reason": .string(reason), "time": .string(when.description),
            ])
            object["revocations"] = .array((object["revocations"]?.arrayValue ?? []) + [revocation])
            try base.write(object)
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a roster document with the governance key and append it to the log."
        )
        @Argument(help: "The new roster document (JSON).")
        var roster: String
        @Option(help: "The ledger file (SQLite).")
        var db: String?
        @OptionGroup var remote: RemoteOptions
        @OptionGroup var freshness: FreshnessOptions
        @Option(name: .customLong("governance-key"), help: "A governance private key of the roster in force.")
        var governanceKey: String
        @Option(
            name: .customLong("log-key"),
            help: "The log's private key (default: the test key for test ledgers); with --server, the log's public key."
        )
        var logKey: String?
        @Option(
            name: .customLong("trusted-governance"),
            help:
                "With --server: the governance public keys the roster chain starts from (default: the signing key's own)."
        )
        var trustedGovernance: [String] = []
        @Option(help: "The roster's time (default: now).")
        var time: String?
        @OptionGroup var output: JSONFlag

        func run() throws {
            let document = try RosterFiles.readDocument(roster)
            let governance = try LedgerAccess.readPrivateKey(governanceKey, what: "governance key")
            let when = try LedgerAccess.parseTime(time, option: "--time")
            if let server = try remote.address(db: db) {
                guard let logKey else {
                    throw CLIError.usage("with --server, pass --log-key LOG.pub (the log's public key)")
                }
                let roots =
                    try trustedGovernance.isEmpty
                    ? [governance.verifier]
                    : trustedGovernance.map { try Remote.readVerifier($0, what: "governance key") }
                let anchors = TrustAnchors(
                    governance: roots,
                    logKey: try Remote.readVerifier(logKey, what: "log key"),
                    origin: nil
                )
                let receipt = try Remote.run(remote, server: server, anchors: anchors, freshness: freshness) { ledger in
                    try await ledger.record(attempts: 3) {
                        // Signed on the roster head verified now, so a concurrent roster change is a conflict, then retried.
                        let head = try await ledger.roster().trust.rosterID
                        let signed = try RosterFiles.sign(document, previous: head, with: governance, time: when)
                        return [signed]
                    }
                }
                try RecordCommand.printReceipt(receipt, json: output.json, members: 1)
                return
            }
            try freshness.requireServer("roster sign")
            let path = try RemoteOptions.requireDB(db)
            let trust = try LedgerAccess.openReadOnly(path).trustState()
            let signed = try RosterFiles.sign(document, previous: trust.rosterID, with: governance, time: when)
            let ledger = try LedgerAccess.openForAppend(path, logKeyFile: logKey, checking: [signed])
            let result = try ledger.append([signed])
            try AppendReport.print(result, json: output.json)
        }
    }
}
