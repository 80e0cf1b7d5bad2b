import CanonicalJSON
import RetraceEvents

/// Reads one JSON object strictly: each member is taken once, with its path for messages, and
/// ``finish()`` refuses members nobody asked for.
///
/// Unknown members are refused rather than ignored: they would still be signed and hashed, and
/// another verifier could give them a meaning this one never checked (or they could smuggle
/// personal data, such as a customer's e-mail address, into an append-only log).
struct StrictReader {
    let object: JSONObject
    let path: String
    /// The members taken, by position, as ``FieldReader`` keeps them: a set of the keys taken was
    /// two or three allocations per judged event (issue 15).
    private var taken = TakenPositions()

    init(_ value: JSONValue, path: String) throws(FieldProblem) {
        guard case .object(let object) = value else {
            throw FieldProblem(path: path, reason: "expected an object, found \(Self.kind(value))")
        }
        self.init(object: object, path: path)
    }

    init(object: JSONObject, path: String) {
        self.object = object
        self.path = path
    }

    func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func optional(_ key: String) -> JSONValue? {
        guard let position = object.position(of: key) else { return nil }
        taken.insert(position)
        return object[position].value
    }

    mutating func required(_ key: String) throws(FieldProblem) -> JSONValue {
        guard let value = optional(key) else { throw FieldProblem(path: at(key), reason: "required field is missing") }
        return value
    }

    mutating func string(_ key: String) throws(FieldProblem) -> String {
        try Self.string(required(key), path: at(key))
    }

    mutating func optionalString(_ key: String) throws(FieldProblem) -> String? {
        guard let value = optional(key) else { return nil }
        return try Self.string(value, path: at(key))
    }

    mutating func integer(_ key: String) throws(FieldProblem) -> Int64 {
        try Self.integer(required(key), path: at(key))
    }

    mutating func optionalInteger(_ key: String) throws(FieldProblem) -> Int64? {
        guard let value = optional(key) else { return nil }
        return try Self.integer(value, path: at(key))
    }

    mutating func bool(_ key: String) throws(FieldProblem) -> Bool {
        let value = try required(key)
        guard case .bool(let flag) = value else {
            throw FieldProblem(path: at(key), reason: "expected true or false, found \(Self.kind(value))")
        }
        return flag
    }

    mutating func array(_ key: String) throws(FieldProblem) -> [JSONValue] {
        try Self.array(required(key), path: at(key))
    }

    /// An optional list, which must not be empty when present: each value has one spelling, and
    /// "none" is written by leaving the field out.
    mutating func optionalArray(_ key: String) throws(FieldProblem) -> [JSONValue]? {
        guard let value = optional(key) else { return nil }
        let items = try Self.array(value, path: at(key))
        guard !items.isEmpty else {
            throw FieldProblem(path: at(key), reason: "leave the field out instead of an empty list")
        }
        return items
    }

    mutating func time(_ key: String) throws(FieldProblem) -> Timestamp {
        try Self.time(string(key), path: at(key))
    }

    mutating func optionalTime(_ key: String) throws(FieldProblem) -> Timestamp? {
        guard let text = try optionalString(key) else { return nil }
        return try Self.time(text, path: at(key))
    }

    mutating func digest(_ key: String) throws(FieldProblem) -> Digest {
        try Self.digest(string(key), path: at(key))
    }

    mutating func optionalDigest(_ key: String) throws(FieldProblem) -> Digest? {
        guard let text = try optionalString(key) else { return nil }
        return try Self.digest(text, path: at(key))
    }

    func finish() throws(FieldProblem) {
        guard !taken.containsAll(object.count) else { return }
        for (position, key) in object.keys.enumerated() where !taken.contains(position) {
            throw FieldProblem(path: at(key), reason: "unknown field; version 1 does not define it")
        }
    }

    // MARK: Single values

    static func string(_ value: JSONValue, path: String) throws(FieldProblem) -> String {
        guard case .string(let text) = value else {
            throw FieldProblem(path: path, reason: "expected a string, found \(kind(value))")
        }
        return text
    }

    static func integer(_ value: JSONValue, path: String) throws(FieldProblem) -> Int64 {
        guard case .integer(let number) = value else {
            throw FieldProblem(path: path, reason: "expected an integer, found \(kind(value))")
        }
        return number
    }

    static func array(_ value: JSONValue, path: String) throws(FieldProblem) -> [JSONValue] {
        guard case .array(let items) = value else {
            throw FieldProblem(path: path, reason: "expected an array, found \(kind(value))")
        }
        return items
    }

    static func time(_ text: String, path: String) throws(FieldProblem) -> Timestamp {
        do { return try Timestamp(parsing: text, field: path) } catch {
            throw FieldProblem(path: path, reason: "\"\(text)\" is not a time of the form YYYY-MM-DDTHH:MM:SSZ")
        }
    }

    static func digest(_ text: String, path: String) throws(FieldProblem) -> Digest {
        do { return try Digest(hex: text, field: path) } catch {
            throw FieldProblem(path: path, reason: "expected 64 lowercase hex digits of a SHA-256 hash")
        }
    }

    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .integer: "an integer"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
