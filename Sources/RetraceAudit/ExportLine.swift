import CanonicalJSON
import Foundation
import RetraceEvents

/// The lines of an export file (spec/format.md §7), parsed strictly.
enum ExportLine {
    struct Problem: Error {
        let rule: String
        let reason: String
    }

    struct Entry {
        let index: UInt64
        let entryBytes: [UInt8]
        let members: [BatchMember]
    }

    struct Header {
        let governance: [String]
        let logKey: String
        let origin: String
        let treeSize: UInt64
    }

    static func object(_ line: [UInt8], what: String) throws(Problem) -> JSONObject {
        let value: JSONValue
        do {
            value = try CanonicalJSON.decode(line, options: .strict)
        } catch {
            throw Problem(rule: AuditRule.entryFormat, reason: "the \(what) line is not canonical JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw Problem(rule: AuditRule.entryFormat, reason: "the \(what) line is not a JSON object")
        }
        return object
    }

    /// `{"entry":{…},"index":i[,"members":[…]]}`; the entry's leaf bytes are its canonical encoding,
    /// which, the line being canonical, are exactly the bytes that appear in it.
    static func entry(_ line: [UInt8]) throws(Problem) -> Entry {
        let object = try object(line, what: "entry")
        for key in object.keys where !["entry", "index", "members"].contains(key) {
            throw Problem(rule: AuditRule.entryFormat, reason: "the entry line has an unknown member \"\(key)\"")
        }
        guard case .integer(let index)? = object["index"], index >= 0 else {
            throw Problem(rule: AuditRule.entryFormat, reason: "the entry line has no non-negative integer \"index\"")
        }
        guard let entry = object["entry"], case .object = entry else {
            throw Problem(rule: AuditRule.entryFormat, reason: "the entry line has no \"entry\" object")
        }
        let bytes: [UInt8]
        do { bytes = try CanonicalJSON.encode(entry) } catch {
            throw Problem(rule: AuditRule.entryFormat, reason: "the entry cannot be encoded canonically: \(error)")
        }
        var members: [BatchMember] = []
        if let list = object["members"] {
            guard case .array(let items) = list, !items.isEmpty else {
                throw Problem(rule: AuditRule.batchMembers, reason: "\"members\" is not a non-empty array")
            }
            for (position, item) in items.enumerated() {
                do {
                    members.append(try BatchMember(json: item, path: "members[\(position)]"))
                } catch {
                    throw Problem(
                        rule: AuditRule.batchMembers,
                        reason: "batch member \(position) is malformed: \(error)"
                    )
                }
            }
        }
        return Entry(index: UInt64(index), entryBytes: bytes, members: members)
    }

    static func isCheckpoint(_ line: [UInt8]) -> Bool {
        line.starts(with: Array("{\"checkpoint\":".utf8))
    }

    static func checkpoint(_ line: [UInt8]) throws(Problem) -> String {
        let object = try object(line, what: "checkpoint")
        guard object.keys.count == 1, case .string(let note)? = object["checkpoint"] else {
            throw Problem(
                rule: AuditRule.checkpointSignature,
                reason: "the checkpoint line is not {\"checkpoint\": note}"
            )
        }
        return note
    }

    /// The members of an export header, all required.
    static let headerMembers: Set<String> = ["format", "governance", "logKey", "origin", "treeSize"]

    static func header(_ line: [UInt8]) throws(AuditError) -> Header {
        let object: JSONObject
        do { object = try self.object(line, what: "header") } catch {
            throw AuditError(.notALedger, "the first line is not a Retrace export header: \(error.reason)")
        }
        guard case .string(let format)? = object["format"], format == "retrace-export/v1" else {
            throw AuditError(.notALedger, "the first line does not name the format retrace-export/v1")
        }
        // Unknown members are refused, as everywhere in the format: one reader must not ignore
        // what another would act on (format.md §7).
        if let extra = object.keys.first(where: { !headerMembers.contains($0) }) {
            throw AuditError(
                .notALedger,
                "the export header has an unknown member \"\(extra)\"; expected only \(headerMembers.sorted().joined(separator: ", "))"
            )
        }
        guard case .array(let roots)? = object["governance"], case .string(let logKey)? = object["logKey"],
            case .string(let origin)? = object["origin"], case .integer(let size)? = object["treeSize"], size >= 0
        else {
            throw AuditError(.notALedger, "the export header lacks governance, logKey, origin or treeSize")
        }
        var governance: [String] = []
        for root in roots {
            guard case .string(let text) = root else {
                throw AuditError(.notALedger, "the export header's governance keys are not strings")
            }
            governance.append(text)
        }
        return Header(governance: governance, logKey: logKey, origin: origin, treeSize: UInt64(size))
    }
}

/// Reads a file line by line in fixed-size blocks: memory is one block plus the longest line.
struct LineReader {
    /// A batch statement of 100,000 members is about 15 MB on one line; anything far beyond is refused.
    static let maxLineBytes = 64 << 20
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private(set) var lineNumber = 0

    init(path: String) throws(AuditError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AuditError(.unreadable, "cannot open \(path) for reading")
        }
        self.handle = handle
    }

    func close() { try? handle.close() }

    /// The next line without its `\n`, `nil` at the end. `terminated` is false for a last line
    /// without a line feed (a truncated file).
    mutating func next() throws(AuditError) -> (line: [UInt8], terminated: Bool)? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0a) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                lineNumber += 1
                return (line, true)
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                lineNumber += 1
                return (line, false)
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            guard buffer.count <= Self.maxLineBytes else {
                throw AuditError(.unreadable, "line \(lineNumber + 1) is longer than \(Self.maxLineBytes) bytes")
            }
            let block: Data?
            do { block = try handle.read(upToCount: 1 << 20) } catch {
                throw AuditError(.unreadable, "reading failed after line \(lineNumber): \(error)")
            }
            if let block, !block.isEmpty { buffer.append(contentsOf: block) } else { atEnd = true }
        }
    }
}
