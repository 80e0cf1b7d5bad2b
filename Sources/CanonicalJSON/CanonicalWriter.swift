/// Appends the RFC 8785 form of a `JSONValue` to a byte buffer.
///
/// Objects are already stored in canonical key order, so writing never sorts. Strings use only the
/// escapes RFC 8785 §3.2.2.2 allows: `\"`, `\\`, `\b \f \n \r \t`, `\u00xx` (lowercase hex) for the other
/// controls below U+0020; everything else, including U+007F and all non-ASCII, is written as UTF-8.
struct CanonicalWriter {
    /// A failure with the path collected while unwinding, innermost component first.
    struct Failure: Error {
        let code: CanonicalJSONError.Code
        let message: String
        var reversedPath: [CodingPath.Component] = []

        func error() -> CanonicalJSONError {
            let path = CodingPath.render(components: reversedPath.reversed())
            return CanonicalJSONError(code, "\(path): \(message)", path: path)
        }
    }

    private(set) var bytes: [UInt8]
    /// When true, integers outside ±(2^53−1) are refused; off only for diagnostic printing.
    let checkRange: Bool
    let maxDepth: Int

    init(checkRange: Bool = true, maxDepth: Int, capacity: Int = 256) {
        self.checkRange = checkRange
        self.maxDepth = maxDepth
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Exchanges the output buffer with `other`, so callers can append to their own array without a copy.
    mutating func swapBuffer(_ other: inout [UInt8]) {
        swap(&bytes, &other)
    }

    /// Hands the buffer over without copying.
    mutating func take() -> [UInt8] {
        let result = bytes
        bytes = []
        return result
    }

    /// Writes `value`, which sits inside `depth` enclosing containers.
    mutating func write(_ value: JSONValue, depth: Int) throws(Failure) {
        switch value {
        case .null:
            append4(0x6E, 0x75, 0x6C, 0x6C)
        case .bool(true):
            append4(0x74, 0x72, 0x75, 0x65)
        case .bool(false):
            append4(0x66, 0x61, 0x6C, 0x73)
            bytes.append(0x65)
        case .integer(let number):
            if checkRange && (number > JSONValue.maxSafeInteger || number < -JSONValue.maxSafeInteger) {
                throw Failure(
                    code: .integerOutOfRange,
                    message: "integer \(number) is outside ±(2^53−1) (±9007199254740991)"
                )
            }
            writeInteger(number)
        case .string(let string):
            writeString(string)
        case .array(let elements):
            guard depth < maxDepth else {
                throw Failure(code: .tooDeep, message: "nesting deeper than \(maxDepth) containers")
            }
            bytes.append(0x5B)
            for index in elements.indices {
                if index > 0 { bytes.append(0x2C) }
                do {
                    try write(elements[index], depth: depth + 1)
                } catch var failure {
                    failure.reversedPath.append(.index(index))
                    throw failure
                }
            }
            bytes.append(0x5D)
        case .object(let object):
            guard depth < maxDepth else {
                throw Failure(code: .tooDeep, message: "nesting deeper than \(maxDepth) containers")
            }
            bytes.append(0x7B)
            let keys = object.keys
            let values = object.values
            for index in keys.indices {
                if index > 0 { bytes.append(0x2C) }
                writeString(keys[index])
                bytes.append(0x3A)
                do {
                    try write(values[index], depth: depth + 1)
                } catch var failure {
                    failure.reversedPath.append(.key(keys[index]))
                    throw failure
                }
            }
            bytes.append(0x7D)
        }
    }

    @inline(__always)
    private mutating func append4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        bytes.append(a)
        bytes.append(b)
        bytes.append(c)
        bytes.append(d)
    }

    /// Shortest decimal form: no sign for non-negative values, no leading zeros.
    private mutating func writeInteger(_ number: Int64) {
        if number < 0 { bytes.append(0x2D) }
        var magnitude = number.magnitude
        if magnitude < 10 {
            bytes.append(0x30 &+ UInt8(truncatingIfNeeded: magnitude))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            while magnitude > 0 {
                start -= 1
                digits[start] = 0x30 &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    @inline(__always)
    mutating func appendByte(_ byte: UInt8) { bytes.append(byte) }

    mutating func writeBool(_ value: Bool) {
        if value {
            append4(0x74, 0x72, 0x75, 0x65)
        } else {
            append4(0x66, 0x61, 0x6C, 0x73)
            bytes.append(0x65)
        }
    }

    /// An integer the caller has already checked is within ±(2^53−1).
    mutating func writeSafeInteger(_ number: Int64) { writeInteger(number) }

    /// Lowercase hexadecimal digit for a nibble (RFC 8785 requires lowercase in `\u00xx`).
    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 &+ nibble : 0x57 &+ nibble }

    /// A quoted string with the RFC 8785 escapes; unescaped runs are copied in one go.
    mutating func writeString(_ string: String) {
        bytes.append(0x22)
        UTF16KeyOrder.withBytes(string) { source in
            var runStart = 0
            var index = 0
            while index < source.count {
                let byte = source[index]
                if byte >= 0x20 && byte != 0x22 && byte != 0x5C {
                    index += 1
                    continue
                }
                if runStart < index {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<index]))
                }
                bytes.append(0x5C)
                switch byte {
                case 0x22: bytes.append(0x22)
                case 0x5C: bytes.append(0x5C)
                case 0x08: bytes.append(0x62)
                case 0x09: bytes.append(0x74)
                case 0x0A: bytes.append(0x6E)
                case 0x0C: bytes.append(0x66)
                case 0x0D: bytes.append(0x72)
                default:
                    append4(0x75, 0x30, 0x30, CanonicalWriter.hexDigit(byte >> 4))
                    bytes.append(CanonicalWriter.hexDigit(byte & 0x0F))
                }
                index += 1
                runStart = index
            }
            if runStart < source.count {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<source.count]))
            }
        }
        bytes.append(0x22)
    }
}
