import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules

/// The fixed test parties of `keys/` (public test material), loaded once: their signing keys, the
/// roster document of `keys/roster.json`, and a trust state with that roster in force.
struct TestParties: Sendable {
    /// The repository root, found from this file's path (Tests/RetraceRulesTests/ → ../../).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let keysFolder = root.appendingPathComponent("keys")

    /// Party ids of `keys/`, plus the governance and log keys.
    static let partyIDs = [
        "northwind", "contoso", "alpine", "wingtip", "fabrikam", "tailspin", "litware", "proseware", "adatum",
        "woodgrove",
    ]

    let signers: [String: NoteSigner]
    let governance: NoteSigner
    let log: NoteSigner
    let roster: RosterDocument
    let rosterStatement: SignedStatement
    let trust: TrustState

    /// 2025-03-01T08:00:00Z, after every test key's validFrom and before any expiry.
    static let start = Timestamp(secondsSinceEpoch: 1_740_816_000)

    private static let loaded = Result { try TestParties() }
    static func get() throws -> TestParties { try loaded.get() }

    private init() throws {
        var signers: [String: NoteSigner] = [:]
        for id in Self.partyIDs { signers[id] = try Self.signer(id) }
        self.signers = signers
        self.governance = try Self.signer("governance")
        self.log = try Self.signer("log")
        let rosterBytes = try Array(Data(contentsOf: Self.keysFolder.appendingPathComponent("roster.json")))
        self.roster = try RosterDocument(json: CanonicalJSON.decode(rosterBytes, options: .lenient))
        self.rosterStatement = try Self.rosterStatement(
            roster,
            previous: nil,
            by: governance,
            at: Self.start.adding(seconds: -86_400)
        )
        self.trust = try TrustState(trustRoots: [governance.verifier]).applying(roster: rosterStatement)
    }

    static func signer(_ file: String) throws -> NoteSigner {
        let text = try String(contentsOf: keysFolder.appendingPathComponent("\(file).key"), encoding: .utf8)
        return try NoteSigner(parsing: text)
    }

    func signer(_ party: String) -> NoteSigner {
        guard let signer = signers[party] else { preconditionFailure("no test party \(party)") }
        return signer
    }

    func party(_ id: String) -> Party {
        guard let party = roster.party(id: id) else { preconditionFailure("no test party \(id)") }
        return party
    }

    static func fingerprint(_ signer: NoteSigner) -> Digest {
        Digest.of([NoteKey.ed25519Algorithm] + signer.verifier.publicKey.rawRepresentation)
    }

    static func rosterStatement(
        _ document: RosterDocument,
        previous: Digest?,
        by signer: NoteSigner,
        at time: Timestamp
    ) throws -> SignedStatement {
        guard case .object(let details) = document.json else { preconditionFailure("a roster is an object") }
        let statement = try Statement(
            type: .roster,
            product: nil,
            previous: previous,
            signer: fingerprint(signer),
            time: time,
            details: details
        )
        return try SignedStatement.sign(statement, with: signer.privateKey)
    }

    /// A Northwind product (company prefix 9506000).
    static func northwindProduct(_ serial: String) throws -> SGTIN {
        try IdentityParser.parse("https://id.gs1.org/01/09506000134352/21/\(serial)").sgtin
    }

    /// A Contoso product (company prefix 0614141).
    static func contosoProduct(_ serial: String) throws -> SGTIN {
        try IdentityParser.parse("https://id.gs1.org/01/00614141123452/21/\(serial)").sgtin
    }

    /// A salted digest as a retailer would compute it (test data only).
    static func saltedDigest(_ text: String) -> String {
        Digest.of(Array("test-salt\n\(text)".utf8)).hex
    }
}

extension RuleViolation {
    /// A violation with only a code, for `#expect(throws:)` (equality is on the code).
    static let invalidDetails = RuleViolation(.invalidDetails, rule: "", "")
}
