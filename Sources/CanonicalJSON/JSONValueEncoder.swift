/// Turns Encodable model values into `JSONValue`, keeping to the integer-only canonical profile.
///
/// Integers of every width become `.integer` after a ±(2^53−1) range check; floating point, `Date`,
/// `Data` and `Decimal` are refused because they have no single agreed byte form (the model carries
/// timestamps and bytes as strings). Optionals that are nil are left out (the `encodeIfPresent`
/// behaviour of synthesized conformances), so absence has one form only. Encoding is deterministic:
/// object members are sorted by key when the value is built, whatever order the type wrote them in.
public struct JSONValueEncoder: Sendable {
    /// Values handed to `Encodable` implementations through `Encoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable]

    public init(userInfo: [CodingUserInfoKey: any Sendable] = [:]) {
        self.userInfo = userInfo
    }

    /// The JSON value for `value`; throws `CanonicalJSONError` (`floatNotAllowed`, `integerOutOfRange`,
    /// `unsupportedType`, `containerMisuse`) with the coding path of the offending member.
    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        var plainUserInfo: [CodingUserInfoKey: Any] = [:]
        for (key, item) in userInfo { plainUserInfo[key] = item }
        let context = EncodingContext(userInfo: plainUserInfo)
        let pending = try context.box(value, codingPath: [])
        if let error = context.deferredError { throw error }
        return pending.resolve()
    }
}
