/// Decodes Decodable model values from a `JSONValue`, with errors that name the coding path.
///
/// Mirrors `JSONValueEncoder`: integers are range-checked into the requested width, floating point,
/// `Date`, `Data` and `Decimal` are refused, and a mismatch reads like
/// `details.parts[2].serial: expected string, found integer`. Members the type does not ask for are
/// ignored here; `CanonicalJSON.decodeExact` refuses them.
public struct JSONValueDecoder: Sendable {
    /// Values handed to `Decodable` implementations through `Decoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable]

    public init(userInfo: [CodingUserInfoKey: any Sendable] = [:]) {
        self.userInfo = userInfo
    }

    /// A `T` read from `value`; throws `CanonicalJSONError` (`typeMismatch`, `missingKey`, `missingValue`,
    /// `integerOutOfRange`, `floatNotAllowed`, `unsupportedType`) or whatever `T.init(from:)` throws.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        var plainUserInfo: [CodingUserInfoKey: Any] = [:]
        for (key, item) in userInfo { plainUserInfo[key] = item }
        return try DecodingContext(userInfo: plainUserInfo).unbox(value, as: type, codingPath: [])
    }
}
