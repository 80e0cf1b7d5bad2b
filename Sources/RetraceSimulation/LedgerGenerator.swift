import CanonicalJSON
import Dispatch
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules
import Synchronization

/// Generates realistic ledgers at scale: supply, sales, deliveries, returns by reason, repairs,
/// refurbishment and resale, leases, warranty claims, trade-ins, excess stock, recycling (single
/// certificates and pallet batches), disposal, and planted frauds with the dock scans that expose them.
///
/// Deterministic from the seed: each product draws from its own generator stream, so the output
/// does not depend on thread scheduling. Products are built and signed in parallel, a cohort at a
/// time; their statements are then interleaved round-robin (each product's chain stays in order)
/// and handed out in batches of ``Configuration/batchSize``. Every statement is legal for the
/// lifecycle rules, so a ledger created with the test parties' roster accepts all of it.
public struct LedgerGenerator: Sendable {
    /// What to generate.
    public struct Configuration: Sendable {
        /// How many products to commission.
        public var products: Int
        public var seed: UInt64
        /// Share of delivered sales that come back with a return authorisation.
        public var returnRate: Double
        /// Return reasons (catalogue codes) and their weights.
        public var reasonMix: [(reason: String, weight: Double)]
        /// Share of products set up as one of the fraud patterns (with a dock probe each).
        public var fraudShare: Double
        /// Statements per batch handed to the callback (one `Ledger.append` each, typically).
        public var batchSize: Int
        /// Products built together and interleaved; bounds memory (about 10 statements each).
        public var cohortSize: Int
        /// Stop after this many statements (the chains are cut, never broken: every prefix is valid).
        public var eventLimit: Int?
        /// The first product's commissioning time; products start `productSpacing` seconds apart.
        public var start: Timestamp
        public var productSpacing: Int64
        /// Put into every serial, so several runs can go into one ledger without colliding.
        public var serialTag: String

        /// Return reasons as a mid-size online electronics retailer sees them.
        public static let typicalReasonMix: [(reason: String, weight: Double)] = [
            ("wrong-size", 0.10), ("defective", 0.22), ("damaged-in-transit", 0.07), ("not-as-described", 0.15),
            ("late-delivery", 0.04), ("no-longer-needed", 0.30), ("wrong-item", 0.05), ("missing-parts", 0.04),
            ("undeliverable", 0.03),
        ]

        public init(
            products: Int = 1_000,
            seed: UInt64 = 1,
            returnRate: Double = 0.18,
            reasonMix: [(reason: String, weight: Double)] = Configuration.typicalReasonMix,
            fraudShare: Double = 0.01,
            batchSize: Int = 1_000,
            cohortSize: Int = 1_024,
            eventLimit: Int? = nil,
            start: Timestamp = Timestamp(secondsSinceEpoch: 1_736_150_400),  // 2025-01-06T08:00:00Z
            productSpacing: Int64 = 20,
            serialTag: String = "G"
        ) {
            self.products = products
            self.seed = seed
            self.returnRate = returnRate
            self.reasonMix = reasonMix
            self.fraudShare = fraudShare
            self.batchSize = batchSize
            self.cohortSize = cohortSize
            self.eventLimit = eventLimit
            self.start = start
            self.productSpacing = productSpacing
            self.serialTag = serialTag
        }

        /// A configuration for about `events` statements: enough products, cut at exactly `events`.
        public static func forEvents(_ events: Int, seed: UInt64 = 1) -> Configuration {
            Configuration(products: events / 7 + 64, seed: seed, eventLimit: events)
        }
    }

    /// What a run produced.
    public struct Summary: Sendable {
        public internal(set) var products = 0
        public internal(set) var events = 0
        public internal(set) var batches = 0
        /// Event type name → count.
        public internal(set) var eventsByType: [String: Int] = [:]
        /// Dock scans that must expose the planted frauds (time, dock and expected verdict each).
        public internal(set) var probes: [DemoScan] = []
    }

    public let configuration: Configuration
    public let parties: TestParties

    public init(configuration: Configuration, parties: TestParties) {
        self.configuration = configuration
        self.parties = parties
    }

    /// Generates everything, calling `body` with each batch in append order.
    @discardableResult
    public func run(_ body: ([SignedStatement]) throws -> Void) throws -> Summary {
        let config = configuration
        guard config.products >= 0, config.batchSize >= 1, config.cohortSize >= 1 else {
            throw SimulationError("products must be ≥ 0, batchSize and cohortSize ≥ 1")
        }
        var summary = Summary()
        var buffer: [SignedStatement] = []
        buffer.reserveCapacity(config.batchSize)
        let limit = config.eventLimit ?? Int.max
        var cohortStart = 0
        func emit(_ signed: SignedStatement) throws {
            buffer.append(signed)
            summary.events += 1
            summary.eventsByType[signed.statement.type.name, default: 0] += 1
            if buffer.count == config.batchSize {
                try body(buffer)
                summary.batches += 1
                buffer.removeAll(keepingCapacity: true)
            }
        }
        outer: while cohortStart < config.products, summary.events < limit {
            let cohortEnd = min(config.products, cohortStart + config.cohortSize)
            let cohort = try buildCohort(cohortStart..<cohortEnd)
            let longest = cohort.chains.map(\.count).max() ?? 0
            for step in 0..<longest {
                for chain in cohort.chains where step < chain.count {
                    guard summary.events < limit else { break outer }
                    try emit(chain[step])
                }
            }
            if let pallet = cohort.pallet {
                guard summary.events < limit else { break outer }
                try emit(pallet)
            }
            summary.probes += cohort.probes
            cohortStart = cohortEnd
        }
        if !buffer.isEmpty {
            try body(buffer)
            summary.batches += 1
        }
        // A cut run ends inside a cohort: count the products actually started.
        summary.products = summary.eventsByType[EventType.commission.name] ?? 0
        return summary
    }

    /// All statements of a (small) run in append order.
    public func collect() throws -> [SignedStatement] {
        var all: [SignedStatement] = []
        try run { all += $0 }
        return all
    }

    // MARK: Cohorts

    struct Cohort {
        var chains: [[SignedStatement]]
        var pallet: SignedStatement?
        var probes: [DemoScan]
    }

    /// Plans and signs the products of `range` in parallel, then the cohort's recycling pallet.
    func buildCohort(_ range: Range<Int>) throws -> Cohort {
        let count = range.count
        let workers = min(count, max(1, 2 * Parallelism.cores))
        let chunk = (count + workers - 1) / max(1, workers)
        let results = Mutex([ProductRun?](repeating: nil, count: count))
        let failure = Mutex<String?>(nil)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let local = (worker * chunk)..<min(count, (worker + 1) * chunk)
            guard !local.isEmpty else { return }
            var built: [(Int, ProductRun)] = []
            built.reserveCapacity(local.count)
            do {
                for offset in local { built.append((offset, try self.product(range.lowerBound + offset))) }
            } catch {
                failure.withLock { $0 = $0 ?? "\(error)" }
                return
            }
            results.withLock { runs in
                for (offset, run) in built { runs[offset] = run }
            }
        }
        if let message = failure.withLock({ $0 }) { throw SimulationError("generating products failed: \(message)") }
        let runs = results.withLock { $0 }.compactMap { $0 }
        var cohort = Cohort(chains: runs.map(\.chain), pallet: nil, probes: runs.compactMap(\.probe))
        let palletRuns = runs.filter(\.onPallet)
        if !palletRuns.isEmpty {
            cohort.pallet = try pallet(palletRuns, cohort: range.lowerBound / max(1, configuration.cohortSize))
        }
        return cohort
    }

    /// One recycling certificate covering every product of the cohort that ended on the pallet.
    func pallet(_ runs: [ProductRun], cohort: Int) throws -> SignedStatement {
        var members: [BatchMember] = []
        var recovered: [String: Int64] = [:]
        var latest = configuration.start
        for run in runs {
            guard let last = run.chain.last else { continue }
            members.append(BatchMember(product: run.product, previous: last.id))
            latest = max(latest, last.statement.time)
            for (material, grams) in run.model.materials { recovered[material, default: 0] += grams * 4 / 5 }
        }
        let details: JSONObject = [
            "certificate": .string("AATF-\(configuration.serialTag)-\(cohort)"), "method": "mechanical-shredding",
            "materials": .object(JSONObject(recovered.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) })),
        ]
        return try parties.sign(
            .recycle,
            product: nil,
            previous: nil,
            by: "adatum",
            at: latest.adding(seconds: 86_400),
            details: details,
            batch: members
        )
    }

    // MARK: One product

    struct ProductRun {
        let product: SGTIN
        let model: SimulatedModel
        var chain: [SignedStatement] = []
        var probe: DemoScan?
        var onPallet = false
    }

    /// How often each model is made (phones sell most).
    static let modelMix: [(SimulatedModel, Double)] = [
        (.phoneX, 0.24), (.phoneLite, 0.18), (.laptop, 0.12), (.tablet, 0.10), (.speaker, 0.10),
        (.headphones, 0.14), (.earbuds, 0.12),
    ]

    enum Fraud: CaseIterable {
        case counterfeit, diverted, stolen, clone, recycled, substitution, outsideWindow
    }

    /// Writes one product's chain: the statements are built in order, each naming the previous id.
    struct Writer {
        let parties: TestParties
        var run: ProductRun
        var time: Timestamp
        var rng: SplitMix64

        /// Moves the clock on by a random whole number of minutes within `hours`.
        mutating func advance(_ hours: ClosedRange<Int>) {
            time = time.adding(seconds: Int64(rng.int(in: (hours.lowerBound * 60)...(hours.upperBound * 60))) * 60)
        }

        mutating func add(
            _ type: EventType,
            by party: String,
            after hours: ClosedRange<Int>,
            _ details: JSONObject = [:]
        )
            throws
        {
            advance(hours)
            let previous = run.chain.last?.id
            let signed = try parties.sign(
                type,
                product: run.product,
                previous: type == .commission ? nil : previous,
                by: party,
                at: time,
                location: DemoStory.sites[party],
                details: details
            )
            run.chain.append(signed)
        }

        mutating func reference(_ prefix: String) -> String { "\(prefix)-\(rng.next() % 100_000_000)" }

        mutating func digest(_ label: String) -> JSONValue {
            .string(Digest.of(Array("gen:\(label):\(rng.next())".utf8)).hex)
        }

        mutating func scan() -> JSONValue {
            let form = ScanForm.allCases[rng.int(in: 0...(ScanForm.allCases.count - 1))]
            return .string(form.text(for: run.product, companyPrefixLength: run.model.companyPrefixLength))
        }
    }

    func product(_ index: Int) throws -> ProductRun {
        let config = configuration
        var rng = SplitMix64(seed: config.seed, stream: UInt64(index))
        let model = rng.pick(Self.modelMix) ?? .phoneX
        let product = try model.product(serial: "\(model.serialPrefix)\(config.serialTag)\(index)")
        let start = config.start.adding(seconds: Int64(index) * config.productSpacing)
        var w = Writer(parties: parties, run: ProductRun(product: product, model: model), time: start, rng: rng)
        let retailer = w.rng.chance(0.6) ? "fabrikam" : "tailspin"
        let fraud: Fraud? = w.rng.chance(config.fraudShare) ? Fraud.allCases[w.rng.int(in: 0...6)] : nil

        try w.add(
            .commission,
            by: model.brand,
            after: 0...0,
            [
                "massGrams": .integer(model.massGrams),
                "materials": .object(
                    JSONObject(model.materials.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) })
                ),
            ]
        )
        try w.add(.ship, by: model.brand, after: 2...30, ["consignee": "alpine", "carrier": "wingtip"])
        try w.add(.receive, by: "alpine", after: 12...48, ["condition": "intact"])
        if fraud == .diverted {
            probe(&w, verdict: "never-sold", "never sold: still in the distributor's stock")
            return w.run
        }
        if fraud == nil, w.rng.chance(0.03) {
            let action = w.rng.chance(0.6) ? "donate" : "liquidate"
            try w.add(.excessDisposition, by: "alpine", after: 24...400, ["action": .string(action)])
            if w.rng.chance(0.3) { try recycleSingle(&w) }
            return w.run
        }
        try w.add(.ship, by: "alpine", after: 2...72, ["consignee": .string(retailer), "carrier": "wingtip"])
        try w.add(.receive, by: retailer, after: 12...48, ["condition": "intact"])
        if fraud == .stolen {
            try w.add(.reportStolen, by: retailer, after: 24...300, ["reference": .string(w.reference("POL"))])
            probe(&w, verdict: "reported-stolen", "reported stolen from the retailer's stock")
            return w.run
        }
        if fraud == nil, w.rng.chance(model == .laptop ? 0.15 : 0.01) {
            try lease(&w, retailer)
            return w.run
        }
        // The sale.
        let online = fraud != nil || w.rng.chance(0.7)
        let window: Int64 = fraud == .outsideWindow ? 14 : 30
        w.advance(2...500)
        try w.add(
            .sell,
            by: retailer,
            after: 0...0,
            [
                "orderDigest": w.digest("order"), "customerDigest": w.digest("customer"),
                "returnBy": .string(w.time.adding(seconds: window * 86_400).description),
                "channel": .string(online ? "online" : "store"),
            ]
        )
        var failedDelivery = false
        if online {
            try w.add(.ship, by: retailer, after: 1...20, ["carrier": "wingtip"])
            if fraud == nil, w.rng.chance(0.03) {
                let reason = Catalogue.deliveryFailures[w.rng.int(in: 0...(Catalogue.deliveryFailures.count - 1))]
                try w.add(.deliveryFailed, by: "wingtip", after: 12...60, ["reason": .string(reason)])
                failedDelivery = true
            } else {
                try w.add(.deliver, by: "wingtip", after: 12...60, ["method": "signature"])
            }
        }
        if failedDelivery {
            try w.add(.returnReceive, by: "litware", after: 24...200, ["condition": "sealed", "scanned": w.scan()])
            try w.add(.inspect, by: "litware", after: 1...30, ["grade": "as-new"])
            try w.add(.restock, by: "litware", after: 1...10)
            return w.run
        }
        switch fraud {
        case .outsideWindow:
            probe(&w, verdict: "outside-return-window", "returned long after its 14-day window", days: 45)
            return w.run
        case .clone, .recycled, .substitution:
            let rma = w.reference("RMA")
            let reason = fraud == .substitution ? "not-as-described" : "defective"
            try w.add(
                .returnAuthorize,
                by: retailer,
                after: 24...300,
                ["rma": .string(rma), "reason": .string(reason)]
            )
            if fraud == .substitution {
                let other = SimulatedModel.all.first { $0.brand == model.brand && $0 != model } ?? model
                var run = w.run
                run.probe = DemoScan(
                    scan: ScanForm.dataMatrix.text(for: SGTIN(gtin: other.gtin, serial: product.serial)),
                    product: SGTIN(gtin: other.gtin, serial: product.serial),
                    dock: "litware",
                    claimedRMA: rma,
                    claimedOrderDigest: nil,
                    time: w.time.adding(seconds: 86_400),
                    expectedVerdict: "product-mismatch",
                    story: "the RMA is for a \(model.name); the box holds a \(other.name) with the same serial"
                )
                return run
            }
            try w.add(
                .returnReceive,
                by: "litware",
                after: 24...120,
                [
                    "condition": "used", "scanned": w.scan(), "rma": .string(rma),
                ]
            )
            if fraud == .clone {
                try w.add(.inspect, by: "litware", after: 1...30, ["grade": "good"])
                probe(&w, verdict: "already-returned", "a second unit with the serial of one already returned")
            } else {
                try w.add(.inspect, by: "litware", after: 1...30, ["grade": "beyond-repair"])
                try recycleSingle(&w)
                probe(&w, verdict: "end-of-life", "a recycled serial is back at a dock")
            }
            return w.run
        default:
            break
        }
        if fraud == .counterfeit {
            let fake = try model.product(serial: "\(model.serialPrefix)X\(config.serialTag)\(index)")
            var run = w.run
            run.probe = DemoScan(
                scan: ScanForm.humanReadable.text(for: fake),
                product: fake,
                dock: "litware",
                claimedRMA: nil,
                claimedOrderDigest: nil,
                time: w.time.adding(seconds: 86_400),
                expectedVerdict: "unknown-serial",
                story: "a serial the brand never commissioned: counterfeit"
            )
            return run
        }
        if w.rng.chance(config.returnRate) {
            try returned(&w, retailer: retailer)
        } else if w.rng.chance(0.025) {
            try warranty(&w, retailer: retailer)
        } else if w.rng.chance(0.025) {
            try tradeIn(&w, retailer: retailer)
        }
        return w.run
    }

    func probe(_ w: inout Writer, verdict: String, _ story: String, days: Int64 = 1) {
        let form = ScanForm.allCases[w.rng.int(in: 0...(ScanForm.allCases.count - 1))]
        w.run.probe = DemoScan(
            scan: form.text(for: w.run.product, companyPrefixLength: w.run.model.companyPrefixLength),
            product: w.run.product,
            dock: "litware",
            claimedRMA: nil,
            claimedOrderDigest: nil,
            time: w.time.adding(seconds: days * 86_400),
            expectedVerdict: verdict,
            story: story
        )
    }

    func recycleSingle(_ w: inout Writer) throws {
        let recovered = w.run.model.materials.sorted { $0.key < $1.key }.map {
            ($0.key, JSONValue.integer($0.value * 9 / 10))
        }
        try w.add(
            .recycle,
            by: "adatum",
            after: 24...400,
            [
                "certificate": .string(w.reference("AATF")), "method": "manual-disassembly",
                "materials": .object(JSONObject(recovered)),
            ]
        )
    }

    func lease(_ w: inout Writer, _ retailer: String) throws {
        let lease = w.digest("lease")
        w.advance(2...200)
        try w.add(
            .leaseOut,
            by: retailer,
            after: 0...0,
            [
                "leaseDigest": lease, "until": .string(w.time.adding(seconds: 120 * 86_400).description),
            ]
        )
        try w.add(.leaseReturn, by: "litware", after: 1_000...2_900, ["condition": "used", "leaseDigest": lease])
        try w.add(.inspect, by: "proseware", after: 24...100, ["grade": w.rng.chance(0.3) ? "as-new" : "good"])
        if w.run.chain.last?.statement.details["grade"] == .string("as-new") {
            try w.add(.restock, by: "litware", after: 2...48)
        } else {
            try refurbishAndResell(&w, retailer: retailer)
        }
    }

    func returned(_ w: inout Writer, retailer: String) throws {
        let config = configuration
        let reason = w.rng.pick(config.reasonMix.map { ($0.reason, $0.weight) }) ?? "no-longer-needed"
        let rma = w.reference("RMA")
        try w.add(.returnAuthorize, by: retailer, after: 24...600, ["rma": .string(rma), "reason": .string(reason)])
        try w.add(
            .returnReceive,
            by: "litware",
            after: 24...150,
            [
                "condition": reason == "damaged-in-transit" ? "damaged" : "opened", "scanned": w.scan(),
                "rma": .string(rma),
            ]
        )
        let grade: String
        switch reason {
        case "defective": grade = w.rng.chance(0.8) ? "defective" : "good"
        case "damaged-in-transit": grade = w.rng.chance(0.5) ? "beyond-repair" : "fair"
        case "missing-parts": grade = "fair"
        default: grade = w.rng.pick([("as-new", 0.6), ("good", 0.3), ("fair", 0.1)]) ?? "as-new"
        }
        try w.add(.inspect, by: "litware", after: 1...48, ["grade": .string(grade)])
        switch grade {
        case "as-new":
            try w.add(.restock, by: "litware", after: 1...24)
        case "good", "fair":
            try refurbishAndResell(&w, retailer: retailer)
        case "defective":
            try w.add(
                .repair,
                by: "proseware",
                after: 24...200,
                [
                    "work": ["component-replaced"],
                    "parts": [["part": "mainboard", "serial": .string(w.reference("MB"))]],
                ]
            )
            try w.add(.restock, by: "litware", after: 24...100)
        default:
            if w.rng.chance(0.5) {
                w.run.onPallet = true
            } else if w.rng.chance(0.5) {
                try recycleSingle(&w)
            } else {
                try w.add(.dispose, by: "adatum", after: 24...300, ["method": "shredding"])
            }
        }
    }

    func refurbishAndResell(_ w: inout Writer, retailer: String) throws {
        let certified = w.rng.chance(0.85)
        try w.add(
            .refurbish,
            by: "proseware",
            after: 24...300,
            [
                "work": ["deep-clean", "battery-replaced"], "tests": ["battery-health", "display"],
                "warrantyMonths": certified ? 12 : 3, "certified": .bool(certified),
            ]
        )
        if w.rng.chance(0.7) {
            try w.add(
                .resell,
                by: retailer,
                after: 24...600,
                [
                    "orderDigest": w.digest("order"), "certifiedPreOwned": .bool(certified), "channel": "online",
                ]
            )
        }
    }

    func warranty(_ w: inout Writer, retailer: String) throws {
        let claim = w.reference("WC")
        try w.add(.warrantyClaim, by: retailer, after: 100...3_000, ["claim": .string(claim)])
        try w.add(.repair, by: "proseware", after: 24...200, ["work": ["fault-repaired"]])
        try w.add(.warrantyResolve, by: retailer, after: 1...48, ["claim": .string(claim), "resolution": "repair"])
    }

    func tradeIn(_ w: inout Writer, retailer: String) throws {
        try w.add(
            .tradeIn,
            by: retailer,
            after: 500...5_000,
            [
                "credit": .integer(Int64(w.rng.int(in: 2_000...40_000))),
                "currency": "EUR",
            ]
        )
        try w.add(.returnReceive, by: "litware", after: 24...150, ["condition": "used", "scanned": w.scan()])
        try w.add(.inspect, by: "proseware", after: 1...48, ["grade": "good"])
        try refurbishAndResell(&w, retailer: retailer)
    }
}
