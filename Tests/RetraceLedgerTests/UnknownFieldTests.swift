import CanonicalJSON
import Testing

@testable import RetraceEvents

/// Members nobody reads are refused (a verifier that ignored them could be shown something the
/// signer never meant). The reader records what it read by member position; these pin that it
/// still names exactly the first unread member, in objects of any size.
@Suite("Statements refuse members nobody reads")
struct UnknownFieldTests {
    static func signed() throws -> SignedStatement {
        try LedgerFixture.parties.sign(
            .commission,
            product: try LedgerFixture.product("UF-1"),
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(1)
        )
    }

    static func refusal(_ value: JSONValue) -> FormatError? {
        do {
            _ = try SignedStatement(json: value)
            return nil
        } catch {
            return error
        }
    }

    @Test("a statement as signed reads back; one extra member in the statement or the envelope is named")
    func extraMembers() throws {
        let signed = try Self.signed()
        guard case .object(var envelope) = signed.json, case .object(var statement)? = envelope["statement"] else {
            Issue.record("a signed statement is not an object")
            return
        }
        #expect(Self.refusal(.object(envelope)) == nil)

        var widened = envelope
        widened["note"] = "not signed for"
        let outer = Self.refusal(.object(widened))
        #expect(outer?.code == .unknownField)
        #expect(outer?.field == "note")

        statement["aaa"] = 1
        envelope["statement"] = .object(statement)
        let inner = Self.refusal(.object(envelope))
        #expect(inner?.code == .unknownField)
        #expect(inner?.field == "statement.aaa")
    }

    @Test("past 64 members the unread one is still found, whichever position it holds", arguments: [0, 63, 64, 65, 99])
    func largeObjects(unread: Int) throws {
        var object = JSONObject()
        for position in 0..<100 { object[String(format: "k%03d", position)] = .integer(Int64(position)) }
        var fields = try FieldReader(.object(object), path: "big")
        for position in 0..<100 where position != unread {
            #expect(fields.optional(String(format: "k%03d", position)) == .integer(Int64(position)))
        }
        #expect(fields.optional("absent") == nil)
        do {
            try fields.finish()
            Issue.record("an unread member passed")
        } catch {
            #expect(error.code == .unknownField)
            #expect(error.field == String(format: "big.k%03d", unread))
        }
        _ = fields.optional(String(format: "k%03d", unread))
        #expect(throws: Never.self) { try fields.finish() }
    }

    @Test("positions taken: exactly the full ranges count as all taken")
    func takenPositions() {
        for count in [0, 1, 63, 64, 65, 128, 200] {
            var taken = TakenPositions()
            #expect(taken.containsAll(count) == (count == 0))
            for position in 0..<count { taken.insert(position) }
            #expect(taken.containsAll(count))
            #expect(!taken.containsAll(count + 1))
            #expect(!taken.contains(count))
        }
    }
}
