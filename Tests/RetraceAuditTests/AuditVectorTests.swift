import CanonicalJSON
import Foundation
import MerkleLog
import RetraceAudit
import RetraceCrypto
import RetraceSimulation
import RetraceTestSupport
import Testing

/// spec/vectors/audit/: export files with the codes and indices an auditor must report, for the
/// cases spec/audit.md §3 decides (issue 16 points 3, 4, 9, 12), so that a second implementation
/// does not have to guess. Built here from the fixed test keys and a fixed clock; the stored files
/// must regenerate byte for byte, and the auditor must give exactly the expected answers.
@Suite("Audit test vectors (spec/vectors/audit)")
struct AuditVectorTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../spec/vectors/audit").standardizedFileURL

    struct Case {
        let file: String
        let lines: [[UInt8]]
        let description: String
    }

    static func text(_ line: [UInt8]) -> String { String(decoding: line, as: UTF8.self) }
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The entry line's claimed index, or nil for a header or checkpoint line.
    static func claimedIndex(_ line: [UInt8]) -> Int64? {
        guard case .object(let object)? = try? CanonicalJSON.decode(line), object["entry"] != nil else { return nil }
        return object["index"]?.integerValue
    }

    static func cases() throws -> [Case] {
        let story = try StoryLedger.build(products: 2, seed: 16)
        defer { story.remove() }
        let lines = try story.exportLines()
        let entryPositions = lines.indices.filter { claimedIndex(lines[$0]) != nil }
        let checkpointPositions = lines.indices.filter { text(lines[$0]).hasPrefix("{\"checkpoint\":") }

        // Point 3: a header member the format does not define.
        var unknownMember = lines
        unknownMember[0] = bytes(
            text(lines[0]).replacingOccurrences(of: "{\"format\"", with: "{\"comment\":\"x\",\"format\"")
        )
        // Point 4: the header claims another origin than its checkpoints are signed for.
        var renamed = lines
        renamed[0] = bytes(text(lines[0]).replacingOccurrences(of: TestParties.origin, with: "example.com/other"))
        // Point 4: every checkpoint re-signed by the same log key for another origin, header unchanged.
        var resigned = lines
        for position in checkpointPositions {
            guard case .object(let object) = try CanonicalJSON.decode(lines[position]),
                let note = object["checkpoint"]?.stringValue
            else { continue }
            let body = try Checkpoint(parsing: String(note.split(separator: "\n\n")[0]) + "\n")
            let other = try Checkpoint(origin: "example.com/other", size: body.size, rootHash: body.rootHash)
            resigned[position] = try CanonicalJSON.encode(
                .object(["checkpoint": .string(try other.sign(with: story.parties.log).serialized)])
            )
        }
        // Point 9: entry 0 is not a roster (the roster line left out, the others renumbered).
        // The checkpoints signed before the first event go too: they would fail first (A11).
        var noRoster = lines
        let firstEvent = entryPositions[1]
        noRoster.removeSubrange(entryPositions[0]..<firstEvent)
        noRoster = noRoster.map { line in
            guard let index = claimedIndex(line) else { return line }
            return bytes(text(line).replacingOccurrences(of: "\"index\":\(index)}", with: "\"index\":\(index - 1)}"))
        }
        // Point 9: the roster's signature changed (one base64 character).
        var badRosterSignature = lines
        let rosterLine = text(lines[entryPositions[0]])
        if let range = rosterLine.range(of: "\"signature\":\"") {
            var characters = Array(rosterLine)
            let at = rosterLine.distance(from: rosterLine.startIndex, to: range.upperBound) + 2
            characters[at] = characters[at] == "A" ? "B" : "A"
            badRosterSignature[entryPositions[0]] = bytes(String(characters))
        }
        // Point 9: a checkpoint whose signed size is one more than the entries before it.
        var wrongSize = lines
        if let position = checkpointPositions.dropFirst().first,
            case .object(let object) = try CanonicalJSON.decode(lines[position]),
            let note = object["checkpoint"]?.stringValue
        {
            let body = try Checkpoint(parsing: String(note.split(separator: "\n\n")[0]) + "\n")
            let bigger = try Checkpoint(origin: body.origin, size: body.size + 1, rootHash: body.rootHash)
            wrongSize[position] = try CanonicalJSON.encode(
                .object(["checkpoint": .string(try bigger.sign(with: story.parties.log).serialized)])
            )
        }
        // Point 9: a checkpoint line that is not {"checkpoint": note}.
        var malformedCheckpoint = lines
        malformedCheckpoint[checkpointPositions[1]] = bytes("{\"checkpoint\":\"not a signed note\"}")
        // Point 12: a gap (entry 3 left out) and an unreadable line (entry 2 replaced).
        var gap = lines
        gap.remove(at: entryPositions[3])
        var unreadable = lines
        unreadable[entryPositions[2]] = bytes("this line is not JSON")

        return [
            Case(file: "valid.jsonl", lines: lines, description: "a small ledger's export: passes"),
            Case(
                file: "header-unknown-member.jsonl",
                lines: unknownMember,
                description: "the header has a member the format does not define: not an export (format.md §7)"
            ),
            Case(
                file: "header-origin-renamed.jsonl",
                lines: renamed,
                description: "the header names another origin than the one trusted and its checkpoints are signed for"
            ),
            Case(
                file: "checkpoints-other-origin.jsonl",
                lines: resigned,
                description: "every checkpoint re-signed by the same log key for another origin (audit.md §1)"
            ),
            Case(
                file: "entry0-not-roster.jsonl",
                lines: noRoster,
                description: "the first roster left out and the entries renumbered: entry 0 is an event"
            ),
            Case(
                file: "roster-bad-signature.jsonl",
                lines: badRosterSignature,
                description: "one character of the first roster's signature changed"
            ),
            Case(
                file: "checkpoint-wrong-size.jsonl",
                lines: wrongSize,
                description: "the second checkpoint validly signed for one entry more than precede it"
            ),
            Case(
                file: "checkpoint-line-malformed.jsonl",
                lines: malformedCheckpoint,
                description: "the second checkpoint line holds no signed note"
            ),
            Case(file: "gap.jsonl", lines: gap, description: "entry 3 left out"),
            Case(
                file: "unreadable-line.jsonl",
                lines: unreadable,
                description: "entry 2 replaced by a line that is not JSON"
            ),
        ]
    }

    static func fileBytes(_ item: Case) -> [UInt8] { item.lines.flatMap { $0 + [0x0A] } }

    static let anchors: (governance: [NoteVerifier], log: NoteVerifier, origin: String) = {
        let parties = try! TestParties()
        return ([parties.governance.verifier], parties.log.verifier, TestParties.origin)
    }()

    /// The auditor's answer for a file: stopping at the first failure, and keeping going.
    static func answer(path: String) -> JSONObject {
        func run(keepGoing: Bool) -> JSONValue {
            let auditor = Auditor(
                trustRoots: anchors.governance,
                logKey: anchors.log,
                origin: anchors.origin,
                threads: 1,
                keepGoing: keepGoing
            )
            do {
                let report = try auditor.audit(exportAt: path)
                return .array(
                    report.failures.map {
                        .object(["index": $0.index.map { .integer(Int64($0)) } ?? .null, "rule": .string($0.rule)])
                    }
                )
            } catch let error as AuditError {
                return .object(["error": .string(error.code.description)])
            } catch {
                return .object(["error": .string("\(error)")])
            }
        }
        return ["first": run(keepGoing: false), "all": run(keepGoing: true)]
    }

    static func expectedJSON(_ cases: [Case], in directory: URL) throws -> [UInt8] {
        var list: [JSONValue] = []
        for item in cases {
            let path = directory.appendingPathComponent(item.file)
            try Data(fileBytes(item)).write(to: path)
            var object = answer(path: path.path)
            object["file"] = .string(item.file)
            object["description"] = .string(item.description)
            list.append(.object(object))
        }
        let anchorsJSON: JSONObject = [
            "governance": .array(anchors.governance.map { .string($0.description) }),
            "logKey": .string(anchors.log.description), "origin": .string(anchors.origin),
        ]
        return try CanonicalJSON.encode(.object(["anchors": .object(anchorsJSON), "cases": .array(list)])) + [0x0A]
    }

    @Test("the audit vectors regenerate byte for byte from the fixed test keys and clock")
    func regenerate() throws {
        let cases = try Self.cases()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "audit-vectors-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let expected = try Self.expectedJSON(cases, in: scratch)
        let files =
            cases.map { (url: Self.folder.appendingPathComponent($0.file), bytes: Self.fileBytes($0)) }
            + [(url: Self.folder.appendingPathComponent("expected.json"), bytes: expected)]
        switch try SpecVectors.check(files) {
        case .rewritten(let note): Issue.record("\(note)")
        case .compared(let differing): #expect(differing.isEmpty, "\(differing) differ from the regenerated exports")
        }
    }

    @Test("each stored vector gets exactly its expected answer, with only expected.json's anchors")
    func storedVectors() throws {
        let expected = try CanonicalJSON.decode(
            [UInt8](Data(contentsOf: Self.folder.appendingPathComponent("expected.json"))).dropLast(),
            options: .strict
        )
        let cases = try #require(expected["cases"]?.arrayValue)
        #expect(cases.count == 10)
        for item in cases {
            let file = try #require(item["file"]?.stringValue)
            let answer = Self.answer(path: Self.folder.appendingPathComponent(file).path)
            #expect(
                .object(answer)
                    == item.objectValue.map { object in
                        var copy = object
                        copy.removeValue(forKey: "file")
                        copy.removeValue(forKey: "description")
                        return JSONValue.object(copy)
                    },
                "\(file)"
            )
        }
    }

    @Test("the decided codes: what spec/audit.md §3 says for each case")
    func decidedCodes() throws {
        let expected = try CanonicalJSON.decode(
            [UInt8](Data(contentsOf: Self.folder.appendingPathComponent("expected.json"))).dropLast(),
            options: .strict
        )
        var first: [String: JSONValue] = [:]
        for item in expected["cases"]?.arrayValue ?? [] {
            if let file = item["file"]?.stringValue { first[file] = item["first"] }
        }
        func rule(_ file: String) -> String? { first[file]?.arrayValue?.first?["rule"]?.stringValue }
        func index(_ file: String) -> Int64? { first[file]?.arrayValue?.first?["index"]?.integerValue }
        #expect(first["valid.jsonl"] == .array([]))
        #expect(first["header-unknown-member.jsonl"]?["error"]?.stringValue == "notALedger")
        #expect(rule("header-origin-renamed.jsonl") == "A19 header")
        #expect(rule("checkpoints-other-origin.jsonl") == "A8 checkpoint-signature")
        #expect(rule("entry0-not-roster.jsonl") == "A3 signature" && index("entry0-not-roster.jsonl") == 0)
        #expect(rule("roster-bad-signature.jsonl") == "A4 roster" && index("roster-bad-signature.jsonl") == 0)
        #expect(rule("checkpoint-wrong-size.jsonl") == "A11 entry-sequence")
        #expect(rule("checkpoint-line-malformed.jsonl") == "A8 checkpoint-signature")
        #expect(rule("gap.jsonl") == "A11 entry-sequence" && index("gap.jsonl") == 3)
        #expect(rule("unreadable-line.jsonl") == "A1 entry-format" && index("unreadable-line.jsonl") == 2)
    }
}
