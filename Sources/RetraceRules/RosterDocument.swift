import CanonicalJSON
import RetraceCrypto
import RetraceEvents
import RetraceIdentity

/// The full trust roster: the governance keys, every party with its roles, keys, company
/// prefixes, accreditations and sites, and every revocation ever made.
///
/// A roster update replaces the whole document (never a delta), so the roster in force at any log
/// position is one statement, readable without replaying edits. Parsing is strict and checks the
/// cross-party invariants that make attribution unambiguous: a key belongs to exactly one party and
/// is never also a governance key; no two brand owners' company prefixes overlap.
public struct RosterDocument: Hashable, Sendable {
    public static let version: Int64 = 1

    /// Keys that may sign the next roster.
    public let governance: [NoteVerifier]
    public let parties: [Party]
    public let revocations: [Revocation]

    /// Builds and validates a roster.
    ///
    /// - Throws: ``RuleViolation/Code/invalidRoster`` (rule `T3 roster-valid`) naming the first problem.
    public init(governance: [NoteVerifier], parties: [Party], revocations: [Revocation] = []) throws(RuleViolation) {
        self.governance = governance
        self.parties = parties
        self.revocations = revocations
        do { try validate() } catch { throw RuleViolation(.invalidRoster, rule: Rule.rosterValid, error.description) }
    }

    /// Parses a roster document, refusing unknown fields at every level.
    public init(json value: JSONValue) throws(RuleViolation) {
        do throws(FieldProblem) {
            var fields = try StrictReader(value, path: "roster")
            let version = try fields.integer("version")
            guard version == Self.version else {
                throw FieldProblem(
                    path: fields.at("version"),
                    reason: "version \(version) is not supported; expected 1"
                )
            }
            var governance: [NoteVerifier] = []
            for (index, item) in try fields.array("governance").enumerated() {
                let path = "\(fields.at("governance"))[\(index)]"
                governance.append(try PartyKey.verifier(StrictReader.string(item, path: path), path: path))
            }
            var parties: [Party] = []
            for (index, item) in try fields.array("parties").enumerated() {
                parties.append(try Party(json: item, path: "\(fields.at("parties"))[\(index)]"))
            }
            var revocations: [Revocation] = []
            for (index, item) in try fields.array("revocations").enumerated() {
                revocations.append(try Revocation(json: item, path: "\(fields.at("revocations"))[\(index)]"))
            }
            try fields.finish()
            self.governance = governance
            self.parties = parties
            self.revocations = revocations
            try validate()
        } catch {
            throw RuleViolation(.invalidRoster, rule: Rule.rosterValid, error.description)
        }
    }

    public var json: JSONValue {
        var object = JSONObject()
        object["governance"] = .array(governance.map { .string($0.description) })
        object["parties"] = .array(parties.map(\.json))
        object["revocations"] = .array(revocations.map(\.json))
        object["version"] = .integer(Self.version)
        return .object(object)
    }

    public func party(id: String) -> Party? { parties.first { $0.id == id } }

    /// The brand owner whose company prefix covers `gtin`, if any.
    public func brandOwner(of gtin: GTIN) -> Party? {
        parties.first { $0.has(.brandOwner) && $0.owns(gtin) }
    }

    /// The revocation of the key with this fingerprint, if it was revoked.
    public func revocation(of fingerprint: Digest) -> Revocation? {
        revocations.first { $0.fingerprint == fingerprint }
    }

    private func validate() throws(FieldProblem) {
        guard !governance.isEmpty else {
            throw FieldProblem(path: "roster.governance", reason: "a roster names at least one governance key")
        }
        guard !parties.isEmpty else {
            throw FieldProblem(path: "roster.parties", reason: "a roster lists at least one party")
        }
        var governanceKeys: Set<Digest> = []
        for (index, key) in governance.enumerated() {
            guard governanceKeys.insert(PartyKey.fingerprint(of: key)).inserted else {
                throw FieldProblem(
                    path: "roster.governance[\(index)]",
                    reason: "governance key \(key.name) is listed twice"
                )
            }
        }
        var ids: Set<String> = []
        var partyKeys: Set<Digest> = []
        var prefixes: [(prefix: String, party: String)] = []
        for (index, party) in parties.enumerated() {
            let path = "roster.parties[\(index)]"
            guard ids.insert(party.id).inserted else {
                throw FieldProblem(path: "\(path).id", reason: "party id \"\(party.id)\" is used twice")
            }
            for (keyIndex, key) in party.keys.enumerated() {
                let fingerprint = key.fingerprint
                guard !governanceKeys.contains(fingerprint) else {
                    throw FieldProblem(
                        path: "\(path).keys[\(keyIndex)]",
                        reason: "key \(key.verifier.name) is a governance key; governance keys sign only rosters"
                    )
                }
                guard partyKeys.insert(fingerprint).inserted else {
                    throw FieldProblem(
                        path: "\(path).keys[\(keyIndex)]",
                        reason: "key \(key.verifier.name) is listed twice; a key belongs to exactly one party"
                    )
                }
            }
            if party.has(.brandOwner) {
                guard !party.companyPrefixes.isEmpty else {
                    throw FieldProblem(
                        path: "\(path).companyPrefixes",
                        reason: "a brand owner lists its GS1 company prefixes"
                    )
                }
            } else if !party.companyPrefixes.isEmpty {
                throw FieldProblem(path: "\(path).companyPrefixes", reason: "only brand owners list company prefixes")
            }
            for prefix in party.companyPrefixes {
                if let clash = prefixes.first(where: { $0.prefix.hasPrefix(prefix) || prefix.hasPrefix($0.prefix) }) {
                    throw FieldProblem(
                        path: "\(path).companyPrefixes",
                        reason: "company prefix \(prefix) overlaps \(clash.prefix) of \(clash.party); "
                            + "every GTIN must have one brand owner"
                    )
                }
                prefixes.append((prefix, party.id))
            }
            if !party.accreditations.isEmpty, !party.has(.refurbisher), !party.has(.recycler) {
                throw FieldProblem(
                    path: "\(path).accreditations",
                    reason: "only refurbishers and recyclers hold accreditations"
                )
            }
        }
        var revoked: Set<Digest> = []
        for (index, revocation) in revocations.enumerated() {
            let fingerprint = revocation.fingerprint
            guard partyKeys.contains(fingerprint) || governanceKeys.contains(fingerprint) else {
                throw FieldProblem(
                    path: "roster.revocations[\(index)].key",
                    reason: "key \(revocation.key.name) is not listed; a revoked key stays listed so its "
                        + "earlier statements remain attributable"
                )
            }
            guard revoked.insert(fingerprint).inserted else {
                throw FieldProblem(
                    path: "roster.revocations[\(index)]",
                    reason: "key \(revocation.key.name) is revoked twice"
                )
            }
        }
    }
}
