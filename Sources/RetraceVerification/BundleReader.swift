import CanonicalJSON
import RetraceCrypto

/// A strict reader of bundle objects: every member must be consumed, hashes are lowercase hex.
struct BundleReader {
    private var object: JSONObject
    let path: String

    init(_ value: JSONValue, path: String) throws(VerificationError) {
        guard case .object(let object) = value else {
            throw VerificationError(.malformedBundle, "\(path) must be an object")
        }
        self.object = object
        self.path = path
    }

    mutating func take(_ key: String) -> JSONValue? { object.removeValue(forKey: key) }

    mutating func required(_ key: String) throws(VerificationError) -> JSONValue {
        guard let value = take(key) else { throw VerificationError(.malformedBundle, "\(path).\(key) is missing") }
        return value
    }

    mutating func string(_ key: String) throws(VerificationError) -> String {
        guard case .string(let text) = try required(key) else {
            throw VerificationError(.malformedBundle, "\(path).\(key) must be a string")
        }
        return text
    }

    mutating func index(_ key: String) throws(VerificationError) -> UInt64 {
        guard case .integer(let number) = try required(key), number >= 0 else {
            throw VerificationError(.malformedBundle, "\(path).\(key) must be a non-negative integer")
        }
        return UInt64(number)
    }

    mutating func optionalIndex(_ key: String) throws(VerificationError) -> UInt64? {
        guard object.containsKey(key) else { return nil }
        return try index(key)
    }

    mutating func array(_ key: String) throws(VerificationError) -> [JSONValue] {
        guard case .array(let items) = try required(key) else {
            throw VerificationError(.malformedBundle, "\(path).\(key) must be an array")
        }
        return items
    }

    mutating func hashes(_ key: String) throws(VerificationError) -> [[UInt8]] {
        var result: [[UInt8]] = []
        for (position, item) in try array(key).enumerated() {
            guard case .string(let text) = item, text.utf8.count == 64, let bytes = Hex.decode(text),
                Hex.encode(bytes) == text
            else {
                throw VerificationError(
                    .malformedBundle,
                    "\(path).\(key)[\(position)] must be 64 lowercase hex digits"
                )
            }
            result.append(bytes)
        }
        return result
    }

    mutating func optionalHashes(_ key: String) throws(VerificationError) -> [[UInt8]]? {
        guard object.containsKey(key) else { return nil }
        return try hashes(key)
    }

    func finish() throws(VerificationError) {
        if let extra = object.keys.first {
            throw VerificationError(.malformedBundle, "\(path).\(extra) is not a member of a proof bundle")
        }
    }
}
