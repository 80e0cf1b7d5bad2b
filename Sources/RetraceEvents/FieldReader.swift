import CanonicalJSON

/// Reads the members of one JSON object strictly: each field is taken once, with its path for
/// error messages, and ``finish()`` refuses any member nobody asked for.
///
/// Unknown fields are refused rather than ignored because an ignored field would still be covered
/// by the signature and the hash, and a verifier that ignores it could be shown something the
/// signer never meant.
struct FieldReader {
    let object: JSONObject
    let path: String
    /// The members asked for, one bit per position: every statement, entry and detail object is
    /// read through here, and a set of names cost a hash per field (a sixth of the parse).
    private var taken = TakenPositions()

    init(_ value: JSONValue, path: String) throws(FormatError) {
        guard case .object(let object) = value else {
            throw FormatError(.wrongType, field: path, "expected a JSON object, found \(value.kindName)")
        }
        self.object = object
        self.path = path
    }

    func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func optional(_ key: String) -> JSONValue? {
        guard let position = object.position(of: key) else { return nil }
        taken.insert(position)
        return object[position].value
    }

    mutating func required(_ key: String) throws(FormatError) -> JSONValue {
        guard let value = optional(key) else {
            throw FormatError(.missingField, field: fieldPath(key), "required field is missing")
        }
        return value
    }

    mutating func string(_ key: String) throws(FormatError) -> String {
        let value = try required(key)
        guard case .string(let text) = value else {
            throw FormatError(.wrongType, field: fieldPath(key), "expected a string, found \(value.kindName)")
        }
        return text
    }

    mutating func optionalString(_ key: String) throws(FormatError) -> String? {
        guard let value = optional(key) else { return nil }
        guard case .string(let text) = value else {
            throw FormatError(.wrongType, field: fieldPath(key), "expected a string, found \(value.kindName)")
        }
        return text
    }

    mutating func integer(_ key: String) throws(FormatError) -> Int64 {
        let value = try required(key)
        guard case .integer(let number) = value else {
            throw FormatError(.wrongType, field: fieldPath(key), "expected an integer, found \(value.kindName)")
        }
        return number
    }

    mutating func array(_ key: String) throws(FormatError) -> [JSONValue] {
        let value = try required(key)
        guard case .array(let items) = value else {
            throw FormatError(.wrongType, field: fieldPath(key), "expected an array, found \(value.kindName)")
        }
        return items
    }

    func finish() throws(FormatError) {
        guard !taken.containsAll(object.count) else { return }
        for (position, key) in object.keys.enumerated() where !taken.contains(position) {
            throw FormatError(.unknownField, field: fieldPath(key), "unknown field; version 1 does not define it")
        }
    }
}

/// Member positions read so far: a bit mask for the first 64 (every object Retrace defines is
/// smaller), a set for any beyond, so an object of any size is still checked exactly.
package struct TakenPositions {
    private var low: UInt64 = 0
    private var high: Set<Int> = []

    package init() {}

    package mutating func insert(_ position: Int) {
        if position < 64 { low |= 1 << UInt64(position) } else { high.insert(position) }
    }

    package func contains(_ position: Int) -> Bool {
        position < 64 ? low & (1 << UInt64(position)) != 0 : high.contains(position)
    }

    /// Whether positions 0 ..< count were all taken.
    package func containsAll(_ count: Int) -> Bool {
        let lowCount = min(count, 64)
        let mask: UInt64 = lowCount == 64 ? .max : (1 << UInt64(lowCount)) - 1
        return low & mask == mask && high.count == max(0, count - 64)
    }
}
