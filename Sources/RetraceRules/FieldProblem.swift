/// What was wrong with one field of a JSON document, before it is turned into the caller's error
/// type (a ``RuleViolation`` for rosters and details, a `FormatError` for stored product states).
struct FieldProblem: Error {
    let path: String
    let reason: String

    var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}
