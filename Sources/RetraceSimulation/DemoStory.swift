import CanonicalJSON
import RetraceEvents
import RetraceIdentity
import RetraceLedger

/// The demo's story: about fifty products of two brands through every flow of reverse logistics,
/// with planted frauds for the receiving dock to catch afterwards.
///
/// Everything is fixed (times, serials, references, keys), so statement ids are the same on every
/// run and every machine. The story runs from 2026-03-02 to the end of June 2026; the dock scans
/// happen on 2026-07-01. It is written per product as a script of dated steps; the steps of all
/// products are then recorded in time order, so batch statements (pallets, a recall) find each
/// member at its head of that moment, and the log reads like the days it covers.
public struct DemoStory {
    /// Day 0 of the story.
    public static let start = Timestamp(secondsSinceEpoch: 1_772_442_000)  // 2026-03-02T09:00:00Z

    /// Builds the story's signed statements, in a valid append order, and the script of dock scans.
    public static func statements(parties: TestParties) throws -> ([SignedStatement], DemoScript) {
        var story = Builder(parties: parties)
        try story.write()
        return try story.finish()
    }

    /// Appends the story to `ledger` (created with the test parties' roster) and returns what to do next.
    ///
    /// - Parameter progress: called after each appended batch with (statements appended, total).
    public static func play(
        on ledger: Ledger,
        parties: TestParties,
        progress: ((Int, Int) -> Void)?
    ) throws
        -> DemoScript
    {
        let (statements, script) = try statements(parties: parties)
        let batchSize = 16
        var done = 0
        progress?(0, statements.count)
        while done < statements.count {
            let batch = Array(statements[done..<min(statements.count, done + batchSize)])
            try ledger.append(batch)
            done += batch.count
            progress?(done, statements.count)
        }
        return script
    }

    /// The model designations the demo's brand owners publish in their `product-class` statements.
    static let designations: [String: String] = [
        "Northwind Phone X": "NX-26", "Northwind Phone Lite": "NL-26", "Northwind Laptop 14": "NB14-G3",
        "Northwind Tab 11": "NT11", "Contoso Sound Bar Mini": "SBM-200", "Contoso Studio Headphones": "SH-7",
        "Contoso Buds": "CB-2",
    ]

    /// A model's signed description: name, model designation, declared mass and materials.
    static func classDetails(_ model: SimulatedModel) -> JSONObject {
        var details: JSONObject = [
            "name": .string(model.name), "massGrams": .integer(model.massGrams),
            "materials": .object(JSONObject(model.materials.map { ($0.key, JSONValue.integer($0.value)) })),
        ]
        if let designation = designations[model.name] { details["model"] = .string(designation) }
        return details
    }

    /// The sites the story's parties sign from (GLNs of the test roster).
    static let sites: [String: String] = [
        "northwind": "9506000000015", "contoso": "0614141000012", "alpine": "9520007000014",
        "wingtip": "9520006000015", "fabrikam": "9520001000010", "tailspin": "9520002000019",
        "litware": "9520003000018", "proseware": "9520004000017", "adatum": "9520005000016",
    ]

    static func time(day: Double) -> Timestamp { start.adding(seconds: Int64((day * 86_400).rounded())) }

    /// A salted SHA-256 of a reference, as a retailer's system would compute it: no personal data in the log.
    static func salted(_ text: String) -> Digest { Digest.of(Array("retrace-demo-salt:\(text)".utf8)) }
}

extension DemoStory {
    /// One dated step of the story, about one product or a batch.
    struct Step {
        let time: Timestamp
        let order: Int
        let type: EventType
        let products: [SGTIN]
        let isBatch: Bool
        let party: String
        let details: JSONObject
    }

    /// A product's script: steps at a running time, advanced by hours between them.
    struct Script {
        let product: SGTIN
        var day: Double
        var steps: [(Double, EventType, String, JSONObject)] = []

        /// Adds an event `hours` after the previous one.
        mutating func then(_ type: EventType, by party: String, after hours: Double = 2, _ details: JSONObject = [:]) {
            day += hours / 24
            steps.append((day, type, party, details))
        }

        /// Moves the script to a later day (the time of day kept as given).
        mutating func on(day newDay: Double) { day = max(day, newDay) }
    }

    struct Builder {
        let parties: TestParties
        var steps: [Step] = []
        var products: [SGTIN] = []
        var lots: [SGTIN: String] = [:]
        var destination: [SGTIN: String] = [:]
        var scans: [DemoScan] = []
        var serials: [SimulatedModel: Int] = [:]
        var showcase: SGTIN?
        var pallet: [SGTIN] = []
        let certificate = "AATF-2026-0611"

        init(parties: TestParties) { self.parties = parties }

        // MARK: Building blocks

        mutating func add(
            _ time: Timestamp,
            _ type: EventType,
            _ products: [SGTIN],
            batch: Bool,
            by party: String,
            _ details: JSONObject
        ) {
            steps.append(
                Step(
                    time: time,
                    order: steps.count,
                    type: type,
                    products: products,
                    isBatch: batch,
                    party: party,
                    details: details
                )
            )
        }

        /// A new product of `model`, commissioned on day 0 and supplied to `destination`
        /// (`fabrikam`, `tailspin`, or `alpine` for stock that stays at the distributor).
        mutating func make(_ model: SimulatedModel, to destination: String, lot: String? = nil) throws -> SGTIN {
            let number = (serials[model] ?? 0) + 1
            serials[model] = number
            let serial = "\(model.serialPrefix)26\(lot == nil ? "A" : "L")\(String(1000 + number * 37))"
            let product = try model.product(serial: serial)
            products.append(product)
            self.destination[product] = destination
            if let lot { lots[product] = lot }
            return product
        }

        mutating func script(_ product: SGTIN, from day: Double, _ body: (inout Script) -> Void) {
            var script = Script(product: product, day: day)
            body(&script)
            for (day, type, party, details) in script.steps {
                add(DemoStory.time(day: day), type, [product], batch: false, by: party, details)
            }
        }

        static func order(_ retailer: String, _ reference: String) -> JSONValue {
            .string(DemoStory.salted("\(retailer):order:\(reference)").hex)
        }

        static func customer(_ reference: String) -> JSONValue {
            .string(DemoStory.salted("customer:\(reference)").hex)
        }

        static func sale(
            _ retailer: String,
            _ reference: String,
            customer: String,
            day: Double,
            window: Double = 30,
            channel: String = "online"
        ) -> JSONObject {
            [
                "orderDigest": order(retailer, reference), "customerDigest": Self.customer(customer),
                "returnBy": .string(DemoStory.time(day: day + window).description), "channel": .string(channel),
            ]
        }

        /// Sale online, dispatch by Wingtip and delivery, starting at `day` (about 1.5 days in all).
        static func sellAndDeliver(
            _ s: inout Script,
            _ retailer: String,
            _ reference: String,
            customer: String,
            window: Double = 30,
            method: String = "signature"
        ) {
            s.then(
                .sell,
                by: retailer,
                after: 0,
                sale(retailer, reference, customer: customer, day: s.day, window: window)
            )
            s.then(.ship, by: retailer, after: 3, ["carrier": "wingtip", "shipment": .string("WT-\(reference)")])
            s.then(
                .deliver,
                by: "wingtip",
                after: 26,
                [
                    "method": .string(method),
                    "proofDigest": .string(DemoStory.salted("pod:\(reference)").hex),
                ]
            )
        }

        static func scan(_ product: SGTIN, _ form: ScanForm, lot: String? = nil) -> JSONValue {
            .string(form.text(for: product, lot: lot))
        }

        static func photos(_ label: String, count: Int = 2) -> JSONValue {
            .array((1...count).map { .string(DemoStory.salted("photo:\(label):\($0)").hex) })
        }

        /// The dock scans happen the day after the story ends.
        static let scanDay: Double = 121

        mutating func plantScan(
            _ product: SGTIN,
            _ form: ScanForm,
            dock: String,
            rma: String? = nil,
            order: Digest? = nil,
            minute: Double,
            expect verdict: String,
            _ story: String,
            lot: String? = nil
        ) {
            scans.append(
                DemoScan(
                    scan: form.text(for: product, lot: lot),
                    product: product,
                    dock: dock,
                    claimedRMA: rma,
                    claimedOrderDigest: order,
                    time: DemoStory.time(day: Self.scanDay + (9 * 60 + minute) / 1440),
                    expectedVerdict: verdict,
                    story: story
                )
            )
        }

        // MARK: The story

        mutating func write() throws {
            try plainSales()
            try returnsWithEveryReason()
            try failedDeliveries()
            try recall()
            try warranty()
            try tradeIns()
            try leases()
            try excessStock()
            try endOfLife()
            try frauds()
            try supplyChain()
        }

        /// Day 0 commissioning, then pallets: brand → Alpine (day 1-2) → retailers (day 3-4).
        mutating func supplyChain() throws {
            for (index, product) in products.enumerated() {
                guard let model = SimulatedModel.model(of: product.gtin) else { continue }
                var details: JSONObject = [
                    "massGrams": .integer(model.massGrams),
                    "materials": .object(JSONObject(model.materials.mapValues { JSONValue.integer($0) })),
                ]
                if let lot = lots[product] { details["lot"] = .string(lot) }
                add(
                    DemoStory.time(day: Double(index) * 2 / 1440),
                    .commission,
                    [product],
                    batch: false,
                    by: model.brand,
                    details
                )
            }
            for (brand, hour) in [("northwind", 10.0), ("contoso", 11.0)] {
                let pallet = products.filter { SimulatedModel.model(of: $0.gtin)?.brand == brand }
                let shipment = "\(brand.prefix(2).uppercased())-SHP-260303-01"
                add(
                    DemoStory.time(day: 1 + hour / 24),
                    .ship,
                    pallet,
                    batch: true,
                    by: brand,
                    ["consignee": "alpine", "carrier": "wingtip", "shipment": .string(shipment)]
                )
                add(
                    DemoStory.time(day: 2 + hour / 24),
                    .receive,
                    pallet,
                    batch: true,
                    by: "alpine",
                    ["shipment": .string(shipment), "condition": "intact"]
                )
            }
            for (retailer, hour) in [("fabrikam", 9.0), ("tailspin", 13.0)] {
                let pallet = products.filter { destination[$0] == retailer }
                let shipment = "ALP-\(retailer.prefix(3).uppercased())-260305"
                add(
                    DemoStory.time(day: 3 + hour / 24),
                    .ship,
                    pallet,
                    batch: true,
                    by: "alpine",
                    ["consignee": .string(retailer), "carrier": "wingtip", "shipment": .string(shipment)]
                )
                add(
                    DemoStory.time(day: 4 + hour / 24),
                    .receive,
                    pallet,
                    batch: true,
                    by: retailer,
                    ["shipment": .string(shipment), "condition": "intact"]
                )
            }
        }

        /// Ordinary sales that simply end with a happy customer.
        mutating func plainSales() throws {
            let phones = [try make(.phoneX, to: "fabrikam"), try make(.phoneX, to: "fabrikam")]
            for (index, phone) in phones.enumerated() {
                script(phone, from: 6 + Double(index) * 3 + 0.45) { s in
                    Self.sellAndDeliver(&s, "fabrikam", "FAB-100\(210 + index)", customer: "c-\(410 + index)")
                }
            }
            let headphones = try make(.headphones, to: "tailspin")
            script(headphones, from: 9.6) { s in
                Self.sellAndDeliver(&s, "tailspin", "TSM-55081", customer: "c-512", window: 14, method: "locker")
            }
            let tablet = try make(.tablet, to: "tailspin")
            script(tablet, from: 11.5) { s in
                s.then(
                    .sell,
                    by: "tailspin",
                    after: 0,
                    Self.sale("tailspin", "TSM-55102", customer: "c-530", day: s.day, window: 14, channel: "store")
                )
            }
        }

        /// One return per reason code of the catalogue, each graded and sent where its grade allows.
        mutating func returnsWithEveryReason() throws {
            // wrong-size: as-new, restocked, sent back to Fabrikam and sold again.
            let p1 = try make(.headphones, to: "fabrikam")
            script(p1, from: 7.4) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100301", customer: "c-601")
                s.then(
                    .returnAuthorize,
                    by: "fabrikam",
                    after: 70,
                    ["rma": "FAB-RMA-2026-0101", "reason": "wrong-size"]
                )
                s.then(
                    .returnReceive,
                    by: "litware",
                    after: 50,
                    [
                        "condition": "sealed", "scanned": Self.scan(p1, .dataMatrix), "rma": "FAB-RMA-2026-0101",
                    ]
                )
                s.then(.inspect, by: "litware", after: 3, ["grade": "as-new", "evidence": Self.photos("p1")])
                s.then(.restock, by: "litware", after: 1)
                s.then(.ship, by: "litware", after: 20, ["consignee": "fabrikam", "carrier": "wingtip"])
                s.then(.receive, by: "fabrikam", after: 22, ["condition": "intact"])
                s.on(day: 30.5)
                Self.sellAndDeliver(&s, "fabrikam", "FAB-101877", customer: "c-640")
            }
            // defective: repaired by Proseware, then back to stock.
            let p2 = try make(.phoneLite, to: "fabrikam")
            script(p2, from: 8.45) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100302", customer: "c-602")
                s.then(
                    .returnAuthorize,
                    by: "fabrikam",
                    after: 100,
                    ["rma": "FAB-RMA-2026-0102", "reason": "defective"]
                )
                s.then(
                    .returnReceive,
                    by: "litware",
                    after: 48,
                    [
                        "condition": "used", "scanned": Self.scan(p2, .brandDigitalLink), "rma": "FAB-RMA-2026-0102",
                    ]
                )
                s.then(
                    .inspect,
                    by: "litware",
                    after: 4,
                    [
                        "grade": "defective", "findings": ["no-power", "charging-port-fault"],
                        "evidence": Self.photos("p2"),
                    ]
                )
                s.then(
                    .repair,
                    by: "proseware",
                    after: 50,
                    [
                        "work": ["charging-port-replaced"],
                        "parts": [["part": "charging-port", "serial": "CP-77120-A"]],
                    ]
                )
                s.then(.restock, by: "litware", after: 30)
            }
            // damaged-in-transit: beyond repair, goes on the recycling pallet.
            let p3 = try make(.tablet, to: "fabrikam")
            script(p3, from: 10.45) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100303", customer: "c-603", method: "safe-place")
                s.then(
                    .returnAuthorize,
                    by: "fabrikam",
                    after: 20,
                    [
                        "rma": "FAB-RMA-2026-0103", "reason": "damaged-in-transit",
                    ]
                )
                s.then(
                    .returnReceive,
                    by: "litware",
                    after: 52,
                    [
                        "condition": "damaged", "scanned": Self.scan(p3, .humanReadable), "rma": "FAB-RMA-2026-0103",
                    ]
                )
                s.then(
                    .inspect,
                    by: "litware",
                    after: 2,
                    [
                        "grade": "beyond-repair", "findings": ["cracked-chassis", "bent-frame"],
                        "evidence": Self.photos("p3"),
                    ]
                )
            }
            pallet.append(p3)
            // not-as-described: good grade, refurbished (certified) and resold by Tailspin as certified pre-owned.
            let p4 = try make(.earbuds, to: "fabrikam")
            script(p4, from: 12.45) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100304", customer: "c-604")
                s.then(
                    .returnAuthorize,
                    by: "fabrikam",
                    after: 40,
                    [
                        "rma": "FAB-RMA-2026-0104", "reason": "not-as-described",
                    ]
                )
                s.then(
                    .returnReceive,
                    by: "litware",
                    after: 49,
                    [
                        "condition": "opened", "scanned": Self.scan(p4, .epcURN), "rma": "FAB-RMA-2026-0104",
                    ]
                )
                s.then(.inspect, by: "proseware", after: 30, ["grade": "good", "findings": ["case-scuffed"]])
                s.then(
                    .refurbish,
                    by: "proseware",
                    after: 26,
                    [
                        "work": ["case-replaced", "deep-clean"],
                        "parts": [["part": "charging-case", "serial": "CC-30412"]],
                        "tests": ["pairing", "battery-health", "audio-sweep"], "softwareVersion": "4.2.0",
                        "warrantyMonths": 6, "certified": true,
                    ]
                )
                s.on(day: 40.6)
                s.then(
                    .resell,
                    by: "tailspin",
                    after: 0,
                    [
                        "orderDigest": Self.order("tailspin", "TSM-57220"), "channel": "store",
                        "certifiedPreOwned": true,
                        "returnBy": .string(DemoStory.time(day: 54.6).description),
                    ]
                )
            }
            // late-delivery: sealed, as new, back to stock.
            let p5 = try make(.laptop, to: "fabrikam")
            script(p5, from: 13.45) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100305", customer: "c-605")
                s.then(
                    .returnAuthorize,
                    by: "fabrikam",
                    after: 6,
                    ["rma": "FAB-RMA-2026-0105", "reason": "late-delivery"]
                )
                s.then(
                    .returnReceive,
                    by: "litware",
                    after: 47,
                    [
                        "condition": "sealed", "scanned": Self.scan(p5, .digitalLink), "rma": "FAB-RMA-2026-0105",
                    ]
                )
                s.then(.inspect, by: "litware", after: 3, ["grade": "as-new"])
                s.then(.restock, by: "litware", after: 1)
            }
            // no-longer-needed: Tailspin's own dock takes it back, Litware grades it as new.
            let p6 = try make(.phoneX, to: "tailspin")
            script(p6, from: 14.45) { s in
                Self.sellAndDeliver(&s, "tailspin", "TSM-56010", customer: "c-606", window: 14)
                s.then(
                    .returnAuthorize,
                    by: "tailspin",
                    after: 80,
                    [
                        "rma": "TSM-RMA-26-0042", "reason": "no-longer-needed",
                    ]
                )
                s.then(
                    .returnReceive,
                    by: "tailspin",
                    after: 30,
                    [
                        "condition": "opened", "scanned": Self.scan(p6, .dataMatrix), "rma": "TSM-RMA-26-0042",
                    ]
                )
                s.then(.inspect, by: "litware", after: 28, ["grade": "as-new", "findings": ["box-opened"]])
                s.then(.restock, by: "litware", after: 1)
            }
            // wrong-item: the customer was sent headphones instead of earbuds; sealed, restocked.
            let p7 = try make(.headphones, to: "fabrikam")
            script(p7, from: 15.45) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100307", customer: "c-607")
                s.then(
                    .returnAuthorize,
                    by: "fabrikam",
                    after: 5,
                    ["rma": "FAB-RMA-2026-0107", "reason": "wrong-item"]
                )
                s.then(
                    .returnReceive,
                    by: "litware",
                    after: 45,
                    [
                        "condition": "sealed", "scanned": Self.scan(p7, .dataMatrix), "rma": "FAB-RMA-2026-0107",
                    ]
                )
                s.then(.inspect, by: "litware", after: 2, ["grade": "as-new"])
                s.then(.restock, by: "litware", after: 1)
            }
            // missing-parts: incomplete, graded fair, sent to recycling.
            let p8 = try make(.earbuds, to: "fabrikam")
            script(p8, from: 16.45) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100308", customer: "c-608")
                s.then(
                    .returnAuthorize,
                    by: "fabrikam",
                    after: 30,
                    ["rma": "FAB-RMA-2026-0108", "reason": "missing-parts"]
                )
                s.then(
                    .returnReceive,
                    by: "litware",
                    after: 46,
                    [
                        "condition": "incomplete", "scanned": Self.scan(p8, .humanReadable), "rma": "FAB-RMA-2026-0108",
                    ]
                )
                s.then(
                    .inspect,
                    by: "litware",
                    after: 3,
                    [
                        "grade": "fair", "findings": ["left-bud-missing"], "evidence": Self.photos("p8", count: 1),
                    ]
                )
            }
            pallet.append(p8)
            // undeliverable: refused at the door, authorised as undeliverable, back in stock.
            let p9 = try make(.speaker, to: "fabrikam")
            script(p9, from: 17.45) { s in
                s.then(
                    .sell,
                    by: "fabrikam",
                    after: 0,
                    Self.sale("fabrikam", "FAB-100309", customer: "c-609", day: s.day)
                )
                s.then(.ship, by: "fabrikam", after: 3, ["carrier": "wingtip", "shipment": "WT-FAB-100309"])
                s.then(.deliveryFailed, by: "wingtip", after: 26, ["reason": "refused", "attempts": 1])
                s.then(
                    .returnAuthorize,
                    by: "fabrikam",
                    after: 4,
                    ["rma": "FAB-RMA-2026-0109", "reason": "undeliverable"]
                )
                s.then(
                    .returnReceive,
                    by: "litware",
                    after: 30,
                    [
                        "condition": "sealed", "scanned": Self.scan(p9, .brandDigitalLink), "rma": "FAB-RMA-2026-0109",
                    ]
                )
                s.then(.inspect, by: "litware", after: 2, ["grade": "as-new"])
                s.then(.restock, by: "litware", after: 1)
            }
        }

        /// The other delivery failures (refused is in the returns above).
        mutating func failedDeliveries() throws {
            func failing(
                _ product: SGTIN,
                from day: Double,
                _ order: String,
                _ reason: String,
                attempts: Int64,
                _ rest: (inout Script) -> Void
            ) {
                script(product, from: day) { s in
                    s.then(
                        .sell,
                        by: "fabrikam",
                        after: 0,
                        Self.sale("fabrikam", order, customer: "c-7\(order.suffix(2))", day: s.day)
                    )
                    s.then(.ship, by: "fabrikam", after: 3, ["carrier": "wingtip", "shipment": .string("WT-\(order)")])
                    s.then(
                        .deliveryFailed,
                        by: "wingtip",
                        after: 26,
                        ["reason": .string(reason), "attempts": .integer(attempts)]
                    )
                    rest(&s)
                }
            }
            // bad-address: comes straight back to the returns centre, still sealed.
            let f1 = try make(.headphones, to: "fabrikam")
            failing(f1, from: 18.45, "FAB-100401", "bad-address", attempts: 1) { s in
                s.then(
                    .returnReceive,
                    by: "litware",
                    after: 40,
                    ["condition": "sealed", "scanned": Self.scan(f1, .dataMatrix)]
                )
                s.then(.inspect, by: "litware", after: 2, ["grade": "as-new"])
                s.then(.restock, by: "litware", after: 1)
            }
            // customs: held at the border, returned, as new.
            let f3 = try make(.tablet, to: "fabrikam")
            failing(f3, from: 19.45, "FAB-100403", "customs", attempts: 1) { s in
                s.then(
                    .returnReceive,
                    by: "litware",
                    after: 120,
                    ["condition": "sealed", "scanned": Self.scan(f3, .epcURN)]
                )
                s.then(.inspect, by: "litware", after: 2, ["grade": "as-new"])
                s.then(.restock, by: "litware", after: 1)
            }
            // unreadable-label: relabelled by Fabrikam and delivered on the second run.
            let f4 = try make(.earbuds, to: "fabrikam")
            failing(f4, from: 20.45, "FAB-100404", "unreadable-label", attempts: 1) { s in
                s.then(.ship, by: "fabrikam", after: 20, ["carrier": "wingtip", "shipment": "WT-FAB-100404-R"])
                s.then(.deliver, by: "wingtip", after: 24, ["method": "photo"])
            }
            // damaged-in-transit: crushed parcel, beyond repair, disposed of with a certificate.
            let f5 = try make(.speaker, to: "fabrikam")
            failing(f5, from: 21.45, "FAB-100405", "damaged-in-transit", attempts: 1) { s in
                s.then(
                    .returnReceive,
                    by: "litware",
                    after: 30,
                    ["condition": "damaged", "scanned": Self.scan(f5, .digitalLink)]
                )
                s.then(
                    .inspect,
                    by: "litware",
                    after: 2,
                    [
                        "grade": "beyond-repair", "findings": ["crushed-enclosure", "leaking-battery"],
                        "evidence": Self.photos("f5"),
                    ]
                )
                s.then(.dispose, by: "adatum", after: 100, ["method": "shredding", "certificate": "ADT-DST-2026-0087"])
            }
            // recipient-absent: two attempts, then delivered to a pickup point.
            let f6 = try make(.phoneLite, to: "fabrikam")
            failing(f6, from: 22.45, "FAB-100406", "recipient-absent", attempts: 2) { s in
                s.then(.ship, by: "fabrikam", after: 18, ["carrier": "wingtip", "shipment": "WT-FAB-100406-2"])
                s.then(.deliver, by: "wingtip", after: 20, ["method": "pickup-point"])
            }
        }

        /// A recall of a whole lot of sound bars, as ONE batch statement; remedies on some items.
        mutating func recall() throws {
            let lot = "L2026-02A"
            var units: [SGTIN] = []
            for index in 0..<6 { units.append(try make(.speaker, to: index < 3 ? "fabrikam" : "tailspin", lot: lot)) }
            for (index, unit) in units.prefix(3).enumerated() {
                script(unit, from: 8.5 + Double(index)) { s in
                    Self.sellAndDeliver(&s, "fabrikam", "FAB-10050\(index)", customer: "c-80\(index)")
                }
            }
            add(
                DemoStory.time(day: 45.4),
                .recall,
                units,
                batch: true,
                by: "contoso",
                [
                    "notice": "CTS-RN-2026-004", "reason": "safety", "remedy": "software-update",
                ]
            )
            // In stock at Tailspin: two updated in the store, one found not affected; one then sold.
            script(units[3], from: 47.4) { s in
                s.then(
                    .recallRemedy,
                    by: "contoso",
                    after: 0,
                    ["notice": "CTS-RN-2026-004", "action": "software-updated"]
                )
                s.on(day: 60.5)
                s.then(
                    .sell,
                    by: "tailspin",
                    after: 0,
                    Self.sale("tailspin", "TSM-58001", customer: "c-811", day: s.day, window: 14, channel: "store")
                )
            }
            script(units[4], from: 47.5) { s in
                s.then(
                    .recallRemedy,
                    by: "contoso",
                    after: 0,
                    ["notice": "CTS-RN-2026-004", "action": "software-updated"]
                )
            }
            script(units[5], from: 47.6) { s in
                s.then(.recallRemedy, by: "contoso", after: 0, ["notice": "CTS-RN-2026-004", "action": "not-affected"])
            }
            // One customer's unit updated by Proseware; the other two customers have not responded.
            script(units[0], from: 52.4) { s in
                s.then(
                    .recallRemedy,
                    by: "proseware",
                    after: 0,
                    ["notice": "CTS-RN-2026-004", "action": "software-updated"]
                )
            }
            plantScan(
                units[1],
                .dataMatrix,
                dock: "litware",
                minute: 12,
                expect: "recalled",
                "a sound bar of recalled lot L2026-02A comes back unremedied: route it to recall handling",
                lot: lot
            )
        }

        /// Warranty: a repair under claim, and a replacement with another unit.
        mutating func warranty() throws {
            let w1 = try make(.phoneX, to: "fabrikam")
            script(w1, from: 9.45) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100601", customer: "c-901")
                s.on(day: 55.4)
                s.then(
                    .warrantyClaim,
                    by: "northwind",
                    after: 0,
                    ["claim": "NW-WC-2026-0001", "fault": "battery-swelling"]
                )
                s.then(
                    .repair,
                    by: "proseware",
                    after: 50,
                    [
                        "work": ["battery-replaced", "seal-renewed"],
                        "parts": [["part": "battery", "serial": "BAT-88121"]],
                    ]
                )
                s.then(
                    .warrantyResolve,
                    by: "northwind",
                    after: 6,
                    ["claim": "NW-WC-2026-0001", "resolution": "repair"]
                )
            }
            let w2 = try make(.laptop, to: "fabrikam")
            let w3 = try make(.laptop, to: "fabrikam")
            script(w2, from: 11.45) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100602", customer: "c-902")
                s.on(day: 58.4)
                s.then(
                    .warrantyClaim,
                    by: "fabrikam",
                    after: 0,
                    ["claim": "FAB-WC-2026-0077", "fault": "display-flicker"]
                )
                s.then(
                    .warrantyResolve,
                    by: "fabrikam",
                    after: 26,
                    [
                        "claim": "FAB-WC-2026-0077", "resolution": "replace", "replacement": .string(w3.digitalLink),
                    ]
                )
                s.then(
                    .inspect,
                    by: "litware",
                    after: 70,
                    [
                        "grade": "beyond-repair", "findings": ["mainboard-fault", "display-fault"],
                        "evidence": Self.photos("w2"),
                    ]
                )
            }
            pallet.append(w2)
            script(w3, from: 59.6) { s in
                Self.sellAndDeliver(
                    &s,
                    "fabrikam",
                    "FAB-WC-2026-0077-R",
                    customer: "c-902",
                    window: 30
                )
            }
        }

        /// Trade-ins refurbished by the accredited refurbisher; the showcase phone is resold certified pre-owned.
        mutating func tradeIns() throws {
            let t1 = try make(.phoneX, to: "fabrikam")
            showcase = t1
            script(t1, from: 5.45) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100021", customer: "c-1001")
                s.on(day: 61.5)
                s.then(
                    .tradeIn,
                    by: "fabrikam",
                    after: 0,
                    [
                        "credit": 32_000, "currency": "EUR", "customerDigest": Self.customer("c-1001"), "grade": "good",
                    ]
                )
                s.then(
                    .returnReceive,
                    by: "litware",
                    after: 48,
                    ["condition": "used", "scanned": Self.scan(t1, .epcURN)]
                )
                s.then(
                    .inspect,
                    by: "proseware",
                    after: 26,
                    [
                        "grade": "good", "findings": ["screen-scratches", "battery-wear"],
                        "evidence": Self.photos("t1", count: 3),
                    ]
                )
                s.then(
                    .refurbish,
                    by: "proseware",
                    after: 30,
                    [
                        "work": ["screen-replaced", "battery-replaced", "deep-clean"],
                        "parts": [
                            ["part": "display", "serial": "DSP-X-5521907"], ["part": "battery", "serial": "BAT-90233"],
                        ],
                        "tests": ["battery-health", "display", "cellular", "camera", "water-seal"],
                        "softwareVersion": "17.4.1", "warrantyMonths": 12, "certified": true,
                    ]
                )
                s.on(day: 70.4)
                s.then(
                    .resell,
                    by: "fabrikam",
                    after: 0,
                    [
                        "orderDigest": Self.order("fabrikam", "FAB-CPO-20411"),
                        "customerDigest": Self.customer("c-1077"),
                        "returnBy": .string(DemoStory.time(day: 100.4).description), "channel": "online",
                        "certifiedPreOwned": true,
                    ]
                )
                s.then(.ship, by: "fabrikam", after: 3, ["carrier": "wingtip", "shipment": "WT-FAB-CPO-20411"])
                s.then(.deliver, by: "wingtip", after: 25, ["method": "signature"])
            }
            let t2 = try make(.tablet, to: "tailspin")
            script(t2, from: 6.5) { s in
                s.then(
                    .sell,
                    by: "tailspin",
                    after: 0,
                    Self.sale("tailspin", "TSM-55001", customer: "c-1002", day: s.day, window: 14, channel: "store")
                )
                s.on(day: 63.5)
                s.then(.tradeIn, by: "tailspin", after: 0, ["credit": 9_000, "currency": "EUR", "grade": "fair"])
                s.then(
                    .returnReceive,
                    by: "tailspin",
                    after: 1,
                    ["condition": "used", "scanned": Self.scan(t2, .humanReadable)]
                )
                s.then(.inspect, by: "proseware", after: 70, ["grade": "fair", "findings": ["housing-dents"]])
                s.then(
                    .refurbish,
                    by: "proseware",
                    after: 30,
                    [
                        "work": ["deep-clean", "battery-replaced"], "tests": ["battery-health", "display"],
                        "warrantyMonths": 3, "certified": false,
                    ]
                )
                s.then(
                    .resell,
                    by: "tailspin",
                    after: 80,
                    [
                        "orderDigest": Self.order("tailspin", "TSM-59310"), "channel": "store",
                        "certifiedPreOwned": false,
                    ]
                )
            }
        }

        /// Laptops leased out and returned.
        mutating func leases() throws {
            let l1 = try make(.laptop, to: "fabrikam")
            script(l1, from: 8.3) { s in
                s.then(
                    .leaseOut,
                    by: "fabrikam",
                    after: 0,
                    [
                        "leaseDigest": .string(DemoStory.salted("lease:FAB-LS-3001").hex),
                        "customerDigest": Self.customer("c-1101"),
                        "until": .string(DemoStory.time(day: 98.3).description),
                    ]
                )
                s.on(day: 98.5)
                s.then(
                    .leaseReturn,
                    by: "litware",
                    after: 0,
                    [
                        "condition": "used", "leaseDigest": .string(DemoStory.salted("lease:FAB-LS-3001").hex),
                    ]
                )
                s.then(.inspect, by: "proseware", after: 30, ["grade": "good", "findings": ["keyboard-wear"]])
                s.then(
                    .refurbish,
                    by: "proseware",
                    after: 40,
                    [
                        "work": ["keyboard-replaced", "deep-clean"],
                        "parts": [["part": "keyboard", "serial": "KB-14-66012"]],
                        "tests": ["battery-health", "display", "keyboard", "wifi"], "softwareVersion": "2026.5",
                        "warrantyMonths": 12, "certified": true,
                    ]
                )
            }
            let l2 = try make(.laptop, to: "tailspin")
            script(l2, from: 10.3) { s in
                s.then(
                    .leaseOut,
                    by: "tailspin",
                    after: 0,
                    [
                        "leaseDigest": .string(DemoStory.salted("lease:TSM-LS-118").hex),
                        "until": .string(DemoStory.time(day: 40.3).description),
                    ]
                )
                s.on(day: 40.5)
                s.then(.leaseReturn, by: "tailspin", after: 0, ["condition": "opened"])
                s.then(.inspect, by: "litware", after: 30, ["grade": "as-new"])
                s.then(.restock, by: "litware", after: 1)
            }
        }

        /// Excess stock at the distributor: donated as one batch, one unit liquidated, one redistributed.
        mutating func excessStock() throws {
            var donated: [SGTIN] = []
            for _ in 0..<3 { donated.append(try make(.headphones, to: "alpine")) }
            add(
                DemoStory.time(day: 33.4),
                .excessDisposition,
                donated,
                batch: true,
                by: "alpine",
                [
                    "action": "donate", "reference": "DON-2026-03-SCHOOLS",
                ]
            )
            let liquidated = try make(.earbuds, to: "alpine")
            script(liquidated, from: 33.5) { s in
                s.then(
                    .excessDisposition,
                    by: "alpine",
                    after: 0,
                    ["action": "liquidate", "reference": "LIQ-2026-0012"]
                )
            }
            let moved = try make(.speaker, to: "alpine")
            script(moved, from: 34.4) { s in
                s.then(
                    .excessDisposition,
                    by: "alpine",
                    after: 0,
                    [
                        "action": "redistribute", "consignee": "tailspin", "reference": "RDS-2026-0031",
                    ]
                )
                s.then(.receive, by: "tailspin", after: 24, ["condition": "intact"])
            }
        }

        /// A single recycling certificate, the pallet certificate, a theft and a loss.
        mutating func endOfLife() throws {
            let worn = try make(.phoneX, to: "fabrikam")
            script(worn, from: 7.45) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100701", customer: "c-1201")
                s.on(day: 80.4)
                s.then(.returnAuthorize, by: "fabrikam", after: 0, ["rma": "FAB-RMA-2026-0311", "reason": "defective"])
                s.then(
                    .returnReceive,
                    by: "litware",
                    after: 48,
                    [
                        "condition": "damaged", "scanned": Self.scan(worn, .dataMatrix), "rma": "FAB-RMA-2026-0311",
                    ]
                )
                s.then(.inspect, by: "litware", after: 3, ["grade": "beyond-repair", "findings": ["water-damage"]])
                s.then(
                    .recycle,
                    by: "adatum",
                    after: 200,
                    [
                        "certificate": "AATF-2026-0588", "method": "manual-disassembly",
                        "materials": [
                            "aluminium": 31, "glass": 47, "copper": 12, "cobalt": 6, "lithium": 1, "plastic": 25,
                        ],
                    ]
                )
            }
            let stolen = try make(.phoneX, to: "tailspin")
            script(stolen, from: 36.9) { s in
                s.then(.reportStolen, by: "tailspin", after: 0, ["reference": "POLICE-2026-55102"])
            }
            plantScan(
                stolen,
                .brandDigitalLink,
                dock: "litware",
                minute: 20,
                expect: "reported-stolen",
                "a phone reported stolen from Tailspin's stockroom in April turns up as a 'return'"
            )
            let lost = try make(.headphones, to: "fabrikam")
            script(lost, from: 25.45) { s in
                s.then(
                    .sell,
                    by: "fabrikam",
                    after: 0,
                    Self.sale("fabrikam", "FAB-100702", customer: "c-1202", day: s.day)
                )
                s.then(.ship, by: "fabrikam", after: 3, ["carrier": "wingtip", "shipment": "WT-FAB-100702"])
                s.then(.reportLost, by: "wingtip", after: 60, ["reference": "WT-CLAIM-2026-0931"])
            }
        }

        /// The planted frauds and two genuine returns, with the dock scans that must catch them.
        mutating func frauds() throws {
            // Counterfeit: a serial that was never commissioned.
            let fake = try SimulatedModel.phoneX.product(serial: "NWX26A9137")
            plantScan(
                fake,
                .dataMatrix,
                dock: "litware",
                rma: "FAB-RMA-2026-0999",
                minute: 1,
                expect: "unknown-serial",
                "a 'Phone X' whose serial Northwind never made: counterfeit"
            )

            // Cloned serial: the genuine phone was returned in June; a second unit with its label arrives.
            let cloned = try make(.phoneX, to: "fabrikam")
            script(cloned, from: 98.45) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100801", customer: "c-1301", window: 30)
                s.then(
                    .returnAuthorize,
                    by: "fabrikam",
                    after: 100,
                    ["rma": "FAB-RMA-2026-0401", "reason": "defective"]
                )
                s.then(
                    .returnReceive,
                    by: "litware",
                    after: 48,
                    [
                        "condition": "used", "scanned": Self.scan(cloned, .dataMatrix), "rma": "FAB-RMA-2026-0401",
                    ]
                )
                s.then(.inspect, by: "litware", after: 4, ["grade": "good", "findings": ["minor-scratches"]])
            }
            plantScan(
                cloned,
                .digitalLink,
                dock: "litware",
                rma: "FAB-RMA-2026-0401",
                minute: 4,
                expect: "already-returned",
                "a second phone with the serial of one already returned in June: cloned serial, double refund claim"
            )

            // Recycled item that reappears: a phone on the recycling pallet comes back to a dock.
            let reappears = try make(.phoneLite, to: "fabrikam")
            script(reappears, from: 24.45) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100802", customer: "c-1302")
                s.then(
                    .returnAuthorize,
                    by: "fabrikam",
                    after: 200,
                    ["rma": "FAB-RMA-2026-0402", "reason": "defective"]
                )
                s.then(
                    .returnReceive,
                    by: "litware",
                    after: 48,
                    [
                        "condition": "damaged", "scanned": Self.scan(reappears, .epcURN), "rma": "FAB-RMA-2026-0402",
                    ]
                )
                s.then(.inspect, by: "litware", after: 4, ["grade": "beyond-repair", "findings": ["board-corrosion"]])
            }
            pallet.append(reappears)
            plantScan(
                reappears,
                .humanReadable,
                dock: "litware",
                minute: 6,
                expect: "end-of-life",
                "a phone certified recycled by Adatum (pallet \(certificate)) is back at a dock"
            )

            // Substitution: a Phone X bought, a return authorised, and a cheaper Phone Lite box
            // bearing the same serial string arrives. The serial exists only under the Phone X GTIN.
            let expensive = try make(.phoneX, to: "fabrikam")
            script(expensive, from: 100.45) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100803", customer: "c-1303")
                s.then(
                    .returnAuthorize,
                    by: "fabrikam",
                    after: 100,
                    [
                        "rma": "FAB-RMA-2026-0403", "reason": "not-as-described",
                    ]
                )
            }
            let substitute = SGTIN(gtin: SimulatedModel.phoneLite.gtin, serial: expensive.serial)
            plantScan(
                substitute,
                .dataMatrix,
                dock: "litware",
                rma: "FAB-RMA-2026-0403",
                minute: 8,
                expect: "product-mismatch",
                "RMA FAB-RMA-2026-0403 is for a Phone X, but the box holds a cheaper Phone Lite with the same serial"
            )

            // Never sold: a laptop that never left the distributor's stock, 'returned' for a refund.
            let diverted = try make(.laptop, to: "alpine")
            plantScan(
                diverted,
                .epcURN,
                dock: "litware",
                minute: 10,
                expect: "never-sold",
                "a laptop still in Alpine's stock according to the ledger, never sold: diverted stock"
            )

            // Outside the return window: bought at Tailspin in March with a 14-day window.
            let late = try make(.headphones, to: "tailspin")
            script(late, from: 26.5) { s in
                Self.sellAndDeliver(&s, "tailspin", "TSM-56400", customer: "c-1304", window: 14)
            }
            plantScan(
                late,
                .brandDigitalLink,
                dock: "tailspin",
                minute: 14,
                expect: "outside-return-window",
                "headphones sold by Tailspin on 28 March with a 14-day window, returned on 1 July"
            )

            // Wrong channel: sold by Tailspin, brought to Fabrikam's dock.
            let elsewhere = try make(.earbuds, to: "tailspin")
            script(elsewhere, from: 112.5) { s in
                Self.sellAndDeliver(&s, "tailspin", "TSM-60021", customer: "c-1305", window: 30)
            }
            plantScan(
                elsewhere,
                .dataMatrix,
                dock: "fabrikam",
                minute: 16,
                expect: "wrong-channel",
                "earbuds sold by Tailspin, returned at Fabrikam's dock for a Fabrikam refund"
            )

            // Genuine returns: an open RMA at the returns centre, and an order claim at the seller's dock.
            let genuine = try make(.phoneX, to: "fabrikam")
            script(genuine, from: 110.45) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100901", customer: "c-1401")
                s.then(
                    .returnAuthorize,
                    by: "fabrikam",
                    after: 120,
                    [
                        "rma": "FAB-RMA-2026-0501", "reason": "no-longer-needed",
                    ]
                )
            }
            plantScan(
                genuine,
                .dataMatrix,
                dock: "litware",
                rma: "FAB-RMA-2026-0501",
                minute: 0,
                expect: "genuine-returnable",
                "a Phone X sold by Fabrikam in June, return authorised: genuine, accept it"
            )
            let genuine2 = try make(.headphones, to: "fabrikam")
            script(genuine2, from: 113.45) { s in
                Self.sellAndDeliver(&s, "fabrikam", "FAB-100902", customer: "c-1402")
            }
            plantScan(
                genuine2,
                .humanReadable,
                dock: "fabrikam",
                order: DemoStory.salted("fabrikam:order:FAB-100902"),
                minute: 2,
                expect: "genuine-returnable",
                "headphones bought from Fabrikam in June, brought back to its dock with the order: genuine"
            )
            // The pallet certificate, covering four items graded beyond use in the spring.
            add(
                DemoStory.time(day: 118.4),
                .recycle,
                pallet,
                batch: true,
                by: "adatum",
                [
                    "certificate": .string(certificate), "method": "mechanical-shredding",
                    "materials": [
                        "aluminium": 640, "glass": 250, "copper": 130, "cobalt": 40, "lithium": 9,
                        "plastic": 300, "steel": 120,
                    ],
                ]
            )
        }

        // MARK: Recording

        func finish() throws -> ([SignedStatement], DemoScript) {
            var recorder = ChainRecorder(parties: parties, sites: DemoStory.sites)
            let ordered = steps.sorted { ($0.time, $0.order) < ($1.time, $1.order) }
            for step in ordered {
                if step.isBatch {
                    try recorder.recordBatch(
                        step.type,
                        step.products,
                        by: step.party,
                        at: step.time,
                        details: step.details
                    )
                } else if let product = step.products.first {
                    try recorder.record(step.type, product, by: step.party, at: step.time, details: step.details)
                }
            }
            guard let showcase, let first = ordered.first, let last = ordered.last else {
                throw SimulationError("the demo story is empty")
            }
            // Last of all, each brand owner describes its GTINs (name, model, declared mass): appended
            // after the story, so every earlier entry keeps its log index.
            var end = last.time
            for (position, model) in SimulatedModel.all.enumerated() {
                end = last.time.adding(seconds: Int64(3_600 + 60 * position))
                try recorder.recordClass(model.gtin, by: model.brand, at: end, details: DemoStory.classDetails(model))
            }
            let script = DemoScript(
                scans: scans.sorted { $0.time < $1.time },
                showcase: showcase,
                recyclingCertificate: certificate,
                recycledProducts: pallet,
                products: products,
                statementCount: recorder.statements.count,
                start: first.time,
                end: end
            )
            return (recorder.statements, script)
        }
    }
}
