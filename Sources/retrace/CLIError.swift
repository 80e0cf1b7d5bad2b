import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceRules
import RetraceStorage

/// A failure reported to the user as one line on standard error, with the exit code it maps to.
///
/// The exit codes are the contract scripts rely on: 1 means "checked, and the answer is no" (a
/// refused append, a flagged return, a failed audit); 2 means "could not check" (bad arguments,
/// unreadable or malformed input, a wrong key, a file that is not a ledger).
struct CLIError: Error, CustomStringConvertible {
    static let refused: Int32 = 1
    static let cannotCheck: Int32 = 2

    let exitCode: Int32
    let message: String

    init(_ exitCode: Int32, _ message: String) {
        self.exitCode = exitCode
        self.message = message
    }

    static func usage(_ message: String) -> CLIError { CLIError(cannotCheck, message) }

    var description: String { message }

    /// Maps any error of the lower layers to one line and an exit code.
    static func from(_ error: any Error) -> CLIError {
        switch error {
        case let error as CLIError:
            return error
        case let error as LedgerError:
            return fromLedger(error)
        case let error as StorageError:
            return fromStorage(error)
        case let error as FormatError:
            return CLIError(cannotCheck, "malformed statement: \(error.description); fix the input and try again")
        case let error as IdentityError:
            return CLIError(cannotCheck, "invalid identity: \(error.reason); check the scan or the typed identity")
        case let error as CryptoError:
            return CLIError(cannotCheck, "key or signature problem: \(error.reason); check the key file")
        case let error as MerkleError:
            return CLIError(cannotCheck, "\(error.reason); check the checkpoint or proof input")
        case let error as RuleViolation:
            return CLIError(cannotCheck, "\(error.description); fix the document and try again")
        default:
            let text = "\(error)".replacingOccurrences(of: "\n", with: " ")
            return CLIError(cannotCheck, "\(text)")
        }
    }

    static func fromLedger(_ error: LedgerError) -> CLIError {
        let refusal: Set<LedgerError.Code> = [.ruleViolation, .chainConflict, .duplicate, .untrusted, .futureEvent]
        if refusal.contains(error.code) {
            var text = "refused (\(error.code)): \(error.description)"
            if let product = error.product, !text.contains(product) { text += " [\(product)]" }
            return CLIError(refused, text + "; nothing was appended")
        }
        if let storage = error.storage { return fromStorage(storage) }
        switch error.code {
        case .wrongLogKey:
            return CLIError(cannotCheck, "\(error.reason); pass this ledger's log key with --log-key")
        case .malformed:
            return CLIError(cannotCheck, "malformed statement: \(error.description); nothing was appended")
        case .emptyBatch:
            return CLIError(cannotCheck, "nothing to append; give statements as JSON lines")
        default:
            return CLIError(cannotCheck, "\(error.description)")
        }
    }

    static func fromStorage(_ error: StorageError) -> CLIError {
        let reason = error.reason.replacingOccurrences(of: "\n", with: " ")
        switch error.code {
        case .notFound where reason.contains(";"):
            return CLIError(cannotCheck, reason)
        case .notFound:
            return CLIError(cannotCheck, "\(reason); check the --db path")
        case .notALedger:
            return CLIError(cannotCheck, "\(reason); point --db at a ledger made by `retrace init` or `retrace demo`")
        case .busy:
            return CLIError(cannotCheck, reason)
        default:
            return CLIError(cannotCheck, reason.contains(";") ? reason : "\(reason); nothing was changed")
        }
    }
}
