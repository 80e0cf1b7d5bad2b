import CanonicalJSON
import Foundation
import RetraceEvents
import RetraceIdentity
import RetraceStorage
import RetraceVerification
import Testing

@Suite("Dock verdicts, one fraud story each, through the real ledger")
struct DockVerdictTests {
    static let inWindow = StoryLedger.time(days: 20)

    func verdict(
        _ story: StoryLedger,
        _ product: SGTIN,
        scan: String? = nil,
        rma: String? = nil,
        order: Digest? = nil,
        dock: String? = "litware",
        serves: Set<String>? = ["fabrikam"],
        now: Timestamp = inWindow
    ) throws -> DockVerdict {
        try story.verifier.verdict(
            DockRequest(
                scan: scan ?? product.digitalLink,
                rma: rma,
                orderDigest: order,
                dock: dock,
                servesRetailers: serves,
                now: now
            )
        )
    }

    @Test("a phone sold by Fabrikam and returned in time with its RMA at Litware's dock is genuine and returnable")
    func genuine() throws {
        let story = try StoryLedger()
        let phone = try StoryLedger.product("PH-1001")
        try story.sell(phone)
        let rma = try story.record(
            .returnAuthorize,
            phone,
            by: "fabrikam",
            day: 10,
            details: ["rma": .string("RMA-77"), "reason": .string("defective")]
        )
        // The scanner reads the GS1 element string with FNC1; any identity form works.
        let result = try verdict(
            story,
            phone,
            scan: "]d2" + phone.elementString,
            rma: "RMA-77",
            order: StoryLedger.order
        )
        #expect(result.code == .genuineReturnable)
        #expect(result.isReturnable)
        #expect(result.evidence.contains(rma.id.hex))
        #expect(result.passport != nil)
        #expect(result.checkpointSize == 6)
        #expect(result.suggestedDisposition == .inspect)
    }

    @Test("a counterfeit carrying an invented serial is an unknown serial")
    func counterfeit() throws {
        let story = try StoryLedger()
        try story.sell(try StoryLedger.product("PH-1001"))
        let fake = try StoryLedger.product("PH-9999")
        let result = try verdict(story, fake, scan: "urn:epc:id:sgtin:9506000.013435.PH-9999")
        #expect(result.code == .unknownSerial)
        #expect(result.message.contains("counterfeit"))
        #expect(result.evidence.isEmpty)
        #expect(result.checkpointSize == 5)
        #expect(result.suggestedDisposition == .quarantine)
    }

    @Test("a box of the premium model whose serial belongs to the cheaper model of the same brand is a substitution")
    func substitution() throws {
        let story = try StoryLedger()
        let premium = gtin14("0950600013436")
        let cheap = try StoryLedger.product("LT-5000")
        try story.sell(cheap)
        let box = try StoryLedger.product("LT-5000", gtin: premium)
        let result = try verdict(story, box)
        #expect(result.code == .productMismatch)
        #expect(result.message.contains("09506000134352"))
        let passport = try story.verifier.verifiedProduct(scan: cheap.digitalLink).passport
        #expect(result.evidence == [passport.hex])
    }

    @Test("stock received at Fabrikam but never sold that turns up at a returns dock is diverted stock")
    func diverted() throws {
        let story = try StoryLedger()
        let tablet = try StoryLedger.product("TB-2002")
        try story.stock(tablet)
        let result = try verdict(story, tablet)
        #expect(result.code == .neverSold)
        #expect(result.message.contains("never sold"))
        #expect(result.suggestedDisposition == .quarantine)
    }

    @Test("a phone whose serial was copied onto a second unit: the first return passes, the clone is refused")
    func clonedSerial() throws {
        let story = try StoryLedger()
        let phone = try StoryLedger.product("PH-3003")
        try story.sell(phone)
        try story.record(
            .returnAuthorize,
            phone,
            by: "fabrikam",
            day: 5,
            details: ["rma": .string("RMA-1"), "reason": .string("no-longer-needed")]
        )
        #expect(try verdict(story, phone, rma: "RMA-1").code == .genuineReturnable)
        let returned = try story.record(
            .returnReceive,
            phone,
            by: "litware",
            day: 7,
            details: ["condition": .string("sealed"), "scanned": .string(phone.digitalLink), "rma": .string("RMA-1")]
        )
        // The clone arrives a week later with a copied label.
        let result = try verdict(story, phone, now: StoryLedger.time(days: 14))
        #expect(result.code == .alreadyReturned)
        #expect(result.evidence.last == returned.id.hex)
        #expect(result.message.contains("copied serial"))
    }

    @Test("a laptop recycled by Adatum that comes back to a dock is end of life, naming the recycling")
    func recycledLaptop() throws {
        let story = try StoryLedger()
        let laptop = try StoryLedger.product("LT-4004")
        try story.sell(laptop)
        try story.returnToDock(laptop, rma: "RMA-9", day: 5)
        let recycle = try story.record(
            .recycle,
            laptop,
            by: "adatum",
            day: 9,
            details: [
                "certificate": .string("COR-2026-0001"), "method": .string("manual-disassembly"),
                "materials": .object(["aluminium": .integer(800), "copper": .integer(150)]),
            ]
        )
        let result = try verdict(story, laptop, now: StoryLedger.time(days: 12))
        #expect(result.code == .endOfLife)
        #expect(result.evidence == [recycle.id.hex])
        #expect(result.message.contains("Adatum Recycling"))
        #expect(result.message.contains("clone"))
    }

    @Test("a unit under a safety recall is routed to recall handling")
    func recalled() throws {
        let story = try StoryLedger()
        let charger = try StoryLedger.product("CH-5005")
        try story.sell(charger)
        let recall = try story.record(
            .recall,
            charger,
            by: "northwind",
            day: 4,
            details: ["notice": .string("RC-2026-01"), "reason": .string("safety"), "remedy": .string("replace")]
        )
        let result = try verdict(story, charger)
        #expect(result.code == .recalled)
        #expect(result.evidence == [recall.id.hex])
        #expect(result.suggestedDisposition == .routeToRecall)
    }

    @Test("a camera stolen from Fabrikam's shelf and brought to a dock for a refund is reported stolen")
    func stolen() throws {
        let story = try StoryLedger()
        let camera = try StoryLedger.product("CM-6006")
        try story.stock(camera)
        let report = try story.record(.reportStolen, camera, by: "fabrikam", day: 3)
        let result = try verdict(story, camera)
        #expect(result.code == .reportedStolen)
        #expect(result.evidence == [report.id.hex])
        #expect(result.message.contains("stolen"))
    }

    @Test("a return after the 30-day window is outside the return window")
    func lateReturn() throws {
        let story = try StoryLedger()
        let speaker = try StoryLedger.product("SP-7007")
        try story.sell(speaker)
        let result = try verdict(story, speaker, now: StoryLedger.time(days: 60))
        #expect(result.code == .outsideReturnWindow)
        #expect(result.suggestedDisposition == .returnToCustomer)
        // An RMA authorised inside the window keeps the return valid after it.
        try story.record(
            .returnAuthorize,
            speaker,
            by: "fabrikam",
            day: 30,
            details: ["rma": .string("RMA-5"), "reason": .string("defective")]
        )
        #expect(try verdict(story, speaker, now: StoryLedger.time(days: 60)).code == .genuineReturnable)
    }

    @Test(
        "a unit sold by Tailspin returned at Fabrikam's dock, or at a centre serving only Fabrikam, is wrong channel"
    )
    func wrongChannel() throws {
        let story = try StoryLedger()
        let watch = try StoryLedger.product("WT-8008")
        try story.sell(watch, by: "tailspin")
        let atRetailer = try verdict(story, watch, dock: "fabrikam", serves: nil)
        #expect(atRetailer.code == .wrongChannel)
        #expect(atRetailer.message.contains("Tailspin Market"))
        #expect(try verdict(story, watch, dock: "litware", serves: ["fabrikam"]).code == .wrongChannel)
        #expect(
            try verdict(story, watch, dock: "litware", serves: ["fabrikam", "tailspin"]).code == .genuineReturnable
        )
        #expect(try verdict(story, watch, dock: "tailspin", serves: nil).code == .genuineReturnable)
        #expect(try verdict(story, watch, dock: "northwind", serves: nil).code == .genuineReturnable)
    }

    @Test("a receipt from another order is a reference mismatch")
    func receiptSwap() throws {
        let story = try StoryLedger()
        let phone = try StoryLedger.product("PH-9009")
        try story.sell(phone)
        let other = Digest.of(Array("another order".utf8))
        #expect(try verdict(story, phone, order: other).code == .referenceMismatch)
        #expect(try verdict(story, phone, rma: "RMA-NOPE").code == .referenceMismatch)
    }

    @Test("a tampered stored entry makes the verdict a ledger integrity failure, not a lookup answer")
    func tampered() throws {
        let story = try StoryLedger()
        let phone = try StoryLedger.product("PH-1010")
        try story.sell(phone)
        // Someone with database access rewrites the sale's return window in the stored entry (index 4).
        let tampered = TamperingStore(base: story.store) { entry in
            guard entry.index == 4 else { return entry }
            return entry.replacing("2026-04-03", with: "2027-04-03")
        }
        let verifier = Verifier(store: tampered, anchors: StoryLedger.anchors)
        let result = try verifier.verdict(DockRequest(scan: phone.digitalLink, now: StoryLedger.time(days: 60)))
        #expect(result.code == .ledgerIntegrityFailure)
        #expect(result.reasons.first?.contains("inclusion-failed") == true)
        #expect(result.checkpointSize == nil)
        // The untampered store still answers.
        #expect(
            try story.verifier.verdict(DockRequest(scan: phone.digitalLink, now: StoryLedger.time(days: 60))).code
                == .outsideReturnWindow
        )
    }

    @Test(
        "a verdict takes the stored bytes as the leaf, as the audit does: an entry re-spelled or replaced by bytes that are no JSON is a ledger integrity failure, also after the genuine bytes were verified",
        arguments: ["re-spelled", "no JSON"]
    )
    func storedBytesAltered(_ alteration: String) throws {
        let story = try StoryLedger()
        let phone = try StoryLedger.product("PH-1012")
        try story.sell(phone)
        let altering = Switch()
        let store = TamperingStore(base: story.store) { entry in
            guard entry.index == 4, altering.isOn else { return entry }
            // The same object with a space after its brace decodes to the same entry, but is not
            // the canonical bytes the log hashed.
            let bytes = alteration == "re-spelled" ? Array("{ ".utf8) + entry.bytes.dropFirst() : Array("sold".utf8)
            return entry.replacingBytes(bytes)
        }
        let verifier = Verifier(store: store, anchors: StoryLedger.anchors)
        let request = DockRequest(scan: phone.digitalLink, now: StoryLedger.time(days: 60))
        // Scanned once with the genuine bytes: the event's signature is cached under their hash.
        #expect(try verifier.verdict(request).code == .outsideReturnWindow)
        altering.turnOn()
        let result = try verifier.verdict(request)
        #expect(result.code == .ledgerIntegrityFailure)
        #expect(result.reasons.first?.contains("inclusion-failed") == true, "\(result.reasons)")
        if alteration == "no JSON" {
            // Evidence served to a dock is decoded before it is sent, and refused here as before.
            #expect(throws: VerificationError.self) { try verifier.dockEvidence(scan: phone.digitalLink) }
        }
    }

    @Test("the verdict from an offline bundle equals the verdict from the database")
    func sameVerdictOffline() throws {
        let story = try StoryLedger()
        let phone = try StoryLedger.product("PH-1111")
        try story.sell(phone)
        try story.returnToDock(phone, rma: "RMA-2", day: 4)
        let request = DockRequest(scan: phone.digitalLink, now: StoryLedger.time(days: 9))
        let online = try story.verifier.verdict(request)
        let bytes = try story.verifier.bundle(scan: phone.digitalLink).encoded()
        let offline = try EvidenceVerifier(anchors: StoryLedger.anchors).verdict(
            request,
            bundle: bytes,
            now: StoryLedger.time(days: 9)
        )
        #expect(online == offline)
        #expect(offline.code == .alreadyReturned)
        // The verdict is JSON-friendly for the CLI and the web page.
        let json = try JSONEncoder().encode(offline)
        #expect(String(decoding: json, as: UTF8.self).contains("\"already-returned\""))
    }
}
