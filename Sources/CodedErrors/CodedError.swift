/// The one shape of every Retrace error: a stable ``code`` to switch on and a ``reason`` in words
/// that says what was wrong, where, and what was expected.
///
/// Equality and hashing are on the code only, so callers and tests match the kind of failure
/// without depending on the wording of the reason (which may improve at any time). Each module's
/// error keeps its own closed set of codes and whatever positions it can name (a field, an
/// offset, a log index); this protocol is what they have in common, written once.
public protocol CodedError: Error, Hashable, Sendable, CustomStringConvertible {
    associatedtype Code: Hashable & Sendable & CustomStringConvertible
    var code: Code { get }
    var reason: String { get }
}

extension CodedError {
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    /// `code: reason`; an error whose messages are read by people on their own overrides it.
    public var description: String { "\(code): \(reason)" }
}
