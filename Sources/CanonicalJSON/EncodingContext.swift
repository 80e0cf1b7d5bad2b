import Foundation

/// Shared state of one `JSONValueEncoder.encode` call.
final class EncodingContext {
    let userInfo: [CodingUserInfoKey: Any]
    /// First misuse seen in a non-throwing container request; thrown when encoding ends.
    private(set) var deferredError: CanonicalJSONError?

    init(userInfo: [CodingUserInfoKey: Any]) {
        self.userInfo = userInfo
    }

    func record(_ error: CanonicalJSONError) {
        if deferredError == nil { deferredError = error }
    }

    /// Boxes one value; primitives directly, everything else through its `encode(to:)`.
    ///
    /// Leaf types are recognised by metatype comparison, which is far cheaper than trying dynamic casts;
    /// the path is only built when an error is thrown or a nested encoder needs it.
    func box<T: Encodable>(_ value: T, codingPath: @autoclosure () -> [any CodingKey]) throws -> PendingValue {
        let type = T.self
        if type == String.self, let string = value as? String { return .value(.string(string)) }
        if type == Int.self, let number = value as? Int { return .value(try integer(number, codingPath())) }
        if type == Bool.self, let bool = value as? Bool { return .value(.bool(bool)) }
        if type == Int64.self, let number = value as? Int64 { return .value(try integer(number, codingPath())) }
        if type == UInt64.self, let number = value as? UInt64 { return .value(try integer(number, codingPath())) }
        if type == JSONValue.self, let json = value as? JSONValue { return .value(json) }
        if type == JSONObject.self, let object = value as? JSONObject { return .value(.object(object)) }
        if type == Int32.self, let number = value as? Int32 { return .value(try integer(number, codingPath())) }
        if type == UInt32.self, let number = value as? UInt32 { return .value(try integer(number, codingPath())) }
        if type == Int16.self, let number = value as? Int16 { return .value(try integer(number, codingPath())) }
        if type == UInt16.self, let number = value as? UInt16 { return .value(try integer(number, codingPath())) }
        if type == Int8.self, let number = value as? Int8 { return .value(try integer(number, codingPath())) }
        if type == UInt8.self, let number = value as? UInt8 { return .value(try integer(number, codingPath())) }
        if type == UInt.self, let number = value as? UInt { return .value(try integer(number, codingPath())) }
        if type == Double.self || type == Float.self { throw floatRefused(codingPath()) }
        if type == Date.self || type == Data.self || type == Decimal.self { throw unsupported(type, codingPath()) }
        // Once `encode(to:)` returns, the child encoder is finished, so its value is built right away
        // (as Foundation's JSONEncoder does); only nested containers handed out to the caller stay pending.
        let node = EncodingNode()
        try value.encode(to: ValueEncoder(node: node, codingPath: codingPath(), context: self))
        return .value(node.resolve())
    }

    /// An integer of any width as `.integer`, refused outside ±(2^53−1).
    @inline(__always)
    func integer<I: BinaryInteger>(
        _ number: I,
        _ codingPath: @autoclosure () -> [any CodingKey]
    ) throws
        -> JSONValue
    {
        guard let value = Int64(exactly: number), value.magnitude <= JSONValue.maxSafeInteger.magnitude else {
            let path = CodingPath.render(codingPath())
            throw CanonicalJSONError(
                .integerOutOfRange,
                "\(path): integer \(number) is outside ±(2^53−1) (±9007199254740991)",
                path: path
            )
        }
        return .integer(value)
    }

    func floatRefused(_ codingPath: [any CodingKey]) -> CanonicalJSONError {
        let path = CodingPath.render(codingPath)
        return CanonicalJSONError(
            .floatNotAllowed,
            "\(path): floating point not allowed; use an integer or a string",
            path: path
        )
    }

    func unsupported(_ type: Any.Type, _ codingPath: [any CodingKey]) -> CanonicalJSONError {
        let path = CodingPath.render(codingPath)
        return CanonicalJSONError(
            .unsupportedType,
            "\(path): \(type) is not supported in canonical JSON; "
                + "encode it as a string (e.g. RFC 3339 timestamp, base64) instead",
            path: path
        )
    }

    func misuse(_ message: String, _ codingPath: [any CodingKey]) {
        let path = CodingPath.render(codingPath)
        record(CanonicalJSONError(.containerMisuse, "\(path): \(message)", path: path))
    }
}
