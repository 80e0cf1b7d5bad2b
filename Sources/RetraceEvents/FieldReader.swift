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
    private var taken: Set<String> = []

    init(_ value: JSONValue, path: String) throws(FormatError) {
        guard case .object(let object) = value else {
            throw FormatError(.wrongType, field: path, "expected a JSON object, found \(value.kindName)")
        }
        self.object = object
        self.path = path
    }

    func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func optional(_ key: String) -> JSONValue? {
        taken.insert(key)
        return object[key]
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
        for key in object.keys where !taken.contains(key) {
            throw FormatError(.unknownField, field: fieldPath(key), "unknown field; version 1 does not define it")
        }
    }
}
