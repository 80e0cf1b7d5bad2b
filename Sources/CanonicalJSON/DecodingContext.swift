import Foundation

/// Shared state of one `JSONValueDecoder.decode` call, and the conversions of leaf values.
struct DecodingContext {
    let userInfo: [CodingUserInfoKey: Any]

    /// Reads a `T` from `value`: leaf types directly, everything else through `init(from:)`.
    func unbox<T: Decodable>(_ value: JSONValue, as type: T.Type, codingPath: [any CodingKey]) throws -> T {
        if type == JSONValue.self { return try cast(value, codingPath) }
        if type == String.self { return try cast(string(value, codingPath), codingPath) }
        if type == Bool.self { return try cast(bool(value, codingPath), codingPath) }
        if type == Int.self { return try cast(integer(value, Int.self, codingPath), codingPath) }
        if type == Int64.self { return try cast(integer(value, Int64.self, codingPath), codingPath) }
        if type == UInt64.self { return try cast(integer(value, UInt64.self, codingPath), codingPath) }
        if type == Int32.self { return try cast(integer(value, Int32.self, codingPath), codingPath) }
        if type == UInt32.self { return try cast(integer(value, UInt32.self, codingPath), codingPath) }
        if type == Int16.self { return try cast(integer(value, Int16.self, codingPath), codingPath) }
        if type == UInt16.self { return try cast(integer(value, UInt16.self, codingPath), codingPath) }
        if type == Int8.self { return try cast(integer(value, Int8.self, codingPath), codingPath) }
        if type == UInt8.self { return try cast(integer(value, UInt8.self, codingPath), codingPath) }
        if type == UInt.self { return try cast(integer(value, UInt.self, codingPath), codingPath) }
        if type == JSONObject.self {
            guard case .object(let object) = value else { throw mismatch("object", value, codingPath) }
            return try cast(object, codingPath)
        }
        if type == Double.self || type == Float.self { throw floatRefused(codingPath) }
        if type == Date.self || type == Data.self || type == Decimal.self { throw unsupported(type, codingPath) }
        return try T(from: ValueDecoder(value: value, codingPath: codingPath, context: self))
    }

    /// Converts a leaf already known to be of type `T`; the failure branch only guards against a logic slip.
    private func cast<T>(_ leaf: Any, _ codingPath: [any CodingKey]) throws -> T {
        guard let result = leaf as? T else {
            let path = CodingPath.render(codingPath)
            throw CanonicalJSONError(
                .typeMismatch,
                "\(path): cannot produce \(T.self) from \(type(of: leaf))",
                path: path
            )
        }
        return result
    }

    func string(_ value: JSONValue, _ codingPath: [any CodingKey]) throws -> String {
        guard case .string(let string) = value else { throw mismatch("string", value, codingPath) }
        return string
    }

    func bool(_ value: JSONValue, _ codingPath: [any CodingKey]) throws -> Bool {
        guard case .bool(let bool) = value else { throw mismatch("boolean", value, codingPath) }
        return bool
    }

    func integer<I: FixedWidthInteger>(_ value: JSONValue, _ type: I.Type, _ codingPath: [any CodingKey]) throws -> I {
        guard case .integer(let number) = value else { throw mismatch("integer", value, codingPath) }
        guard let result = I(exactly: number) else {
            let path = CodingPath.render(codingPath)
            throw CanonicalJSONError(
                .integerOutOfRange,
                "\(path): integer \(number) does not fit in \(I.self)",
                path: path
            )
        }
        return result
    }

    func mismatch(_ expected: String, _ found: JSONValue, _ codingPath: [any CodingKey]) -> CanonicalJSONError {
        let path = CodingPath.render(codingPath)
        return CanonicalJSONError(.typeMismatch, "\(path): expected \(expected), found \(found.kindName)", path: path)
    }

    func floatRefused(_ codingPath: [any CodingKey]) -> CanonicalJSONError {
        let path = CodingPath.render(codingPath)
        return CanonicalJSONError(.floatNotAllowed, "\(path): floating point not allowed", path: path)
    }

    func unsupported(_ type: Any.Type, _ codingPath: [any CodingKey]) -> CanonicalJSONError {
        let path = CodingPath.render(codingPath)
        return CanonicalJSONError(.unsupportedType, "\(path): \(type) is not supported in canonical JSON", path: path)
    }
}
