import RetraceCrypto
import RetraceEvents
import Testing

/// The one spelling of a time and of a hash: both sit inside signed, canonical bytes, so a
/// formatter that drifts by one character changes event ids.
@Suite struct SpellingTests {
    @Test func knownTimes() throws {
        #expect(Timestamp(secondsSinceEpoch: 0).description == "1970-01-01T00:00:00Z")
        #expect(Timestamp(secondsSinceEpoch: 951_782_400).description == "2000-02-29T00:00:00Z")
        #expect(Timestamp(secondsSinceEpoch: 1_772_442_000).description == "2026-03-02T09:00:00Z")
        #expect(Timestamp(secondsSinceEpoch: 253_402_300_799).description == "9999-12-31T23:59:59Z")
        // Outside the four-digit years: the general spelling, unchanged.
        #expect(Timestamp(secondsSinceEpoch: 253_402_300_800).description == "10000-01-01T00:00:00Z")
        #expect(Timestamp(secondsSinceEpoch: -1).description == "1969-12-31T23:59:59Z")
    }

    /// Every second of a spread of instants over 1970–9999 formats to text that parses back to it.
    @Test func timesRoundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        var samples: [Int64] = [0, 59, 60, 3_599, 86_399, 86_400, 253_402_300_799]
        for _ in 0..<20_000 { samples.append(Int64.random(in: 0...253_402_300_799, using: &generator)) }
        for seconds in samples {
            let text = Timestamp(secondsSinceEpoch: seconds).description
            #expect(text.utf8.count == 20, "\(seconds) → \(text)")
            #expect(try Timestamp(parsing: text).secondsSinceEpoch == seconds, "\(seconds) → \(text)")
        }
    }

    @Test func hexOfEveryByte() {
        let all = (0...255).map { UInt8($0) }
        let expected = all.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
        }.joined()
        #expect(Hex.encode(all) == expected)
        #expect(Hex.encode(all[16..<18]) == "1011")
        #expect(Hex.encode(all.lazy.filter { $0 == 0xab }) == "ab")
        #expect(Hex.encode([UInt8]()) == "")
        #expect(Hex.decode(expected) == all)
    }
}
