/// The `Encoder` handed to `encode(to:)`; it writes into one `EncodingNode`.
struct ValueEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    let context: EncodingContext

    var userInfo: [CodingUserInfoKey: Any] { context.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let storage: ObjectStorage
        switch node.content {
        case .unset:
            storage = ObjectStorage()
            node.content = .object(storage)
        case .object(let existing):
            storage = existing
        default:
            context.misuse("asked for a keyed container where another kind of value was already encoded", codingPath)
            storage = ObjectStorage()
        }
        return KeyedEncodingContainer(
            KeyedValueEncodingContainer<Key>(
                storage: storage,
                codingPath: codingPath,
                context: context
            )
        )
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let storage: ArrayStorage
        switch node.content {
        case .unset:
            storage = ArrayStorage()
            node.content = .array(storage)
        case .array(let existing):
            storage = existing
        default:
            context.misuse(
                "asked for an unkeyed container where another kind of value was already encoded",
                codingPath
            )
            storage = ArrayStorage()
        }
        return UnkeyedValueEncodingContainer(storage: storage, codingPath: codingPath, context: context)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueEncoding(node: node, codingPath: codingPath, context: context)
    }
}

/// Keyed container writing object members.
struct KeyedValueEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let storage: ObjectStorage
    let codingPath: [any CodingKey]
    let context: EncodingContext

    private func path(_ key: Key) -> [any CodingKey] { codingPath + [key] }

    private func put(_ value: JSONValue, _ key: Key) {
        storage.append(key.stringValue, .value(value))
    }

    mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { throw context.floatRefused(path(key)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { throw context.floatRefused(path(key)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(try context.integer(value, path(key)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(try context.integer(value, path(key)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(try context.integer(value, path(key)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(try context.integer(value, path(key)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(try context.integer(value, path(key)), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(try context.integer(value, path(key)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(try context.integer(value, path(key)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(try context.integer(value, path(key)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(try context.integer(value, path(key)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(try context.integer(value, path(key)), key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        storage.append(key.stringValue, try context.box(value, codingPath: path(key)))
    }

    private func childNode(forKey key: String) -> EncodingNode {
        if let existing = storage.node(forKey: key) { return existing }
        let node = EncodingNode()
        storage.append(key, .node(node))
        return node
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        ValueEncoder(node: childNode(forKey: key.stringValue), codingPath: path(key), context: context)
            .container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        ValueEncoder(node: childNode(forKey: key.stringValue), codingPath: path(key), context: context)
            .unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        ValueEncoder(
            node: childNode(forKey: DynamicKey.superKey.stringValue),
            codingPath: codingPath + [DynamicKey.superKey],
            context: context
        )
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        ValueEncoder(node: childNode(forKey: key.stringValue), codingPath: path(key), context: context)
    }
}

/// Unkeyed container writing array elements.
struct UnkeyedValueEncodingContainer: UnkeyedEncodingContainer {
    let storage: ArrayStorage
    let codingPath: [any CodingKey]
    let context: EncodingContext

    var count: Int { storage.elements.count }

    private var nextPath: [any CodingKey] { codingPath + [IndexKey(storage.elements.count)] }

    private func put(_ value: JSONValue) { storage.elements.append(.value(value)) }

    mutating func encodeNil() throws { put(.null) }
    mutating func encode(_ value: Bool) throws { put(.bool(value)) }
    mutating func encode(_ value: String) throws { put(.string(value)) }
    mutating func encode(_ value: Double) throws { throw context.floatRefused(nextPath) }
    mutating func encode(_ value: Float) throws { throw context.floatRefused(nextPath) }
    mutating func encode(_ value: Int) throws { put(try context.integer(value, nextPath)) }
    mutating func encode(_ value: Int8) throws { put(try context.integer(value, nextPath)) }
    mutating func encode(_ value: Int16) throws { put(try context.integer(value, nextPath)) }
    mutating func encode(_ value: Int32) throws { put(try context.integer(value, nextPath)) }
    mutating func encode(_ value: Int64) throws { put(try context.integer(value, nextPath)) }
    mutating func encode(_ value: UInt) throws { put(try context.integer(value, nextPath)) }
    mutating func encode(_ value: UInt8) throws { put(try context.integer(value, nextPath)) }
    mutating func encode(_ value: UInt16) throws { put(try context.integer(value, nextPath)) }
    mutating func encode(_ value: UInt32) throws { put(try context.integer(value, nextPath)) }
    mutating func encode(_ value: UInt64) throws { put(try context.integer(value, nextPath)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        storage.elements.append(try context.box(value, codingPath: nextPath))
    }

    private func childEncoder() -> ValueEncoder {
        let path = nextPath
        let node = EncodingNode()
        storage.elements.append(.node(node))
        return ValueEncoder(node: node, codingPath: path, context: context)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    )
        -> KeyedEncodingContainer<NestedKey>
    {
        childEncoder().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        childEncoder().unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { childEncoder() }
}

/// Single-value container: exactly one value per encoder.
struct SingleValueEncoding: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    let context: EncodingContext

    private func set(_ value: PendingValue) {
        guard case .unset = node.content else {
            context.misuse("encoded a second value into a single-value container", codingPath)
            return
        }
        node.content = .single(value)
    }

    mutating func encodeNil() throws { set(.value(.null)) }
    mutating func encode(_ value: Bool) throws { set(.value(.bool(value))) }
    mutating func encode(_ value: String) throws { set(.value(.string(value))) }
    mutating func encode(_ value: Double) throws { throw context.floatRefused(codingPath) }
    mutating func encode(_ value: Float) throws { throw context.floatRefused(codingPath) }
    mutating func encode(_ value: Int) throws { set(.value(try context.integer(value, codingPath))) }
    mutating func encode(_ value: Int8) throws { set(.value(try context.integer(value, codingPath))) }
    mutating func encode(_ value: Int16) throws { set(.value(try context.integer(value, codingPath))) }
    mutating func encode(_ value: Int32) throws { set(.value(try context.integer(value, codingPath))) }
    mutating func encode(_ value: Int64) throws { set(.value(try context.integer(value, codingPath))) }
    mutating func encode(_ value: UInt) throws { set(.value(try context.integer(value, codingPath))) }
    mutating func encode(_ value: UInt8) throws { set(.value(try context.integer(value, codingPath))) }
    mutating func encode(_ value: UInt16) throws { set(.value(try context.integer(value, codingPath))) }
    mutating func encode(_ value: UInt32) throws { set(.value(try context.integer(value, codingPath))) }
    mutating func encode(_ value: UInt64) throws { set(.value(try context.integer(value, codingPath))) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        set(try context.box(value, codingPath: codingPath))
    }
}
