import CanonicalJSON
import Foundation
import Testing

struct Part: Codable, Equatable {
    var serial: String
    var quantity: Int
    var note: String?
}

struct Details: Codable, Equatable {
    var parts: [Part]
    var reason: String
    var flags: [String: Bool]
}

enum Condition: String, Codable, Equatable {
    case new, used, damaged
}

enum Disposition: Codable, Equatable {
    case restock(bin: String)
    case scrap
    case repair(ticket: UInt32, urgent: Bool)
}

struct ReturnEvent: Codable, Equatable {
    var id: String
    var sequence: UInt64
    var details: Details
    var tags: [String]
    var previous: String?
    var amount: Int64
    var condition: Condition
    var disposition: Disposition
}

let sampleEvent = ReturnEvent(
    id: "evt-1",
    sequence: 42,
    details: Details(
        parts: [
            Part(serial: "SN-1", quantity: 2, note: nil),
            Part(serial: "SN-2", quantity: 1, note: "scratched"),
        ],
        reason: "défaut",
        flags: ["z": true, "a": false]
    ),
    tags: ["b", "a"],
    previous: nil,
    amount: -1250,
    condition: .used,
    disposition: .repair(ticket: 7, urgent: true)
)

let sampleEventBytes =
    #"{"amount":-1250,"condition":"used","details":{"flags":{"a":false,"z":true},"#
    + #""parts":[{"quantity":2,"serial":"SN-1"},{"note":"scratched","quantity":1,"serial":"SN-2"}],"#
    + #""reason":"défaut"},"disposition":{"repair":{"ticket":7,"urgent":true}},"id":"evt-1","sequence":42,"#
    + #""tags":["b","a"]}"#

/// Codable model types to and from canonical JSON, with path-naming errors.
@Suite("Codable bridge")
struct CodableBridgeTests {
    @Test("A nested model encodes to known canonical bytes (sorted keys, nil optionals omitted)")
    func encodeKnownAnswer() throws {
        #expect(try CanonicalJSON.encode(sampleEvent) == bytes(sampleEventBytes))
    }

    @Test("The model round-trips through bytes, strictly and exactly")
    func roundTrip() throws {
        let encoded = try CanonicalJSON.encode(sampleEvent)
        #expect(try CanonicalJSON.decode(ReturnEvent.self, from: encoded) == sampleEvent)
        #expect(try CanonicalJSON.decodeExact(ReturnEvent.self, from: encoded) == sampleEvent)
        #expect(try CanonicalJSON.encode(CanonicalJSON.decode(ReturnEvent.self, from: encoded)) == encoded)
    }

    @Test("Encoding is deterministic across repeated runs")
    func deterministic() throws {
        let first = try CanonicalJSON.encode(sampleEvent)
        for _ in 0..<20 {
            #expect(try CanonicalJSON.encode(sampleEvent) == first)
        }
    }

    @Test("Optionals: nil is omitted, present values are written, both decode back")
    func optionals() throws {
        let withNote = Part(serial: "S", quantity: 1, note: "n")
        let without = Part(serial: "S", quantity: 1, note: nil)
        #expect(try CanonicalJSON.encode(withNote) == bytes(#"{"note":"n","quantity":1,"serial":"S"}"#))
        #expect(try CanonicalJSON.encode(without) == bytes(#"{"quantity":1,"serial":"S"}"#))
        #expect(
            try CanonicalJSON.decode(Part.self, from: bytes(#"{"note":null,"quantity":1,"serial":"S"}"#))
                == without
        )
    }

    @Test("A type mismatch names the coding path")
    func mismatchPath() throws {
        var tree = try JSONValueEncoder().encode(sampleEvent)
        var details = try #require(tree["details"]?.objectValue)
        var parts = try #require(details["parts"]?.arrayValue)
        parts.append(["serial": 99, "quantity": 1])
        details["parts"] = .array(parts)
        var root = try #require(tree.objectValue)
        root["details"] = .object(details)
        tree = .object(root)
        let error = try #require(caught { try JSONValueDecoder().decode(ReturnEvent.self, from: tree) })
        #expect(error.code == .typeMismatch)
        #expect(error.reason == "details.parts[2].serial: expected string, found integer")
        #expect(error.path == "details.parts[2].serial")
    }

    @Test("A missing required key names its path")
    func missingKey() throws {
        let input = bytes(#"{"parts":[],"flags":{}}"#)
        let error = try #require(caught { try CanonicalJSON.decode(Details.self, from: input, options: .lenient) })
        #expect(error.code == .missingKey)
        #expect(error.path == "reason")
    }

    @Test("Reading an array past its end is missingValue")
    func arrayExhausted() throws {
        struct Pair: Decodable {
            let first: Int
            let second: Int
            init(from decoder: any Decoder) throws {
                var container = try decoder.unkeyedContainer()
                first = try container.decode(Int.self)
                second = try container.decode(Int.self)
            }
        }
        #expect(try JSONValueDecoder().decode(Pair.self, from: [1, 2]).second == 2)
        let error = try #require(caught { try JSONValueDecoder().decode(Pair.self, from: [1]) })
        #expect(error.code == .missingValue)
        #expect(error.path == "[1]")
    }

    @Test("Integers are range-checked into the requested width")
    func integerWidths() throws {
        struct Small: Codable { var byte: UInt8 }
        let error = try #require(caught { try JSONValueDecoder().decode(Small.self, from: ["byte": 300]) })
        #expect(error.code == .integerOutOfRange)
        #expect(error.reason == "byte: integer 300 does not fit in UInt8")
        #expect(caught { try JSONValueDecoder().decode(Small.self, from: ["byte": -1]) }?.code == .integerOutOfRange)
        #expect(try JSONValueDecoder().decode(Small.self, from: ["byte": 255]).byte == 255)
    }

    @Test("Unsigned and wide integers beyond ±(2^53−1) are refused on encode")
    func encodeIntegerRange() throws {
        struct Counter: Codable { var value: UInt64 }
        #expect(
            try CanonicalJSON.encode(Counter(value: 9_007_199_254_740_991))
                == bytes(#"{"value":9007199254740991}"#)
        )
        let error = try #require(caught { try CanonicalJSON.encode(Counter(value: .max)) })
        #expect(error.code == .integerOutOfRange)
        #expect(error.path == "value")
        #expect(caught { try CanonicalJSON.encode([Int.min]) }?.path == "[0]")
    }

    @Test("Floating point is refused on encode", arguments: [0, 1, 2])
    func floatRefused(variant: Int) throws {
        struct Priced: Encodable { var price: Double }
        struct Weighed: Encodable { var weights: [Float] }
        struct Wrapped: Encodable {
            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                try container.encode(1.5)
            }
        }
        let error: CanonicalJSONError?
        switch variant {
        case 0: error = caught { try CanonicalJSON.encode(Priced(price: 1)) }
        case 1: error = caught { try CanonicalJSON.encode(Weighed(weights: [1, 2])) }
        default: error = caught { try CanonicalJSON.encode(["x": Wrapped()]) }
        }
        #expect(error?.code == .floatNotAllowed)
        #expect(error?.reason.contains("floating point not allowed") == true)
        #expect(error?.path == ["price", "weights[0]", "x"][variant])
    }

    @Test("Floating point is refused on decode too")
    func floatRefusedOnDecode() throws {
        struct Priced: Decodable { var price: Double }
        #expect(caught { try JSONValueDecoder().decode(Priced.self, from: ["price": 1]) }?.code == .floatNotAllowed)
    }

    @Test("Date, Data and Decimal are refused as unsupported types")
    func unsupportedTypes() throws {
        struct Stamped: Codable { var at: Date }
        struct Blob: Codable { var bytes: Data }
        struct Money: Codable { var amount: Decimal }
        let date = caught { try CanonicalJSON.encode(Stamped(at: Date(timeIntervalSince1970: 0))) }
        #expect(date?.code == .unsupportedType)
        #expect(date?.path == "at")
        #expect(caught { try CanonicalJSON.encode(Blob(bytes: Data([1]))) }?.code == .unsupportedType)
        #expect(caught { try CanonicalJSON.encode(Money(amount: 1)) }?.code == .unsupportedType)
        #expect(
            caught { try JSONValueDecoder().decode(Stamped.self, from: ["at": "2024-01-01"]) }?.code
                == .unsupportedType
        )
    }

    @Test("decodeExact refuses an unknown member and names its path")
    func unknownField() throws {
        let input = sampleEventBytes.replacingOccurrences(
            of: #"{"note":"scratched","#,
            with: #"{"colour":"red","note":"scratched","#
        )
        #expect(try CanonicalJSON.decode(ReturnEvent.self, from: bytes(input)) == sampleEvent)
        let error = try #require(caught { try CanonicalJSON.decodeExact(ReturnEvent.self, from: bytes(input)) })
        #expect(error.code == .unknownField)
        #expect(error.path == "details.parts[1].colour")
    }

    @Test("decodeExact refuses an unknown top-level member")
    func unknownTopLevelField() throws {
        let input = bytes(#"{"extra":1,"quantity":1,"serial":"S"}"#)
        let error = try #require(caught { try CanonicalJSON.decodeExact(Part.self, from: input) })
        #expect(error.code == .unknownField)
        #expect(error.path == "extra")
    }

    @Test("decodeExact refuses an explicit null where the model omits nil")
    func explicitNull() throws {
        let input = bytes(#"{"note":null,"quantity":1,"serial":"S"}"#)
        let error = try #require(caught { try CanonicalJSON.decodeExact(Part.self, from: input) })
        #expect(error.code == .unknownField)
        #expect(error.path == "note")
    }

    @Test("decodeExact reports a value the type changes as roundTripMismatch")
    func roundTripMismatch() throws {
        struct Defaulted: Codable {
            var name: String
            var level: Int
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                name = try container.decode(String.self, forKey: .name)
                level = try container.decodeIfPresent(Int.self, forKey: .level) ?? 1
            }
        }
        let missing = try #require(
            caught {
                try CanonicalJSON.decodeExact(Defaulted.self, from: bytes(#"{"name":"a"}"#))
            }
        )
        #expect(missing.code == .roundTripMismatch)
        #expect(missing.path == "level")
        #expect(try CanonicalJSON.decodeExact(Defaulted.self, from: bytes(#"{"level":3,"name":"a"}"#)).level == 3)
    }

    @Test("decodeExact still enforces canonical bytes")
    func exactNeedsCanonical() throws {
        let input = bytes(#"{"quantity":1, "serial":"S"}"#)
        #expect(caught { try CanonicalJSON.decodeExact(Part.self, from: input) }?.code == .notCanonical)
    }

    @Test("JSONValue and JSONObject members pass through untouched")
    func freeFormMembers() throws {
        struct Envelope: Codable, Equatable {
            var kind: String
            var body: JSONValue
            var meta: JSONObject
        }
        let envelope = Envelope(kind: "k", body: ["z": [1, "two", .null], "a": true], meta: ["e\u{301}": 1, "é": 2])
        let encoded = try CanonicalJSON.encode(envelope)
        #expect(
            encoded
                == bytes(
                    "{\"body\":{\"a\":true,\"z\":[1,\"two\",null]},\"kind\":\"k\","
                        + "\"meta\":{\"e\u{301}\":1,\"é\":2}}"
                )
        )
        #expect(try CanonicalJSON.decodeExact(Envelope.self, from: encoded) == envelope)
    }

    @Test("Dictionaries encode as objects with sorted keys")
    func dictionaries() throws {
        let counts: [String: Int] = ["b": 2, "a": 1, "10": 10, "1": 1]
        let encoded = try CanonicalJSON.encode(counts)
        #expect(encoded == bytes(#"{"1":1,"10":10,"a":1,"b":2}"#))
        #expect(try CanonicalJSON.decode([String: Int].self, from: encoded) == counts)
    }

    @Test("Nested arrays, enums and top-level scalars round-trip")
    func miscellaneous() throws {
        let grid: [[Int8]] = [[1, -2], [], [3]]
        #expect(try CanonicalJSON.encode(grid) == bytes("[[1,-2],[],[3]]"))
        #expect(try CanonicalJSON.decode([[Int8]].self, from: bytes("[[1,-2],[],[3]]")) == grid)
        #expect(try CanonicalJSON.encode(Condition.damaged) == bytes(#""damaged""#))
        #expect(try CanonicalJSON.encode(Disposition.scrap) == bytes(#"{"scrap":{}}"#))
        #expect(
            try CanonicalJSON.decode(Disposition.self, from: bytes(#"{"restock":{"bin":"B7"}}"#))
                == .restock(bin: "B7")
        )
        #expect(try CanonicalJSON.encode("plain") == bytes(#""plain""#))
        #expect(try CanonicalJSON.decode(Bool.self, from: bytes("true")))
        #expect(try CanonicalJSON.decode([Int?].self, from: bytes("[1,null,3]")) == [1, nil, 3])
        #expect(try CanonicalJSON.encode([1, nil, 3] as [Int?]) == bytes("[1,null,3]"))
    }

    @Test("Class hierarchies using superEncoder/superDecoder round-trip")
    func superCoders() throws {
        let value = Derived(base: 1, extra: "x")
        let encoded = try CanonicalJSON.encode(value)
        #expect(encoded == bytes(#"{"extra":"x","super":{"base":1}}"#))
        let decoded = try CanonicalJSON.decodeExact(Derived.self, from: encoded)
        #expect(decoded.base == 1 && decoded.extra == "x")
    }

    @Test("Writing two values into one single-value container is reported as containerMisuse")
    func misuse() throws {
        struct Twice: Encodable {
            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                try container.encode(1)
                try container.encode(2)
            }
        }
        #expect(caught { try JSONValueEncoder().encode(Twice()) }?.code == .containerMisuse)
    }

    @Test("userInfo reaches encode(to:) and init(from:)")
    func userInfo() throws {
        let key = try #require(CodingUserInfoKey(rawValue: "prefix"))
        struct Prefixed: Codable {
            static let key = CodingUserInfoKey(rawValue: "prefix")
            var name: String
            init(name: String) { self.name = name }
            init(from decoder: any Decoder) throws {
                let prefix = Self.key.flatMap { decoder.userInfo[$0] } as? String ?? ""
                name = prefix + (try decoder.singleValueContainer().decode(String.self))
            }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                let prefix = Self.key.flatMap { encoder.userInfo[$0] } as? String ?? ""
                try container.encode(prefix + name)
            }
        }
        #expect(try JSONValueEncoder(userInfo: [key: "p-"]).encode(Prefixed(name: "n")) == "p-n")
        #expect(try JSONValueDecoder(userInfo: [key: "q-"]).decode(Prefixed.self, from: "n").name == "q-n")
    }

    @Test("JSONValue is Codable through Foundation's coders too")
    func foundationInterop() throws {
        let value: JSONValue = ["list": [1, "two", true, .null], "nested": ["k": -3]]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        #expect(Array(data) == (try CanonicalJSON.encode(value)))
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
    }

    @Test("A wrong container kind names what was expected")
    func wrongContainer() throws {
        let error = try #require(caught { try JSONValueDecoder().decode(Details.self, from: ["parts": ["a": 1]]) })
        #expect(error.code == .typeMismatch)
        #expect(error.reason == "parts: expected array, found object")
    }
}

class Base: Codable {
    var base: Int
    init(base: Int) { self.base = base }
}

final class Derived: Base {
    var extra: String
    private enum CodingKeys: String, CodingKey { case extra }

    init(base: Int, extra: String) {
        self.extra = extra
        super.init(base: base)
    }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        extra = try container.decode(String.self, forKey: .extra)
        try super.init(from: container.superDecoder())
    }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(extra, forKey: .extra)
        try super.encode(to: container.superEncoder())
    }
}
