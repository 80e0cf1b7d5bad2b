import Foundation
import Testing

@testable import RetraceStorage

/// The scratch table answers for keys never written without a query; that must never hide a key
/// that was written.
@Suite("The scratch table and its filter of written keys")
struct ScratchTableTests {
    static func keys(_ count: Int, tag: String) -> [String] {
        (0..<count).map { "https://id.gs1.org/01/09506000134352/21/\(tag)\($0)" }
    }

    @Test("every key inserted is found; of keys never inserted, almost none")
    func filter() {
        var filter = KeyFilter()
        #expect(!filter.mayContain("anything"), "an empty filter holds nothing")
        let inserted = Self.keys(20_000, tag: "IN")
        for key in inserted { filter.insert(key) }
        #expect(inserted.allSatisfy(filter.mayContain))
        // 60,000 bits set of 2^25: about 6e-9 false positives per key, 6e-4 in all expected.
        let wrong = Self.keys(100_000, tag: "OUT").filter(filter.mayContain).count
        #expect(wrong <= 2)
        // A key differing from an inserted one in its last byte only.
        #expect(!filter.mayContain("https://id.gs1.org/01/09506000134352/21/IN19999x"))
    }

    @Test("values put are read back, overwritten, and absent keys answer nil, before and after the first put")
    func table() throws {
        let table = try ScratchTable()
        #expect(try table.value(for: "a") == nil)
        try table.put([(key: "a", value: [1]), (key: "b", value: [2, 3])])
        #expect(try table.value(for: "a") == [1])
        #expect(try table.value(for: "b") == [2, 3])
        #expect(try table.value(for: "c") == nil)
        try table.put([(key: "a", value: [4])])
        #expect(try table.value(for: "a") == [4])
        // Bytewise keys: "é" precomposed and decomposed are two keys, though `Hasher` hashes them
        // alike (the filter then lets the query answer).
        try table.put([(key: "\u{E9}", value: [5])])
        #expect(try table.value(for: "e\u{301}") == nil)
        #expect(try table.value(for: "\u{E9}") == [5])
        // The empty key and an empty value are values like any other (bound as "" and a zero-length
        // blob, not NULL, which the table refuses).
        try table.put([(key: "", value: []), (key: "z", value: [])])
        #expect(try table.value(for: "") == [])
        #expect(try table.value(for: "z") == [])
        var rows: [(String, [UInt8])] = []
        try table.forEachInKeyOrder { key, value in rows.append((key, value)) }
        #expect(rows.map(\.0) == ["", "a", "b", "z", "\u{E9}"])
        #expect(rows.map(\.1) == [[], [4], [2, 3], [], [5]])
    }
}
