import CanonicalJSON
import Testing

/// The strict reader refuses any input that is not already canonical, naming the first differing byte.
@Suite("Canonical form enforcement")
struct CanonicalFormTests {
    struct Case: Sendable, CustomStringConvertible {
        let input: String
        let offset: Int
        let canonical: String
        var description: String { input }
    }

    static let nonCanonical: [Case] = [
        Case(input: #"{"a":1, "b":2}"#, offset: 7, canonical: #"{"a":1,"b":2}"#),
        Case(input: #" {"a":1}"#, offset: 0, canonical: #"{"a":1}"#),
        Case(input: "{\"a\":1}\n", offset: 7, canonical: #"{"a":1}"#),
        Case(input: #"{"a" :1}"#, offset: 4, canonical: #"{"a":1}"#),
        Case(input: "{\"a\":\t1}", offset: 5, canonical: #"{"a":1}"#),
        Case(input: #"[1 ,2]"#, offset: 2, canonical: #"[1,2]"#),
        Case(input: #"{"b":1,"a":2}"#, offset: 2, canonical: #"{"a":2,"b":1}"#),
        Case(input: #"{"a":{"y":1,"x":2}}"#, offset: 7, canonical: #"{"a":{"x":2,"y":1}}"#),
        Case(input: #"{"B":1,"A":2}"#, offset: 2, canonical: #"{"A":2,"B":1}"#),
        Case(input: #""\u0041""#, offset: 1, canonical: #""A""#),
        Case(input: #""\u001F""#, offset: 6, canonical: #""\u001f""#),
        Case(input: #""\u00e9""#, offset: 1, canonical: "\"\u{E9}\""),
        Case(input: #""\/""#, offset: 1, canonical: #""/""#),
        Case(input: #""\u000a""#, offset: 2, canonical: #""\n""#),
        Case(input: #""\u0022""#, offset: 2, canonical: #""\"""#),
        Case(input: #""\u005C""#, offset: 2, canonical: #""\\""#),
        Case(input: #""\u007f""#, offset: 1, canonical: "\"\u{7F}\""),
        Case(input: #""\ud83d\ude00""#, offset: 1, canonical: "\"\u{1F600}\""),
        Case(input: #"["x","\u2028"]"#, offset: 6, canonical: "[\"x\",\"\u{2028}\"]"),
    ]

    @Test("Non-canonical input is refused with the offset of the first difference", arguments: nonCanonical)
    func refusedWithOffset(testCase: Case) throws {
        let error = try #require(refusal(bytes(testCase.input)))
        #expect(error.code == .notCanonical)
        #expect(error.offset == testCase.offset)
    }

    @Test("The same input is accepted leniently and canonicalises to the expected bytes", arguments: nonCanonical)
    func lenientCanonicalises(testCase: Case) throws {
        #expect(try canonicalize(testCase.input) == testCase.canonical)
        #expect(refusal(bytes(testCase.canonical)) == nil)
    }

    @Test("The refusal says what was expected and what was found")
    func reasonNamesExpectation() throws {
        let error = try #require(refusal(bytes(#"{"a":1, "b":2}"#)))
        #expect(error.reason.contains("at byte 7"))
        #expect(error.reason.contains("expected '\"'"))
        #expect(error.reason.contains("found ' ' (space)"))
        let trailing = try #require(refusal(bytes("1 ")))
        #expect(trailing.reason.contains("expected end of input"))
    }

    @Test(
        "Strict acceptance agrees with re-encoding byte for byte",
        arguments: [
            #"{}"#, #"[]"#, #"{"a":[1,2,{"b":null}],"c":"\u001f"}"#, #"{"a":[1,2,{"b":null}],"c":"\u001F"}"#,
            #"{"a":1,"b":2}"#, #"{"b":1,"a":2}"#, #""\t\b\f\n\r\"\\""#, #""\u0009""#, #"[true,false,null]"#,
            #"[ true]"#, #""é""#, #""\u00E9""#, #"{"\ud83d\ude00":1,"\ufb33":2}"#, #"{"דּ":2,"😀":1}"#,
            #"{"😀":1,"דּ":2}"#, #"-5"#, #"[-9007199254740991]"#,
        ]
    )
    func strictMatchesReencoding(input: String) throws {
        let lenient = try CanonicalJSON.decode(bytes(input), options: .lenient)
        let reencoded = try CanonicalJSON.encode(lenient)
        let strictAccepted = refusal(bytes(input)) == nil
        #expect(strictAccepted == (reencoded == bytes(input)))
    }

    @Test("Nested unsorted objects inside arrays are each sorted in place")
    func nestedSorting() throws {
        let input = #"[{"b":1,"a":[{"d":1,"c":2},{"f":{"h":0,"g":[]}}]},{"z":0,"y":{}}]"#
        let expected = #"[{"a":[{"c":2,"d":1},{"f":{"g":[],"h":0}}],"b":1},{"y":{},"z":0}]"#
        #expect(try canonicalize(input) == expected)
        let error = try #require(refusal(bytes(input)))
        #expect(error.code == .notCanonical)
        #expect(error.offset == 3)
    }

    @Test("Errors compare by code, so #expect(throws:) works with a bare code")
    func throwsByCode() {
        #expect(throws: CanonicalJSONError(.notCanonical)) {
            try CanonicalJSON.decode(bytes("[1, 2]"))
        }
        #expect(throws: CanonicalJSONError(.duplicateKey)) {
            try CanonicalJSON.decode(bytes(#"{"k":1,"k":1}"#))
        }
    }

    @Test("Canonical control-character escapes are accepted: short forms and lowercase \\u00xx")
    func canonicalEscapesAccepted() throws {
        let input = #""\u0000\u0001\b\t\n\u000b\f\r\u000e\u001f "# + "\u{7F}\""
        #expect(
            try CanonicalJSON.decode(bytes(input))
                == .string("\u{0}\u{1}\u{8}\t\n\u{B}\u{C}\r\u{E}\u{1F} \u{7F}")
        )
    }
}

/// One value read at an offset of a longer text, for readers that take a known frame apart by
/// hand (`PlainEntryReader`): it must refuse whatever strict reading of the value alone refuses.
@Suite("A canonical value inside a longer text")
struct CanonicalValueTests {
    static func value(_ text: String, at offset: Int, maxDepth: Int = 64) -> (JSONValue, Int)? {
        Array(text.utf8).withUnsafeBufferPointer { buffer in
            CanonicalJSON.canonicalValue(in: buffer, at: offset, maxDepth: maxDepth).map { ($0.value, $0.end) }
        }
    }

    @Test("the value and the offset just past it, whatever follows")
    func valueAndEnd() throws {
        let read = try #require(Self.value(#"[1,{"a":[2,"x"],"b":{}}],"z""#, at: 3))
        #expect(read.0 == .object(["a": .array([.integer(2), .string("x")]), "b": .object([:])]))
        #expect(read.1 == 23)
        #expect(Self.value(#"{"k":"v"}"#, at: 5)?.0 == .string("v"))
        #expect(Self.value(#"{"k":"v"}"#, at: 5)?.1 == 8)
    }

    @Test(
        "anything strict reading refuses is refused",
        arguments: [
            #"{"b":1,"a":2}"#, #" {"a":1}"#, #"{"a": 1}"#, #"{"a":1,"a":1}"#, #"{"a":"\u0041"}"#, #"{"a":01}"#,
            #"{"a":1.5}"#, #"{"a":-0}"#, #"{"a":"\/"}"#, #"{"a":"#, #"}"#,
        ]
    )
    func refusals(text: String) {
        #expect(Self.value("x" + text, at: 1) == nil)
        #expect(throws: (any Error).self) { try CanonicalJSON.decode(Array(text.utf8)) }
    }

    @Test("nesting is bounded as the caller says: three levels with three, not with two")
    func depth() {
        #expect(Self.value("[[[]]]", at: 0, maxDepth: 3)?.1 == 6)
        #expect(Self.value("[[[]]]", at: 0, maxDepth: 2) == nil)
    }
}
