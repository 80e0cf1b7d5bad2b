import CanonicalJSON
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules

/// The fixed test parties of `keys/`: a governance key, a log key and one key per party.
///
/// Public test material, compiled in so that the demo, the tests and the benchmarks run from any
/// directory. They must never sign real events: anyone can read these private keys.
public struct TestParties: Sendable {
    public let governance: NoteSigner
    public let log: NoteSigner
    /// Party id → its signing key.
    public let signers: [String: NoteSigner]
    public let roster: RosterDocument

    public static let origin = "retrace.test/demo"

    public init() throws {
        var signers: [String: NoteSigner] = [:]
        for (id, text) in EmbeddedTestKeys.privateKeys {
            signers[id] = try NoteSigner(parsing: text)
        }
        guard let governance = signers.removeValue(forKey: "governance"), let log = signers.removeValue(forKey: "log")
        else {
            throw SimulationError("the embedded test keys lack the governance or log key")
        }
        self.governance = governance
        self.log = log
        self.signers = signers
        let json = try CanonicalJSON.decode(Array(EmbeddedTestKeys.rosterJSON.utf8), options: .lenient)
        self.roster = try RosterDocument(json: json)
    }

    public func signer(_ party: String) throws -> NoteSigner {
        guard let signer = signers[party] else { throw SimulationError("no test party \"\(party)\"") }
        return signer
    }

    /// The first roster of a test ledger, signed by the governance key.
    public func signedRoster(
        time: Timestamp,
        previous: Digest? = nil,
        document: RosterDocument? = nil
    ) throws
        -> SignedStatement
    {
        guard case .object(let details) = (document ?? roster).json else {
            throw SimulationError("the roster document is not a JSON object")
        }
        let statement = try Statement(
            type: .roster,
            product: nil,
            previous: previous,
            signer: Digest(bytes: governance.verifier.publicKey.fingerprint),
            time: time,
            details: details
        )
        return try SignedStatement.sign(statement, with: governance.privateKey)
    }

    /// Builds and signs one event statement as `party`.
    public func sign(
        _ type: EventType,
        product: SGTIN?,
        previous: Digest?,
        by party: String,
        at time: Timestamp,
        location: String? = nil,
        details: JSONObject = JSONObject(),
        batch members: [BatchMember] = []
    ) throws -> SignedStatement {
        let key = try signer(party)
        let statement = try Statement(
            type: type,
            product: product,
            previous: previous,
            batch: members.isEmpty ? nil : BatchMember.commitment(for: members),
            signer: Digest(bytes: key.verifier.publicKey.fingerprint),
            time: time,
            location: location,
            details: details
        )
        return try SignedStatement.sign(statement, with: key.privateKey, members: members)
    }
}

public struct SimulationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
