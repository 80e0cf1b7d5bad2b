/// Byte-level reader for the integer-only canonical JSON profile.
///
/// It parses any well-formed JSON text (RFC 8259) but refuses, whatever the options, everything that
/// would let two byte strings mean the same signed value: floats, out-of-range integers, `-0`, leading
/// zeros, duplicate keys, invalid UTF-8 and lone surrogates. While parsing it notes cheaply whether the
/// input departed from canonical form (whitespace, an escape RFC 8785 would not write, keys out of order);
/// only then does `decode` re-encode and compare, to name the exact first differing byte.
struct CanonicalParser {
    private let input: UnsafeBufferPointer<UInt8>
    private var position = 0
    private let maxDepth: Int
    private let asciiKeysOnly: Bool
    /// Set as soon as any non-canonical form is seen; false means the input is byte-for-byte canonical.
    private(set) var sawNonCanonical = false
    /// Reused buffer for strings that contain escapes.
    private var scratch: [UInt8] = []
    /// Members and elements of the containers being parsed, shared by all nesting levels (each level
    /// works above the base it noted), so each finished container costs one exact-size array per part.
    private var keyStack: [String] = []
    private var offsetStack: [Int] = []
    private var valueStack: [JSONValue] = []
    /// Which member values of a top-level object to note the place of.
    enum SpanRecording: Equatable {
        case none
        /// Every member's, in ``memberSpans``.
        case all
        /// One member's, in ``oneSpan``: a dictionary made for one entry was an allocation in
        /// every parse of a log entry (issue 15).
        case one(String)
    }
    private let recording: SpanRecording
    private var memberStart = 0
    /// Top-level object key → the input bytes of its value, as ``recording`` asks.
    private(set) var memberSpans: [String: Range<Int>] = [:]
    /// The span of the member ``SpanRecording/one(_:)`` names, until the parse ends.
    private var oneSpan: Range<Int>?

    private init(input: UnsafeBufferPointer<UInt8>, options: ReadOptions, recording: SpanRecording = .none) {
        self.input = input
        self.maxDepth = options.effectiveMaxDepth
        self.asciiKeysOnly = options.asciiKeysOnly
        self.recording = recording
        // A statement has a few dozen members and values in all: room for them from the start, so
        // the stacks do not grow (and reallocate) four or five times in every parse.
        keyStack.reserveCapacity(Self.initialStackCapacity)
        offsetStack.reserveCapacity(Self.initialStackCapacity)
        valueStack.reserveCapacity(Self.initialStackCapacity)
        if recording == .all { memberSpans.reserveCapacity(Self.initialStackCapacity / 2) }
    }

    /// Members and elements the shared stacks hold before they first grow.
    private static let initialStackCapacity = 32

    /// Parses a complete JSON text and enforces `options`.
    static func parse(_ bytes: [UInt8], options: ReadOptions) throws -> JSONValue {
        try parse(bytes, options: options, recording: .none).value
    }

    /// ``parse(_:options:)``, and, when the text is an object, where the values of the members
    /// `recording` names lie in `bytes`.
    static func parse(
        _ bytes: [UInt8],
        options: ReadOptions,
        recording: SpanRecording
    ) throws -> (value: JSONValue, spans: [String: Range<Int>], span: Range<Int>?) {
        if let maxBytes = options.maxBytes, bytes.count > maxBytes {
            throw CanonicalJSONError(
                .tooLarge,
                "input is \(bytes.count) bytes, more than the limit of \(maxBytes)",
                offset: maxBytes
            )
        }
        let (value, canonical, spans, span) = try bytes.withUnsafeBufferPointer {
            buffer -> (JSONValue, Bool, [String: Range<Int>], Range<Int>?) in
            var parser = CanonicalParser(input: buffer, options: options, recording: recording)
            parser.skipWhitespace()
            let value = try parser.parseValue()
            parser.skipWhitespace()
            if parser.position < buffer.count {
                throw parser.failure(
                    .trailingData,
                    "unexpected \(describe(buffer[parser.position])) after the value",
                    at: parser.position
                )
            }
            return (value, !parser.sawNonCanonical, parser.memberSpans, parser.oneSpan)
        }
        if options.requireCanonical && !canonical {
            try requireCanonicalForm(of: value, input: bytes)
        }
        return (value, spans, span)
    }

    /// The one value that starts at `offset` in `input`, and the offset just past it, when the
    /// value is well formed, nests at most `maxDepth` deep and is written canonically; `nil`
    /// otherwise, without saying why (the caller reads the whole text again to name the error).
    static func canonicalValue(
        in input: UnsafeBufferPointer<UInt8>,
        at offset: Int,
        maxDepth: Int
    ) -> (value: JSONValue, end: Int)? {
        var parser = CanonicalParser(input: input, options: ReadOptions(maxDepth: maxDepth))
        parser.position = offset
        guard let value = try? parser.parseValue(), !parser.sawNonCanonical else { return nil }
        return (value, parser.position)
    }

    /// Re-encodes `value` and throws `notCanonical` at the first byte where `input` differs.
    private static func requireCanonicalForm(of value: JSONValue, input: [UInt8]) throws {
        var writer = CanonicalWriter(maxDepth: ReadOptions.depthCeiling)
        do {
            try writer.write(value, depth: 0)
        } catch {
            throw error.error()
        }
        let canonical = writer.bytes
        let common = min(canonical.count, input.count)
        var offset = 0
        while offset < common && canonical[offset] == input[offset] { offset += 1 }
        if offset == common && canonical.count == input.count { return }
        let expected = offset < canonical.count ? describe(canonical[offset]) : "end of input"
        let found = offset < input.count ? describe(input[offset]) : "end of input"
        var message = "at byte \(offset): input is not canonical (RFC 8785): expected \(expected), found \(found)"
        if offset < canonical.count {
            let context = canonical[offset..<min(canonical.count, offset + 24)]
            message += "; canonical form continues `\(String(decoding: context, as: UTF8.self))`"
        }
        throw CanonicalJSONError(.notCanonical, message, offset: offset)
    }

    /// A byte as shown in error messages: `'a'` for visible ASCII, `0x0a` otherwise.
    static func describe(_ byte: UInt8) -> String {
        if byte == 0x20 { return "' ' (space)" }
        if byte > 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        let hex = String(byte, radix: 16)
        return "byte 0x" + (hex.count < 2 ? "0" + hex : hex)
    }

    @inline(never)
    private func failure(_ code: CanonicalJSONError.Code, _ message: String, at offset: Int) -> CanonicalJSONError {
        CanonicalJSONError(code, "at byte \(offset): \(message)", offset: offset)
    }

    private func describeHere() -> String {
        position < input.count ? CanonicalParser.describe(input[position]) : "end of input"
    }

    @inline(never)
    private func unexpected(_ expectation: String) -> CanonicalJSONError {
        if position >= input.count {
            return failure(.unexpectedEnd, "expected \(expectation), found end of input", at: position)
        }
        return failure(.unexpectedCharacter, "expected \(expectation), found \(describeHere())", at: position)
    }

    // MARK: Structure

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case 0x20, 0x09, 0x0A, 0x0D:
                sawNonCanonical = true
                position += 1
            default:
                return
            }
        }
    }

    /// A container still open while parsing; the members parsed so far sit on the shared stacks.
    private enum Frame {
        case array(valueBase: Int)
        case object(keyBase: Int, valueBase: Int, sorted: Bool)
    }

    /// Parses one complete value starting at `position`.
    ///
    /// Iterative, with an explicit stack of open containers, so hostile nesting costs heap (bounded by
    /// `maxDepth`) rather than call stack, on whatever thread the caller runs.
    private mutating func parseValue() throws -> JSONValue {
        var frames: [Frame] = []
        frames.reserveCapacity(8)
        while true {
            // Parse the start of a value: a scalar, an empty container, or open a new container.
            var value: JSONValue
            skipWhitespace()
            if recording != .none && frames.count == 1 { memberStart = position }
            guard position < input.count else { throw unexpected("a value") }
            switch input[position] {
            case 0x5B:
                try enterContainer(depth: frames.count)
                skipWhitespace()
                if position < input.count && input[position] == 0x5D {
                    position += 1
                    value = .array([])
                } else {
                    frames.append(.array(valueBase: valueStack.count))
                    continue
                }
            case 0x7B:
                try enterContainer(depth: frames.count)
                skipWhitespace()
                if position < input.count && input[position] == 0x7D {
                    position += 1
                    value = .object(JSONObject())
                } else {
                    let keyBase = keyStack.count
                    var sorted = true
                    try parseMemberKey(keyBase: keyBase, sorted: &sorted)
                    frames.append(.object(keyBase: keyBase, valueBase: valueStack.count, sorted: sorted))
                    continue
                }
            case 0x22:
                value = .string(try parseString())
            case 0x74:
                try parseLiteral("true")
                value = .bool(true)
            case 0x66:
                try parseLiteral("false")
                value = .bool(false)
            case 0x6E:
                try parseLiteral("null")
                value = .null
            case 0x2D, 0x30...0x39:
                value = .integer(try parseNumber())
            default:
                throw unexpected("a value")
            }
            // A value is complete: hand it to the innermost open container, closing containers as they end.
            closing: while true {
                guard let frame = frames.last else { return value }
                if recording != .none && frames.count == 1, case .object = frame, let key = keyStack.last {
                    switch recording {
                    case .all: memberSpans[key] = memberStart..<position
                    case .one(let wanted) where key == wanted: oneSpan = memberStart..<position
                    default: break
                    }
                }
                valueStack.append(value)
                skipWhitespace()
                guard position < input.count else {
                    if case .array = frame { throw unexpected("',' or ']'") }
                    throw unexpected("',' or '}'")
                }
                let byte = input[position]
                switch frame {
                case .array(let valueBase):
                    if byte == 0x2C {
                        position += 1
                        break closing
                    }
                    guard byte == 0x5D else { throw unexpected("',' or ']'") }
                    position += 1
                    value = finishArray(base: valueBase)
                case .object(let keyBase, let valueBase, var sorted):
                    if byte == 0x2C {
                        position += 1
                        try parseMemberKey(keyBase: keyBase, sorted: &sorted)
                        frames[frames.count - 1] = .object(keyBase: keyBase, valueBase: valueBase, sorted: sorted)
                        break closing
                    }
                    guard byte == 0x7D else { throw unexpected("',' or '}'") }
                    position += 1
                    value = try finishObject(base: keyBase, valueBase: valueBase, sorted: sorted)
                }
                frames.removeLast()
            }
        }
    }

    @inline(__always)
    private mutating func parseLiteral(_ literal: StaticString) throws {
        let length = literal.utf8CodeUnitCount
        let matches = literal.withUTF8Buffer { expected in
            var index = 0
            while index < length, position + index < input.count, input[position + index] == expected[index] {
                index += 1
            }
            return index
        }
        position += matches
        guard matches == length else { throw unexpected("'\(literal)'") }
    }

    /// Consumes the opening bracket of a container that sits inside `depth` others.
    @inline(__always)
    private mutating func enterContainer(depth: Int) throws {
        guard depth < maxDepth else { throw tooDeep() }
        position += 1
    }

    @inline(never)
    private func tooDeep() -> CanonicalJSONError {
        failure(.tooDeep, "containers nested deeper than \(maxDepth)", at: position)
    }

    /// Parses `"key":` and pushes the key, checking ASCII-ness, order and (while sorted) duplicates.
    private mutating func parseMemberKey(keyBase: Int, sorted: inout Bool) throws {
        skipWhitespace()
        guard position < input.count, input[position] == 0x22 else { throw unexpected("'\"' starting a key") }
        let keyOffset = position
        let key = try parseString()
        if asciiKeysOnly && !key.utf8.allSatisfy({ $0 < 0x80 }) {
            throw keyFailure(.nonASCIIKey, key, at: keyOffset)
        }
        if sorted, keyStack.count > keyBase, let previous = keyStack.last {
            let order = UTF16KeyOrder.compare(previous, key)
            if order == 0 { throw keyFailure(.duplicateKey, key, at: keyOffset) }
            if order > 0 {
                sorted = false
                sawNonCanonical = true
            }
        }
        skipWhitespace()
        guard position < input.count, input[position] == 0x3A else { throw unexpected("':' after a key") }
        position += 1
        keyStack.append(key)
        offsetStack.append(keyOffset)
    }

    /// Errors about one key, built out of line to keep the recursive frames small.
    @inline(never)
    private func keyFailure(_ code: CanonicalJSONError.Code, _ key: String, at offset: Int) -> CanonicalJSONError {
        let shown = JSONValue.string(key).description
        if code == .nonASCIIKey { return failure(code, "key \(shown) is not ASCII", at: offset) }
        return failure(code, "duplicate key \(shown)", at: offset)
    }

    /// Builds the finished object from the members above `base` and pops them.
    @inline(never)
    private mutating func finishObject(base: Int, valueBase: Int, sorted: Bool) throws -> JSONValue {
        let keys: [String]
        let values: [JSONValue]
        if base == 0 && valueBase == 0 {
            // The outermost container owns the whole stacks: hand them over. Copying them would
            // share their buffers with the copies when a slice spans a whole array, and emptying
            // the stacks afterwards would then reallocate each one.
            keys = keyStack
            values = valueStack
            keyStack = []
            valueStack = []
        } else {
            keys = Array(keyStack[base...])
            values = Array(valueStack[valueBase...])
            keyStack.removeSubrange(base...)
            valueStack.removeSubrange(valueBase...)
        }
        if !sorted {
            try refuseDuplicates(keys: keys, offsets: Array(offsetStack[base...]))
        }
        offsetStack.removeSubrange(base...)
        if sorted {
            return .object(JSONObject(sortedUniqueKeys: keys, values: values))
        }
        return .object(JSONObject(unsortedKeys: keys, values: values))
    }

    /// Builds the finished array from the elements above `base` and pops them.
    @inline(never)
    private mutating func finishArray(base: Int) -> JSONValue {
        if base == 0 {
            let elements = valueStack
            valueStack = []
            return .array(elements)
        }
        let elements = Array(valueStack[base...])
        valueStack.removeSubrange(base...)
        return .array(elements)
    }

    /// For objects whose keys came out of order: sorts and reports the earliest repeated key.
    @inline(never)
    private func refuseDuplicates(keys: [String], offsets: [Int]) throws {
        let order = JSONObject.stableOrder(of: keys)
        var earliest: Int?
        for index in order.indices.dropFirst() {
            let previous = order[index - 1]
            let current = order[index]
            if UTF16KeyOrder.exactlyEqual(keys[previous], keys[current]) {
                let repeated = max(previous, current)
                if earliest.map({ offsets[repeated] < offsets[$0] }) ?? true { earliest = repeated }
            }
        }
        if let earliest {
            throw keyFailure(.duplicateKey, keys[earliest], at: offsets[earliest])
        }
    }

    // MARK: Numbers

    /// Integer in canonical form only: optional '-', no leading zero, no fraction or exponent.
    @inline(never)
    private mutating func parseNumber() throws -> Int64 {
        let start = position
        let negative = input[position] == 0x2D
        if negative { position += 1 }
        guard position < input.count, input[position] >= 0x30 && input[position] <= 0x39 else {
            throw unexpected("a digit")
        }
        let firstDigit = input[position]
        let digitsStart = position
        var magnitude: UInt64 = 0
        var overflow = false
        while position < input.count, input[position] >= 0x30 && input[position] <= 0x39 {
            if !overflow {
                magnitude = magnitude * 10 + UInt64(input[position] - 0x30)
                overflow = magnitude > UInt64(JSONValue.maxSafeInteger)
            }
            position += 1
        }
        if position < input.count, input[position] == 0x2E || input[position] == 0x65 || input[position] == 0x45 {
            throw failure(
                .floatNotAllowed,
                "number has a fraction or exponent (\(CanonicalParser.describe(input[position]))); "
                    + "only integers are allowed",
                at: start
            )
        }
        if firstDigit == 0x30 && position - digitsStart > 1 {
            throw failure(.leadingZero, "integer has a leading zero", at: start)
        }
        if negative && magnitude == 0 {
            throw failure(.negativeZero, "-0 is not allowed; write 0", at: start)
        }
        if overflow {
            throw failure(.integerOutOfRange, "integer is outside ±(2^53−1) (±9007199254740991)", at: start)
        }
        let value = Int64(magnitude)
        return negative ? -value : value
    }

    // MARK: Strings

    /// Parses a string starting at the opening quote; strings without escapes are copied in one go.
    @inline(never)
    private mutating func parseString() throws -> String {
        let open = position
        position += 1
        let contentStart = position
        while position < input.count {
            let byte = input[position]
            if byte == 0x22 {
                let text = String(
                    decoding: UnsafeBufferPointer(rebasing: input[contentStart..<position]),
                    as: UTF8.self
                )
                position += 1
                return text
            }
            if byte == 0x5C { break }
            if byte < 0x20 { throw controlCharacter(byte) }
            if byte < 0x80 {
                position += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        guard position < input.count else {
            throw failure(.unexpectedEnd, "string opened at byte \(open) is not closed", at: position)
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[contentStart..<position]))
        while position < input.count {
            let byte = input[position]
            if byte == 0x22 {
                position += 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if byte == 0x5C {
                try parseEscape()
            } else if byte < 0x20 {
                throw controlCharacter(byte)
            } else if byte < 0x80 {
                scratch.append(byte)
                position += 1
            } else {
                let start = position
                try skipUTF8Sequence()
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<position]))
            }
        }
        throw failure(.unexpectedEnd, "string opened at byte \(open) is not closed", at: position)
    }

    @inline(never)
    private func controlCharacter(_ byte: UInt8) -> CanonicalJSONError {
        failure(
            .controlCharacter,
            "raw control character \(CanonicalParser.describe(byte)) in a string; "
                + "it must be escaped",
            at: position
        )
    }

    /// Checks one well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
    @inline(never)
    private mutating func skipUTF8Sequence() throws {
        let start = position
        let lead = input[position]
        let count: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: count = 1
        case 0xE0:
            count = 2
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: count = 2
        case 0xED:
            count = 2
            high = 0x9F
        case 0xF0:
            count = 3
            low = 0x90
        case 0xF1...0xF3: count = 3
        case 0xF4:
            count = 3
            high = 0x8F
        default:
            throw failure(.invalidUTF8, "\(CanonicalParser.describe(lead)) cannot start a UTF-8 sequence", at: start)
        }
        for index in 1...count {
            let at = start + index
            guard at < input.count else {
                throw failure(.invalidUTF8, "UTF-8 sequence truncated by the end of input", at: start)
            }
            let byte = input[at]
            let lower = index == 1 ? low : 0x80
            let upper = index == 1 ? high : 0xBF
            guard byte >= lower && byte <= upper else {
                throw failure(
                    .invalidUTF8,
                    "invalid UTF-8 sequence (overlong, surrogate, beyond U+10FFFF or "
                        + "truncated) at \(CanonicalParser.describe(lead))",
                    at: start
                )
            }
        }
        position = start + count + 1
    }

    /// Decodes one escape into `scratch`, noting escapes that RFC 8785 would not produce.
    @inline(never)
    private mutating func parseEscape() throws {
        let start = position
        guard position + 1 < input.count else {
            throw failure(.unexpectedEnd, "escape cut off by the end of input", at: start)
        }
        let letter = input[position + 1]
        position += 2
        switch letter {
        case 0x22: scratch.append(0x22)
        case 0x5C: scratch.append(0x5C)
        case 0x2F:
            scratch.append(0x2F)
            sawNonCanonical = true
        case 0x62: scratch.append(0x08)
        case 0x66: scratch.append(0x0C)
        case 0x6E: scratch.append(0x0A)
        case 0x72: scratch.append(0x0D)
        case 0x74: scratch.append(0x09)
        case 0x75:
            let (unit, upper) = try readHex4(escapeStart: start)
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard position + 1 < input.count, input[position] == 0x5C, input[position + 1] == 0x75 else {
                    throw failure(
                        .loneSurrogate,
                        "high surrogate \\u\(hex4(unit)) is not followed by a low one",
                        at: start
                    )
                }
                let lowStart = position
                position += 2
                let (lowUnit, _) = try readHex4(escapeStart: lowStart)
                guard lowUnit >= 0xDC00 && lowUnit <= 0xDFFF else {
                    throw failure(
                        .loneSurrogate,
                        "high surrogate \\u\(hex4(unit)) is followed by \\u\(hex4(lowUnit)), "
                            + "not a low surrogate",
                        at: start
                    )
                }
                let scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(lowUnit) - 0xDC00)
                appendUTF8(scalar)
                sawNonCanonical = true
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw failure(.loneSurrogate, "low surrogate \\u\(hex4(unit)) without a high one", at: start)
            } else {
                let hasShortForm = unit == 0x08 || unit == 0x09 || unit == 0x0A || unit == 0x0C || unit == 0x0D
                if unit >= 0x20 || hasShortForm || upper { sawNonCanonical = true }
                appendUTF8(UInt32(unit))
            }
        default:
            throw failure(.invalidEscape, "\\\(CanonicalParser.describe(letter)) is not a JSON escape", at: start)
        }
    }

    /// Reads the four hex digits after `\u`; reports whether any was an uppercase letter.
    private mutating func readHex4(escapeStart: Int) throws -> (UInt16, Bool) {
        var value: UInt16 = 0
        var upper = false
        for _ in 0..<4 {
            guard position < input.count else {
                throw failure(.unexpectedEnd, "\\u escape cut off by the end of input", at: escapeStart)
            }
            let byte = input[position]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x61...0x66: digit = byte - 0x57
            case 0x41...0x46:
                digit = byte - 0x37
                upper = true
            default:
                throw failure(
                    .invalidEscape,
                    "\\u must be followed by four hex digits, found "
                        + CanonicalParser.describe(byte),
                    at: escapeStart
                )
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return (value, upper)
    }

    private func hex4(_ unit: UInt16) -> String {
        let hex = String(unit, radix: 16)
        return String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}
