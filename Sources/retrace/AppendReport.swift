import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceStorage

enum AppendReport {
    static func print(_ result: Ledger.AppendResult, json: Bool) throws {
        if json {
            try Output.json(
                .object([
                    "appended": .array(
                        result.receipts.map {
                            .object([
                                "index": .integer(Int64($0.index)), "event": .string($0.eventID.hex),
                                "leafHash": .string(Hex.encode($0.leafHash)),
                            ])
                        }),
                    "treeSize": .integer(Int64(result.treeSize)), "root": .string(Hex.encode(result.rootHash)),
                    "checkpoint": result.checkpoint.map { .string($0) } ?? .null,
                ]))
        } else {
            Output.print("Appended \(result.receipts.count) statement(s); tree size \(result.treeSize)")
            Output.print(Output.table(result.receipts.map { ["  #\($0.index)", $0.eventID.hex] }))
        }
    }
}
