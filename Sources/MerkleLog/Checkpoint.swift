import RetraceCrypto

/// A C2SP tlog-checkpoint: the signed-note body naming a log, its size and its root hash.
///
/// ```
/// <origin>\n
/// <tree size, ASCII decimal, no leading zeros>\n
/// <base64 of the 32-byte root>\n
/// [<extension line>\n]...
/// ```
/// Parsing is strict and every value has exactly one spelling, so a checkpoint's text — what is
/// signed — is a function of its fields and two different texts never mean the same tree head.
public struct Checkpoint: Hashable, Sendable {
    /// The log's identity, e.g. `example.com/retrace`. Non-empty, one line.
    public let origin: String
    /// The number of leaves in the tree.
    public let size: UInt64
    /// `MTH(D[0:size])`, 32 bytes.
    public let rootHash: [UInt8]
    /// Non-empty extension lines, all covered by the signature. Retrace writes one, the heads
    /// root; any other is kept and ignored (spec/format.md §5).
    public let extensions: [String]
    /// The root of the heads map over the entries this checkpoint covers, from the extension line
    /// `retrace-heads/v1 <base64>`; `nil` for a checkpoint made before the map existed, for which
    /// no verifier can prove a history complete.
    public let headsRoot: [UInt8]?

    /// The extension line's prefix, with its one separating space.
    public static let headsPrefix = "retrace-heads/v1 "

    /// A Retrace checkpoint committing to the heads map's root.
    public init(origin: String, size: UInt64, rootHash: [UInt8], headsRoot: [UInt8]) throws(MerkleError) {
        try MerkleHash.requireHash(headsRoot, "the heads root")
        try self.init(
            origin: origin,
            size: size,
            rootHash: rootHash,
            extensions: [Self.headsPrefix + Base64.encode(headsRoot)]
        )
    }

    /// - Throws: ``MerkleError/Code/malformedCheckpoint`` for an empty origin or extension, or one
    ///   holding a newline or control character; ``MerkleError/Code/invalidHashLength`` for a root
    ///   that is not 32 bytes.
    public init(origin: String, size: UInt64, rootHash: [UInt8], extensions: [String] = []) throws(MerkleError) {
        try Self.validateLine(origin, "the origin line")
        try MerkleHash.requireHash(rootHash, "the checkpoint root hash")
        var heads: [UInt8]?
        for (position, line) in extensions.enumerated() {
            try Self.validateLine(line, "extension line \(position + 1)")
            if line.hasPrefix(Self.headsPrefix) {
                guard heads == nil else {
                    throw MerkleError(.malformedCheckpoint, "extension line \(position + 1) is a second heads root")
                }
                guard let root = Base64.decode(line.dropFirst(Self.headsPrefix.count)), root.count == 32 else {
                    throw MerkleError(
                        .malformedCheckpoint,
                        "extension line \(position + 1) \"\(line)\" is not \(Self.headsPrefix)<canonical base64 of 32 bytes>"
                    )
                }
                heads = root
            }
        }
        self.headsRoot = heads
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
        self.extensions = extensions
    }

    /// Parses a checkpoint body (the note text, ending in a newline).
    public init(parsing text: String) throws(MerkleError) {
        guard text.hasSuffix("\n") else {
            throw MerkleError(.malformedCheckpoint, "checkpoint text must end with a newline")
        }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3 else {
            throw MerkleError(
                .malformedCheckpoint,
                "checkpoint has \(lines.count) line(s), expected origin, size and root hash"
            )
        }
        let size = try Self.parseSize(lines[1])
        guard let root = Base64.decode(lines[2]) else {
            throw MerkleError(.malformedCheckpoint, "root hash line \"\(lines[2])\" is not canonical padded base64")
        }
        guard root.count == MerkleHash.byteCount else {
            throw MerkleError(
                .malformedCheckpoint,
                "root hash is \(root.count) bytes, expected \(MerkleHash.byteCount)"
            )
        }
        do {
            try self.init(origin: lines[0], size: size, rootHash: root, extensions: Array(lines.dropFirst(3)))
        } catch {
            throw MerkleError(.malformedCheckpoint, error.reason)
        }
    }

    /// The note text: the exact bytes that are signed.
    public var text: String {
        var out = "\(origin)\n\(size)\n\(Base64.encode(rootHash))\n"
        for line in extensions { out += line + "\n" }
        return out
    }

    /// Signs ``text`` as a C2SP signed note.
    public func sign(with signer: NoteSigner) throws(CryptoError) -> SignedNote {
        try SignedNote.sign(text: text, with: [signer])
    }

    /// Verifies a transmitted signed note with trusted keys and parses its text as a checkpoint.
    ///
    /// - Parameter expected: the origin the caller trusts the keys for; `nil` accepts any origin.
    /// - Throws: ``MerkleError/Code/malformedNote``, ``MerkleError/Code/noteUntrusted`` (no trusted
    ///   signature), ``MerkleError/Code/noteSignatureInvalid`` (a trusted key's signature fails),
    ///   ``MerkleError/Code/malformedCheckpoint`` or ``MerkleError/Code/originMismatch``.
    public static func open(
        _ noteText: String,
        verifiers: [NoteVerifier],
        origin expected: String?
    ) throws(MerkleError) -> Checkpoint {
        let note: SignedNote
        do {
            note = try SignedNote(parsing: noteText)
            try note.verify(with: verifiers)
        } catch {
            switch error.code {
            case .noteNotSigned: throw MerkleError(.noteUntrusted, error.reason)
            case .noteSignatureInvalid: throw MerkleError(.noteSignatureInvalid, error.reason)
            default: throw MerkleError(.malformedNote, error.reason)
            }
        }
        let checkpoint = try Checkpoint(parsing: note.text)
        if let expected, checkpoint.origin != expected {
            throw MerkleError(
                .originMismatch,
                "checkpoint origin is \"\(checkpoint.origin)\", expected \"\(expected)\""
            )
        }
        return checkpoint
    }

    /// ASCII digits only, no sign, no leading zero (except "0" itself), at most 2^64 − 1.
    private static func parseSize(_ line: String) throws(MerkleError) -> UInt64 {
        let digits = Array(line.utf8)
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw MerkleError(.malformedCheckpoint, "tree size \"\(line)\" is not an unsigned decimal number")
        }
        guard digits.count == 1 || digits[0] != UInt8(ascii: "0") else {
            throw MerkleError(.malformedCheckpoint, "tree size \"\(line)\" has a leading zero")
        }
        var value: UInt64 = 0
        for digit in digits {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else {
                throw MerkleError(.malformedCheckpoint, "tree size \"\(line)\" exceeds 2^64 − 1")
            }
            value = sum
        }
        return value
    }

    /// A line is non-empty and free of newlines and other control characters (which signed notes
    /// forbid), so the text splits back into the same lines.
    private static func validateLine(_ line: String, _ what: String) throws(MerkleError) {
        guard !line.isEmpty else { throw MerkleError(.malformedCheckpoint, "\(what) is empty") }
        for byte in line.utf8 where byte < 0x20 {
            throw MerkleError(
                .malformedCheckpoint,
                "\(what) contains control character 0x\(String(byte, radix: 16))"
            )
        }
    }
}
