import Foundation
import GRDB
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceStorage
import Synchronization

/// Append throughput on the generator's realistic mix, continuing a cached ledger's story.
///
/// Each mode appends the same next events of the seeded story (``Story``) to its own byte copy of
/// the largest ledger of the run (10^5 entries with `--quick`, 10^6 otherwise), so every append
/// looks up chain heads and decodes product states in a file of that size, as a service's appends
/// do. Durable (synchronous=FULL), every signature, roster, chain and lifecycle rule checked, one
/// checkpoint signed per batch. Before timing, the copy is opened and the first batch is judged
/// without writing (``Ledger/check(_:)``): that builds the in-memory heads map and reads the
/// roster, which a running service has done once at start, not per batch.
enum AppendBenchmark {
    /// One mode's figures.
    struct Figures: Codable, Sendable {
        /// `sequential` (each batch verified, then committed) or `pipelined` (the next batch verified
        /// on the other cores while this one commits, as the HTTP service's sequencer does).
        let mode: String
        let batch: Int
        let ledgerEntries: UInt64
        let events: Int
        let seconds: Double
        let eventsPerSecond: Double
        let batchP50Ms: Double
        let batchP99Ms: Double
        /// User + system CPU of the whole process (all threads) per appended event.
        let cpuMicrosPerEvent: Double
        let userMicrosPerEvent: Double
        let systemMicrosPerEvent: Double
        /// The wrapper's 1-core verify rate measured just before this mode, and just after it.
        let verifyPerSecondBefore: Double
        let verifyPerSecondAfter: Double
        /// events/s ÷ (cores × the mean of those two rates).
        let ratioToCoresTimesVerify: Double
        /// events/s ÷ (cores × `openssl speed ed25519` verify/s of this run), when openssl ran.
        let ratioToCoresTimesOpensslSpeed: Double?
        /// events/s ÷ what all cores verified together (``Baseline/allCoresVerifyPerSecond``, the mean
        /// of the samples before and after this mode): the ceiling the cores actually offer.
        let ratioToCoresVerifyingTogether: Double
        /// That rate ÷ the one-core rate (2.0 when two cores add up).
        let coreScaling: Double
        /// CPU per statement of authenticating the same statements on one core, measured just
        /// before this mode (``SignatureCPU``).
        let signatureMicrosPerEvent: Double
        /// signatureMicrosPerEvent ÷ cpuMicrosPerEvent: what the ratio would be with every other
        /// microsecond perfectly overlapped, whatever the number of cores kept busy.
        let signatureShareOfCPU: Double
    }

    /// What the appended events are.
    struct Mix: Codable, Sendable {
        let events: Int
        /// Event type → count among the appended events.
        let types: [String: Int]
        /// Events extending a chain whose head was in the ledger file before the benchmark.
        let continuingFileChains: Int
        /// Events extending a chain whose head an earlier batch of this benchmark committed (a lookup
        /// in the file, as for the previous kind).
        let continuingEarlierBatch: Int
        /// Events extending a chain whose head is in the same batch (found without the file).
        let continuingSameBatch: Int
        /// Events starting a chain (commissions) or with no single previous (batch statements).
        let other: Int
    }

    struct Result: Codable, Sendable {
        let mix: Mix
        let modes: [Figures]
        /// What the store alone costs for the same appends, and how close each mode is to the
        /// floor it sets with the signatures; `nil` when it could not be measured.
        let floor: StoreFloor?
    }

    /// The append's floor on this schema: its signature checks plus its store's work, each
    /// measured on its own (``StoreRecording``).
    struct StoreFloor: Codable, Sendable {
        /// Transactions replayed (reads and writes) and the events they appended.
        let transactions: Int
        let events: Int
        /// The replay's user + system CPU, and its wall time (fsyncs included), per event.
        let storeCPUMicrosPerEvent: Double
        let storeWallMicrosPerEvent: Double
        /// Bytes the process handed to `write`/`pwrite` during the replay (Linux `/proc/self/io`
        /// `wchar`), per event: WAL frames and the background checkpoints' copies of them into the
        /// file — what the B-tree pages an event dirties cost, against its bytes on disk. As for
        /// the modes, a checkpoint still running when the last commit returns is not counted.
        let bytesWrittenPerEvent: Double
        /// The sequential mode's ``Figures/signatureMicrosPerEvent``.
        let signatureMicrosPerEvent: Double
        /// min(cores ÷ (signature + store CPU), 1 ÷ store wall): every microsecond of both spread
        /// over the cores, and the one writer never waiting on anything else.
        let ceilingEventsPerSecond: Double
        let modes: [Closeness]
        /// The same writes split by table, each replayed alone on a fresh copy (reads left out):
        /// which rows the store's cost comes from.
        let tables: [TableCost]
        /// What the `event_id` index costs: the entries' rows replayed alone on a copy whose
        /// `entries` table has no index on `event_id`, against the same rows with it; `nil` when
        /// the copy could not be made.
        let eventIndex: EventIndexCost?

        struct EventIndexCost: Codable, Sendable {
            /// The entries' rows alone, with their index and without it.
            let withIndex: TableCost
            let withoutIndex: TableCost
            /// The store's CPU per event less the index's (with minus without), and the ceiling it
            /// would leave by the same formula as ``StoreFloor/ceilingEventsPerSecond``: the most an
            /// append on this schema could reach were that index free.
            let storeCPUMicrosPerEventWithoutIndex: Double
            let ceilingEventsPerSecondWithoutIndex: Double
        }

        struct TableCost: Codable, Sendable {
            let rows: String
            let cpuMicrosPerEvent: Double
            let bytesWrittenPerEvent: Double
        }

        struct Closeness: Codable, Sendable {
            let mode: String
            /// events/s ÷ ``StoreFloor/ceilingEventsPerSecond``.
            let ratioToFloorCeiling: Double
            /// CPU per event neither in the signature check nor in the store: the ledger's own
            /// work (rules, state encoding, hashing, the heads map, staging) and its threads.
            let ownMicrosPerEvent: Double
        }
    }

    static func events(quick: Bool) -> Int { quick ? 10_000 : 50_000 }

    static func run(
        _ ledger: LedgerCache.Prepared,
        story: Story,
        events count: Int,
        opensslSpeed: Double?
    ) throws -> Result {
        let statements = Array(story.next.prefix(count))
        let batches = stride(from: 0, to: statements.count, by: 1_000).map {
            Array(statements[$0..<min(statements.count, $0 + 1_000)])
        }
        let mix = mix(of: statements)
        print("\n## Append on the generator's realistic mix, continuing a ledger of \(ledger.treeSize) entries")
        print(
            "durable (synchronous=FULL); signature, roster, chain and lifecycle checked; checkpoint per batch; "
                + "each mode on its own copy of the ledger file"
        )
        print(
            "appended: \(mix.events) events; \(mix.continuingFileChains) extend a chain already in the file, "
                + "\(mix.continuingEarlierBatch) one an earlier batch committed, \(mix.continuingSameBatch) one in the same "
                + "batch; \(mix.other) commissions or batch statements"
        )
        print(
            "types: " + mix.types.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        )
        var table = Table(
            "mode",
            "batch",
            "events",
            "events/s",
            "batch p50 ms",
            "batch p99 ms",
            "CPU µs/event",
            "verify/s before/after",
            "ratio to cores×verify",
            "ratio to cores×openssl speed",
            "ratio to the cores verifying together",
            "signature CPU µs/event",
            "signature share of CPU"
        )
        var modes: [Figures] = []
        for mode in ["sequential", "pipelined"] {
            let local = try Baseline.measure(seconds: 1)
            let figures = try measure(
                mode: mode,
                ledger: ledger,
                batches: batches,
                baseline: local,
                opensslSpeed: opensslSpeed
            )
            modes.append(figures)
            table.add(
                mode,
                "\(figures.batch)",
                "\(figures.events)",
                Measure.format(figures.eventsPerSecond),
                Measure.ms(figures.batchP50Ms),
                Measure.ms(figures.batchP99Ms),
                Measure.format(figures.cpuMicrosPerEvent, 1),
                Measure.format(figures.verifyPerSecondBefore) + "/" + Measure.format(figures.verifyPerSecondAfter),
                Measure.percent(figures.ratioToCoresTimesVerify),
                figures.ratioToCoresTimesOpensslSpeed.map(Measure.percent) ?? "-",
                "\(Measure.percent(figures.ratioToCoresVerifyingTogether)) (\(Measure.format(figures.coreScaling, 2))×)",
                Measure.format(figures.signatureMicrosPerEvent, 1),
                Measure.percent(figures.signatureShareOfCPU)
            )
        }
        table.print()
        let floor: StoreFloor?
        do {
            floor = try storeFloor(ledger: ledger, batches: batches, modes: modes)
        } catch {
            print("(store floor not measured: \(error))")
            floor = nil
        }
        print("(pipelined: the next batch's signatures are checked while this one commits)")
        print(
            "(every ratio is against the mean of 1-second samples just before and just after its mode; the cores "
                + "verifying together: one verifying thread per core, and how many single cores that is; cores × "
                + "verify assumes the cores add up)"
        )
        print(
            "(signature share of CPU: the same statements authenticated on one core just before, ÷ CPU per appended "
                + "event — the ratio's ceiling with everything else overlapped)"
        )
        if let floor { printFloor(floor) }
        return Result(mix: mix, modes: modes, floor: floor)
    }

    /// Appends the batches once more through a ``RecordingStore``, then replays what the store was
    /// asked on a fresh copy of the same file: the first transactions (opening the ledger and the
    /// untimed first check, as in ``measure``) untimed, the appends' timed.
    static func storeFloor(
        ledger cached: LedgerCache.Prepared,
        batches: [[SignedStatement]],
        modes: [Figures]
    ) throws -> StoreFloor {
        let recording = StoreRecording()
        let recorded = try copy(cached.path)
        defer { Workload.remove(recorded) }
        let recordedStore = try SQLiteLedgerStore.open(path: recorded)
        let ledger = try Ledger.open(
            store: RecordingStore(base: recordedStore, recording: recording),
            logSigner: Workload.parties.log
        )
        try ledger.check(batches[0])
        let untimed = recording.transactions.count
        for batch in batches { try ledger.append(batch) }
        let total = recording.transactions.count

        let events = batches.reduce(0) { $0 + $1.count }
        // Each replay on a fresh copy, after the same untimed start (so SQLite's own cache is as
        // warm as the recorded run's), timed from the appends on. The copy is removed on return.
        func replay(
            only keep: ((StoreRecording.Call) -> Bool)? = nil,
            on file: String? = nil,
            startWithReads: Bool = true,
            checking: (SQLiteLedgerStore) throws -> Void = { _ in }
        ) throws -> (cpuMicros: Double, wallMicros: Double, bytes: Double) {
            let path = try copy(file ?? cached.path)
            defer { Workload.remove(path) }
            let store = try SQLiteLedgerStore.open(path: path)
            try recording.replay(on: store, 0..<untimed, only: startWithReads ? nil : keep)
            LedgerCache.warmPageCache(path)
            let before = Measure.bytesWritten()
            let used = try Measure.cpu { try recording.replay(on: store, untimed..<total, only: keep) }
            let written = Measure.bytesWritten() - before
            try checking(store)
            let perEvent = 1 / Double(events)
            return (
                Double(used.user + used.system) / 1e3 * perEvent, used.wall * 1e6 * perEvent,
                Double(written) * perEvent
            )
        }
        let whole = try replay(checking: { store in
            // The replay must have built the same log, or its cost is not the append's store cost.
            let heads = try [recordedStore, store].map { store in
                try store.read { reader in try (reader.treeSize(), reader.latestCheckpoint()) }
            }
            guard heads[0].0 == heads[1].0, heads[0].1 == heads[1].1, heads[1].0 > cached.treeSize else {
                throw BenchError(
                    "the replayed store differs from the recorded one (size \(heads[1].0), not \(heads[0].0))"
                )
            }
        })
        let storeCPU = whole.cpuMicros
        let storeWall = whole.wallMicros
        let subsets: [(String, (StoreRecording.Call) -> Bool)] = [
            (
                "entries (each row, its event-id index entry)",
                {
                    if case .insertEntry = $0 { true } else { false }
                }
            ),
            (
                "chain links (each product's next link, its state moved)",
                {
                    if case .insertLink = $0 { true } else { false }
                }
            ),
            (
                "products (commissions: row and serial index)",
                {
                    if case .insertProduct = $0 { true } else { false }
                }
            ),
            (
                "Merkle nodes, checkpoints, metadata",
                {
                    switch $0 {
                    case .insertNodes, .insertCheckpoint, .setMetadata: true
                    default: false
                    }
                }
            ),
        ]
        let tables = try subsets.map { rows, keep in
            let cost = try replay(only: keep)
            return StoreFloor.TableCost(
                rows: rows,
                cpuMicrosPerEvent: cost.cpuMicros,
                bytesWrittenPerEvent: cost.bytes
            )
        }
        let signature = modes.first { $0.mode == "sequential" }?.signatureMicrosPerEvent ?? 0
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        let ceiling = min(cores * 1e6 / (signature + storeCPU), 1e6 / storeWall)
        let eventIndex: StoreFloor.EventIndexCost?
        do {
            eventIndex = try eventIndexCost(
                // Both files start with the kept writes alone: on the one without the event-id
                // index the start's reads by id would be whole-table scans.
                replayEntries: { file in
                    try replay(
                        only: { if case .insertEntry = $0 { true } else { false } },
                        on: file,
                        startWithReads: false
                    )
                },
                original: cached.path,
                storeCPU: storeCPU,
                storeWall: storeWall,
                signature: signature,
                cores: cores
            )
        } catch {
            print("(the event-id index's cost not measured: \(error))")
            eventIndex = nil
        }
        return StoreFloor(
            transactions: total - untimed,
            events: events,
            storeCPUMicrosPerEvent: storeCPU,
            storeWallMicrosPerEvent: storeWall,
            bytesWrittenPerEvent: whole.bytes,
            signatureMicrosPerEvent: signature,
            ceilingEventsPerSecond: ceiling,
            modes: modes.map {
                StoreFloor.Closeness(
                    mode: $0.mode,
                    ratioToFloorCeiling: $0.eventsPerSecond / ceiling,
                    ownMicrosPerEvent: $0.cpuMicrosPerEvent - signature - storeCPU
                )
            },
            tables: tables,
            eventIndex: eventIndex
        )
    }

    /// The entries' rows replayed with and without their `event_id` index, twice each in turn
    /// (the machine drifts; each keeps its cheaper run), and the store's cost and ceiling without
    /// the index: how much of the append's floor that one index is.
    static func eventIndexCost(
        replayEntries: (String) throws -> (cpuMicros: Double, wallMicros: Double, bytes: Double),
        original: String,
        storeCPU: Double,
        storeWall: Double,
        signature: Double,
        cores: Double
    ) throws -> StoreFloor.EventIndexCost {
        let unindexed = try copyWithoutEventIndex(original)
        defer { Workload.remove(unindexed) }
        var with: [(cpuMicros: Double, wallMicros: Double, bytes: Double)] = []
        var without: [(cpuMicros: Double, wallMicros: Double, bytes: Double)] = []
        for _ in 0..<2 {
            with.append(try replayEntries(original))
            without.append(try replayEntries(unindexed))
        }
        let best = { (runs: [(cpuMicros: Double, wallMicros: Double, bytes: Double)]) in
            runs.dropFirst().reduce(runs[0]) { $1.cpuMicros < $0.cpuMicros ? $1 : $0 }
        }
        let (indexed, bare) = (best(with), best(without))
        let indexCPU = max(0, indexed.cpuMicros - bare.cpuMicros)
        let cpuWithout = max(0, storeCPU - indexCPU)
        let wallWithout = max(1e-3, storeWall - max(0, indexed.wallMicros - bare.wallMicros))
        return StoreFloor.EventIndexCost(
            withIndex: .init(
                rows: "entries with their event-id index",
                cpuMicrosPerEvent: indexed.cpuMicros,
                bytesWrittenPerEvent: indexed.bytes
            ),
            withoutIndex: .init(
                rows: "entries without it",
                cpuMicrosPerEvent: bare.cpuMicros,
                bytesWrittenPerEvent: bare.bytes
            ),
            storeCPUMicrosPerEventWithoutIndex: cpuWithout,
            ceilingEventsPerSecondWithoutIndex: min(cores * 1e6 / (signature + cpuWithout), 1e6 / wallWithout)
        )
    }

    static func printFloor(_ floor: StoreFloor) {
        print(
            "\nThe store alone (the same \(floor.transactions) transactions' reads and writes, fsyncs included, replayed "
                + "on a fresh copy: nothing parsed, judged, hashed or signed): "
                + "\(Measure.format(floor.storeCPUMicrosPerEvent, 1)) µs CPU and "
                + "\(Measure.format(floor.storeWallMicrosPerEvent, 1)) µs wall per event; "
                + "\(Measure.format(floor.bytesWrittenPerEvent / 1024, 1)) KiB written per event (WAL frames and "
                + "their checkpoint into the file)"
        )
        print(
            "Floor per event = signature \(Measure.format(floor.signatureMicrosPerEvent, 1)) µs + store "
                + "\(Measure.format(floor.storeCPUMicrosPerEvent, 1)) µs of CPU; ceiling on these cores "
                + "\(Measure.format(floor.ceilingEventsPerSecond)) events/s"
        )
        var table = Table(
            "mode",
            "ratio to the floor's ceiling",
            "ledger's own CPU µs/event (neither signature nor store)"
        )
        for mode in floor.modes {
            table.add(mode.mode, Measure.percent(mode.ratioToFloorCeiling), Measure.format(mode.ownMicrosPerEvent, 1))
        }
        table.print()
        print(
            "The store's writes by table, each replayed alone on a fresh copy (its transactions and fsyncs, no reads):"
        )
        var byTable = Table("rows", "CPU µs/event", "KiB written/event")
        for cost in floor.tables {
            byTable.add(
                cost.rows,
                Measure.format(cost.cpuMicrosPerEvent, 1),
                Measure.format(cost.bytesWrittenPerEvent / 1024, 2)
            )
        }
        byTable.print()
        if let index = floor.eventIndex {
            print(
                "The event-id index (UNIQUE on entries.event_id, keyed by a SHA-256 value, so each event's "
                    + "entry lands on a random leaf): the entries' rows replayed alone with it, "
                    + "\(Measure.format(index.withIndex.cpuMicrosPerEvent, 1)) µs and "
                    + "\(Measure.format(index.withIndex.bytesWrittenPerEvent / 1024, 2)) KiB per event, and on a copy "
                    + "whose entries table has none, \(Measure.format(index.withoutIndex.cpuMicrosPerEvent, 1)) µs and "
                    + "\(Measure.format(index.withoutIndex.bytesWrittenPerEvent / 1024, 2)) KiB (the better of two "
                    + "runs each). Were it free: store \(Measure.format(index.storeCPUMicrosPerEventWithoutIndex, 1)) µs "
                    + "of CPU per event, ceiling \(Measure.format(index.ceilingEventsPerSecondWithoutIndex)) events/s"
            )
        }
    }

    static func mix(of statements: [SignedStatement], batch: Int = 1_000) -> Mix {
        var types: [String: Int] = [:]
        var batchOf: [Digest: Int] = [:]
        var file = 0
        var earlier = 0
        var same = 0
        var other = 0
        for (index, signed) in statements.enumerated() {
            types[signed.statement.type.name, default: 0] += 1
            if let previous = signed.statement.previous {
                switch batchOf[previous] {
                case nil: file += 1
                case index / batch: same += 1
                default: earlier += 1
                }
            } else {
                other += 1
            }
            batchOf[signed.id] = index / batch
        }
        return Mix(
            events: statements.count,
            types: types,
            continuingFileChains: file,
            continuingEarlierBatch: earlier,
            continuingSameBatch: same,
            other: other
        )
    }

    /// A copy of `path` whose `entries` table has no index on `event_id` (the table rebuilt
    /// without its UNIQUE constraint, rows and triggers as they were). Not a ledger to run — it
    /// cannot refuse a duplicate statement or find an event by id — only a file on which the same
    /// rows show what that index costs.
    static func copyWithoutEventIndex(_ path: String) throws -> String {
        let target = try copy(path)
        let queue = try DatabaseQueue(path: target)
        try queue.writeWithoutTransaction { db in
            try db.inTransaction {
                let create = try String.fetchOne(
                    db,
                    sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'entries'"
                )
                guard let create, create.contains("event_id BLOB NOT NULL UNIQUE") else {
                    throw BenchError("the entries table is not the one this experiment rebuilds: \(create ?? "none")")
                }
                let triggers = try String.fetchAll(
                    db,
                    sql: "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'entries'"
                )
                try db.execute(
                    sql: create.replacingOccurrences(of: "CREATE TABLE entries", with: "CREATE TABLE entries_bare")
                        .replacingOccurrences(of: "event_id BLOB NOT NULL UNIQUE", with: "event_id BLOB NOT NULL")
                )
                try db.execute(sql: "INSERT INTO entries_bare SELECT * FROM entries")
                try db.execute(sql: "DROP TABLE entries")
                try db.execute(sql: "ALTER TABLE entries_bare RENAME TO entries")
                for trigger in triggers { try db.execute(sql: trigger) }
                return .commit
            }
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        try queue.close()
        return target
    }

    /// Copies `path` (and its WAL) into a fresh temporary directory, flushed to disk; returns the
    /// copy's path.
    static func copy(_ path: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "retrace-bench-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let target = directory.appendingPathComponent("append.sqlite").path
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: target + suffix)
            // Flushed here, untimed: left dirty in the page cache, the copy's hundreds of MB were
            // written out by the first `fdatasync` of the database file — the first WAL checkpoint
            // of the measured appends — and the WAL syncs beside it waited on the same disk: one
            // batch in ten took 0.7–1.2 s instead of about 0.11 s, a third of the run's wall time
            // (strace of `retrace-bench phase --phase append`, 2026-12-05), a cost of setting up the
            // benchmark that no ledger in service pays.
            let copied = try FileHandle(forUpdating: URL(fileURLWithPath: target + suffix))
            defer { try? copied.close() }
            try copied.synchronize()
        }
        return target
    }

    static func measure(
        mode: String,
        ledger cached: LedgerCache.Prepared,
        batches: [[SignedStatement]],
        baseline: Baseline,
        opensslSpeed: Double?
    ) throws -> Figures {
        let path = try copy(cached.path)
        defer { Workload.remove(path) }
        let ledger = try Ledger.open(store: SQLiteLedgerStore.open(path: path), logSigner: Workload.parties.log)
        try ledger.check(batches[0])
        let signature = SignatureCPU.microsPerStatement(batches.flatMap { $0 }, trust: try ledger.trustState())
        LedgerCache.warmPageCache(path)
        var samples: [UInt64] = []
        let used = try Measure.cpu {
            if mode == "pipelined" {
                samples = try pipelined(ledger, batches)
            } else {
                for batch in batches {
                    let start = Measure.now()
                    try ledger.append(batch)
                    samples.append(Measure.now() - start)
                }
            }
        }
        let after = try Baseline.measure(seconds: 1)
        let bracket = Baseline.around(baseline, after)
        let events = batches.reduce(0) { $0 + $1.count }
        let rate = Double(events) / used.wall
        let (p50, p99) = Measure.percentiles(samples)
        let perEvent = { (nanos: UInt64) in Double(nanos) / 1e3 / Double(max(1, events)) }
        return Figures(
            mode: mode,
            batch: batches.first?.count ?? 0,
            ledgerEntries: cached.treeSize,
            events: events,
            seconds: used.wall,
            eventsPerSecond: rate,
            batchP50Ms: p50,
            batchP99Ms: p99,
            cpuMicrosPerEvent: perEvent(used.user + used.system),
            userMicrosPerEvent: perEvent(used.user),
            systemMicrosPerEvent: perEvent(used.system),
            verifyPerSecondBefore: baseline.verifyPerSecond,
            verifyPerSecondAfter: after.verifyPerSecond,
            ratioToCoresTimesVerify: rate / bracket.ceiling,
            ratioToCoresTimesOpensslSpeed: opensslSpeed.map { rate / (Double(baseline.cores) * $0) },
            ratioToCoresVerifyingTogether: rate / bracket.allCoresVerifyPerSecond,
            coreScaling: bracket.coreScaling,
            signatureMicrosPerEvent: signature,
            signatureShareOfCPU: signature / max(perEvent(used.user + used.system), 1e-9)
        )
    }

    /// Batches with the next batch's signatures checked (``Ledger/prepare(_:threads:)``, on the
    /// cores the commit leaves) while the current one commits: verification and the sequential
    /// commit overlap instead of alternating. Returns each commit's wall time.
    static func pipelined(_ ledger: Ledger, _ batches: [[SignedStatement]]) throws -> [UInt64] {
        var samples: [UInt64] = []
        var current = ledger.prepare(batches[0])
        for index in batches.indices {
            let next = Mutex<Ledger.PreparedBatch?>(nil)
            let group = DispatchGroup()
            if index + 1 < batches.count {
                let upcoming = batches[index + 1]
                DispatchQueue.global().async(group: group) {
                    let prepared = ledger.prepare(upcoming, threads: Parallelism.cores - 1)
                    next.withLock { $0 = prepared }
                }
            }
            let start = Measure.now()
            _ = try ledger.append(prepared: [current])[0].get()
            samples.append(Measure.now() - start)
            group.wait()
            if let prepared = next.withLock({ $0 }) { current = prepared }
        }
        return samples
    }
}
