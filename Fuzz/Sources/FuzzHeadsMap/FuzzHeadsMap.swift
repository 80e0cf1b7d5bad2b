import FuzzSupport
import RetraceCrypto
import VerifiableMap

/// Fuzzes the audit's flat heads map against the heads map every checkpoint is built from.
///
/// The input is a program of batches; each update names a key by three bytes that set a few bits
/// of an otherwise fixed key (so keys share long prefixes and split deep, at many depths), and a
/// count (1 to 4, or the largest count, to reach the overflow). After every batch:
/// - both maps accept it or both refuse it (a key twice, a count that overflows);
/// - when they accept it, their roots and key counts are equal;
/// - a flat map seeded from the heads map has the same root.
/// After a refusal neither map is used again (both may be partly updated).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzDriver.bytes(data, size)[...]
    var reference = HeadsMap()
    var flat = FlatHeadsMap()
    var index: UInt64 = 0
    while let header = input.popFirst() {
        let updates = Int(header & 0x1f) + 1
        var batch: [(key: [UInt8], value: HeadValue)] = []
        for _ in 0..<updates {
            guard input.count >= 4 else { break }
            let bytes = Array(input.prefix(4))
            input = input.dropFirst(4)
            var key = [UInt8](repeating: 0x5a, count: 32)
            key[0] = bytes[0]
            key[Int(bytes[1] & 0x1f)] ^= bytes[1] & 0xe0 | 1
            key[31] = bytes[2]
            let count: UInt64 = bytes[3] == 0xff ? .max : UInt64(bytes[3] & 0x03) + 1
            index += 1
            let event = SHA256.hash(Array("event \(index)".utf8))
            guard let value = try? HeadValue(eventID: event, count: count, index: index) else {
                invariant(false, "a head value of a 32-byte event id and a count of \(count) was refused")
                return 0
            }
            batch.append((key, value))
        }
        if batch.isEmpty { break }
        let heads = batch.compactMap { update -> FlatHeadsMap.Head? in
            guard let key = SHA256Digest(update.key), let event = SHA256Digest(update.value.eventID) else { return nil }
            return try? FlatHeadsMap.Head(
                key: key,
                eventID: event,
                count: update.value.count,
                index: update.value.index
            )
        }
        invariant(heads.count == batch.count, "a head did not convert")
        let referenceRefused = (try? reference.advance(all: batch)) == nil
        let flatRefused = (try? flat.advance(all: heads)) == nil
        invariant(referenceRefused == flatRefused, "one map refused a batch the other took (\(batch.count) updates)")
        if referenceRefused { return 0 }
        invariant(flat.root == reference.root, "the roots differ after a batch of \(batch.count) at \(index)")
        invariant(flat.count == reference.count, "the key counts differ: \(flat.count) and \(reference.count)")
        if header & 0x80 != 0 {
            let seeded = try? FlatHeadsMap(reference)
            invariant(seeded?.root == reference.root, "a flat map seeded from the heads map has another root")
        }
    }
    return 0
}
