import CanonicalJSON
import RetraceEvents
import RetraceIdentity

/// One organisation in the trust roster: who it is, in which roles it may sign, with which keys,
/// for which GTINs (brand owners), under which accreditations, and at which sites.
///
/// A party is identified by a stable slug (``id``) that events and product states refer to, so a
/// party can rotate every key it has without its history changing hands.
public struct Party: Hashable, Sendable, CustomStringConvertible {
    /// Lowercase letters, digits and single hyphens, 1-64 characters, e.g. `northwind`.
    public let id: String
    /// The display name, e.g. `Northwind Devices`.
    public let name: String
    public let roles: Set<Role>
    public let keys: [PartyKey]
    /// GS1 company prefixes (6-12 digits) under which a brand owner commissions GTINs.
    public let companyPrefixes: [String]
    public let accreditations: [Accreditation]
    /// GLNs of the party's sites; a statement's `location` must be one of its signer's sites.
    public let locations: [String]

    public init(
        id: String,
        name: String,
        roles: Set<Role>,
        keys: [PartyKey],
        companyPrefixes: [String] = [],
        accreditations: [Accreditation] = [],
        locations: [String] = []
    ) {
        self.id = id
        self.name = name
        self.roles = roles
        self.keys = keys
        self.companyPrefixes = companyPrefixes
        self.accreditations = accreditations
        self.locations = locations
    }

    public var description: String { "\(name) (\(id))" }

    public func has(_ role: Role) -> Bool { roles.contains(role) }

    /// Whether `gtin` lies under one of this party's company prefixes.
    ///
    /// In a GTIN-14 the company prefix starts after the indicator digit; GTIN-13 and GTIN-12 are
    /// padded with leading zeros, which is why a U.P.C. company prefix is written with a leading 0.
    public func owns(_ gtin: GTIN) -> Bool {
        companyPrefixes.contains { gtin.companyPrefix(matches: $0) }
    }

    /// The accreditation in force at `time` that certifies refurbishing, if any.
    public func refurbishingAccreditation(at time: Timestamp) -> Accreditation? {
        accreditations.first { $0.scheme.coversRefurbishing && $0.isValid(at: time) }
    }

    /// The accreditation in force at `time` that certifies recycling, if any.
    public func recyclingAccreditation(at time: Timestamp) -> Accreditation? {
        accreditations.first { $0.scheme.coversRecycling && $0.isValid(at: time) }
    }

    public var json: JSONValue {
        var object = JSONObject()
        if !accreditations.isEmpty { object["accreditations"] = .array(accreditations.map(\.json)) }
        if !companyPrefixes.isEmpty { object["companyPrefixes"] = .array(companyPrefixes.map { .string($0) }) }
        object["id"] = .string(id)
        object["keys"] = .array(keys.map(\.json))
        if !locations.isEmpty { object["locations"] = .array(locations.map { .string($0) }) }
        object["name"] = .string(name)
        object["roles"] = .array(roles.sorted().map { .string($0.name) })
        return .object(object)
    }

    init(json value: JSONValue, path: String) throws(FieldProblem) {
        var fields = try StrictReader(value, path: path)
        let id = try fields.string("id")
        guard DetailField.isSlug(id) else {
            throw FieldProblem(
                path: fields.at("id"),
                reason: "a party id is 1-64 lowercase letters, digits and single hyphens"
            )
        }
        let name = try fields.string("name")
        guard !name.isEmpty, name.count <= 200, !name.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw FieldProblem(path: fields.at("name"), reason: "a name is 1-200 characters without control characters")
        }
        var roles: Set<Role> = []
        for (index, item) in try fields.array("roles").enumerated() {
            let itemPath = "\(fields.at("roles"))[\(index)]"
            let roleName = try StrictReader.string(item, path: itemPath)
            guard let role = Role(name: roleName) else {
                let known = Role.all.map(\.name).joined(separator: ", ")
                throw FieldProblem(path: itemPath, reason: "unknown role \"\(roleName)\"; expected one of \(known)")
            }
            guard roles.insert(role).inserted else { throw FieldProblem(path: itemPath, reason: "role listed twice") }
        }
        guard !roles.isEmpty else {
            throw FieldProblem(path: fields.at("roles"), reason: "a party holds at least one role")
        }
        var keys: [PartyKey] = []
        for (index, item) in try fields.array("keys").enumerated() {
            keys.append(try PartyKey(json: item, path: "\(fields.at("keys"))[\(index)]"))
        }
        guard !keys.isEmpty else { throw FieldProblem(path: fields.at("keys"), reason: "a party has at least one key") }
        var prefixes: [String] = []
        for (index, item) in try fields.optionalArray("companyPrefixes")?.enumerated() ?? [].enumerated() {
            let itemPath = "\(fields.at("companyPrefixes"))[\(index)]"
            let prefix = try StrictReader.string(item, path: itemPath)
            guard (6...12).contains(prefix.utf8.count), prefix.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw FieldProblem(path: itemPath, reason: "a GS1 company prefix is 6-12 digits, found \"\(prefix)\"")
            }
            prefixes.append(prefix)
        }
        var accreditations: [Accreditation] = []
        for (index, item) in try fields.optionalArray("accreditations")?.enumerated() ?? [].enumerated() {
            accreditations.append(try Accreditation(json: item, path: "\(fields.at("accreditations"))[\(index)]"))
        }
        var locations: [String] = []
        for (index, item) in try fields.optionalArray("locations")?.enumerated() ?? [].enumerated() {
            let itemPath = "\(fields.at("locations"))[\(index)]"
            let gln = try StrictReader.string(item, path: itemPath)
            do { try GLN.validate(gln, field: itemPath) } catch {
                throw FieldProblem(path: itemPath, reason: error.reason)
            }
            guard !locations.contains(gln) else { throw FieldProblem(path: itemPath, reason: "location listed twice") }
            locations.append(gln)
        }
        try fields.finish()
        self.init(
            id: id,
            name: name,
            roles: roles,
            keys: keys,
            companyPrefixes: prefixes,
            accreditations: accreditations,
            locations: locations
        )
    }
}
