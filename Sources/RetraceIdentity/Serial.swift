/// A GS1 serial number (AI 21): 1 to 20 characters of GS1 AI encodable character set 82.
///
/// The value is kept exactly as scanned (decoded from any percent-encoding): serials are case-sensitive and
/// leading zeros matter, so no normalisation is applied.
public struct Serial: Hashable, Sendable, CustomStringConvertible {
    /// AI 21 is "X..20" in the GS1 General Specifications.
    public static let maximumLength = 20

    public let value: String

    public init(_ text: String) throws(IdentityError) {
        try self.init(source: SourceText(text))
    }

    init(source: SourceText) throws(IdentityError) {
        try CharacterSet82.validate(
            source,
            field: "serial",
            maximumLength: Self.maximumLength,
            emptyCode: .emptySerial,
            tooLongCode: .serialTooLong
        )
        self.value = source.string
    }

    /// For text this module has checked against a subset of character set 82, within the length.
    init(validated text: String) {
        self.value = text
    }

    public var description: String { value }
}
