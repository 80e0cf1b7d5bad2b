/// A coding key for object members whose names are only known at run time.
struct DynamicKey: CodingKey {
    let stringValue: String
    let intValue: Int? = nil

    init(_ string: String) { stringValue = string }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }

    /// The key Foundation coders use for `superEncoder()` / `superDecoder()`.
    static let superKey = DynamicKey("super")
}
