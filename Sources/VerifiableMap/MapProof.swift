/// A proof that a key holds a head value in a ``HeadsMap``, or that it holds none.
///
/// Wire form (spec/format.md §5.3), compressed so a proof at 10^7 keys is under a kilobyte:
/// ```
/// kind (1 byte: 0 member, 1 absent-empty, 2 absent-other-leaf)
/// depth (2 bytes, big-endian, 0…256)
/// bitmap (ceil(depth/8) bytes: bit i, MSB first, set when sibling i is not empty; spare bits 0)
/// the non-empty siblings, 32 bytes each, root side first
/// kind 0: the value (48 bytes); kind 2: the other key (32) and its value (48)
/// ```
/// Every proof has exactly one encoding (spare bits zero, no trailing bytes, an empty sibling is
/// never spelled out), so a changed byte is either refused as malformed or changes the root.
public struct MapProof: Hashable, Sendable {
    public enum Terminal: Hashable, Sendable {
        /// The key's own leaf, with its value.
        case member(HeadValue)
        /// The path ends in an empty subtree: no key with this prefix.
        case empty
        /// The path ends in another key's leaf: the only key with this prefix is not the one asked for.
        case otherLeaf(key: [UInt8], value: HeadValue)
    }

    /// The sibling hashes from the root down; `nil` for an empty sibling.
    public let siblings: [[UInt8]?]
    public let terminal: Terminal

    public init(siblings: [[UInt8]?], terminal: Terminal) {
        self.siblings = siblings
        self.terminal = terminal
    }

    public var isMembership: Bool {
        if case .member = terminal { return true }
        return false
    }

    // MARK: Verification

    /// Checks that `key` holds `value` under `root`.
    public func verifyMembership(key: [UInt8], value expected: HeadValue, root: [UInt8]) throws(MapError) {
        guard case .member(let value) = terminal else {
            throw MapError(.wrongKind, "the proof shows the key absent, not holding a head")
        }
        guard value == expected else {
            throw MapError(
                .rootMismatch,
                "the proven head (\(value.count) events, newest at index \(value.index)) is not the head offered "
                    + "(\(expected.count) events, newest at index \(expected.index))"
            )
        }
        try fold(key: key, root: root)
    }

    /// Checks that `key` holds no value under `root`.
    public func verifyAbsence(key: [UInt8], root: [UInt8]) throws(MapError) {
        if case .member = terminal {
            throw MapError(.wrongKind, "the proof shows the key present, not absent")
        }
        try fold(key: key, root: root)
    }

    /// The value `key` holds under `root` (`nil`: absent), whichever the proof shows.
    public func verify(key: [UInt8], root: [UInt8]) throws(MapError) -> HeadValue? {
        try fold(key: key, root: root)
        if case .member(let value) = terminal { return value }
        return nil
    }

    /// Recomputes the root from the terminal and the siblings, and compares it.
    private func fold(key: [UInt8], root: [UInt8]) throws(MapError) {
        guard key.count == MapKey.byteCount, root.count == 32 else {
            throw MapError(.malformedValue, "a key and a root are 32 bytes each")
        }
        let depth = siblings.count
        guard depth <= 256 else {
            throw MapError(.malformedProof, "a proof is at most 256 siblings deep, not \(depth)")
        }
        var hash: [UInt8]
        switch terminal {
        case .member(let value):
            hash = MapHash.leaf(key: key, value: value)
        case .empty:
            // An empty subtree is only ever a child of a branch with keys on the other side.
            hash = MapHash.empty
        case .otherLeaf(let other, let value):
            guard other.count == MapKey.byteCount, other != key else {
                throw MapError(.malformedProof, "an absence proof's other leaf must be a different 32-byte key")
            }
            for bit in 0..<depth where MapKey.bit(other, bit) != MapKey.bit(key, bit) {
                throw MapError(
                    .malformedProof,
                    "the other leaf's key leaves the path at depth \(bit), above its place at \(depth)"
                )
            }
            hash = MapHash.leaf(key: other, value: value)
        }
        // A leaf or an empty subtree stands directly below a branch only if its sibling holds keys
        // (else the branch would not exist); refusing the other shape keeps every proof canonical.
        if depth > 0, siblings[depth - 1] == nil {
            throw MapError(.malformedProof, "the last sibling is empty: the tree has no branch at depth \(depth - 1)")
        }
        if depth == 0, case .empty = terminal, root != MapHash.empty {
            throw MapError(.rootMismatch, "the proof shows an empty map, but the root is not the empty root")
        }
        for level in stride(from: depth - 1, through: 0, by: -1) {
            let sibling = siblings[level] ?? MapHash.empty
            hash = MapKey.bit(key, level) ? MapHash.node(sibling, hash) : MapHash.node(hash, sibling)
        }
        guard hash == root else {
            throw MapError(.rootMismatch, "the proof leads to a different root than the checkpoint's heads root")
        }
    }

    // MARK: Encoding

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        switch terminal {
        case .member: out.append(0)
        case .empty: out.append(1)
        case .otherLeaf: out.append(2)
        }
        let depth = siblings.count
        out.append(UInt8(depth >> 8))
        out.append(UInt8(depth & 0xFF))
        var bitmap = [UInt8](repeating: 0, count: (depth + 7) / 8)
        for (level, sibling) in siblings.enumerated() where sibling != nil {
            bitmap[level >> 3] |= 0x80 >> UInt8(level & 7)
        }
        out += bitmap
        for sibling in siblings { if let sibling { out += sibling } }
        switch terminal {
        case .member(let value): out += value.bytes
        case .empty: break
        case .otherLeaf(let key, let value): out += key + value.bytes
        }
        return out
    }

    public init(bytes: some Collection<UInt8>) throws(MapError) {
        let bytes = Array(bytes)
        guard bytes.count >= 3 else {
            throw MapError(.malformedProof, "a proof is at least 3 bytes, got \(bytes.count)")
        }
        let kind = bytes[0]
        guard kind <= 2 else { throw MapError(.malformedProof, "proof kind \(kind) is not 0, 1 or 2") }
        let depth = Int(bytes[1]) << 8 | Int(bytes[2])
        guard depth <= 256 else { throw MapError(.malformedProof, "proof depth \(depth) exceeds 256") }
        var offset = 3
        let bitmapLength = (depth + 7) / 8
        guard bytes.count >= offset + bitmapLength else {
            throw MapError(.malformedProof, "the proof ends inside its bitmap")
        }
        let bitmap = Array(bytes[offset..<offset + bitmapLength])
        offset += bitmapLength
        if depth % 8 != 0, let last = bitmap.last, last & (0xFF >> UInt8(depth % 8)) != 0 {
            throw MapError(.malformedProof, "the bitmap's spare bits are not zero")
        }
        var siblings: [[UInt8]?] = []
        siblings.reserveCapacity(depth)
        for level in 0..<depth {
            if bitmap[level >> 3] & (0x80 >> UInt8(level & 7)) != 0 {
                guard bytes.count >= offset + 32 else {
                    throw MapError(.malformedProof, "the proof ends inside sibling \(level)")
                }
                siblings.append(Array(bytes[offset..<offset + 32]))
                offset += 32
            } else {
                siblings.append(nil)
            }
        }
        let rest = bytes.count - offset
        let terminal: Terminal
        switch kind {
        case 0:
            guard rest == HeadValue.byteCount else {
                throw MapError(.malformedProof, "a membership proof ends with a 48-byte value, found \(rest) bytes")
            }
            terminal = .member(try HeadValue(bytes: bytes[offset...]))
        case 1:
            guard rest == 0 else { throw MapError(.malformedProof, "\(rest) trailing bytes after an absence proof") }
            terminal = .empty
        default:
            guard rest == 32 + HeadValue.byteCount else {
                throw MapError(
                    .malformedProof,
                    "an absence proof by another leaf ends with its key and value (80 bytes), found \(rest)"
                )
            }
            terminal = .otherLeaf(
                key: Array(bytes[offset..<offset + 32]),
                value: try HeadValue(bytes: bytes[(offset + 32)...])
            )
        }
        self.init(siblings: siblings, terminal: terminal)
    }
}
