import Foundation
import RetraceCrypto
import RetraceWitness
import Synchronization

/// The heads a witness has cosigned, one per log origin, kept in a small JSON file.
///
/// A witness that forgot its heads could be walked back to an older tree, so every accepted
/// checkpoint is written to disk (a new file, fsynced, renamed over the old one, directory
/// fsynced) before its cosignature leaves the process; the check of the old size and that write
/// happen under one lock, the compare-and-swap the tlog-witness protocol requires.
public final class WitnessStateFile: Sendable {
    public struct Record: Codable, Sendable, Hashable {
        public let size: UInt64
        /// Base64 root hash.
        public let root: String
        /// The checkpoint note as last cosigned (log signature and this witness's cosignature),
        /// served to monitors.
        public let note: String
    }

    public let path: String
    private let records: Mutex<[String: Record]>

    /// Opens (or starts) the state file; a file that exists but cannot be read is an error, never
    /// a silent fresh start.
    public init(path: String) throws {
        self.path = path
        if FileManager.default.fileExists(atPath: path) {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            do {
                records = Mutex(try JSONDecoder().decode([String: Record].self, from: data))
            } catch {
                throw WitnessError(.malformedRequest, "the witness state file \(path) is not readable JSON: \(error)")
            }
        } else {
            records = Mutex([:])
        }
    }

    public func head(_ origin: String) -> WitnessRules.Head? {
        records.withLock { records in
            records[origin].flatMap { record in Base64.decode(record.root).map { .init(size: record.size, root: $0) } }
        }
    }

    public func note(_ origin: String) -> String? { records.withLock { $0[origin]?.note } }

    /// Runs `decide` on the current heads and, if it returns a record, stores it durably, all
    /// under one lock so that two requests cannot both pass the old-size check.
    public func update<T>(
        _ decide: (_ head: (String) -> WitnessRules.Head?) throws -> (origin: String, record: Record, result: T)
    ) throws -> T {
        try records.withLock { records in
            let lookup: (String) -> WitnessRules.Head? = { origin in
                records[origin].flatMap { record in
                    Base64.decode(record.root).map { .init(size: record.size, root: $0) }
                }
            }
            let (origin, record, result) = try decide(lookup)
            var next = records
            next[origin] = record
            try Self.write(next, to: path)
            records = next
            return result
        }
    }

    private static func write(_ records: [String: Record], to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = try encoder.encode(records)
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw WitnessError(.malformedRequest, "cannot write the witness state file \(temporary)")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        try handle.synchronize()
        try handle.close()
        guard rename(temporary, path) == 0 else {
            throw WitnessError(.malformedRequest, "cannot rename \(temporary) over \(path): errno \(errno)")
        }
        let directory = open(
            (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent,
            O_RDONLY
        )
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }
}
