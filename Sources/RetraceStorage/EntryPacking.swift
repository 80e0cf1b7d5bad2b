import RetraceCrypto

/// How a log entry's bytes are kept on disk (ledger schema 3): packed, not compressed.
///
/// An entry is canonical JSON whose bulk is hex digests, one base64 signature, times and the
/// same few dozen keys and words; stored verbatim it was 516 of the 1,054 bytes each entry cost
/// (issue 15). General compressors were measured on these entries and rejected: zstd with a raw
/// dictionary took 59 K instructions to compress one (292 B from 547), deflate with a preset
/// dictionary 198 K to compress and decompress it (270 B); the compressing would run on the commit
/// thread, which already bounds appends. Packing replaces exactly those shapes by their binary
/// form and the common strings by one byte each, in a single pass: the same entry packs to 218 B,
/// and unpacking is a table walk.
///
/// Packing never has to be right for the ledger to stay honest: the Merkle leaf is the hash of
/// the unpacked bytes, so a wrong unpacking is a failed audit, not a silent change. It is still
/// checked before it is used: ``pack(_:)`` unpacks its own output and keeps the entry verbatim if
/// the two differ, so nothing acknowledged can depend on this code being free of bugs.
///
/// Format version 1. A stored value that starts with `0x01` is packed; anything else is the
/// entry verbatim (every entry of a schema 1 or 2 ledger starts with `{`). After the `0x01`, a
/// stream of tokens:
///
/// | token | stands for |
/// | --- | --- |
/// | `0x00`–`0x7F` | that ASCII byte |
/// | `0x80 + i` | ``dictionary`` string `i` |
/// | `0xF0 n b₁…bₙ` | `2n` lowercase hex digits: the bytes `b₁…bₙ` (1 ≤ n ≤ 255) |
/// | `0xF1 b₁…b₆₄` | 88 characters of padded standard base64: the bytes `b₁…b₆₄` |
/// | `0xF2 t₁…t₅` | a time `YYYY-MM-DDThh:mm:ssZ`: 40 bits, big-endian, of year (14), month (4), day (5), hour (5), minute (6), second (6) |
/// | `0xFF b` | the byte `b` (bytes ≥ 0x80 of UTF-8 text) |
///
/// Every other token byte is invalid. The dictionary is part of the format and never changes;
/// a different one would be another version.
public enum EntryPacking {
    static let packedMarker: UInt8 = 0x01
    private static let hexToken: UInt8 = 0xF0
    private static let base64Token: UInt8 = 0xF1
    private static let timeToken: UInt8 = 0xF2
    private static let escapeToken: UInt8 = 0xFF
    private static let dictionaryBase: UInt8 = 0x80

    /// The strings a token `0x80 + i` stands for: canonical JSON's fixed members in their sorted
    /// order, the event types, and the catalogue's detail keys (spec/lifecycle.md).
    public static let dictionary: [String] = [
        // 0–19: statement and entry structure (keys sorted as RFC 8785 sorts them).
        #"{"received":""#, #"","signature":""#, #"","statement":{"batch":{"count":"#,
        #"","statement":{"details":{"#, #"},"location":""#, #"},"previous":""#,
        #"},"product":"https://id.gs1.org/01/"#, #"},"signer":""#, #"","previous":""#,
        #"","product":"https://id.gs1.org/01/"#, #"","signer":""#, #"","time":""#, #"","type":""#,
        #"","version":1}}"#, #","root":""#, #""},"details":{"#, #"{"members":[{"previous":""#,
        #""},{"previous":""#, #""}],"received":""#, "/21/",
        // 20–46: event types.
        "commission", "ship", "receive", "sell", "deliver", "delivery-failed", "return-authorize",
        "return-receive", "inspect", "restock", "repair", "refurbish", "resell", "warranty-claim",
        "warranty-resolve", "trade-in", "lease-out", "lease-return", "excess-disposition", "recall",
        "recall-remedy", "report-stolen", "report-lost", "recycle", "dispose", "product-class", "roster",
        // 47–91: detail keys.
        #""customerDigest":"#, #""reference":"#, #""reason":"#, #""method":"#, #""materials":"#,
        #""currency":"#, #""condition":"#, #""work":"#, #""shipment":"#, #""rma":"#, #""returnBy":"#,
        #""price":"#, #""parts":"#, #""orderDigest":"#, #""notice":"#, #""massGrams":"#,
        #""leaseDigest":"#, #""grade":"#, #""consignee":"#, #""claim":"#, #""channel":"#,
        #""certificate":"#, #""action":"#, #""warrantyMonths":"#, #""until":"#, #""tests":"#,
        #""softwareVersion":"#, #""scanned":"#, #""resolution":"#, #""replacement":"#, #""remedy":"#,
        #""proofDigest":"#, #""name":"#, #""model":"#, #""lot":"#, #""image":"#, #""gtin":"#,
        #""findings":"#, #""fault":"#, #""evidence":"#, #""credit":"#, #""certifiedPreOwned":"#,
        #""certified":"#, #""carrier":"#, #""attempts":"#,
        // 92–111: frequent values.
        "true", "false", "online", "store", "intact", "damaged", "sealed", "opened", "as-new", "good",
        "defective", "wrong-size", "no-longer-needed", "not-as-described", "software-update",
        "mechanical-shredding", "manual-disassembly", "signature", "safe-place", "plastic",
    ]

    private static let words: [[UInt8]] = dictionary.map { Array($0.utf8) }

    /// Dictionary indices grouped by their first two bytes, longest first within a group, and
    /// where each group starts and how long it is, by those two bytes: a position is tried only
    /// against the few strings that can match it, with no hashing per byte.
    private static let ordered: [Int] = words.indices.sorted {
        (pairKey(words[$0]), -words[$0].count) < (pairKey(words[$1]), -words[$1].count)
    }
    private static let groups: [(start: UInt16, count: UInt8)] = {
        var table = [(start: UInt16, count: UInt8)](repeating: (0, 0), count: 1 << 16)
        for (offset, index) in ordered.enumerated() {
            let key = pairKey(words[index])
            if table[key].count == 0 { table[key].start = UInt16(offset) }
            table[key].count += 1
        }
        return table
    }()

    private static func pairKey(_ word: [UInt8]) -> Int { Int(word[0]) << 8 | Int(word[1]) }

    /// The stored form of `bytes`: packed when that is smaller and unpacks to exactly `bytes`,
    /// otherwise `bytes` itself (which never starts with the packed marker: entries are JSON).
    public static func pack(_ bytes: [UInt8]) -> [UInt8] {
        let packed = bytes.withUnsafeBufferPointer { packTokens($0) }
        if packed.count < bytes.count || bytes.first == packedMarker,
            let back = try? unpack(packed), back == bytes
        {
            return packed
        }
        return bytes
    }

    /// The entry bytes a stored value stands for. Throws on a packed value that is cut short or
    /// holds an invalid token, naming the offset; a verbatim value is returned as it is.
    public static func unpack(_ stored: [UInt8]) throws -> [UInt8] {
        guard stored.first == packedMarker else { return stored }
        return try stored.withUnsafeBufferPointer { try unpackTokens($0) }
    }

    /// ``unpack(_:)`` of a value read in place (a store's own buffer).
    public static func unpack(_ stored: UnsafeBufferPointer<UInt8>) throws -> [UInt8] {
        guard stored.first == packedMarker else { return Array(stored) }
        return try unpackTokens(stored)
    }

    /// ``unpack(_:)`` for the entry at `index`, which a damaged value's error names (with the leaf
    /// hash stored beside it: ``StorageError/unreadableEntry``).
    public static func unpack(_ stored: [UInt8], entry index: UInt64, leafHash: [UInt8] = []) throws -> [UInt8] {
        try naming(entry: index, leafHash: leafHash) { try unpack(stored) }
    }

    /// ``unpack(_:entry:leafHash:)`` of a value read in place.
    public static func unpack(
        _ stored: UnsafeBufferPointer<UInt8>,
        entry index: UInt64,
        leafHash: [UInt8] = []
    ) throws -> [UInt8] {
        try naming(entry: index, leafHash: leafHash) { try unpack(stored) }
    }

    private static func naming(
        entry index: UInt64,
        leafHash: [UInt8],
        _ unpack: () throws -> [UInt8]
    ) throws -> [UInt8] {
        do {
            return try unpack()
        } catch let error as StorageError {
            throw StorageError(
                error.code,
                "entry \(index): \(error.reason)",
                unreadableEntry: .init(index: index, storedLeafHash: leafHash)
            )
        }
    }

    // MARK: Packing

    /// One pass into an array of the most a value can take (an escaped byte is two; every other
    /// token is shorter than what it stands for): appending token by token (a capacity and
    /// uniqueness check per byte, an array per time) cost 21.3 K instructions per appended entry
    /// against 18.8 K, on the commit thread (issue 15).
    private static func packTokens(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let count = input.count
        return [UInt8](unsafeUninitializedCapacity: 2 * count + 1) { out, written in
            out[0] = packedMarker
            var at = 1
            var position = 0
            while position < count {
                let byte = input[position]
                // A time or a signature is a whole string value: it follows an opening quote, which
                // may have gone out as the end of a dictionary string.
                if position > 0, input[position - 1] == UInt8(ascii: "\"") {
                    if let time = packTime(input, at: position) {
                        out[at] = timeToken
                        for shift in 0..<5 {
                            out[at + 1 + shift] = UInt8(truncatingIfNeeded: time >> (8 * (4 - shift)))
                        }
                        at += 6
                        position += 20
                        continue
                    }
                    if let signature = packBase64(input, at: position) {
                        out[at] = base64Token
                        for (offset, value) in signature.enumerated() { out[at + 1 + offset] = value }
                        at += 65
                        position += 88
                        continue
                    }
                }
                if position + 1 < count {
                    let group = groups[Int(byte) << 8 | Int(input[position + 1])]
                    if group.count > 0,
                        let match = ordered[Int(group.start)..<Int(group.start) + Int(group.count)].first(where: {
                            matches(words[$0], input, at: position)
                        })
                    {
                        out[at] = dictionaryBase + UInt8(match)
                        at += 1
                        position += words[match].count
                        continue
                    }
                }
                if hexValue(byte) != nil {
                    var end = position
                    while end < count, end - position < 510, hexValue(input[end]) != nil { end += 1 }
                    let pairs = (end - position) / 2
                    // Three or more pairs save a byte; a shorter run stays literal.
                    if pairs >= 3 {
                        out[at] = hexToken
                        out[at + 1] = UInt8(pairs)
                        at += 2
                        for pair in 0..<pairs {
                            let high = hexValue(input[position + 2 * pair])!
                            let low = hexValue(input[position + 2 * pair + 1])!
                            out[at] = high << 4 | low
                            at += 1
                        }
                        position += 2 * pairs
                        continue
                    }
                    // Literal up to the end of the run, so its tail is not taken for a new run.
                    while position < end {
                        out[at] = input[position]
                        at += 1
                        position += 1
                    }
                    continue
                }
                if byte >= 0x80 {
                    out[at] = escapeToken
                    at += 1
                }
                out[at] = byte
                at += 1
                position += 1
            }
            written = at
        }
    }

    private static func matches(_ word: [UInt8], _ input: UnsafeBufferPointer<UInt8>, at position: Int) -> Bool {
        guard input.count - position >= word.count else { return false }
        for offset in 2..<word.count where input[position + offset] != word[offset] { return false }
        return true
    }

    /// Lowercase hex only: uppercase would not come back as it was.
    @inline(__always)
    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// Field widths of a packed time, in the order written.
    private static let timeFields: [(offset: Int, digits: Int, bits: Int)] = [
        (0, 4, 14), (5, 2, 4), (8, 2, 5), (11, 2, 5), (14, 2, 6), (17, 2, 6),
    ]
    private static let timeSeparators: [(offset: Int, byte: UInt8)] = [
        (4, UInt8(ascii: "-")), (7, UInt8(ascii: "-")), (10, UInt8(ascii: "T")), (13, UInt8(ascii: ":")),
        (16, UInt8(ascii: ":")), (19, UInt8(ascii: "Z")), (20, UInt8(ascii: "\"")),
    ]

    /// `YYYY-MM-DDThh:mm:ssZ"` at `position` as the 40 bits of 5 bytes (the low 40 of the value),
    /// when every field fits its bits. Any digits that fit come back the same, so no calendar check
    /// is needed.
    private static func packTime(_ input: UnsafeBufferPointer<UInt8>, at position: Int) -> UInt64? {
        guard input.count - position >= 21 else { return nil }
        for separator in timeSeparators where input[position + separator.offset] != separator.byte { return nil }
        var packed: UInt64 = 0
        for field in timeFields {
            var value: UInt64 = 0
            for digit in 0..<field.digits {
                let byte = input[position + field.offset + digit]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
            }
            guard value < 1 << field.bits else { return nil }
            packed = packed << field.bits | value
        }
        return packed
    }

    /// 88 characters of padded base64 followed by `"` (an Ed25519 signature) as its 64 bytes,
    /// when they are its canonical spelling (``Base64/decode(utf8:)`` refuses any other: the two
    /// bits the padding leaves unused must be zero).
    private static func packBase64(_ input: UnsafeBufferPointer<UInt8>, at position: Int) -> [UInt8]? {
        guard input.count - position >= 89, input[position + 86] == UInt8(ascii: "="),
            input[position + 87] == UInt8(ascii: "="), input[position + 88] == UInt8(ascii: "\"")
        else { return nil }
        return Base64.decode(utf8: UnsafeBufferPointer(rebasing: input[position..<position + 88]))
    }

    // MARK: Unpacking

    /// Two passes: the first checks every token and its payload and sums the unpacked length, the
    /// second writes into an array of exactly that length. Appending byte by byte (a capacity and
    /// uniqueness check per byte, and a temporary array per time) cost about 38 K instructions per
    /// entry: a sixth of a warm dock verdict, which unpacks each event of the product's chain.
    private static func unpackTokens(_ stored: UnsafeBufferPointer<UInt8>) throws -> [UInt8] {
        let length = try unpackedLength(stored)
        return [UInt8](unsafeUninitializedCapacity: length) { out, count in
            var position = 1
            var at = 0
            while position < stored.count {
                let token = stored[position]
                position += 1
                switch token {
                case 0x00..<0x80:
                    out[at] = token
                    at += 1
                case hexToken:
                    let pairs = Int(stored[position])
                    position += 1
                    Hex.write(UnsafeBufferPointer(rebasing: stored[position..<position + pairs]), into: out, at: &at)
                    position += pairs
                case base64Token:
                    Base64.write(UnsafeBufferPointer(rebasing: stored[position..<position + 64]), into: out, at: &at)
                    position += 64
                case timeToken:
                    writeTime(UnsafeBufferPointer(rebasing: stored[position..<position + 5]), to: out, at: &at)
                    position += 5
                case escapeToken:
                    out[at] = stored[position]
                    at += 1
                    position += 1
                default:
                    // A dictionary word: the first pass refused every other token.
                    for byte in words[Int(token - dictionaryBase)] {
                        out[at] = byte
                        at += 1
                    }
                }
            }
            count = at
        }
    }

    /// The length `unpackTokens` writes, after checking that every token is known and every payload
    /// is whole.
    private static func unpackedLength(_ stored: UnsafeBufferPointer<UInt8>) throws -> Int {
        var position = 1
        var length = 0
        func need(_ count: Int, for what: String) throws {
            guard stored.count - position >= count else {
                throw StorageError(
                    .corrupt,
                    "a packed entry ends at byte \(stored.count) inside \(what) that needs \(count) more bytes "
                        + "from byte \(position)"
                )
            }
        }
        while position < stored.count {
            let token = stored[position]
            position += 1
            switch token {
            case 0x00..<0x80:
                length += 1
            case dictionaryBase..<dictionaryBase + UInt8(words.count):
                length += words[Int(token - dictionaryBase)].count
            case hexToken:
                try need(1, for: "a hex run's length")
                let pairs = Int(stored[position])
                position += 1
                guard pairs > 0 else {
                    throw StorageError(.corrupt, "a packed entry has an empty hex run at byte \(position - 2)")
                }
                try need(pairs, for: "a hex run")
                position += pairs
                length += 2 * pairs
            case base64Token:
                try need(64, for: "a signature")
                position += 64
                length += 88
            case timeToken:
                try need(5, for: "a time")
                position += 5
                length += 20
            case escapeToken:
                try need(1, for: "an escaped byte")
                position += 1
                length += 1
            default:
                throw StorageError(
                    .corrupt,
                    "a packed entry has the invalid token 0x\(String(token, radix: 16)) at byte \(position - 1)"
                )
            }
        }
        return length
    }

    /// A packed time as its 20 characters, `YYYY-MM-DDThh:mm:ssZ`, at `at`.
    private static func writeTime(
        _ bytes: UnsafeBufferPointer<UInt8>,
        to out: UnsafeMutableBufferPointer<UInt8>,
        at: inout Int
    ) {
        var packed: UInt64 = 0
        for byte in bytes { packed = packed << 8 | UInt64(byte) }
        var shift = 40
        for field in timeFields {
            shift -= field.bits
            var value = packed >> UInt64(shift) & ((1 << UInt64(field.bits)) - 1)
            for digit in (0..<field.digits).reversed() {
                out[at + field.offset + digit] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        for separator in timeSeparators where separator.offset < 20 { out[at + separator.offset] = separator.byte }
        at += 20
    }
}
