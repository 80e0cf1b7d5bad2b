/// What the map commits to for one chain: its head, so a verifier can tell a complete chain from
/// a shortened, lengthened or altered one without trusting whoever handed it over.
///
/// Encoded as 48 bytes, `eventID (32) ‖ count (uint64 BE) ‖ index (uint64 BE)`: fixed width, so
/// the encoding has exactly one spelling and needs no parser beyond slicing.
public struct HeadValue: Hashable, Sendable {
    public static let byteCount = 48

    /// The id (SHA-256 of the signed statement) of the chain's newest event.
    public let eventID: [UInt8]
    /// How many events the chain holds, commission first.
    public let count: UInt64
    /// The log index of the newest event.
    public let index: UInt64

    public init(eventID: [UInt8], count: UInt64, index: UInt64) throws(MapError) {
        guard eventID.count == 32 else {
            throw MapError(.malformedValue, "a head's event id is \(eventID.count) bytes, expected 32")
        }
        guard count >= 1 else { throw MapError(.malformedValue, "a head counts at least one event") }
        self.eventID = eventID
        self.count = count
        self.index = index
    }

    /// This head moved on to `later`'s event and index, with `later.count` more events.
    func advanced(by later: HeadValue) throws(MapError) -> HeadValue {
        try HeadValue(eventID: later.eventID, count: Self.count(count, plus: later.count), index: later.index)
    }

    /// A head's count moved on by `gained` events, refused rather than wrapped on overflow.
    static func count(_ count: UInt64, plus gained: UInt64) throws(MapError) -> UInt64 {
        let (sum, overflow) = count.addingReportingOverflow(gained)
        guard !overflow else { throw MapError(.malformedValue, "a head's count overflows") }
        return sum
    }

    public init(bytes: some Collection<UInt8>) throws(MapError) {
        let bytes = Array(bytes)
        guard bytes.count == Self.byteCount else {
            throw MapError(.malformedValue, "a head value is \(bytes.count) bytes, expected \(Self.byteCount)")
        }
        try self.init(
            eventID: Array(bytes[0..<32]),
            count: Self.uint64(bytes[32..<40]),
            index: Self.uint64(bytes[40..<48])
        )
    }

    public var bytes: [UInt8] {
        var out = eventID
        out.reserveCapacity(Self.byteCount)
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: count >> UInt64(shift)))
        }
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: index >> UInt64(shift)))
        }
        return out
    }

    /// ``bytes`` on the stack, for hashing without an array per leaf.
    func withEncodedBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        eventID.withUnsafeBytes { Self.withEncodedBytes(eventID: $0, count: count, index: index, body) }
    }

    /// The 48 bytes of a value of these fields on the stack: the one place the encoding is
    /// written for hashing, whichever map holds the fields.
    static func withEncodedBytes<Result>(
        eventID: UnsafeRawBufferPointer,
        count: UInt64,
        index: UInt64,
        _ body: (UnsafeRawBufferPointer) -> Result
    ) -> Result {
        withUnsafeTemporaryAllocation(byteCount: byteCount, alignment: 8) { buffer in
            UnsafeMutableRawBufferPointer(rebasing: buffer[0..<32]).copyMemory(from: eventID)
            buffer.storeBytes(of: count.bigEndian, toByteOffset: 32, as: UInt64.self)
            buffer.storeBytes(of: index.bigEndian, toByteOffset: 40, as: UInt64.self)
            return body(UnsafeRawBufferPointer(buffer))
        }
    }

    private static func uint64(_ slice: ArraySlice<UInt8>) -> UInt64 {
        slice.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
