import CanonicalJSON
import Foundation
import RetraceEvents
import RetraceSimulation
import RetraceVerification

/// The seeded generator's story beyond a cached ledger: the events that come next, and the dock scans
/// (with the verdict each story implies) of products whose whole story the ledger already holds.
///
/// A cached ledger holds the first `events` statements of the generator's stream, cut inside a cohort
/// (see ``LedgerGenerator``), so the first events that come next continue chains that are already in
/// the file: shipments, sales, returns, inspections of products commissioned before the cut. The
/// append benchmark appends exactly these to a copy of the ledger, so each append looks up a head
/// the file already holds and decodes its state, as a real append does. When the cut cohort's
/// remainder is shorter than asked for, the story goes on with a second run of the generator (same
/// seed, serial tag `N`, starting where the first one's timeline ends): new products whose later
/// events continue chains begun earlier in the same benchmark.
///
/// Signing every event before the cut costs seconds to a minute (10^6 events), so the result is kept
/// beside the ledger in the cache (canonical JSON, one statement a line) and read back next time.
struct Story: Sendable {
    /// The next statements, in append order.
    let next: [SignedStatement]
    /// How many of ``next`` are the remainder of the cut cohort (the rest come from the second run).
    let remainder: Int
    /// Planted-fraud scans of products whose events all precede the cut, each with its expected verdict.
    let probes: [Probe]

    /// One dock scan and the verdict the generator's story implies for it.
    struct Probe: Codable, Sendable, Hashable {
        let scan: String
        let dock: String
        let rma: String?
        let orderDigest: String?
        let time: Int64
        let expected: String
        let story: String

        init(_ scan: DemoScan) {
            self.scan = scan.scan
            dock = scan.dock
            rma = scan.claimedRMA
            orderDigest = scan.claimedOrderDigest?.hex
            time = scan.time.secondsSinceEpoch
            expected = scan.expectedVerdict
            story = scan.story
        }

        var request: DockRequest {
            DockRequest(
                scan: scan,
                rma: rma,
                orderDigest: orderDigest.flatMap { try? Digest(hex: $0, field: "orderDigest") },
                dock: dock,
                servesRetailers: nil,
                now: Timestamp(secondsSinceEpoch: time)
            )
        }
    }

    /// Next statements kept per ledger: enough for the full run's append benchmark.
    static let count = 50_000

    /// The story after `ledger`: ``count`` next statements and the probes, from the cache or generated.
    static func after(_ ledger: LedgerCache.Prepared, seed: UInt64, directory: String) throws -> Story {
        let (nextPath, probesPath, remainderPath) = paths(ledger, seed: seed, directory: directory)
        if let story = try? read(nextPath, probesPath, remainderPath) { return story }
        let story = try generate(events: ledger.events, seed: seed, count: count)
        try write(story, nextPath, probesPath, remainderPath)
        return story
    }

    /// The first `limit` next statements from the cache only (parsing no more than those): for the
    /// instruction-counting child, which must not sign a whole story under valgrind.
    static func cachedNext(
        after ledger: LedgerCache.Prepared,
        seed: UInt64,
        directory: String,
        limit: Int
    ) throws
        -> [SignedStatement]
    {
        let path = paths(ledger, seed: seed, directory: directory).next
        guard FileManager.default.fileExists(atPath: path) else { throw BenchError("no cached story at \(path)") }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try data.split(separator: 0x0A, maxSplits: limit, omittingEmptySubsequences: true).prefix(limit).map {
            try SignedStatement(parsing: [UInt8]($0))
        }
    }

    private static func paths(
        _ ledger: LedgerCache.Prepared,
        seed: UInt64,
        directory: String
    )
        -> (next: String, probes: String, remainder: String)
    {
        let base = (directory as NSString).appendingPathComponent(
            "ledger-e\(ledger.events)-s\(seed)-r\(LedgerCache.recipe)"
        )
        return (base + ".next-\(count).jsonl", base + ".probes-v2.json", base + ".next-\(count).remainder")
    }

    /// Serials of the products a statement touches: its own, or every member's of a batch statement.
    static func serials(of signed: SignedStatement) -> [String] {
        if let product = signed.statement.product { return [product.serial.value] }
        return signed.members.map(\.product.serial.value)
    }

    private static func generate(events: Int, seed: UInt64, count: Int) throws -> Story {
        FileHandle.standardError.write(
            Data("  the story after \(events) events (signing it once, then cached)…\n".utf8)
        )
        var config = LedgerGenerator.Configuration.forEvents(events, seed: seed)
        config.eventLimit = nil
        var seen = 0
        var next: [SignedStatement] = []
        // A product with an event after the cut is not complete in the ledger: its scan would be judged
        // on half a story, so its probe is left out. Kept by serial, because a substitution probe scans
        // another model carrying the unfinished product's serial.
        var unfinished: Set<String> = []
        let summary = try LedgerGenerator(configuration: config, parties: Workload.parties).run { batch in
            for signed in batch {
                if seen >= events {
                    if next.count < count { next.append(signed) }
                    unfinished.formUnion(serials(of: signed))
                }
                seen += 1
            }
        }
        let remainder = next.count
        if next.count < count {
            var more = LedgerGenerator.Configuration.forEvents(count - next.count, seed: seed)
            more.start = config.start.adding(seconds: Int64(config.products) * config.productSpacing)
            more.serialTag = "N"
            try LedgerGenerator(configuration: more, parties: Workload.parties).run { next += $0 }
        }
        let probes = summary.probes.filter { !unfinished.contains($0.product.serial.value) }.map(Probe.init)
        return Story(next: next, remainder: remainder, probes: probes)
    }

    private static func write(_ story: Story, _ nextPath: String, _ probesPath: String, _ remainderPath: String) throws
    {
        var lines: [UInt8] = []
        for signed in story.next {
            lines += try CanonicalJSON.encode(signed.json)
            lines.append(0x0A)
        }
        try Data(lines).write(to: URL(fileURLWithPath: nextPath + ".partial"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(story.probes).write(to: URL(fileURLWithPath: probesPath))
        try Data("\(story.remainder)\n".utf8).write(to: URL(fileURLWithPath: remainderPath))
        // The statements last, under their final name: a partial cache is never read back.
        try? FileManager.default.removeItem(atPath: nextPath)
        try FileManager.default.moveItem(atPath: nextPath + ".partial", toPath: nextPath)
    }

    private static func read(_ nextPath: String, _ probesPath: String, _ remainderPath: String) throws -> Story {
        let data = try Data(contentsOf: URL(fileURLWithPath: nextPath))
        let next = try data.split(separator: 0x0A).map { try SignedStatement(parsing: [UInt8]($0)) }
        let probes = try JSONDecoder().decode([Probe].self, from: Data(contentsOf: URL(fileURLWithPath: probesPath)))
        let text = try String(contentsOfFile: remainderPath, encoding: .utf8)
        guard let remainder = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BenchError("\(remainderPath) does not hold a count")
        }
        return Story(next: next, remainder: remainder, probes: probes)
    }
}
