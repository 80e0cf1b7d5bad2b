import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceRules
import RetraceStorage

/// Small facts read from a ledger.
enum LedgerFacts {
    struct Head {
        let size: UInt64
        let root: [UInt8]
        let note: String
    }

    static func head(_ ledger: Ledger) throws -> Head {
        try ledger.store.read { reader in
            guard let checkpoint = try reader.latestCheckpoint() else {
                throw CLIError(CLIError.cannotCheck, "the ledger holds no signed checkpoint yet; append an event first")
            }
            return Head(size: checkpoint.size, root: checkpoint.root, note: checkpoint.note)
        }
    }
}
