/// A value under construction: either finished, or a node that containers are still filling.
enum PendingValue {
    case value(JSONValue)
    case node(EncodingNode)

    func resolve() -> JSONValue {
        switch self {
        case .value(let value): return value
        case .node(let node): return node.resolve()
        }
    }
}

/// The slot one `Encoder` writes into; containers hold references so nested writes land in place.
final class EncodingNode {
    enum Content {
        case unset
        case single(PendingValue)
        case object(ObjectStorage)
        case array(ArrayStorage)
    }

    var content: Content = .unset

    /// The finished value; a node nobody wrote to becomes `{}` (as with Foundation's JSONEncoder).
    func resolve() -> JSONValue {
        switch content {
        case .unset:
            return .object(JSONObject())
        case .single(let pending):
            return pending.resolve()
        case .object(let storage):
            let (keys, values) = storage.take()
            return .object(JSONObject(unsortedKeys: keys, values: values.map { $0.resolve() }))
        case .array(let storage):
            return .array(storage.take().map { $0.resolve() })
        }
    }
}

/// Members written so far, in write order; sorting (later write of a key wins) happens in `resolve`.
final class ObjectStorage {
    private(set) var keys: [String] = []
    private(set) var values: [PendingValue] = []

    init() {
        keys.reserveCapacity(8)
        values.reserveCapacity(8)
    }

    /// Moves the members out, leaving the arrays uniquely referenced for in-place sorting.
    func take() -> ([String], [PendingValue]) {
        defer {
            keys = []
            values = []
        }
        return (keys, values)
    }

    func append(_ key: String, _ value: PendingValue) {
        keys.append(key)
        values.append(value)
    }

    /// The node already written at `key`, so a second nested-container request reuses it.
    func node(forKey key: String) -> EncodingNode? {
        for index in keys.indices.reversed() where UTF16KeyOrder.exactlyEqual(keys[index], key) {
            if case .node(let node) = values[index] { return node }
            return nil
        }
        return nil
    }
}

/// Elements written so far.
final class ArrayStorage {
    var elements: [PendingValue] = []

    /// Moves the elements out.
    func take() -> [PendingValue] {
        defer { elements = [] }
        return elements
    }
}
