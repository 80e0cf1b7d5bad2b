import CanonicalJSON
import RetraceCrypto
import RetraceEvents
import RetraceRules
import Testing

/// Roster governance (T1–T5) and statement authentication (T6–T9), including key rotation and
/// revocation.
struct TrustStateTests {
    func violation(_ body: () throws -> Void) -> RuleViolation? {
        do { try body() } catch let error as RuleViolation { return error } catch { return nil }
        return nil
    }

    /// The test roster with one party's keys replaced.
    func roster(
        _ base: RosterDocument,
        replacingKeysOf id: String,
        with keys: [PartyKey],
        governance: [NoteVerifier]? = nil,
        revocations: [Revocation]? = nil
    ) throws -> RosterDocument {
        let parties = base.parties.map { party in
            party.id != id
                ? party
                : Party(
                    id: party.id,
                    name: party.name,
                    roles: party.roles,
                    keys: keys,
                    companyPrefixes: party.companyPrefixes,
                    accreditations: party.accreditations,
                    locations: party.locations
                )
        }
        return try RosterDocument(
            governance: governance ?? base.governance,
            parties: parties,
            revocations: revocations ?? base.revocations
        )
    }

    func event(_ type: EventType = .ship, by signer: NoteSigner, at time: Timestamp) throws -> SignedStatement {
        let product = try TestParties.northwindProduct("TRUST-1")
        let statement = try Statement(
            type: type,
            product: product,
            previous: type == .commission ? nil : Digest.of([1]),
            signer: TestParties.fingerprint(signer),
            time: time,
            details: ["shipment": "ASN-9"]
        )
        return try SignedStatement.sign(statement, with: signer.privateKey)
    }

    // MARK: Rosters

    @Test("the first roster must be signed by a trust root")
    func firstRosterByTrustRoot() throws {
        let parties = try TestParties.get()
        let trust = try #require(parties.trust.rosterID)
        #expect(trust == parties.rosterStatement.id)
        #expect(parties.trust.roster == parties.roster)
        let impostor = try TestParties.rosterStatement(
            parties.roster,
            previous: nil,
            by: parties.signer("northwind"),
            at: TestParties.start
        )
        let refused = violation {
            _ = try TrustState(trustRoots: [parties.governance.verifier]).applying(roster: impostor)
        }
        #expect(refused?.code == .rosterNotGoverned)
        #expect(refused?.rule == Rule.rosterGoverned)
        #expect(refused?.isAuthentication == true)
    }

    @Test("a roster statement carrying a location is refused as malformed (roster.md §1, issue 16 point 2)")
    func rosterWithoutLocation() throws {
        let parties = try TestParties.get()
        let statement = parties.rosterStatement.statement
        guard case .object(var object) = statement.json else { throw FormatError(.wrongType, field: "", "") }
        object["location"] = .string("9506000000015")
        var refused: FormatError?
        do { _ = try Statement(json: .object(object)) } catch { refused = error }
        #expect(refused?.code == .invalidValue, "\(String(describing: refused))")
        #expect(refused?.description.contains("no location") == true)
        #expect(throws: FormatError.self) {
            try Statement(
                type: .roster,
                product: nil,
                previous: nil,
                signer: statement.signer,
                time: statement.time,
                location: "9506000000015",
                details: statement.details
            )
        }
    }

    @Test("a roster must name the roster in force as previous")
    func rosterChain() throws {
        let parties = try TestParties.get()
        let governance = parties.governance
        let firstWithPrevious = try TestParties.rosterStatement(
            parties.roster,
            previous: Digest.of([7]),
            by: governance,
            at: TestParties.start
        )
        #expect(
            violation { _ = try TrustState(trustRoots: [governance.verifier]).applying(roster: firstWithPrevious) }?
                .code == .rosterOutOfOrder
        )
        let secondWithoutPrevious = try TestParties.rosterStatement(
            parties.roster,
            previous: nil,
            by: governance,
            at: TestParties.start
        )
        let refused = violation { _ = try parties.trust.applying(roster: secondWithoutPrevious) }
        #expect(refused?.code == .rosterOutOfOrder)
        #expect(refused?.rule == Rule.rosterChain)
        let second = try TestParties.rosterStatement(
            parties.roster,
            previous: parties.trust.rosterID,
            by: governance,
            at: TestParties.start
        )
        #expect(try parties.trust.applying(roster: second).rosterID == second.id)
    }

    @Test("a roster may not be dated before the roster in force")
    func rosterTime() throws {
        let parties = try TestParties.get()
        let early = try TestParties.rosterStatement(
            parties.roster,
            previous: parties.trust.rosterID,
            by: parties.governance,
            at: TestParties.start.adding(seconds: -2 * 86_400)
        )
        #expect(violation { _ = try parties.trust.applying(roster: early) }?.rule == Rule.rosterTime)
    }

    @Test("a roster whose signature does not verify is refused")
    func rosterSignature() throws {
        let parties = try TestParties.get()
        let good = try TestParties.rosterStatement(
            parties.roster,
            previous: parties.trust.rosterID,
            by: parties.governance,
            at: TestParties.start
        )
        var signature = good.signature
        signature[0] ^= 1
        let forged = SignedStatement(statement: good.statement, signature: signature)
        let refused = violation { _ = try parties.trust.applying(roster: forged) }
        #expect(refused?.code == .badSignature)
        #expect(refused?.rule == Rule.rosterGoverned)
    }

    @Test("a roster document that breaks a roster rule is refused")
    func rosterDocumentInvalid() throws {
        let parties = try TestParties.get()
        var details = try #require(parties.roster.json.objectValue)
        details["parties"] = .array([])
        let statement = try Statement(
            type: .roster,
            product: nil,
            previous: parties.trust.rosterID,
            signer: TestParties.fingerprint(parties.governance),
            time: TestParties.start,
            details: details
        )
        let signed = try SignedStatement.sign(statement, with: parties.governance.privateKey)
        let refused = violation { _ = try parties.trust.applying(roster: signed) }
        #expect(refused?.code == .invalidRoster)
        #expect(refused?.rule == Rule.rosterValid)
    }

    @Test("governance keys rotate: the next roster is signed by a governance key of the roster in force")
    func governanceRotation() throws {
        let parties = try TestParties.get()
        let next = try NoteSigner.generate(name: "governance-2026.retrace.test")
        let handover = try RosterDocument(
            governance: [next.verifier],
            parties: parties.roster.parties,
            revocations: parties.roster.revocations
        )
        let second = try TestParties.rosterStatement(
            handover,
            previous: parties.trust.rosterID,
            by: parties.governance,
            at: TestParties.start
        )
        let trust = try parties.trust.applying(roster: second)
        #expect(trust.roster?.governance == [next.verifier])
        // The old governance key (also the trust root) no longer governs.
        let byOld = try TestParties.rosterStatement(
            handover,
            previous: trust.rosterID,
            by: parties.governance,
            at: TestParties.start
        )
        #expect(violation { _ = try trust.applying(roster: byOld) }?.code == .rosterNotGoverned)
        let byNew = try TestParties.rosterStatement(handover, previous: trust.rosterID, by: next, at: TestParties.start)
        #expect(try trust.applying(roster: byNew).rosterID == byNew.id)
        // Governance keys sign rosters only.
        #expect(
            violation { _ = try trust.authenticate(try event(by: next, at: TestParties.start)) }?.code == .unknownKey
        )
    }

    @Test("a revoked governance key cannot sign a roster dated after its revocation")
    func revokedGovernance() throws {
        let parties = try TestParties.get()
        let backup = try NoteSigner.generate(name: "governance-backup.retrace.test")
        let revokedAt = TestParties.start.adding(seconds: 3600)
        let document = try RosterDocument(
            governance: [parties.governance.verifier, backup.verifier],
            parties: parties.roster.parties,
            revocations: [Revocation(key: parties.governance.verifier, time: revokedAt, reason: .keyCompromise)]
        )
        let second = try TestParties.rosterStatement(
            document,
            previous: parties.trust.rosterID,
            by: parties.governance,
            at: TestParties.start
        )
        let trust = try parties.trust.applying(roster: second)
        let late = try TestParties.rosterStatement(
            document,
            previous: trust.rosterID,
            by: parties.governance,
            at: revokedAt
        )
        #expect(violation { _ = try trust.applying(roster: late) }?.code == .rosterNotGoverned)
        let byBackup = try TestParties.rosterStatement(document, previous: trust.rosterID, by: backup, at: revokedAt)
        #expect(try trust.applying(roster: byBackup).rosterID == byBackup.id)
    }

    @Test("revocations are permanent: a later roster must repeat them unchanged")
    func revocationsPermanent() throws {
        let parties = try TestParties.get()
        let revocation = Revocation(
            key: parties.signer("alpine").verifier,
            time: TestParties.start,
            reason: .keyCompromise
        )
        let withRevocation = try RosterDocument(
            governance: parties.roster.governance,
            parties: parties.roster.parties,
            revocations: [revocation]
        )
        let second = try TestParties.rosterStatement(
            withRevocation,
            previous: parties.trust.rosterID,
            by: parties.governance,
            at: TestParties.start
        )
        let trust = try parties.trust.applying(roster: second)
        let dropped = try TestParties.rosterStatement(
            parties.roster,
            previous: trust.rosterID,
            by: parties.governance,
            at: TestParties.start
        )
        let refused = violation { _ = try trust.applying(roster: dropped) }
        #expect(refused?.code == .invalidRoster)
        #expect(refused?.rule == Rule.revocationsPermanent)
        let moved = try RosterDocument(
            governance: parties.roster.governance,
            parties: parties.roster.parties,
            revocations: [
                Revocation(key: revocation.key, time: revocation.time.adding(seconds: 86_400), reason: .keyCompromise)
            ]
        )
        let later = try TestParties.rosterStatement(
            moved,
            previous: trust.rosterID,
            by: parties.governance,
            at: TestParties.start
        )
        #expect(violation { _ = try trust.applying(roster: later) }?.rule == Rule.revocationsPermanent)
    }

    @Test("an event statement is not a roster update, and a roster is not an event")
    func kinds() throws {
        let parties = try TestParties.get()
        let shipment = try event(by: parties.signer("alpine"), at: TestParties.start)
        #expect(violation { _ = try parties.trust.applying(roster: shipment) }?.code == .notAnEvent)
        #expect(violation { _ = try parties.trust.authenticate(parties.rosterStatement) }?.code == .notAnEvent)
    }

    // MARK: Authentication

    @Test("a statement by a roster key resolves to its party")
    func authenticates() throws {
        let parties = try TestParties.get()
        for id in TestParties.partyIDs {
            let party = try parties.trust.authenticate(try event(by: parties.signer(id), at: TestParties.start))
            #expect(party.id == id)
        }
        #expect(parties.trust.key(fingerprint: TestParties.fingerprint(parties.signer("adatum")))?.party.id == "adatum")
    }

    @Test("a statement by a key outside the roster, or before any roster, is refused")
    func unknownKey() throws {
        let parties = try TestParties.get()
        let stranger = try NoteSigner.generate(name: "stranger.test")
        let refused = violation { _ = try parties.trust.authenticate(try event(by: stranger, at: TestParties.start)) }
        #expect(refused?.code == .unknownKey)
        #expect(refused?.rule == Rule.knownKey)
        #expect(refused?.isAuthentication == true)
        let empty = TrustState(trustRoots: [parties.governance.verifier])
        #expect(
            violation { _ = try empty.authenticate(try event(by: parties.signer("alpine"), at: TestParties.start)) }?
                .code == .unknownKey
        )
        #expect(
            violation { _ = try parties.trust.authenticate(try event(by: parties.governance, at: TestParties.start)) }?
                .code == .unknownKey
        )
    }

    @Test("a tampered statement or signature is refused")
    func badSignature() throws {
        let parties = try TestParties.get()
        let signed = try event(by: parties.signer("alpine"), at: TestParties.start)
        var signature = signed.signature
        signature[10] ^= 0x40
        let refused = violation {
            _ = try parties.trust.authenticate(SignedStatement(statement: signed.statement, signature: signature))
        }
        #expect(refused?.code == .badSignature)
        #expect(refused?.rule == Rule.signature)
        // Another party's signature over a statement naming alpine's key.
        let wrong = try SignedStatement.sign(signed.statement, with: parties.signer("wingtip").privateKey)
        #expect(violation { _ = try parties.trust.authenticate(wrong) }?.code == .badSignature)
    }

    @Test("key rotation: the old key signs until it is retired, the new key from its start, earlier events stay valid")
    func keyRotation() throws {
        let parties = try TestParties.get()
        let old = parties.signer("northwind")
        let new = try NoteSigner.generate(name: "northwind-2025.test")
        let handover = TestParties.start.adding(seconds: 10 * 86_400)
        // An event signed with the old key under the first roster.
        let before = try event(.commission, by: old, at: TestParties.start)
        #expect(try parties.trust.authenticate(before).id == "northwind")

        let rotated = try roster(
            parties.roster,
            replacingKeysOf: "northwind",
            with: [
                PartyKey(
                    verifier: old.verifier,
                    validFrom: TestParties.start.adding(seconds: -86_400 * 400),
                    validUntil: handover
                ),
                PartyKey(verifier: new.verifier, validFrom: handover),
            ]
        )
        let statement = try TestParties.rosterStatement(
            rotated,
            previous: parties.trust.rosterID,
            by: parties.governance,
            at: TestParties.start
        )
        let trust = try parties.trust.applying(roster: statement)

        #expect(try trust.authenticate(before).id == "northwind", "an event signed before the rotation stays valid")
        #expect(
            try trust.authenticate(try event(.commission, by: old, at: handover.adding(seconds: -1))).id == "northwind"
        )
        let expired = violation { _ = try trust.authenticate(try event(.commission, by: old, at: handover)) }
        #expect(expired?.code == .keyExpired)
        #expect(expired?.rule == Rule.keyValidity)
        let early = violation {
            _ = try trust.authenticate(try event(.commission, by: new, at: handover.adding(seconds: -1)))
        }
        #expect(early?.code == .keyNotYetValid)
        #expect(try trust.authenticate(try event(.commission, by: new, at: handover)).id == "northwind")
    }

    @Test("revocation: events signed before it stay valid, events at or after it are refused")
    func keyRevocation() throws {
        let parties = try TestParties.get()
        let alpine = parties.signer("alpine")
        let revokedAt = TestParties.start.adding(seconds: 5 * 86_400)
        let document = try RosterDocument(
            governance: parties.roster.governance,
            parties: parties.roster.parties,
            revocations: [Revocation(key: alpine.verifier, time: revokedAt, reason: .keyCompromise)]
        )
        let statement = try TestParties.rosterStatement(
            document,
            previous: parties.trust.rosterID,
            by: parties.governance,
            at: TestParties.start
        )
        let trust = try parties.trust.applying(roster: statement)
        #expect(try trust.authenticate(try event(by: alpine, at: revokedAt.adding(seconds: -1))).id == "alpine")
        let refused = violation { _ = try trust.authenticate(try event(by: alpine, at: revokedAt)) }
        #expect(refused?.code == .keyRevoked)
        #expect(refused?.rule == Rule.keyRevocation)
        #expect(refused?.product == (try TestParties.northwindProduct("TRUST-1")).digitalLink)
        #expect(refused?.isAuthentication == true)
        #expect(
            violation { _ = try trust.authenticate(try event(by: alpine, at: revokedAt.adding(seconds: 86_400))) }?
                .code == .keyRevoked
        )
    }

    @Test("a product's chain is judged against the roster in force at each event")
    func chainAcrossRotation() throws {
        let parties = try TestParties.get()
        var chain = ProductChain(try TestParties.northwindProduct("ROT-1"), parties: parties)
        try chain.record(.commission)
        try chain.record(.ship)
        // Fabrikam rotates its key; the next roster retires the old one.
        let old = parties.signer("fabrikam")
        let new = try NoteSigner.generate(name: "fabrikam-2025.test")
        let handover = chain.clock
        let rotated = try roster(
            parties.roster,
            replacingKeysOf: "fabrikam",
            with: [
                PartyKey(
                    verifier: old.verifier,
                    validFrom: TestParties.start.adding(seconds: -86_400 * 400),
                    validUntil: handover
                ),
                PartyKey(verifier: new.verifier, validFrom: handover),
            ]
        )
        chain.trust = try chain.trust.applying(
            roster: try TestParties.rosterStatement(
                rotated,
                previous: chain.trust.rosterID,
                by: parties.governance,
                at: handover
            )
        )
        #expect(violation { try chain.record(.receive, by: "fabrikam") }?.code == .keyExpired)
        #expect(try chain.record(.receive, by: "fabrikam", key: new).custodian == "fabrikam")
        // The earlier statements still authenticate under the new roster.
        for signed in chain.history { #expect(throws: Never.self) { _ = try chain.trust.authenticate(signed) } }
    }
}
