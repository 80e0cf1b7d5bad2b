import CanonicalJSON
import RetraceCrypto

extension Ledger.AppendResult {
    /// The receipt document both `retrace append --json` and `POST /v1/events` answer with, so a
    /// client reads one shape whichever way it appended.
    public var json: JSONValue {
        .object([
            "appended": .array(
                receipts.map {
                    .object([
                        "index": .integer(Int64($0.index)), "event": .string($0.eventID.hex),
                        "leafHash": .string(Hex.encode($0.leafHash)),
                    ])
                }
            ),
            "treeSize": .integer(Int64(treeSize)), "root": .string(Hex.encode(rootHash)),
            "checkpoint": checkpoint.map { .string($0) } ?? .null,
        ])
    }
}
