import CanonicalJSON
import RetraceEvents

/// The details of a `refurbish` statement.
public struct RefurbishDetails: Hashable, Sendable {
    /// A part replaced during the work, with its own serial.
    public struct Part: Hashable, Sendable {
        public let part: String
        public let serial: String
    }

    public let work: [String]
    public let parts: [Part]
    public let tests: [String]
    public let softwareVersion: String?
    public let warrantyMonths: Int64
    /// "Certified refurbished": only by a refurbisher accredited at the time (`L16`).
    public let certified: Bool

    public init(_ statement: Statement) throws(RuleViolation) {
        try DetailsAccess.check(statement, is: .refurbish)
        let details = statement.details
        self.work = DetailsAccess.strings(details["work"])
        self.tests = DetailsAccess.strings(details["tests"])
        self.parts = (details["parts"]?.arrayValue ?? []).map {
            Part(part: $0["part"]?.stringValue ?? "", serial: $0["serial"]?.stringValue ?? "")
        }
        self.softwareVersion = details["softwareVersion"]?.stringValue
        self.warrantyMonths = details["warrantyMonths"]?.integerValue ?? 0
        self.certified = details["certified"]?.boolValue ?? false
    }
}
