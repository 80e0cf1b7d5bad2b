import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceSimulation
import RetraceStorage

/// The benchmark ledgers: generated once from a seed and kept under a cache directory, keyed by
/// size, seed and ``recipe``, so a rerun (or the 10^6 ledger, which takes minutes) is not rebuilt.
///
/// Layout of a ledger of `events` generated events: the roster (entry 0); the seeded generator's
/// stream in batches of 1,000, with the probe products' events spread through it (event k of every
/// probe product goes in after 1/20·k of the stream, so a product's events lie far apart in the log,
/// as a real product's do, and its inclusion proofs share little); then a tail of 16 small batches
/// of commissions, each with its own signed checkpoint that covers every probe product (the
/// "moving head" the verdict benchmark rotates through). Probe products: 200 with 3 events
/// (commission, ship, receive) and 100 with 20 (stocked, sold, returned and resold twice, returned).
/// A ledger is written under a temporary name and renamed when complete, so an interrupted run
/// leaves nothing that looks reusable.
enum LedgerCache {
    /// Bump when the generator, the probe layout or the ledger format changes: old files are then ignored.
    /// 2: checkpoints commit to the heads map (issue 11), so ledgers of recipe 1 no longer look like
    /// what a current ledger holds (their heads map would be replayed from every entry on first use).
    /// 3: ledger schema 2 keeps a chain's derived state at its head only; an upgraded recipe 2 file
    /// keeps the freed pages, so its size would still read as schema 1's.
    /// 4: ledger schemas 3 and 4 store entries packed and chain links without their entry's event
    /// id; a cached schema 2 file would keep its verbatim entries, and an upgraded one its rewritten
    /// `chain_links` compacted, neither what a ledger written today holds.
    static let recipe = 4
    static let shortCount = 200
    static let longCount = 100
    static let tailBatches = 16
    static let tailBatchSize = 50
    static let stepCount = 20

    struct Prepared {
        let events: Int
        let path: String
        /// Entries in the log (generated events, probes, tail and the roster).
        let treeSize: UInt64
        let shortProducts: [SGTIN]
        let longProducts: [SGTIN]
        /// Sizes of the tail's checkpoints, each covering every probe product.
        let tailCheckpoints: [UInt64]
        /// Seconds spent generating, or `nil` when the cached file was reused.
        let generatedSeconds: Double?
    }

    static func expectedSize(events: Int) -> UInt64 {
        UInt64(1 + events + shortCount * 3 + longCount * 20 + tailBatches * tailBatchSize)
    }

    static func shortProducts() throws -> [SGTIN] {
        try (0..<shortCount).map { try SGTIN(gtin: GTIN("09506000134352"), serial: Serial("V3-\($0)")) }
    }

    static func longProducts() throws -> [SGTIN] {
        try (0..<longCount).map { try SGTIN(gtin: GTIN("09506000134352"), serial: Serial("V20-\($0)")) }
    }

    /// The cached ledger for `events` generated events, generated first if missing or unusable.
    static func prepare(events: Int, seed: UInt64, directory: String, generate allowed: Bool = true) throws -> Prepared
    {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let name = "ledger-e\(events)-s\(seed)-r\(recipe)"
        let path = (directory as NSString).appendingPathComponent("\(name).sqlite")
        let expected = expectedSize(events: events)
        var seconds: Double?
        if (try? validSize(path)) != expected {
            guard allowed else { throw BenchError("no cached ledger at \(path)") }
            remove(path)
            let partial = (directory as NSString).appendingPathComponent("\(name).partial.sqlite")
            remove(partial)
            seconds = try Measure.seconds { try generate(events: events, seed: seed, path: partial) }
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: partial + suffix) {
                try FileManager.default.moveItem(atPath: partial + suffix, toPath: path + suffix)
            }
            guard try validSize(path) == expected else {
                throw SimulationError("the generated ledger \(path) does not hold \(expected) entries")
            }
        }
        let store = try SQLiteLedgerStore.open(path: path)
        let tail = try store.read { reader in try reader.checkpoints().suffix(tailBatches).map(\.size) }
        return Prepared(
            events: events,
            path: path,
            treeSize: expected,
            shortProducts: try shortProducts(),
            longProducts: try longProducts(),
            tailCheckpoints: tail,
            generatedSeconds: seconds
        )
    }

    private static func validSize(_ path: String) throws -> UInt64? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let store = try SQLiteLedgerStore.open(path: path)
        return try store.read { reader in
            guard try reader.metadata("format") == "retrace/v1", let latest = try reader.latestCheckpoint(),
                latest.size == (try reader.treeSize())
            else { return nil }
            return latest.size
        }
    }

    /// Reads the ledger file (and its WAL) once, so the figures that follow are taken with it in the
    /// OS page cache, as on a server that keeps serving it. This VM pages out file pages idle for
    /// about a minute (DAMON proactive reclaim), so each section reads its ledger again first.
    static func warmPageCache(_ path: String) {
        for suffix in ["", "-wal"] {
            guard let handle = FileHandle(forReadingAtPath: path + suffix) else { continue }
            while let chunk = try? handle.read(upToCount: 8 << 20), !chunk.isEmpty {}
            try? handle.close()
        }
    }

    static func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    private static func generate(events: Int, seed: UInt64, path: String) throws {
        let parties = Workload.parties
        let ledger = try Ledger.create(
            store: SQLiteLedgerStore.create(path: path),
            origin: TestParties.origin,
            logSigner: parties.log,
            governance: [parties.governance.verifier],
            roster: parties.signedRoster(time: Workload.start)
        )
        let steps = try probeSteps()
        let generator = LedgerGenerator(configuration: .forEvents(events, seed: seed), parties: parties)
        let batches = max(1, (events + generator.configuration.batchSize - 1) / generator.configuration.batchSize)
        var done = 0
        var nextStep = 0
        var lastReport = Measure.now()
        // Signing the story and checking each batch's signatures run on a thread of their own,
        // a few batches ahead, while this thread commits: the same durable append path (each
        // batch still all its checks, committed with synchronous=FULL and checkpointed), with the
        // generator's own signing no longer in series with it (issue 15's generation target).
        let pipeline = BatchPipeline(capacity: 4)
        let producer = Thread {
            do {
                _ = try generator.run { batch in
                    // With batches waiting, the committing thread is the one that sets the pace:
                    // the checks leave its core alone. With none, it is about to wait for this
                    // batch, which then takes every core (a host whose commits are fast).
                    let threads = pipeline.isEmpty ? Parallelism.cores : Parallelism.cores - 1
                    pipeline.put(.success(ledger.prepare(batch, threads: threads)))
                }
                pipeline.put(nil)
            } catch {
                pipeline.put(.failure(error))
            }
        }
        producer.stackSize = 8 << 20
        producer.start()
        defer { pipeline.cancel() }
        // How long this thread waited for the producer: which side of the pipeline sets the pace.
        var waited: UInt64 = 0
        while let next = Measure.waiting(&waited, pipeline.take()) {
            let prepared = try next.get()
            if let refused = ledger.append(prepared: [prepared]).first, case .failure(let error) = refused {
                throw error
            }
            done += 1
            while nextStep < steps.count, nextStep * batches / stepCount < done {
                try ledger.append(steps[nextStep])
                nextStep += 1
            }
            if Measure.now() - lastReport > 30_000_000_000 {
                lastReport = Measure.now()
                FileHandle.standardError.write(Data("  … \(done) of \(batches) batches\n".utf8))
            }
        }
        FileHandle.standardError.write(
            Data(
                "  the committing thread waited \(Measure.format(Double(waited) / 1e9, 1)) s for prepared batches\n"
                    .utf8
            )
        )
        while nextStep < steps.count {
            try ledger.append(steps[nextStep])
            nextStep += 1
        }
        let tail = try Workload.commissions(tailBatches * tailBatchSize, serialPrefix: "T-")
        for start in stride(from: 0, to: tail.count, by: tailBatchSize) {
            try ledger.append(Array(tail[start..<min(tail.count, start + tailBatchSize)]))
        }
    }

    /// Event k of every probe product, for k = 0 ..< ``stepCount``.
    private static func probeSteps() throws -> [[SignedStatement]] {
        var chains: [[SignedStatement]] = []
        for product in try shortProducts() {
            var recorder = ChainRecorder(parties: Workload.parties)
            try stock(product, &recorder)
            chains.append(recorder.statements)
        }
        for product in try longProducts() {
            var recorder = ChainRecorder(parties: Workload.parties)
            try longChain(product, &recorder)
            chains.append(recorder.statements)
        }
        return (0..<stepCount).map { step in chains.compactMap { step < $0.count ? $0[step] : nil } }
    }

    static let order = Digest.of(Array("bench-order".utf8))

    static func time(_ step: Int) -> Timestamp { Workload.start.adding(seconds: Int64(step) * 3_600) }

    /// Commission, ship to the retailer, receive: a 3-event chain.
    static func stock(_ product: SGTIN, _ recorder: inout ChainRecorder) throws {
        try recorder.record(.commission, product, by: "northwind", at: time(0), details: ["massGrams": .integer(180)])
        try recorder.record(.ship, product, by: "northwind", at: time(1), details: ["consignee": .string("fabrikam")])
        try recorder.record(.receive, product, by: "fabrikam", at: time(2))
    }

    /// A 20-event chain: stocked and sold, then returned, inspected as new, restocked, sent back to
    /// the retailer and sold again, twice, and returned once more.
    static func longChain(_ product: SGTIN, _ recorder: inout ChainRecorder) throws {
        try stock(product, &recorder)
        var step = 3
        func next() -> Timestamp {
            step += 1
            return time(step)
        }
        try recorder.record(
            .sell,
            product,
            by: "fabrikam",
            at: next(),
            details: ["orderDigest": .string(order.hex)]
        )
        for round in 0..<2 {
            try returned(product, round: round, &recorder, next)
            try recorder.record(.inspect, product, by: "litware", at: next(), details: ["grade": .string("as-new")])
            try recorder.record(.restock, product, by: "litware", at: next())
            try recorder.record(.ship, product, by: "litware", at: next(), details: ["consignee": .string("fabrikam")])
            try recorder.record(.receive, product, by: "fabrikam", at: next())
            try recorder.record(
                .sell,
                product,
                by: "fabrikam",
                at: next(),
                details: ["orderDigest": .string(order.hex)]
            )
        }
        try returned(product, round: 2, &recorder, next)
        try recorder.record(.inspect, product, by: "litware", at: next(), details: ["grade": .string("good")])
    }

    static func returned(
        _ product: SGTIN,
        round: Int,
        _ recorder: inout ChainRecorder,
        _ next: () -> Timestamp
    ) throws {
        let rma = "RMA-\(round)-\(product.serial.value)"
        try recorder.record(
            .returnAuthorize,
            product,
            by: "fabrikam",
            at: next(),
            details: ["rma": .string(rma), "reason": .string("no-longer-needed")]
        )
        try recorder.record(
            .returnReceive,
            product,
            by: "litware",
            at: next(),
            details: ["condition": .string("sealed"), "scanned": .string(product.digitalLink), "rma": .string(rma)]
        )
    }
}

/// A bounded hand-off of prepared batches from the generating thread to the committing one, in
/// order; `nil` marks the end. Its state is only touched with `condition` locked.
final class BatchPipeline: @unchecked Sendable {
    private var items: [Result<Ledger.PreparedBatch, any Error>?] = []
    private var cancelled = false
    private let capacity: Int
    private let condition = NSCondition()

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Whether no batch is waiting to be taken.
    var isEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return items.isEmpty
    }

    /// Waits while the pipeline is full; drops the item once the consumer has given up.
    func put(_ item: Result<Ledger.PreparedBatch, any Error>?) {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled, items.count >= capacity { condition.wait() }
        if !cancelled { items.append(item) }
        condition.broadcast()
    }

    func take() -> Result<Ledger.PreparedBatch, any Error>? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty { condition.wait() }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    /// Lets a producer blocked in ``put(_:)`` finish without anyone taking its batches.
    func cancel() {
        condition.lock()
        defer { condition.unlock() }
        cancelled = true
        condition.broadcast()
    }
}
