import CanonicalJSON
import RetraceEvents

/// Shared reading helpers for the typed details accessors; they run after ``Catalogue/validate(_:)``,
/// so a value of the wrong kind cannot occur and the fallbacks are never taken.
enum DetailsAccess {
    static func check(_ statement: Statement, is type: EventType) throws(RuleViolation) {
        guard statement.type == type else {
            throw RuleViolation(
                .invalidDetails,
                rule: Rule.details,
                "expected a \(type) statement, found \(statement.type)"
            )
        }
        try Catalogue.validate(statement)
    }

    static func digest(_ value: JSONValue?) -> Digest? {
        guard let text = value?.stringValue else { return nil }
        return try? Digest(hex: text, field: "")
    }

    static func time(_ value: JSONValue?) -> Timestamp? {
        guard let text = value?.stringValue else { return nil }
        return try? Timestamp(parsing: text)
    }

    static func strings(_ value: JSONValue?) -> [String] {
        (value?.arrayValue ?? []).compactMap(\.stringValue)
    }

    static func materials(_ value: JSONValue?) -> [String: Int64] {
        guard case .object(let object)? = value else { return [:] }
        var out: [String: Int64] = [:]
        for (name, grams) in object { out[name] = grams.integerValue ?? 0 }
        return out
    }
}
