import CanonicalJSON
import FuzzSupport

/// Fuzzes the canonical JSON reader, strict and lenient, and checks the writer against it.
///
/// Properties of every input, whatever it is:
/// - strict reading accepts it exactly when lenient reading does and the canonical encoding of the
///   value is the input itself, byte for byte (one byte form per value, the basis of every signature);
/// - whatever lenient reading accepts encodes without error, and its encoding reads back strictly as
///   an equal value;
/// - the ASCII-keys and deep-nesting options only add refusals / lift the depth limit consistently;
/// - `canonicalValue` (one value at an offset, for readers that take a frame apart by hand) reads
///   the input as strict reading does: when it answers at offset 0, strict reading of the bytes up
///   to its end gives the same value, and when strict reading takes the whole input, so does it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    let strict = try? CanonicalJSON.decode(bytes, options: .strict)
    let lenient = try? CanonicalJSON.decode(bytes, options: .lenient)
    if let strict {
        invariant(lenient != nil, "strict reading accepted what lenient reading refused")
        invariant(lenient == strict, "strict and lenient reading give different values")
        let encoded: [UInt8]
        do { encoded = try CanonicalJSON.encode(strict) } catch {
            invariant(false, "a strictly read value does not encode: \(error)")
            return 0
        }
        invariant(encoded == bytes, "strictly read input re-encodes differently:\n\(show(bytes))\n\(show(encoded))")
    }
    if let lenient {
        let encoded: [UInt8]
        do { encoded = try CanonicalJSON.encode(lenient) } catch {
            invariant(false, "a leniently read value does not encode: \(error)")
            return 0
        }
        invariant(
            (strict != nil) == (encoded == bytes),
            "strict reading \(strict == nil ? "refused" : "accepted") input whose canonical encoding is "
                + "\(encoded == bytes ? "identical" : "different")")
        let reread = try? CanonicalJSON.decode(encoded, options: .strict)
        invariant(reread == lenient, "the canonical encoding does not read back as the same value")
        let asciiKeys = ReadOptions(requireCanonical: false, asciiKeysOnly: true)
        if let ascii = try? CanonicalJSON.decode(bytes, options: asciiKeys) {
            invariant(ascii == lenient, "reading with asciiKeysOnly gives a different value")
        }
    }
    let atOffset = bytes.withUnsafeBufferPointer {
        CanonicalJSON.canonicalValue(in: $0, at: 0, maxDepth: ReadOptions.defaultMaxDepth)
    }
    if let (value, end) = atOffset {
        let prefix = try? CanonicalJSON.decode(Array(bytes[..<end]), options: .strict)
        invariant(prefix == value, "a canonical value at an offset is not what strict reading of its bytes gives")
    }
    if let strict {
        invariant(
            atOffset?.value == strict && atOffset?.end == bytes.count,
            "strict reading took the whole input, canonicalValue did not")
    }
    // The deepest nesting the reader allows (256 levels): iterative parsing, recursive everything else.
    let deep = ReadOptions(requireCanonical: false, maxDepth: ReadOptions.depthCeiling)
    if let value = try? CanonicalJSON.decode(bytes, options: deep) {
        if let lenient { invariant(value == lenient, "the depth limit changed the value") }
        if let encoded = try? CanonicalJSON.encode(value, maxDepth: ReadOptions.depthCeiling) {
            invariant(
                (try? CanonicalJSON.decode(encoded, options: ReadOptions(maxDepth: ReadOptions.depthCeiling))) == value,
                "a deep value does not read back after encoding")
        } else {
            invariant(false, "a value read within the depth ceiling does not encode within it")
        }
    }
    return 0
}

private func show(_ bytes: [UInt8]) -> String {
    String(decoding: bytes.prefix(200), as: UTF8.self).debugDescription
}
