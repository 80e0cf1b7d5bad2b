import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetracePostgres
import RetraceSimulation
import RetraceStorage

/// Opening ledgers and reading key and input files, with the CLI's error messages.
enum LedgerAccess {
    /// Opens a ledger for reading only: read commands must never change the file.
    static func openReadOnly(_ path: String) throws -> Ledger {
        let store = try StoreLocation.open(path, readOnly: true)
        return try Ledger.open(store: store)
    }

    /// Opens a ledger for appending. The log key comes from `--log-key`, or, for a ledger whose
    /// log key is the public test key (the demo's), from the embedded test keys.
    static func openForAppend(_ path: String, logKeyFile: String?) throws -> Ledger {
        try openForAppend(path, logKeyFile: logKeyFile, checking: nil)
    }

    /// Opens for appending after judging `statements` on a read-only connection with the append
    /// path itself (``Ledger/check(_:)``, a storage-level dry run), so that a refused batch never
    /// opens the file for writing: GRDB's WAL set-up alone would change the file's header bytes.
    static func openForAppend(
        _ path: String,
        logKeyFile: String?,
        checking statements: [SignedStatement]?
    ) throws
        -> Ledger
    {
        let signer = try appendSigner(path, logKeyFile: logKeyFile)
        if let statements { try openReadOnly(path).check(statements) }
        let store = try StoreLocation.open(path, readOnly: false)
        return try Ledger.open(store: store, logSigner: signer)
    }

    /// The log key that may append to the ledger at `path`: `--log-key`, or the embedded test key
    /// for a test ledger; refused when it is not the ledger's own.
    static func appendSigner(_ path: String, logKeyFile: String?) throws -> NoteSigner {
        let signer: NoteSigner
        if let logKeyFile {
            signer = try readPrivateKey(logKeyFile, what: "log key")
        } else {
            let probe = try openReadOnly(path)
            let test = try TestParties()
            // Test ledgers made before the log key was named after the origin record the same key
            // under its old name: sign with the test key under the name the ledger records.
            guard probe.logKey.publicKey == test.log.verifier.publicKey else {
                throw CLIError.usage(
                    "appending to \(path) needs its log key (\(probe.logKey.name)); pass it with --log-key FILE"
                )
            }
            signer = try NoteSigner(name: probe.logKey.name, privateKey: test.log.privateKey)
        }
        if let logKeyFile {
            let probe = try openReadOnly(path)
            guard probe.logKey == signer.verifier else {
                throw CLIError.usage(
                    "the log key \(logKeyFile) (\(signer.verifier.name)) is not this ledger's log key "
                        + "(\(probe.logKey.name)); pass the ledger's log key with --log-key"
                )
            }
        }
        return signer
    }

    static func readFile(_ path: String, what: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError.usage("\(what) \(path) does not exist; check the path")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError.usage("\(what) \(path) cannot be read; check its permissions")
        }
        return Array(data)
    }

    static func readText(_ path: String, what: String) throws -> String {
        let bytes = try readFile(path, what: what)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CLIError.usage("\(what) \(path) is not UTF-8 text")
        }
        return text
    }

    static func readPrivateKey(_ path: String, what: String) throws -> NoteSigner {
        let text = try readText(path, what: what).trimmingCharacters(in: .whitespacesAndNewlines)
        do { return try NoteSigner(parsing: text) } catch {
            throw CLIError.usage(
                "\(what) \(path) is not a C2SP private key (\(error.reason)); use a NAME.key from `retrace keygen`"
            )
        }
    }

    static func readPublicKey(_ path: String, what: String) throws -> NoteVerifier {
        let text = try readText(path, what: what).trimmingCharacters(in: .whitespacesAndNewlines)
        do { return try NoteVerifier(parsing: text) } catch {
            throw CLIError.usage(
                "\(what) \(path) is not a C2SP verifier key (\(error.reason)); use a NAME.pub from `retrace keygen`"
            )
        }
    }

    static func parseIdentity(_ text: String) throws -> ProductScan {
        do { return try IdentityParser.parse(text) } catch {
            var reason = error.reason
            if let position = error.position, !reason.contains("position") { reason += " (at position \(position))" }
            throw CLIError.usage("invalid identity (\(error.code)): \(reason); check the scan")
        }
    }

    static func parseTime(_ text: String?, option: String) throws -> Timestamp {
        guard let text else { return Ledger.systemClock() }
        do { return try Timestamp(parsing: text) } catch {
            throw CLIError.usage("\(option) \"\(text)\" is not a UTC time like 2026-03-02T09:00:00Z")
        }
    }

    static func parseDigest(_ text: String, option: String) throws -> Digest {
        do { return try Digest(hex: text.lowercased(), field: option) } catch {
            throw CLIError.usage("\(option) \"\(text)\" is not 64 hex digits of an event id")
        }
    }

    /// Writes a file that must not exist yet (private keys, exports, bundles), with `mode`.
    static func writeNew(_ path: String, _ bytes: [UInt8], mode: Int = 0o644, force: Bool = false) throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: path) {
            guard force else { throw CLIError.usage("\(path) already exists; choose another path or pass --force") }
            try? manager.removeItem(atPath: path)
        }
        guard manager.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: mode]) else {
            throw CLIError.usage("cannot write \(path); check the directory exists and is writable")
        }
    }

    /// Removes a ledger file and its SQLite side files (after a failed creation).
    /// Removes a ledger this process has just created and failed to fill: the SQLite file and its
    /// WAL, or the PostgreSQL schema (dropped only if it is a Retrace ledger).
    static func removeCreatedLedger(_ location: String) {
        if PostgresLedgerStore.isURL(location) {
            try? PostgresLedgerStore.open(url: location).dropCreated()
        } else {
            removeLedgerFiles(location)
        }
    }

    static func removeLedgerFiles(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    static func jsonOf(_ digest: [UInt8]) -> JSONValue { .string(Hex.encode(digest)) }
}
