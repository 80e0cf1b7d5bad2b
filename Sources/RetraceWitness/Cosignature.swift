import RetraceCrypto

/// One C2SP tlog-cosignature/v1 signature: a witness's statement that, at `time`, the checkpoint
/// is the largest consistent tree head it has seen for the log.
///
/// On the wire it is a signed-note signature line whose value is `keyid ‖ u64 time ‖ Ed25519
/// signature`, over the message `cosignature/v1\ntime <time>\n` followed by the whole checkpoint
/// body. It rides in the checkpoint's signature block beside the log's own line, which is why a
/// reader that knows only the log key still reads a cosigned checkpoint unchanged.
public struct Cosignature: Sendable, Hashable {
    public let name: String
    public let keyID: UInt32
    /// POSIX seconds at which the witness signed.
    public let time: UInt64
    public let signature: [UInt8]

    public init(name: String, keyID: UInt32, time: UInt64, signature: [UInt8]) {
        self.name = name
        self.keyID = keyID
        self.time = time
        self.signature = signature
    }

    /// Reads the value of a signature line already attributed to a cosigner by name and key id.
    public init(_ line: SignedNote.Signature) throws(WitnessError) {
        guard line.signature.count == 8 + Ed25519.signatureByteCount else {
            throw WitnessError(
                .malformedCosignature,
                "the cosignature by \(line.name) is \(line.signature.count + 4) bytes, expected 76 "
                    + "(key id, 8-byte time, 64-byte signature)"
            )
        }
        let time = line.signature[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard time <= UInt64(Int64.max) else {
            throw WitnessError(.malformedCosignature, "the cosignature by \(line.name) has a time above 2^63−1")
        }
        self.init(name: line.name, keyID: line.keyID, time: time, signature: Array(line.signature[8...]))
    }

    /// The signed message: header line, time line, then the checkpoint body with its final newline.
    public static func message(checkpointText: String, time: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(time)\n".utf8) + Array(checkpointText.utf8)
    }

    /// The signature as a signed-note signature (name, key id, time ‖ signature).
    public var noteSignature: SignedNote.Signature {
        SignedNote.Signature(
            name: name,
            keyID: keyID,
            signature: withUnsafeBytes(of: time.bigEndian) { Array($0) } + signature
        )
    }

    /// The `— name base64` line, with its newline, as a witness returns it.
    public var line: String {
        let keyID = withUnsafeBytes(of: self.keyID.bigEndian) { Array($0) }
        return "\u{2014} \(name) \(Base64.encode(keyID + noteSignature.signature))\n"
    }

    public func isValid(for checkpointText: String, key: CosignerVerifier) -> Bool {
        key.name == name && key.keyID == keyID
            && key.publicKey.isValidSignature(signature, for: Self.message(checkpointText: checkpointText, time: time))
    }
}
