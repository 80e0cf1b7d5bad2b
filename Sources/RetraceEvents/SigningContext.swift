/// The fixed prefix put before the canonical bytes of each kind of signed object.
///
/// Without it, bytes signed as one kind of object could be presented as another; with it, an
/// event signature can never be replayed as a roster signature, and neither can be a checkpoint
/// signature (checkpoint notes start with the log's origin line, which the ledger refuses to let
/// begin with `retrace/`).
public enum SigningContext {
    public static let event: [UInt8] = Array("retrace/v1/event\n".utf8)
    public static let roster: [UInt8] = Array("retrace/v1/roster\n".utf8)

    public static func prefix(for type: EventType) -> [UInt8] { type == .roster ? roster : event }
}
