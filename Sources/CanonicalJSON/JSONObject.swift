/// The members of a JSON object, held in RFC 8785 order (keys sorted by UTF-16 code units).
///
/// Keeping members sorted at all times means encoding is a straight walk (no sort on the append path),
/// equality does not depend on insertion order, and lookups are a binary search. Keys are compared by
/// exact Unicode scalars, never with Swift's `String ==`, which would merge canonically equivalent keys
/// such as precomposed "é" (U+00E9) and decomposed "e\u{301}": those are two distinct JSON keys.
public struct JSONObject: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral,
    CustomStringConvertible
{
    public typealias Element = (key: String, value: JSONValue)
    public typealias Index = Int

    /// Keys in canonical order; `storedValues[i]` belongs to `storedKeys[i]`.
    private var storedKeys: [String]
    private var storedValues: [JSONValue]

    /// An empty object.
    public init() {
        storedKeys = []
        storedValues = []
    }

    /// Builds an object from members in any order; when a key repeats, the later value wins.
    public init<S: Sequence>(_ members: S) where S.Element == (String, JSONValue) {
        var keys: [String] = []
        var values: [JSONValue] = []
        keys.reserveCapacity(members.underestimatedCount)
        values.reserveCapacity(members.underestimatedCount)
        for (key, value) in members {
            keys.append(key)
            values.append(value)
        }
        self.init(unsortedKeys: keys, values: values)
    }

    /// Builds an object from a dictionary (whose own key equality may already have merged equivalent keys).
    public init(_ dictionary: [String: JSONValue]) {
        self.init(dictionary.map { ($0.key, $0.value) })
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// Trusted construction from keys already strictly increasing in UTF-16 order (the parser checked).
    init(sortedUniqueKeys keys: [String], values: [JSONValue]) {
        storedKeys = keys
        storedValues = values
    }

    /// Sorts members by key; among equal keys the one given last wins.
    init(unsortedKeys keys: [String], values: [JSONValue]) {
        if JSONObject.isStrictlyIncreasing(keys) {
            self.init(sortedUniqueKeys: keys, values: values)
            return
        }
        var sortedKeys: [String]
        var sortedValues: [JSONValue]
        if keys.count <= 32 {
            // Model structs have a handful of members: a stable insertion sort beats building an index array.
            sortedKeys = keys
            sortedValues = values
            for index in sortedKeys.indices.dropFirst() {
                var slot = index
                while slot > 0 && UTF16KeyOrder.compare(sortedKeys[slot - 1], sortedKeys[slot]) > 0 {
                    sortedKeys.swapAt(slot - 1, slot)
                    sortedValues.swapAt(slot - 1, slot)
                    slot -= 1
                }
            }
        } else {
            let order = JSONObject.stableOrder(of: keys)
            sortedKeys = order.map { keys[$0] }
            sortedValues = order.map { values[$0] }
        }
        // Equal keys are now adjacent in their original order; keep the last value of each run.
        var write = 0
        for read in sortedKeys.indices {
            if write > 0 && UTF16KeyOrder.exactlyEqual(sortedKeys[write - 1], sortedKeys[read]) {
                sortedValues[write - 1] = sortedValues[read]
            } else {
                if write != read {
                    sortedKeys[write] = sortedKeys[read]
                    sortedValues[write] = sortedValues[read]
                }
                write += 1
            }
        }
        sortedKeys.removeSubrange(write...)
        sortedValues.removeSubrange(write...)
        self.init(sortedUniqueKeys: sortedKeys, values: sortedValues)
    }

    /// True when every key sorts strictly after the one before it (already canonical, no duplicates).
    static func isStrictlyIncreasing(_ keys: [String]) -> Bool {
        var index = 1
        while index < keys.count {
            if UTF16KeyOrder.compare(keys[index - 1], keys[index]) >= 0 { return false }
            index += 1
        }
        return true
    }

    /// Indices of `keys` in canonical order; equal keys keep their original relative order.
    static func stableOrder(of keys: [String]) -> [Int] {
        Array(keys.indices).sorted { lhs, rhs in
            let order = UTF16KeyOrder.compare(keys[lhs], keys[rhs])
            return order != 0 ? order < 0 : lhs < rhs
        }
    }

    // MARK: Lookup and mutation

    /// Binary search: the index of `key` if present, otherwise where it would be inserted.
    private func search(_ key: String) -> (found: Bool, index: Int) {
        UTF16KeyOrder.withBytes(key) { needle in
            var low = 0
            var high = storedKeys.count
            while low < high {
                let mid = (low + high) / 2
                let order = UTF16KeyOrder.withBytes(storedKeys[mid]) { UTF16KeyOrder.compare($0, needle) }
                if order == 0 { return (true, mid) }
                if order < 0 { low = mid + 1 } else { high = mid }
            }
            return (false, low)
        }
    }

    /// The position of `key` among the members (exact scalar match), for a reader that records
    /// which members it has read without hashing their names.
    public func position(of key: String) -> Int? {
        let hit = search(key)
        return hit.found ? hit.index : nil
    }

    /// The value for `key` (exact scalar match); setting nil removes the member.
    public subscript(key: String) -> JSONValue? {
        get {
            let hit = search(key)
            return hit.found ? storedValues[hit.index] : nil
        }
        set {
            if let newValue {
                updateValue(newValue, forKey: key)
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Sets the value for `key`, returning the value it replaced.
    @discardableResult
    public mutating func updateValue(_ value: JSONValue, forKey key: String) -> JSONValue? {
        let hit = search(key)
        if hit.found {
            let old = storedValues[hit.index]
            storedValues[hit.index] = value
            return old
        }
        storedKeys.insert(key, at: hit.index)
        storedValues.insert(value, at: hit.index)
        return nil
    }

    /// Removes the member for `key`, returning its value.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        let hit = search(key)
        guard hit.found else { return nil }
        storedKeys.remove(at: hit.index)
        return storedValues.remove(at: hit.index)
    }

    /// True when a member with exactly this key exists.
    public func containsKey(_ key: String) -> Bool { search(key).found }

    /// Keys in canonical (UTF-16 code unit) order.
    public var keys: [String] { storedKeys }

    /// Values in the order of `keys`.
    public var values: [JSONValue] { storedValues }

    /// Members in canonical order.
    public var members: [(key: String, value: JSONValue)] {
        Array(zip(storedKeys, storedValues).lazy.map { (key: $0.0, value: $0.1) })
    }

    // MARK: Collection

    public var startIndex: Int { 0 }
    public var endIndex: Int { storedKeys.count }

    public subscript(position: Int) -> (key: String, value: JSONValue) {
        (key: storedKeys[position], value: storedValues[position])
    }

    // MARK: Hashable (exact scalars, order-independent because storage is canonical)

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.storedKeys.count == rhs.storedKeys.count else { return false }
        for index in lhs.storedKeys.indices {
            guard UTF16KeyOrder.exactlyEqual(lhs.storedKeys[index], rhs.storedKeys[index]),
                lhs.storedValues[index] == rhs.storedValues[index]
            else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storedKeys.count)
        for index in storedKeys.indices {
            UTF16KeyOrder.hashExactly(storedKeys[index], into: &hasher)
            hasher.combine(storedValues[index])
        }
    }

    /// The canonical JSON text of this object.
    public var description: String { JSONValue.object(self).description }
}

extension JSONObject: Codable {
    /// Encodes as a keyed container; with `JSONValueEncoder` the object is stored as-is.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        for index in storedKeys.indices {
            try container.encode(storedValues[index], forKey: DynamicKey(storedKeys[index]))
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: DynamicKey.self)
        var keys: [String] = []
        var values: [JSONValue] = []
        for key in container.allKeys {
            keys.append(key.stringValue)
            values.append(try container.decode(JSONValue.self, forKey: key))
        }
        self.init(unsortedKeys: keys, values: values)
    }
}
