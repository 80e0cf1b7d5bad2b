import Foundation

/// Standard padded base64 (RFC 4648 §4), the encoding of signed notes and of signatures in JSON.
public enum Base64 {
    public static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// Strict decoding: `nil` unless `text` is the one canonical encoding of its bytes, so that a
    /// signature or hash has exactly one spelling and cannot be malleated in transit.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let string = String(text)
        guard let data = Data(base64Encoded: string) else { return nil }
        let bytes = [UInt8](data)
        return encode(bytes) == string ? bytes : nil
    }
}
