import ArgumentParser
import CanonicalJSON
import Foundation
import MerkleLog
import RetraceAudit
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceStorage

/// `retrace migrate`: moves a ledger between storage engines (SQLite ↔ PostgreSQL) as the same log,
/// byte for byte: every entry with its received time, every checkpoint as signed.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract:
            "Copy a ledger to another store (SQLite or PostgreSQL) byte for byte: same entries, roots, checkpoints.",
        discussion: """
            The source is audited first under the keys you give (nothing is written if it fails); every \
            statement is then re-checked as it is appended to the new store with its original received time, \
            and the source's checkpoints are stored as signed after their roots are compared. The new store \
            is audited at the end. The log key signs nothing new; it is needed to open the new ledger.
            """
    )

    @Option(help: "The ledger to copy: a file path or a postgres:// URL.")
    var from: String
    @Option(help: "The new ledger: a file path or a postgres:// URL (must not exist).")
    var to: String
    @Option(name: .customLong("governance-key"), help: "Trusted governance public key file.")
    var governanceKey: String
    @Option(name: .customLong("log-public-key"), help: "Trusted log public key file.")
    var logPublicKey: String
    @Option(name: .customLong("log-key"), help: "The log's private key file (the ledger's own).")
    var logKey: String
    @Option(help: "Statements per transaction in the new store.")
    var batch: Int = 1_000
    @OptionGroup var output: JSONFlag

    func validate() throws {
        guard from != to else { throw ValidationError("--from and --to name the same ledger") }
        guard (1...100_000).contains(batch) else { throw ValidationError("--batch must be 1…100000") }
    }

    func run() throws {
        let governance = try LedgerAccess.readPublicKey(governanceKey, what: "governance key")
        let logVerifier = try LedgerAccess.readPublicKey(logPublicKey, what: "log public key")
        let signer = try LedgerAccess.readPrivateKey(logKey, what: "log key")
        guard signer.verifier == logVerifier else {
            throw CLIError.usage("the log key \(logKey) is not the trusted log public key \(logVerifier.name)")
        }
        let source = try Ledger.open(store: try StoreLocation.open(from, readOnly: true))
        guard source.logKey == logVerifier else {
            throw CLIError(
                CLIError.refused,
                "\(from) records log key \(source.logKey.name), not the trusted \(logVerifier.name)"
            )
        }
        let auditor = Auditor(trustRoots: [governance], logKey: logVerifier, origin: source.origin)
        let before = try auditor.audit(store: source.store)
        guard before.passed else {
            throw CLIError(
                CLIError.refused,
                "\(from) does not pass its audit (\(before.failures.first?.description ?? "failed")); "
                    + "nothing was written"
            )
        }

        let size = try source.store.read { try $0.treeSize() }
        let checkpoints = try source.store.read { try $0.checkpoints() }
        guard let first = try source.store.read({ try $0.entry(at: 0) }) else {
            throw CLIError(CLIError.refused, "\(from) has no entries")
        }
        let roster = try LogEntry(parsing: first.bytes, members: [])
        let destination: Ledger
        do {
            destination = try Ledger.create(
                store: try StoreLocation.create(to),
                origin: source.origin,
                logSigner: signer,
                governance: source.trustRoots,
                roster: roster.signed,
                clock: { roster.received }
            )
        } catch let error as StorageError where error.code == .alreadyExists {
            throw CLIError(CLIError.cannotCheck, "\(to) already exists; migrate into a new ledger")
        }
        do {
            try copy(from: source, to: destination, size: size, checkpoints: checkpoints)
        } catch {
            throw CLIError(
                CLIError.refused,
                "the copy stopped: \(error); \(to) is incomplete: remove it before trying again"
            )
        }

        // The copy is the same log: same checkpoints (notes as signed), same root, and its own audit passes.
        let copied = try destination.store.read { try $0.checkpoints() }
        guard copied == checkpoints else {
            throw CLIError(
                CLIError.refused,
                "the copy's checkpoints differ from the source's; \(to) is not a faithful copy"
            )
        }
        let after = try auditor.audit(store: try StoreLocation.open(to, readOnly: true))
        guard after.passed, after.rootHash == before.rootHash, after.treeSize == size else {
            throw CLIError(CLIError.refused, "the copy at \(to) does not audit as the source does")
        }
        if output.json {
            try Output.json(
                .object([
                    "from": .string(from), "to": .string(to), "treeSize": .integer(Int64(size)),
                    "checkpoints": .integer(Int64(checkpoints.count)), "root": .string(Hex.encode(after.rootHash)),
                ])
            )
        } else {
            Output.print(
                "migrated \(size) entries and \(checkpoints.count) checkpoints from \(from) to \(to); "
                    + "root \(Hex.encode(after.rootHash)), audit passed on both"
            )
        }
    }

    /// Appends the source's entries in groups that share a received time and end at the source's
    /// checkpoint sizes, storing each source checkpoint once the copy reaches its size.
    private func copy(from source: Ledger, to destination: Ledger, size: UInt64, checkpoints: [StoredCheckpoint]) throws
    {
        var pending: [SignedStatement] = []
        var pendingReceived: Timestamp?
        var checkpointsAhead = checkpoints[...]
        func flush() throws {
            guard let received = pendingReceived, !pending.isEmpty else { return }
            try destination.append(pending, receivedAt: received)
            pending.removeAll(keepingCapacity: true)
        }
        func storeCheckpoints(upTo copied: UInt64) throws {
            while let next = checkpointsAhead.first, next.size <= copied {
                try destination.storeCheckpoint(note: next.note)
                checkpointsAhead.removeFirst()
            }
        }
        try storeCheckpoints(upTo: 1)
        var index: UInt64 = 1
        while index < size {
            let end = min(size, index + UInt64(batch))
            var entries: [StoredEntry] = []
            try source.store.read { try $0.forEachEntry(from: index, to: end) { entries.append($0) } }
            for stored in entries {
                let entry = try LogEntry(
                    parsing: stored.bytes,
                    members: try stored.members.map { try BatchMember(json: CanonicalJSON.decode($0), path: "members") }
                )
                if pendingReceived != entry.received || pending.count >= batch { try flush() }
                pendingReceived = entry.received
                pending.append(entry.signed)
                // A source checkpoint right after this entry: the copy must reach exactly this size.
                if let next = checkpointsAhead.first, next.size == stored.index + 1 {
                    try flush()
                    try storeCheckpoints(upTo: stored.index + 1)
                }
            }
            index = end
        }
        try flush()
        try storeCheckpoints(upTo: size)
    }
}
