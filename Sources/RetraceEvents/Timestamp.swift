/// An instant with one-second resolution, written `YYYY-MM-DDTHH:MM:SSZ`.
///
/// RFC 3339 allows offsets, fractions and lower-case letters; Retrace accepts exactly one spelling
/// per instant so that canonical bytes (and therefore event ids) cannot vary for the same event.
/// Parsing and formatting use integer civil-calendar arithmetic, not `DateFormatter`, because they
/// sit on the append and audit paths.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    public let secondsSinceEpoch: Int64

    public init(secondsSinceEpoch: Int64) { self.secondsSinceEpoch = secondsSinceEpoch }

    public init(parsing text: String, field: @autoclosure () -> String = "time") throws(FormatError) {
        // From the string's own UTF-8 buffer: enumerating `utf8` went through a generic iterator
        // per byte (1.2 K instructions per time, two times per audited entry).
        var utf8 = text
        switch utf8.withUTF8({ Self.read($0) }) {
        case .instant(let seconds):
            self.secondsSinceEpoch = seconds
        case .malformed:
            throw FormatError(
                .invalidTime,
                field: field(),
                "\"\(text)\" is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ"
            )
        case .unreal:
            throw FormatError(
                .invalidTime,
                field: field(),
                "\"\(text)\" is not a real UTC date and time (no leap seconds)"
            )
        }
    }

    /// The instant these UTF-8 bytes spell, for readers that never make a string of them; `nil`
    /// for anything ``init(parsing:field:)`` refuses.
    init?(utf8: UnsafeBufferPointer<UInt8>) {
        guard case .instant(let seconds) = Self.read(utf8) else { return nil }
        self.secondsSinceEpoch = seconds
    }

    private enum Reading {
        case instant(Int64)
        /// Not of the form `YYYY-MM-DDTHH:MM:SSZ`.
        case malformed
        /// Of the form, but no real UTC date and time.
        case unreal
    }

    private static func read(_ b: UnsafeBufferPointer<UInt8>) -> Reading {
        guard b.count == 20, b[4] == 0x2d, b[7] == 0x2d, b[10] == 0x54, b[13] == 0x3a, b[16] == 0x3a, b[19] == 0x5a
        else { return .malformed }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for i in range {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                value = value * 10 + Int64(b[i] - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return .malformed }
        guard year >= 1970, (1...12).contains(month), day >= 1, day <= daysInMonth(year, month),
            hour < 24, minute < 60, second < 60
        else { return .unreal }
        return .instant(daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
    }

    public var description: String {
        let days = secondsSinceEpoch >= 0 ? secondsSinceEpoch / 86_400 : (secondsSinceEpoch - 86_399) / 86_400
        let rest = secondsSinceEpoch - days * 86_400
        let (y, m, d) = Self.civilFromDays(days)
        // Every product state and statement carries several times, so this sits on the append
        // and audit paths: the 20 bytes are written in place (string interpolation of six padded
        // numbers cost ~32 K instructions per appended event). Years outside 0...9999 are never
        // parsed from statements; they keep the general spelling below.
        if (0...9999).contains(y) {
            return String(unsafeUninitializedCapacity: 20) { out in
                func put(_ value: Int64, _ width: Int, at start: Int) {
                    var value = value
                    for offset in stride(from: width - 1, through: 0, by: -1) {
                        out[start + offset] = UInt8(ascii: "0") + UInt8(value % 10)
                        value /= 10
                    }
                }
                put(y, 4, at: 0)
                out[4] = UInt8(ascii: "-")
                put(m, 2, at: 5)
                out[7] = UInt8(ascii: "-")
                put(d, 2, at: 8)
                out[10] = UInt8(ascii: "T")
                put(rest / 3600, 2, at: 11)
                out[13] = UInt8(ascii: ":")
                put(rest % 3600 / 60, 2, at: 14)
                out[16] = UInt8(ascii: ":")
                put(rest % 60, 2, at: 17)
                out[19] = UInt8(ascii: "Z")
                return 20
            }
        }
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return
            "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rest / 3600, 2)):\(pad(rest % 3600 / 60, 2)):\(pad(rest % 60, 2))Z"
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.secondsSinceEpoch < rhs.secondsSinceEpoch }

    public func adding(seconds: Int64) -> Timestamp { Timestamp(secondsSinceEpoch: secondsSinceEpoch + seconds) }

    static func daysInMonth(_ year: Int64, _ month: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian).
    static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

/// Seconds since the epoch, for local caches of derived figures (`retrace insights --state`);
/// signed bytes carry the RFC 3339 text instead.
extension Timestamp: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(secondsSinceEpoch: try decoder.singleValueContainer().decode(Int64.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(secondsSinceEpoch)
    }
}
