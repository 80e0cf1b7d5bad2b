import CanonicalJSON
import Foundation
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceSimulation
import RetraceStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends generated, valid statements and reports each acknowledged one on stdout.
///
/// Chain mode walks a fixed set of products through commission → ship → receive → ship → … ; the
/// next step of a product follows from its head's sequence number (even: ship next, odd: receive
/// next), read afresh before every attempt, so a restarted or racing appender always extends the
/// real head. Racers (`--seed` parity) sign at different sites, so two racers never produce the
/// same statement (sites and a `lot`/`shipment` tag differ): a lost race is a genuine chain conflict.
struct Appender {
    static let gtin = "09506000134352"

    let options: AppenderOptions
    let parties: TestParties
    let ledger: Ledger

    init(options: AppenderOptions) throws {
        self.options = options
        parties = try TestParties()
        if options.create {
            let store = try SQLiteLedgerStore.create(path: options.db)
            ledger = try Ledger.create(
                store: store,
                origin: TestParties.origin,
                logSigner: parties.log,
                governance: [parties.governance.verifier],
                roster: parties.signedRoster(time: Self.now())
            )
        } else {
            let store = try SQLiteLedgerStore.open(path: options.db)
            ledger = try Ledger.open(store: store, logSigner: parties.log)
        }
    }

    /// Opens (or creates) the ledger, retrying while another process holds the file's lock: a busy
    /// refusal is clean and retryable, and a racer opening or closing the file causes one.
    static func opening(options: AppenderOptions) throws -> Appender {
        var attempt = 0
        while true {
            do {
                return try Appender(options: options)
            } catch {
                let busy = (error as? StorageError)?.code == .busy || (error as? LedgerError)?.storage?.code == .busy
                guard busy, !options.create, attempt < 100 else { throw error }
                attempt += 1
                emit("RETRY storage busy - opening: \(error)".replacingOccurrences(of: "\n", with: " "))
                usleep(10_000)
            }
        }
    }

    static func now() -> Timestamp { Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)) }

    /// Writes `text` to stdout with write(2): no buffer that a SIGKILL could lose after we claimed it.
    static func emit(_ text: String) {
        var bytes = Array((text.hasSuffix("\n") ? text : text + "\n").utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Runs until `count` statements are acknowledged; returns the process exit code.
    func run() -> Int32 {
        var random = Generator(seed: options.seed)
        var acknowledged = 0
        var fresh = 0
        var retries = 0
        while options.count == 0 || acknowledged < options.count {
            let size = options.count == 0 ? options.batch : min(options.batch, options.count - acknowledged)
            let statements: [SignedStatement]
            do {
                statements =
                    try options.mode == .fresh
                    ? freshBatch(size: size, from: &fresh) : chainBatch(size: size, random: &random)
            } catch {
                Self.emit("ERR build \(error)")
                return 4
            }
            do {
                let result = try ledger.append(statements)
                Self.emit(result.receipts.map { "ACK \($0.index) \($0.eventID.hex)\n" }.joined())
                acknowledged += result.receipts.count
                retries = 0
            } catch {
                let storage = error.storage?.code.description ?? "-"
                let line = "\(error.code) \(storage) \(error.rule ?? "-") \(error.reason)"
                    .replacingOccurrences(of: "\n", with: " ")
                guard Self.isRetryable(error), retries < options.retries else {
                    Self.emit("ERR \(line)\n" + statements.map { "LOST \($0.statement.id.hex)\n" }.joined())
                    return error.code == .storage ? 3 : 4
                }
                retries += 1
                Self.emit("RETRY \(line)")
                if error.code == .storage { usleep(2_000) }
            }
        }
        Self.emit("DONE \(acknowledged)")
        return 0
    }

    /// Losing a race: someone else extended the chain (or commissioned the serial) first, or held the lock.
    static func isRetryable(_ error: LedgerError) -> Bool {
        switch error.code {
        case .chainConflict: return true
        case .ruleViolation: return error.rule == "L2 commission-once"
        case .storage: return error.storage?.code == .busy || error.storage?.code == .conflict
        default: return false
        }
    }

    private func product(_ serial: String) throws -> SGTIN {
        try SGTIN(gtin: GTIN(Self.gtin), serial: Serial(serial))
    }

    private func freshBatch(size: Int, from counter: inout Int) throws -> [SignedStatement] {
        let site = RacingStep.brandSites[Int(options.seed % 2)]
        return try (0..<size).map { _ in
            counter += 1
            let item = try product("\(options.prefix)\(options.seed)x\(counter)")
            return try parties.sign(
                .commission,
                product: item,
                previous: nil,
                by: "northwind",
                at: Self.now(),
                location: site
            )
        }
    }

    private func chainBatch(size: Int, random: inout Generator) throws -> [SignedStatement] {
        var chosen: [Int] = []
        while chosen.count < min(size, options.products) {
            let pick = Int(random.next() % UInt64(options.products))
            if !chosen.contains(pick) { chosen.append(pick) }
        }
        let racer = Int(options.seed % 2)
        let time = Self.now()
        return try chosen.map { number in
            let item = try product("\(options.prefix)\(number)")
            let head = try ledger.store.read { try $0.head(of: item.digitalLink) }
            return try RacingStep.next(
                for: item,
                head: head,
                racer: racer,
                tag: "R\(options.seed)",
                at: time,
                parties: parties
            )
        }
    }
}

/// SplitMix64: a tiny deterministic generator, so a seed names a whole run.
struct Generator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
