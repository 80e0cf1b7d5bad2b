import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceRules
import RetraceStorage

/// Checks a batch against the ledger on a read-only connection before the ledger is opened for
/// writing, with the same rules, in the same order, as the append path.
///
/// Why: opening an SQLite ledger for writing is itself not free of side effects (GRDB's WAL set-up
/// commits an empty schema change when no WAL file exists, which moves the file's header
/// counters), so a command that will be refused must be refused before that open; then the
/// ledger file stays byte-for-byte as it was. The append that follows re-checks everything inside
/// its own transaction, so this pre-flight is never what keeps the ledger correct.
enum Preflight {
    static func check(_ statements: [SignedStatement], path: String) throws {
        let ledger = try LedgerAccess.openReadOnly(path)
        var trust = try ledger.trustState()
        let now = Ledger.systemClock()
        try ledger.store.read { reader in
            var received = now
            let size = try reader.treeSize()
            if size > 0, let last = try reader.entry(at: size - 1), last.received > now.secondsSinceEpoch {
                received = Timestamp(secondsSinceEpoch: last.received)
            }
            var pending: [String: (eventID: [UInt8], state: ProductState)] = [:]
            var seen: Set<Digest> = []
            for (position, signed) in statements.enumerated() {
                let statement = signed.statement
                let id = statement.id
                do {
                    guard statement.time.secondsSinceEpoch <= received.secondsSinceEpoch + Ledger.futureSkew else {
                        throw LedgerError(
                            .futureEvent,
                            "the statement is dated \(statement.time), after the log's time \(received) "
                                + "plus \(Ledger.futureSkew) s", statementIndex: position)
                    }
                    guard seen.insert(id).inserted, try reader.entryIndex(eventID: id.bytes) == nil else {
                        throw LedgerError(
                            .duplicate, "statement \(id.short) is already in the log", statementIndex: position)
                    }
                    if statement.type == .roster {
                        trust = try trust.applying(roster: signed)
                        continue
                    }
                    let party = try trust.authenticate(signed)
                    let targets: [(SGTIN, Digest?)] =
                        statement.batch == nil
                        ? statement.product.map { [($0, statement.previous)] } ?? []
                        : signed.members.map { ($0.product, $0.previous) }
                    for (product, previous) in targets {
                        let key = product.digitalLink
                        var head = pending[key]
                        if head == nil, let stored = try reader.head(of: key) {
                            head = (stored.eventID, try ProductState(json: CanonicalJSON.decode(stored.state)))
                        }
                        if let head {
                            guard let previous, previous.bytes == head.eventID else {
                                let commission = statement.type == .commission
                                throw LedgerError(
                                    commission ? .ruleViolation : .chainConflict,
                                    commission
                                        ? "\(key) is already commissioned; a serial is commissioned once"
                                        : "previous \(previous?.short ?? "none") is not the current head "
                                            + "\(Hex.encode(head.eventID.prefix(6))) of \(key); "
                                            + "read the head and sign again",
                                    statementIndex: position, product: key,
                                    rule: commission ? "L2 commission-once" : "C1 chain-head")
                            }
                        } else if statement.type != .commission {
                            throw LedgerError(
                                .ruleViolation, "\(key) was never commissioned", statementIndex: position, product: key,
                                rule: "L1 commissioned-first")
                        }
                        let state = try Lifecycle.apply(
                            statement, product: product, eventID: id, state: head?.state, signer: party, trust: trust)
                        pending[key] = (id.bytes, state)
                    }
                } catch let error as RuleViolation {
                    throw LedgerError(
                        error.isAuthentication ? .untrusted : .ruleViolation, error.reason, statementIndex: position,
                        product: error.product, rule: error.rule)
                } catch let error as FormatError {
                    throw LedgerError(.malformed, error.description, statementIndex: position)
                }
            }
        }
    }
}
