import CanonicalJSON
import RetraceEvents
import RetraceStorage

/// Writes a ledger as self-describing canonical JSON lines (spec/format.md §7).
///
/// Streams entries in log order through a callback, so exporting a ledger of millions of entries
/// holds one entry in memory at a time.
public enum LedgerExport {
    public static let format = "retrace-export/v1"

    public static func header(origin: String, logKey: String, governance: [String], treeSize: UInt64) throws -> [UInt8]
    {
        var object = JSONObject()
        object["format"] = .string(format)
        object["governance"] = .array(governance.map { .string($0) })
        object["logKey"] = .string(logKey)
        object["origin"] = .string(origin)
        object["treeSize"] = .integer(Int64(treeSize))
        return try CanonicalJSON.encode(.object(object)) + [0x0a]
    }

    public static func entryLine(_ entry: StoredEntry) throws -> [UInt8] {
        var object = JSONObject()
        object["entry"] = try CanonicalJSON.decode(entry.bytes)
        object["index"] = .integer(Int64(entry.index))
        if !entry.members.isEmpty {
            object["members"] = .array(try entry.members.map { try CanonicalJSON.decode($0) })
        }
        return try CanonicalJSON.encode(.object(object)) + [0x0a]
    }

    public static func checkpointLine(_ note: String) throws -> [UInt8] {
        var object = JSONObject()
        object["checkpoint"] = .string(note)
        return try CanonicalJSON.encode(.object(object)) + [0x0a]
    }
}

extension Ledger {
    /// Writes the whole ledger, up to the tree size read at the start, to `sink` in chunks.
    public func export(to sink: ([UInt8]) throws -> Void) throws(LedgerError) {
        do {
            try store.read { reader in
                let size = try reader.treeSize()
                var checkpoints = try reader.checkpoints().filter { $0.size <= size }[...]
                try sink(
                    try LedgerExport.header(
                        origin: origin,
                        logKey: logKey.description,
                        governance: trustRoots.map(\.description),
                        treeSize: size
                    )
                )
                while let first = checkpoints.first, first.size == 0 {
                    try sink(try LedgerExport.checkpointLine(first.note))
                    checkpoints = checkpoints.dropFirst()
                }
                try reader.forEachEntry(from: 0, to: size) { entry in
                    try sink(LedgerExport.entryLine(entry))
                    while let first = checkpoints.first, first.size == entry.index + 1 {
                        try sink(try LedgerExport.checkpointLine(first.note))
                        checkpoints = checkpoints.dropFirst()
                    }
                }
            }
        } catch { throw LedgerError.wrap(error) }
    }
}
