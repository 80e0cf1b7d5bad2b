import CanonicalJSON
import Foundation

/// Any JSON, as another system writes it: decimals allowed (an EPCIS `quantity`), where Retrace's
/// own reader takes integers only. Read with `JSONDecoder`, which tells booleans from numbers on
/// every platform.
enum LooseJSON: Decodable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([LooseJSON])
    case object([String: LooseJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([LooseJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: LooseJSON].self))
        }
    }

    var string: String? { if case .string(let value) = self { value } else { nil } }
    var array: [LooseJSON]? { if case .array(let value) = self { value } else { nil } }
    var object: [String: LooseJSON]? { if case .object(let value) = self { value } else { nil } }
    subscript(key: String) -> LooseJSON? { object?[key] }

    var text: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .integer(let value): "\(value)"
        case .number(let value): "\(value)"
        case .string(let value): "\"\(value)\""
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// As a Retrace JSON value: integers only, as in every statement.
    func retrace(path: String) throws(EPCISError) -> JSONValue {
        switch self {
        case .null: return .null
        case .bool(let value): return .bool(value)
        case .integer(let value):
            guard abs(value) <= JSONValue.maxSafeInteger else {
                throw EPCISError("\(path) is \(value), beyond ±(2^53−1)")
            }
            return .integer(value)
        case .number(let value): throw EPCISError("\(path) is \(value): Retrace details hold integers only")
        case .string(let value): return .string(value)
        case .array(let items):
            var result: [JSONValue] = []
            for (offset, item) in items.enumerated() { result.append(try item.retrace(path: "\(path)[\(offset)]")) }
            return .array(result)
        case .object(let members):
            var result = JSONObject()
            for key in members.keys.sorted() { result[key] = try members[key]!.retrace(path: "\(path).\(key)") }
            return .object(result)
        }
    }
}
