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
            try Output.json(result.json)
        } else {
            Output.print("Appended \(result.receipts.count) statement(s); tree size \(result.treeSize)")
            Output.print(Output.table(result.receipts.map { ["  #\($0.index)", $0.eventID.hex] }))
        }
    }
}
