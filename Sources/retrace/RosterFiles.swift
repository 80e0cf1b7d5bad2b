import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceRules
import RetraceStorage

/// Reading, editing and signing roster documents.
enum RosterFiles {
    static func readDocument(_ path: String) throws -> RosterDocument {
        let bytes = try LedgerAccess.readFile(path, what: "roster")
        let json: JSONValue
        do { json = try CanonicalJSON.decode(bytes, options: .lenient) } catch {
            throw CLIError.usage("roster \(path) is not valid JSON: \(error); fix the file")
        }
        do { return try RosterDocument(json: json) } catch {
            throw CLIError.usage("roster \(path) is not a valid roster: \(error.reason); fix the file")
        }
    }

    static func sign(
        _ document: RosterDocument,
        previous: Digest?,
        with key: NoteSigner,
        time: Timestamp
    ) throws
        -> SignedStatement
    {
        guard case .object(let details) = document.json else { throw CLIError.usage("the roster is not a JSON object") }
        let statement = try Statement(
            type: .roster,
            product: nil,
            previous: previous,
            signer: Digest(bytes: key.verifier.publicKey.fingerprint),
            time: time,
            details: details
        )
        return try SignedStatement.sign(statement, with: key.privateKey)
    }
}
