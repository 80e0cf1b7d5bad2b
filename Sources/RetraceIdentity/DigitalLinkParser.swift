/// Parses GS1 Digital Link URIs (uncompressed) on any domain: `http(s)://host[/prefix]/01/{gtin}[/22/…][/10/…]
/// [/21/…][/][?attributes][#fragment]`.
///
/// Decisions, following the GS1 Digital Link standard where it speaks:
/// - Any host and any path prefix are accepted; the GS1 part starts at the first path segment that is exactly `01`.
///   The GTIN there may have 8, 12, 13 or 14 digits and is normalised to 14.
/// - Key qualifiers must follow in the order 22, 10, 21, each at most once; a data attribute (e.g. 17) in the path,
///   or a qualifier in the query, is refused as misplaced. One trailing `/` is accepted.
/// - Query parameters whose name is not all digits (`linkType`, `utm_source`, …) are ignored. A numeric name is an
///   AI: supported ones are validated and kept, unknown ones are refused (``IdentityError/Code/unknownAI``) rather
///   than dropped, matching the element-string parser, so a mistyped `?71=…` cannot silently lose a date.
/// - Raw characters must be legal in their URI component (RFC 3986); `"` or a space must arrive as `%22`, `%20`.
///   Escapes are decoded as UTF-8 and the decoded value is then validated (so `%20` is an illegal character in a
///   serial). `+` is a literal plus sign, not a space: these are URIs, not HTML form data.
/// - Compressed Digital Links are not supported (they have no `/01/` segment and are reported as missing a GTIN).
enum DigitalLinkParser {
    static func parse(
        _ input: [Character],
        range: Range<Int>,
        symbologyIdentifier: String?,
        referenceYear: Int
    ) throws(IdentityError) -> ProductScan {
        let end = range.upperBound
        var index = range.lowerBound
        if hasPrefix(input, "https://", at: index, end: end) {
            index += 8
        } else if hasPrefix(input, "http://", at: index, end: end) {
            index += 7
        } else {
            throw IdentityError(
                .malformedURI,
                "a Digital Link must start with 'https://' or 'http://' (position \(index))",
                position: index
            )
        }
        let authorityStart = index
        while index < end, !"/?#".contains(input[index]) { index += 1 }
        guard index > authorityStart else {
            throw IdentityError(.malformedURI, "no host after the scheme at position \(index)", position: index)
        }
        try checkRaw(input, authorityStart..<index, part: "host", allowing: isAuthorityCharacter)
        let pathRange = index..<scan(input, from: index, end: end, until: "?#")
        index = pathRange.upperBound
        var queryRange: Range<Int>?
        if index < end, input[index] == "?" {
            queryRange = (index + 1)..<scan(input, from: index + 1, end: end, until: "#")
            index = queryRange?.upperBound ?? end
        }
        try checkRaw(input, pathRange, part: "path") { isPathCharacter($0) || $0 == "/" }
        if let queryRange {
            try checkRaw(input, queryRange, part: "query") { isPathCharacter($0) || $0 == "/" || $0 == "?" }
        }
        if index < end {
            try checkRaw(input, (index + 1)..<end, part: "fragment") {
                isPathCharacter($0) || $0 == "/" || $0 == "?"
            }
        }

        var collector = ElementCollector(referenceYear: referenceYear)
        try parsePath(input, pathRange, into: &collector)
        if let queryRange {
            try parseQuery(input, queryRange, into: &collector)
        }
        return try collector.build(form: .digitalLink, symbologyIdentifier: symbologyIdentifier)
    }

    // MARK: - Path

    private static func parsePath(
        _ input: [Character],
        _ path: Range<Int>,
        into collector: inout ElementCollector
    )
        throws(IdentityError)
    {
        var segments = split(input, path, on: "/")
        if !segments.isEmpty { segments.removeFirst() }  // the path starts with "/", before which nothing is
        if segments.count > 1, segments.last?.isEmpty == true { segments.removeLast() }  // one trailing slash
        guard let keyIndex = segments.firstIndex(where: { String(input[$0]) == "01" }) else {
            throw IdentityError(
                .missingGTIN,
                "no '/01/{GTIN}' in the Digital Link path '\(String(input[path]))' "
                    + "(compressed Digital Links are not supported)",
                position: path.lowerBound
            )
        }
        for segment in segments[keyIndex...] where segment.isEmpty {
            throw IdentityError(
                .malformedURI,
                "empty path segment at position \(segment.lowerBound) in the GS1 part of the path",
                position: segment.lowerBound
            )
        }
        let keyPosition = segments[keyIndex].lowerBound
        guard keyIndex + 1 < segments.count else {
            throw IdentityError(
                .missingGTIN,
                "the '01' path segment at position \(keyPosition) has no GTIN after it",
                position: keyPosition
            )
        }
        let gtinSource = try PercentEncoding.decode(input, segments[keyIndex + 1])
        let gtin = try GTIN(source: gtinSource, allowedLengths: [8, 12, 13, 14])
        try collector.record(.gtin, .gtin(gtin), position: keyPosition)

        var lastRank = -1
        var cursor = keyIndex + 2
        while cursor < segments.count {
            let keySegment = segments[cursor]
            let key = String(input[keySegment])
            let position = keySegment.lowerBound
            guard let ai = ApplicationIdentifier.named(key) else {
                if (2...4).contains(key.count), key.allSatisfy(\.isASCIIDigit) {
                    throw IdentityError(
                        .unknownAI,
                        "unknown or unsupported Application Identifier (\(key)) in the path at position "
                            + "\(position); GTIN key qualifiers are 22, 10 and 21",
                        position: position
                    )
                }
                throw IdentityError(
                    .trailingGarbage,
                    "unexpected path segment '\(key)' at position \(position) after the GS1 "
                        + "identifier; expected a key qualifier 22, 10 or 21, or the end of the path",
                    position: position
                )
            }
            guard let rank = ai.qualifierRank else {
                let why =
                    ai.role == .gtin
                    ? "the primary key (01) may appear only once"
                    : "it is a data attribute and belongs in the query string (?\(ai.code)=…)"
                throw IdentityError(
                    .misplacedAI,
                    "\(ai.label) at position \(position) is not allowed in the path: \(why)",
                    position: position
                )
            }
            guard rank > lastRank else {
                throw IdentityError(
                    .misplacedAI,
                    "\(ai.label) at position \(position) is out of order or repeated: after /01/ the "
                        + "Digital Link key qualifiers come at most once each, in the order 22, 10, 21",
                    position: position
                )
            }
            guard cursor + 1 < segments.count else {
                throw IdentityError(
                    ai.role == .serial ? .emptySerial : .emptyValue,
                    "\(ai.label) at position \(position) has no value after it",
                    position: position
                )
            }
            let value = try PercentEncoding.decode(input, segments[cursor + 1])
            try collector.add(ai, value: value, position: position)
            lastRank = rank
            cursor += 2
        }
    }

    // MARK: - Query

    private static func parseQuery(
        _ input: [Character],
        _ query: Range<Int>,
        into collector: inout ElementCollector
    )
        throws(IdentityError)
    {
        for parameter in split(input, query, on: "&") where !parameter.isEmpty {
            let equals = input[parameter].firstIndex(of: "=")
            let keyRange = parameter.lowerBound..<(equals ?? parameter.upperBound)
            let key = String(input[keyRange])
            guard !key.isEmpty, key.allSatisfy(\.isASCIIDigit) else { continue }  // not an AI: ignored
            let position = keyRange.lowerBound
            guard let ai = ApplicationIdentifier.named(key) else {
                throw IdentityError(
                    .unknownAI,
                    "unknown or unsupported Application Identifier (\(key)) in the query at position "
                        + "\(position); numeric parameters are AIs, supported: \(ApplicationIdentifier.supportedList)",
                    position: position
                )
            }
            guard !ai.isIdentity else {
                throw IdentityError(
                    .misplacedAI,
                    "\(ai.label) at position \(position) is part of the identity and belongs in the "
                        + "path (/01/…/22/…/10/…/21/…), not the query",
                    position: position
                )
            }
            guard let equals, equals + 1 < parameter.upperBound else {
                throw IdentityError(
                    .emptyValue,
                    "\(ai.label) at position \(position) in the query has no value",
                    position: position
                )
            }
            let value = try PercentEncoding.decode(input, (equals + 1)..<parameter.upperBound)
            try collector.add(ai, value: value, position: position)
        }
    }

    // MARK: - URI syntax (RFC 3986)

    /// Refuses characters not allowed raw in this URI component, and `%` not followed by two hex digits.
    private static func checkRaw(
        _ input: [Character],
        _ range: Range<Int>,
        part: String,
        allowing allowed: (Character) -> Bool
    ) throws(IdentityError) {
        for index in range {
            let character = input[index]
            if character == "%" {
                _ = try PercentEncoding.escapedByte(in: input, at: index, within: range)
            } else if !allowed(character) {
                let escaped = PercentEncoding.encode(String(character)) { _ in false }
                let hint = character.isASCII ? "; percent-encode it as \(escaped)" : "; percent-encode its UTF-8 bytes"
                throw IdentityError(
                    .malformedURI,
                    "character \(character.errorDescription) at position \(index) is not allowed in "
                        + "a URI \(part)\(hint)",
                    position: index
                )
            }
        }
    }

    /// RFC 3986 `pchar` minus `%` (escapes are checked separately): unreserved, sub-delims, `:` and `@`.
    private static func isPathCharacter(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return false }
        return PercentEncoding.isUnreserved(ascii) || "!$&'()*+,;=:@".contains(character)
    }

    /// Host, optional user info and port, IPv6 literals: unreserved, sub-delims, `:`, `@`, `[`, `]`.
    private static func isAuthorityCharacter(_ character: Character) -> Bool {
        isPathCharacter(character) || character == "[" || character == "]"
    }

    // MARK: - Helpers

    /// Case-insensitive prefix test (URI schemes are case-insensitive).
    static func hasPrefix(_ input: [Character], _ prefix: String, at index: Int, end: Int) -> Bool {
        let expected = Array(prefix)
        guard index + expected.count <= end else { return false }
        return zip(input[index..<(index + expected.count)], expected).allSatisfy { $0.lowercased() == $1.lowercased() }
    }

    private static func scan(_ input: [Character], from start: Int, end: Int, until stops: String) -> Int {
        var index = start
        while index < end, !stops.contains(input[index]) { index += 1 }
        return index
    }

    /// Ranges between separators (empty ranges kept, so `a//b` shows its empty segment).
    private static func split(_ input: [Character], _ range: Range<Int>, on separator: Character) -> [Range<Int>] {
        var parts: [Range<Int>] = []
        var start = range.lowerBound
        for index in range where input[index] == separator {
            parts.append(start..<index)
            start = index + 1
        }
        parts.append(start..<range.upperBound)
        return parts
    }
}
