import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceRules

/// `retrace roster`: who is trusted, and changing it (each change is a governance-signed log entry).
struct RosterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roster", abstract: "Show the roster in force; prepare a changed roster; sign and append it.",
        discussion: """
            Changes are made in two steps: add-party, rotate-key and revoke-key write a new roster document \
            (to --out or standard output, starting from the ledger's roster or --from FILE); `roster sign` signs \
            it with the governance key and appends it to the log.
            """,
        subcommands: [Show.self, AddParty.self, RotateKey.self, RevokeKey.self, Sign.self])

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
        static let configuration = CommandConfiguration(abstract: "Show the roster in force.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: JSONFlag

        func run() throws {
            let ledger = try LedgerAccess.openReadOnly(database.db)
            let trust = try ledger.trustState()
            guard let roster = trust.roster, let id = trust.rosterID else { throw CLIError.usage("no roster in force") }
            if output.json {
                try Output.json(
                    .object([
                        "roster": .string(id.hex), "time": trust.rosterTime.map { .string($0.description) } ?? .null,
                        "document": roster.json,
                    ]))
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

    struct AddParty: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-party", abstract: "Add a party (a JSON object as in spec/roster.md) to the roster.")
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
            commandName: "rotate-key", abstract: "Give a party a new key and retire its current ones at --time.")
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
            commandName: "revoke-key", abstract: "Revoke a key from --time (statements signed before stay valid).")
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
            abstract: "Sign a roster document with the governance key and append it to the log.")
        @Argument(help: "The new roster document (JSON).")
        var roster: String
        @OptionGroup var database: DatabaseOptions
        @Option(name: .customLong("governance-key"), help: "A governance private key of the roster in force.")
        var governanceKey: String
        @Option(name: .customLong("log-key"), help: "The log's private key (default: the test key for test ledgers).")
        var logKey: String?
        @Option(help: "The roster's time (default: now).")
        var time: String?
        @OptionGroup var output: JSONFlag

        func run() throws {
            let document = try RosterFiles.readDocument(roster)
            let governance = try LedgerAccess.readPrivateKey(governanceKey, what: "governance key")
            let when = try LedgerAccess.parseTime(time, option: "--time")
            let trust = try LedgerAccess.openReadOnly(database.db).trustState()
            let signed = try RosterFiles.sign(document, previous: trust.rosterID, with: governance, time: when)
            let ledger = try LedgerAccess.openForAppend(database.db, logKeyFile: logKey, checking: [signed])
            let result = try ledger.append([signed])
            try AppendReport.print(result, json: output.json)
        }
    }
}
