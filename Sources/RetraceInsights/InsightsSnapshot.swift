import Foundation

/// The figures of a report together with the signed checkpoint they were folded up to: what
/// `retrace insights --state FILE` keeps between runs, so that the next run audits and folds only
/// the entries appended since (spec/insights.md §4).
///
/// Why a checkpoint and not a size: the next run starts with a consistency proof from this very
/// checkpoint, so a ledger that was rolled back or rewritten since is refused instead of adding
/// its new entries to figures taken from another history. The file is the user's own cache of
/// derived figures, as trusted as the disk it sits on: deleting it only makes the next run fold
/// the whole ledger again.
public struct InsightsSnapshot: Codable, Sendable {
    public static let format = "retrace-insights-state/v1"

    public let format: String
    /// The signed note of the checkpoint the figures cover, as the ledger stores it.
    public let checkpoint: String
    public let treeSize: UInt64
    public let insights: ReturnInsights

    public init(checkpoint: String, treeSize: UInt64, insights: ReturnInsights) {
        self.format = Self.format
        self.checkpoint = checkpoint
        self.treeSize = treeSize
        self.insights = insights
    }

    /// Reads a state file; `nil` when there is none yet.
    public static func load(path: String) throws -> InsightsSnapshot? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let snapshot = try JSONDecoder().decode(InsightsSnapshot.self, from: data)
        guard snapshot.format == format else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "\(path) is \(snapshot.format), not \(format)")
            )
        }
        return snapshot
    }

    /// Writes the file whole or not at all: beside it under a temporary name, synced, then renamed.
    public func save(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(self)
        let temporary = path + ".writing-\(ProcessInfo.processInfo.processIdentifier)"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        try handle.synchronize()
        try handle.close()
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw CocoaError(
                .fileWriteUnknown,
                userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: reason]
            )
        }
    }
}
