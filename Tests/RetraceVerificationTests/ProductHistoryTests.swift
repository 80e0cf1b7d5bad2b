import CanonicalJSON
import Foundation
import RetraceEvents
import RetraceIdentity
import RetraceVerification
import Testing

@Suite("Verified product history")
struct ProductHistoryTests {
    @Test("a returned phone's history names who did what, when and where, in order, with its passport and checkpoint")
    func history() throws {
        let story = try StoryLedger()
        let phone = try StoryLedger.product("PH-4001")
        try story.sell(phone)
        try story.returnToDock(phone, rma: "RMA-H", day: 5)
        try story.record(.inspect, phone, by: "litware", day: 8, details: ["grade": .string("good")])
        let history = try story.verifier.history(scan: "(01)09506000134352(21)PH-4001")
        #expect(history.product == phone.digitalLink)
        #expect(
            history.events.map(\.type) == [
                "commission", "ship", "receive", "sell", "return-authorize", "return-receive", "inspect",
            ]
        )
        #expect(history.events.first?.eventID == history.passport)
        #expect(
            history.events.map(\.party.id) == [
                "northwind", "northwind", "fabrikam", "fabrikam", "fabrikam", "litware", "litware",
            ]
        )
        #expect(history.events[3].party.role == "retailer")
        #expect(history.events[3].party.name == "Fabrikam Online")
        #expect(history.events[5].action == "received back at a returns dock")
        #expect(history.events[6].summary.contains("grade good"))
        #expect(history.events.map(\.index) == history.events.map(\.index).sorted())
        #expect(history.phase == "inspected")
        #expect(history.checkpoint.size == 8)
        #expect(history.checkpoint.origin == "retrace.test/demo")
        // JSON for the CLI and the web page; orders appear only as digests.
        let json = String(decoding: try JSONEncoder().encode(history), as: UTF8.self)
        #expect(json.contains(StoryLedger.order.hex))
        #expect(try JSONDecoder().decode(ProductHistory.self, from: Data(json.utf8)) == history)
    }

    @Test("an unknown product has no history, and a bad scan is refused as such")
    func refusals() throws {
        let story = try StoryLedger()
        #expect { try story.verifier.history(scan: StoryLedger.product("NOPE").digitalLink) } throws: {
            ($0 as? VerificationError)?.code == .notFound
        }
        #expect { try story.verifier.history(scan: "not a barcode") } throws: {
            ($0 as? VerificationError)?.code == .invalidScan
        }
    }
}
