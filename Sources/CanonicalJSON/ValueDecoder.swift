/// The `Decoder` handed to `init(from:)`; it reads one `JSONValue`.
struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    let context: DecodingContext

    var userInfo: [CodingUserInfoKey: Any] { context.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw context.mismatch("object", value, codingPath) }
        return KeyedDecodingContainer(
            KeyedValueDecodingContainer<Key>(
                object: object,
                codingPath: codingPath,
                context: context
            )
        )
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw context.mismatch("array", value, codingPath) }
        return UnkeyedValueDecodingContainer(elements: elements, codingPath: codingPath, context: context)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueDecoding(value: value, codingPath: codingPath, context: context)
    }
}

/// Keyed container over an object's members.
struct KeyedValueDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let codingPath: [any CodingKey]
    let context: DecodingContext

    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { object.containsKey(key.stringValue) }

    private func path(_ key: Key) -> [any CodingKey] { codingPath + [key] }

    private func member(_ key: Key) throws -> JSONValue {
        guard let value = object[key.stringValue] else {
            let path = CodingPath.render(path(key))
            throw CanonicalJSONError(.missingKey, "\(path): missing key", path: path)
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key).isNull }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try context.bool(member(key), path(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try context.string(member(key), path(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { throw context.floatRefused(path(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw context.floatRefused(path(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(key) }

    private func integer<I: FixedWidthInteger>(_ key: Key) throws -> I {
        try context.integer(member(key), I.self, path(key))
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try context.unbox(member(key), as: type, codingPath: path(key))
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: member(key), codingPath: path(key), context: context).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: member(key), codingPath: path(key), context: context).unkeyedContainer()
    }

    /// The decoder for the `super` member (null when absent), as Foundation's JSONDecoder does.
    func superDecoder() throws -> any Decoder {
        ValueDecoder(
            value: object[DynamicKey.superKey.stringValue] ?? .null,
            codingPath: codingPath + [DynamicKey.superKey],
            context: context
        )
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: object[key.stringValue] ?? .null, codingPath: path(key), context: context)
    }
}

/// Unkeyed container over an array's elements.
struct UnkeyedValueDecodingContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    let context: DecodingContext
    private(set) var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey], context: DecodingContext) {
        self.elements = elements
        self.codingPath = codingPath
        self.context = context
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private var currentPath: [any CodingKey] { codingPath + [IndexKey(currentIndex)] }

    /// The next element; advancing is left to the caller once decoding it succeeded.
    private func next() throws -> JSONValue {
        guard currentIndex < elements.count else {
            let path = CodingPath.render(currentPath)
            throw CanonicalJSONError(.missingValue, "\(path): array has only \(elements.count) elements", path: path)
        }
        return elements[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard try next().isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool {
        let result = try context.bool(next(), currentPath)
        currentIndex += 1
        return result
    }

    mutating func decode(_ type: String.Type) throws -> String {
        let result = try context.string(next(), currentPath)
        currentIndex += 1
        return result
    }

    mutating func decode(_ type: Double.Type) throws -> Double { throw context.floatRefused(currentPath) }
    mutating func decode(_ type: Float.Type) throws -> Float { throw context.floatRefused(currentPath) }
    mutating func decode(_ type: Int.Type) throws -> Int { try integer() }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }

    private mutating func integer<I: FixedWidthInteger>() throws -> I {
        let result = try context.integer(next(), I.self, currentPath)
        currentIndex += 1
        return result
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let result = try context.unbox(next(), as: type, codingPath: currentPath)
        currentIndex += 1
        return result
    }

    private mutating func childDecoder() throws -> ValueDecoder {
        let decoder = ValueDecoder(value: try next(), codingPath: currentPath, context: context)
        currentIndex += 1
        return decoder
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try childDecoder().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try childDecoder().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { try childDecoder() }
}

/// Single-value container over one value.
struct SingleValueDecoding: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]
    let context: DecodingContext

    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try context.bool(value, codingPath) }
    func decode(_ type: String.Type) throws -> String { try context.string(value, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { throw context.floatRefused(codingPath) }
    func decode(_ type: Float.Type) throws -> Float { throw context.floatRefused(codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try context.integer(value, Int.self, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try context.integer(value, Int8.self, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try context.integer(value, Int16.self, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try context.integer(value, Int32.self, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try context.integer(value, Int64.self, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try context.integer(value, UInt.self, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try context.integer(value, UInt8.self, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try context.integer(value, UInt16.self, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try context.integer(value, UInt32.self, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try context.integer(value, UInt64.self, codingPath) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try context.unbox(value, as: type, codingPath: codingPath)
    }
}
