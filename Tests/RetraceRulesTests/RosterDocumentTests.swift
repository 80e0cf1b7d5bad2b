import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceRules
import Testing

/// keys/ and keys/roster.json, and the roster document's strict parsing and invariants.
struct RosterDocumentTests {
    /// What a refusal says, for tests that check it names the place and the reason.
    static func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return ""
    }

    func code(_ body: () throws -> Void) -> RuleViolation.Code? {
        do { try body() } catch let error as RuleViolation { return error.code } catch { return nil }
        return nil
    }

    /// The roster JSON as a mutable tree.
    func rosterObject() throws -> JSONObject {
        guard case .object(let object) = try TestParties.get().roster.json else { throw CancellationError() }
        return object
    }

    func withParty(_ index: Int, _ change: (inout JSONObject) -> Void) throws -> JSONValue {
        var roster = try rosterObject()
        guard case .array(var parties)? = roster["parties"], case .object(var party) = parties[index] else {
            throw CancellationError()
        }
        change(&party)
        parties[index] = .object(party)
        roster["parties"] = .array(parties)
        return .object(roster)
    }

    @Test(
        "every key file parses with NoteSigner and matches its .pub file",
        arguments: TestParties.partyIDs + ["governance", "log"]
    )
    func keyFiles(_ name: String) throws {
        let signer = try TestParties.signer(name)
        let pub = try String(contentsOf: TestParties.keysFolder.appendingPathComponent("\(name).pub"), encoding: .utf8)
        let verifier = try NoteVerifier(parsing: pub.trimmingCharacters(in: .newlines))
        #expect(verifier == signer.verifier)
        #expect(signer.privateKeyText.hasPrefix("PRIVATE+KEY+\(verifier.name)+"))
        // The key id is SHA-256(name ‖ "\n" ‖ 0x01 ‖ key)[0..<4], big-endian, as 8 lowercase hex digits.
        let id = SHA256.hash(Array(verifier.name.utf8) + [0x0a, 0x01] + verifier.publicKey.rawRepresentation).prefix(4)
        #expect(verifier.description.split(separator: "+")[1] == Hex.encode(id))
    }

    @Test("keys/roster.json lists the test parties with their roles, prefixes and accreditations")
    func rosterFile() throws {
        let parties = try TestParties.get()
        let roster = parties.roster
        #expect(roster.governance == [parties.governance.verifier])
        #expect(Set(roster.parties.map(\.id)) == Set(TestParties.partyIDs))
        #expect(roster.party(id: "northwind")?.companyPrefixes == ["9506000"])
        #expect(roster.party(id: "northwind")?.name == "Northwind Devices")
        #expect(roster.party(id: "contoso")?.companyPrefixes == ["0614141"])
        #expect(roster.party(id: "proseware")?.accreditations.first?.scheme == .r2v3)
        #expect(roster.party(id: "adatum")?.accreditations.first?.scheme == .weeeAATF)
        #expect(roster.party(id: "fabrikam")?.has(.retailer) == true)
        #expect(roster.party(id: "tailspin")?.has(.retailer) == true)
        for id in TestParties.partyIDs {
            #expect(roster.party(id: id)?.keys.map(\.verifier) == [parties.signer(id).verifier])
        }
        #expect(roster.brandOwner(of: try TestParties.northwindProduct("X").gtin)?.id == "northwind")
        #expect(roster.brandOwner(of: try TestParties.contosoProduct("X").gtin)?.id == "contoso")
        #expect(roster.revocations.isEmpty)
    }

    @Test("the roster's JSON reads back to the same document")
    func roundTrip() throws {
        let roster = try TestParties.get().roster
        #expect(try RosterDocument(json: roster.json) == roster)
        let bytes = try CanonicalJSON.encode(roster.json)
        #expect(try RosterDocument(json: CanonicalJSON.decode(bytes)) == roster)
    }

    @Test("unknown fields are refused at every level")
    func unknownFields() throws {
        var top = try rosterObject()
        top["comment"] = "hello"
        #expect(code { _ = try RosterDocument(json: .object(top)) } == .invalidRoster)
        let party = try withParty(0) { $0["email"] = "ceo@northwind.test" }
        #expect(code { _ = try RosterDocument(json: party) } == .invalidRoster)
        let key = try withParty(0) {
            guard case .array(var keys)? = $0["keys"], case .object(var first) = keys[0] else {
                Issue.record("the test roster's first party has no key object to change")
                return
            }
            first["note"] = "x"
            keys[0] = .object(first)
            $0["keys"] = .array(keys)
        }
        #expect(code { _ = try RosterDocument(json: key) } == .invalidRoster)
    }

    @Test(
        "malformed values are refused with rule T3",
        arguments: [
            ("roles", JSONValue.array(["wizard"])), ("roles", .array([])), ("id", "North Wind"), ("keys", .array([])),
            ("companyPrefixes", .array(["95060"])), ("companyPrefixes", .array([])),
            ("locations", .array(["9506000000016"])),
            (
                "accreditations",
                .array([
                    [
                        "scheme": "ISO-9001", "certificate": "X", "validFrom": "2024-01-01T00:00:00Z",
                        "validUntil": "2030-01-01T00:00:00Z",
                    ]
                ])
            ),
        ]
    )
    func malformed(_ field: String, _ value: JSONValue) throws {
        let document = try withParty(0) { $0[field] = value }
        #expect {
            _ = try RosterDocument(json: document)
        } throws: { error in
            (error as? RuleViolation)?.code == .invalidRoster && (error as? RuleViolation)?.rule == Rule.rosterValid
        }
    }

    @Test("a brand owner must list prefixes, and only brand owners may")
    func prefixesOnlyForBrandOwners() throws {
        let noPrefix = try withParty(0) { $0["companyPrefixes"] = nil }
        #expect(code { _ = try RosterDocument(json: noPrefix) } == .invalidRoster)
        let distributorWithPrefix = try withParty(2) { $0["companyPrefixes"] = ["9512345"] }
        #expect(code { _ = try RosterDocument(json: distributorWithPrefix) } == .invalidRoster)
    }

    @Test("two brand owners' prefixes may not overlap: every GTIN has one owner")
    func overlappingPrefixes() throws {
        let overlap = try withParty(1) { $0["companyPrefixes"] = ["95060001"] }
        #expect(code { _ = try RosterDocument(json: overlap) } == .invalidRoster)
    }

    @Test("a key belongs to one party, and never to a party and the governance")
    func keyUniqueness() throws {
        let parties = try TestParties.get()
        let northwindKey = parties.party("northwind").keys[0]
        let shared = try withParty(1) { $0["keys"] = .array([northwindKey.json]) }
        #expect(code { _ = try RosterDocument(json: shared) } == .invalidRoster)
        let governanceKey = PartyKey(verifier: parties.governance.verifier, validFrom: TestParties.start)
        let governed = try withParty(1) { $0["keys"] = .array([governanceKey.json]) }
        #expect(code { _ = try RosterDocument(json: governed) } == .invalidRoster)
    }

    @Test("a key of small order is refused in a party's keys and in the governance, naming where")
    func smallOrderKeys() throws {
        // The identity point: with it, R the identity and S = 0 verify every message.
        let identityKey: [UInt8] = [0x01] + [UInt8](repeating: 0, count: 31)
        let key = try Ed25519PublicKey(rawRepresentation: identityKey)
        let name = "forger.test"
        let text =
            "\(name)+\(NoteKey.hex8(NoteKey.keyID(name: name, publicKey: key)))+"
            + Base64.encode([NoteKey.ed25519Algorithm] + identityKey)
        let forged = try withParty(1) {
            $0["keys"] = .array([.object(["key": .string(text), "validFrom": "2026-01-01T00:00:00Z"])])
        }
        #expect(code { _ = try RosterDocument(json: forged) } == .invalidRoster)
        let message = Self.message { _ = try RosterDocument(json: forged) }
        #expect(message.contains("roster.parties[1].keys[0].key") && message.contains("small order"), "\(message)")
        var roster = try rosterObject()
        roster["governance"] = .array([.string(text)])
        #expect(code { _ = try RosterDocument(json: .object(roster)) } == .invalidRoster)
    }

    @Test("accreditations belong to refurbishers and recyclers only")
    func accreditationsOnlyForCertifiedRoles() throws {
        let accreditation = try TestParties.get().party("adatum").accreditations[0]
        let retailer = try withParty(4) { $0["accreditations"] = .array([accreditation.json]) }
        #expect(code { _ = try RosterDocument(json: retailer) } == .invalidRoster)
    }

    @Test("a revocation names a listed key, once")
    func revocationsNameListedKeys() throws {
        let parties = try TestParties.get()
        let stranger = try NoteSigner.generate(name: "stranger.test")
        #expect(
            code {
                _ = try RosterDocument(
                    governance: parties.roster.governance,
                    parties: parties.roster.parties,
                    revocations: [Revocation(key: stranger.verifier, time: TestParties.start, reason: .keyCompromise)]
                )
            } == .invalidRoster
        )
        let revocation = Revocation(
            key: parties.signer("alpine").verifier,
            time: TestParties.start,
            reason: .superseded
        )
        #expect(
            code {
                _ = try RosterDocument(
                    governance: parties.roster.governance,
                    parties: parties.roster.parties,
                    revocations: [revocation, revocation]
                )
            } == .invalidRoster
        )
        let valid = try RosterDocument(
            governance: parties.roster.governance,
            parties: parties.roster.parties,
            revocations: [revocation]
        )
        #expect(try RosterDocument(json: valid.json).revocations == [revocation])
    }

    @Test("party ownership of GTINs follows the company prefix after the indicator digit")
    func ownership() throws {
        let parties = try TestParties.get()
        let northwind = parties.party("northwind")
        #expect(northwind.owns(try TestParties.northwindProduct("A").gtin))
        #expect(!northwind.owns(try TestParties.contosoProduct("A").gtin))
        #expect(parties.party("contoso").owns(try TestParties.contosoProduct("A").gtin))
    }

    @Test("spec/roster.md names every trust rule id and documents every roster member")
    func specNamesRules() throws {
        let text = try String(contentsOf: TestParties.root.appendingPathComponent("spec/roster.md"), encoding: .utf8)
        let ids = [
            Rule.rosterChain, Rule.rosterGoverned, Rule.rosterValid, Rule.revocationsPermanent, Rule.rosterTime,
            Rule.knownKey, Rule.keyValidity, Rule.keyRevocation, Rule.signature,
        ]
        for id in ids { #expect(text.contains("| `\(id)` |"), "\(id)") }
        #expect(text.contains("`\(Rule.signerSite)`"))
        let members = [
            "version", "governance", "parties", "revocations", "id", "name", "roles", "keys", "companyPrefixes",
            "accreditations", "locations", "key", "validFrom", "validUntil", "scheme", "certificate", "time", "reason",
        ]
        for member in members { #expect(text.contains("| `\(member)` |"), "\(member)") }
        for role in Role.all { #expect(text.contains("`\(role.name)`")) }
        for scheme in Accreditation.Scheme.all { #expect(text.contains("`\(scheme.name)`")) }
        for reason in Revocation.Reason.all { #expect(text.contains("`\(reason.name)`")) }
    }
}
