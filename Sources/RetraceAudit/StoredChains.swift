import Dispatch
import Foundation
import RetraceCrypto
import RetraceIdentity
import RetraceLedger
import RetraceStorage
import Synchronization

// MARK: Stored chains and products

extension AuditEngine {
    mutating func compareChains(reader: any LedgerReader) throws {
        if let rosterHead, !broken.contains(Ledger.rosterChain),
            let links = try storedLinks(Ledger.rosterChain, lastIndex: rosterHead.lastIndex, reader: reader)
        {
            if let problem = try Self.compare(links[...], with: SettledHead(rosterHead))
                ?? Self.statesOfStatelessChain(links)
            {
                try fail(problem.index, Ledger.rosterChain, AuditRule.storedChainLinks, problem.reason)
            }
        }
        // A copy to iterate (it shares the scratch file and the resident table's storage) while
        // `fail` records into `self`.
        let heads = self.heads
        guard historyLoader == nil else {
            // An incremental audit replayed only the chains its entries extend; a range read
            // would cover every chain between them, so each is read alone.
            try heads.forEachSettled { key, head in
                guard !broken.contains(key), let links = try storedLinks(key, lastIndex: head.lastIndex, reader: reader)
                else { return }
                var findings: [StoredFinding] = []
                Self.compareChain(key, head: head, links: links[...], row: try reader.product(key), into: &findings)
                try apply(findings, reader: reader)
            }
            return
        }
        if threads > 1 {
            try compareRangesBesideReading(heads, reader: reader)
            return
        }
        try Self.forEachRun(of: heads, count: chainsPerRead) { run, lower, upper in
            try apply(
                Self.compareRange(run, with: try StoredRange(reader, after: lower, through: upper), broken: broken),
                reader: reader
            )
        }
    }

    /// The heads in key order, in runs of `count`, each with the key range its stored rows lie in:
    /// after the previous run's last key, through its own (the last run's range is open), so that
    /// the ranges meet end to end and every stored row is in one of them. The last run may be empty.
    static func forEachRun(
        of heads: ChainHeads,
        count: Int,
        _ body: (_ run: [(key: String, head: SettledHead)], _ after: String?, _ through: String?) throws -> Void
    ) throws {
        var run: [(key: String, head: SettledHead)] = []
        run.reserveCapacity(count)
        var lower: String?
        try heads.forEachSettled { key, head in
            run.append((key, head))
            guard run.count == count else { return }
            try body(run, lower, key)
            lower = key
            run.removeAll(keepingCapacity: true)
        }
        try body(run, lower, nil)
    }

    /// The end of a full audit on two threads: a helper reads the heads from the scratch file (its
    /// own connection) and compares each run of them, while this thread reads the stored links and
    /// rows of the next run in the audit's one read transaction (a second transaction could see a
    /// later append) and records what the helper found. The end ran on one core while the other
    /// idled: its last 1.3 s of an audit of 10^6 entries (issue 15).
    ///
    /// The runs and their findings are the one-thread path's, in the same order: the helper asks
    /// for run k + 1's rows before comparing run k, and its findings reach this thread with the
    /// next request, so at most two runs are in flight. Whatever fails on either side (a read, the
    /// scratch file, a failure that stops the audit), both sides stop and the first error is thrown.
    private mutating func compareRangesBesideReading(_ heads: ChainHeads, reader: any LedgerReader) throws {
        let requests = Handoff<RangeRequest>()
        let replies = Handoff<Result<StoredRange, any Error>>()
        let finished = DispatchSemaphore(value: 0)
        let helper = HelperHeads(heads: heads, broken: broken, chainsPerRead: chainsPerRead)
        // A thread of its own, not one from a shared pool: this thread blocks until the helper
        // runs, which a pool whose threads are all waiting might never schedule.
        let thread = Thread {
            defer { finished.signal() }
            var findings: [StoredFinding] = []
            var failure: (any Error)?
            do {
                var inFlight: [(key: String, head: SettledHead)]?
                try Self.forEachRun(of: helper.heads, count: helper.chainsPerRead) { run, lower, upper in
                    requests.put(.read(after: lower, through: upper, findings: findings))
                    findings = []
                    if let previous = inFlight {
                        findings = Self.compareRange(previous, with: try replies.take().get(), broken: helper.broken)
                    }
                    inFlight = run
                }
                if let last = inFlight {
                    findings += Self.compareRange(last, with: try replies.take().get(), broken: helper.broken)
                }
            } catch {
                failure = error
            }
            requests.put(.end(findings: findings, failure: failure))
        }
        thread.name = "retrace.audit-end"
        thread.start()
        var failure: (any Error)?
        reading: while true {
            switch requests.take() {
            case .read(let lower, let upper, let findings):
                if let failure {
                    replies.put(.failure(failure))
                    continue
                }
                do {
                    try apply(findings, reader: reader)
                    replies.put(.success(try StoredRange(reader, after: lower, through: upper)))
                } catch {
                    failure = error
                    replies.put(.failure(error))
                }
            case .end(let findings, let helperFailure):
                if failure == nil {
                    failure = helperFailure
                    if failure == nil {
                        do { try apply(findings, reader: reader) } catch { failure = error }
                    }
                }
                break reading
            }
        }
        finished.wait()
        if let failure { throw failure }
    }

    /// Records what comparing found, in order; a finding that names a link is first located by
    /// replaying the stored chain, which reads the ledger.
    mutating func apply(_ findings: [StoredFinding], reader: any LedgerReader) throws {
        // A chain whose links differ and cannot be read is not compared further (its products row
        // included), as the stream stops judging a broken chain.
        var unreadable: String?
        for finding in findings {
            switch finding {
            case .failure(let index, let product, let rule, let reason):
                if rule == AuditRule.storedProducts, let unreadable, product == unreadable { continue }
                try fail(index, product, rule, reason)
            case .replayStored(let key, let head, let problem):
                guard let full = try storedLinks(key, lastIndex: head.lastIndex, reader: reader) else {
                    if problem != nil { unreadable = key }
                    continue
                }
                if let located = try diagnoseReadable(key: key, head: head, links: full, reader: reader) ?? problem {
                    try fail(located.index, key, AuditRule.storedChainLinks, located.reason)
                }
            }
        }
    }

    /// Compares a run of replayed heads with the stored links and rows of their key range. Stored
    /// chains and rows in the range with no head are reported: the log never extended them
    /// (a full audit replays every chain), unless the audit found the chain broken already.
    static func compareRange(
        _ run: [(key: String, head: SettledHead)],
        with stored: StoredRange,
        broken: Set<String>
    ) -> [StoredFinding] {
        let links = stored.links
        let rows = stored.rows
        var findings: [StoredFinding] = []
        var nextLink = 0
        var nextRow = 0
        for (key, head) in run {
            while nextLink < links.count, precedes(links[nextLink].chain, key) {
                nextLink = skipUnreplayedChain(links, from: nextLink, broken: broken, into: &findings)
            }
            while nextRow < rows.count, precedes(rows[nextRow].product, key) {
                unreplayedProduct(rows[nextRow], broken: broken, into: &findings)
                nextRow += 1
            }
            let first = nextLink
            if nextLink < links.count, Bytewise.equal(links[nextLink].chain, key) {
                nextLink = endOfChain(links, from: nextLink)
            }
            var row: ProductRow?
            if nextRow < rows.count, Bytewise.equal(rows[nextRow].product, key) {
                row = rows[nextRow]
                nextRow += 1
            }
            guard !broken.contains(key) else { continue }
            compareChain(key, head: head, links: links[first..<nextLink], row: row, into: &findings)
        }
        while nextLink < links.count {
            nextLink = skipUnreplayedChain(links, from: nextLink, broken: broken, into: &findings)
        }
        while nextRow < rows.count {
            unreplayedProduct(rows[nextRow], broken: broken, into: &findings)
            nextRow += 1
        }
        return findings
    }

    /// The index after the links of the chain that `links[start]` belongs to (links in key order).
    static func endOfChain(_ links: [ChainLink], from start: Int) -> Int {
        var end = start + 1
        while end < links.count, Bytewise.equal(links[end].chain, links[start].chain) { end += 1 }
        return end
    }

    /// Bytewise order of the keys' UTF-8: the stores' order (SQLite BINARY, PostgreSQL "C") and
    /// ``ChainHeads/forEachSettled(_:)``'s. `String`'s own `<` follows Unicode, not bytes.
    static func precedes(_ left: String, _ right: String) -> Bool { Bytewise.precedes(left, right) }

    /// Passes over the stored links of a chain no replayed head has, starting at `start`, and
    /// reports them unless the chain is the roster's (compared on its own) or broken.
    static func skipUnreplayedChain(
        _ links: [ChainLink],
        from start: Int,
        broken: Set<String>,
        into findings: inout [StoredFinding]
    ) -> Int {
        let key = links[start].chain
        let end = endOfChain(links, from: start)
        if !Bytewise.equal(key, Ledger.rosterChain), !broken.contains(key) {
            findings.append(
                .failure(
                    index: nil,
                    product: key,
                    rule: AuditRule.storedChainLinks,
                    reason: "\(end - start) stored chain links (the first naming entry \(links[start].index)) for a "
                        + "chain no entry of the log extends"
                )
            )
        }
        return end
    }

    static func unreplayedProduct(_ row: ProductRow, broken: Set<String>, into findings: inout [StoredFinding]) {
        guard !broken.contains(row.product) else { return }
        findings.append(
            .failure(
                index: nil,
                product: row.product,
                rule: AuditRule.storedProducts,
                reason: "a products row (passport \(Hex.encode(row.passport.prefix(6)))) for a product no commission "
                    + "in the log made"
            )
        )
    }

    /// One replayed chain against its stored links (event ids not needed: see ``linkDigest``) and,
    /// for a product, its `products` row.
    static func compareChain(
        _ key: String,
        head: SettledHead,
        links: ArraySlice<ChainLink>,
        row: ProductRow?,
        into findings: inout [StoredFinding]
    ) {
        if let problem = compare(links, with: head) {
            // Naming the first bad link replays the stored chain, which needs its event ids.
            findings.append(.replayStored(key: key, head: head, problem: problem))
        } else if links.dropLast().contains(where: { !$0.state.isEmpty }) {
            // A superseded link that still stores a state (a schema 1 ledger read as it is)
            // must store the state replayed at that link: only a replay can tell.
            findings.append(.replayStored(key: key, head: head, problem: nil))
        }
        guard head.state != nil else {
            if row != nil {
                findings.append(
                    .failure(
                        index: head.commissionIndex,
                        product: key,
                        rule: AuditRule.storedProducts,
                        reason: "a products row for a class chain, which has none"
                    )
                )
            }
            return
        }
        if let row, row.passport == head.passport, row.gtin == head.gtin, names(row, key) { return }
        findings.append(
            .failure(
                index: head.commissionIndex,
                product: key,
                rule: AuditRule.storedProducts,
                reason: row == nil
                    ? "no products row for a commissioned product"
                    : "the products row (passport \(Hex.encode(row?.passport.prefix(6) ?? []))) differs from "
                        + "the commission \(Hex.encode(head.passport.prefix(6)))"
            )
        )
    }

    /// Whether a products row's GTIN and serial make `key`, the product's chain key, which the
    /// audit derived from the signed statements. A key in the canonical form every generated
    /// serial takes (no percent-escape) is read bytewise and its two parts compared, about a tenth
    /// of building the row's link (issue 15: the comparison runs for every product at the end of
    /// a full audit); any other key is compared with the link the row's parts spell.
    static func names(_ row: ProductRow, _ key: String) -> Bool {
        if let item = SGTIN(canonicalDigitalLink: key) {
            return item.gtin.digits == row.gtin && item.serial.value == row.serial
        }
        return digitalLink(of: row) == key
    }

    /// The Digital Link a products row's GTIN and serial make, `nil` when they make none.
    static func digitalLink(of row: ProductRow) -> String? {
        guard let gtin = try? GTIN(row.gtin), let serial = try? Serial(row.serial) else { return nil }
        return SGTIN(gtin: gtin, serial: serial).digitalLink
    }

    /// ``diagnose(key:head:links:reader:)``, naming an entry of the chain that cannot be read (already
    /// reported as such where the stream met it) rather than stopping at it.
    func diagnoseReadable(
        key: String,
        head: SettledHead,
        links: [ChainLink],
        reader: any LedgerReader
    ) throws -> (index: UInt64?, reason: String)? {
        do {
            return try diagnose(key: key, head: head, links: links, reader: reader)
        } catch let error as StorageError {
            guard let damaged = error.unreadableEntry else { throw error }
            return (damaged.index, "the chain's stored links name entry \(damaged.index), which cannot be read")
        }
    }

    /// The stored links of a chain, or nil once recorded why they cannot be read: a link naming an
    /// entry the ledger does not hold (its event id is read from that entry) is a wrong derived
    /// row like any other, not a reason to stop the audit.
    mutating func storedLinks(
        _ key: String,
        lastIndex: UInt64,
        reader: any LedgerReader
    ) throws
        -> [ChainLink]?
    {
        do {
            return try reader.chain(key)
        } catch let error as StorageError where error.code == .corrupt {
            try fail(lastIndex, key, AuditRule.storedChainLinks, error.reason)
            return nil
        }
    }

    /// The stored links against the replayed chain: the same links in order, and the head link
    /// storing exactly the replayed head state (empty for the roster and class chains).
    static func compare(_ links: ArraySlice<ChainLink>, with head: SettledHead) -> (index: UInt64?, reason: String)? {
        var digest: [UInt8] = []
        for link in links {
            digest = linkDigest(digest, link.sequence, link.index)
        }
        guard links.count == head.sequence + 1, digest == head.linkDigest else {
            return (
                head.lastIndex,
                "the stored chain links (\(links.count) rows) differ from the replayed chain (\(head.sequence + 1) "
                    + "events, head at entry \(head.lastIndex))"
            )
        }
        let expected = head.state ?? []
        guard links.last?.state == expected else {
            return (
                head.lastIndex,
                "the head link's stored derived state (\(links.last?.state.count ?? 0) bytes) differs from the "
                    + "replayed state (\(expected.count) bytes)"
            )
        }
        return nil
    }

    /// The roster chain stores no state at any link.
    static func statesOfStatelessChain(_ links: [ChainLink]) -> (index: UInt64?, reason: String)? {
        guard let stored = links.first(where: { !$0.state.isEmpty }) else { return nil }
        return (stored.index, "a roster chain link stores a derived state; the roster chain has none")
    }

    /// Finds the first stored link that disagrees with the entries, by replaying the stored chain.
    func diagnose(
        key: String,
        head: SettledHead,
        links: [ChainLink],
        reader: any LedgerReader
    ) throws
        -> (index: UInt64?, reason: String)?
    {
        var replay = ChainReplay(key: key, reader: reader, rosterHistory: rosterHistory, inclusion: nil)
        for link in links {
            if let problem = try replay.step(link) { return (problem.index, "\(problem.rule): \(problem.reason)") }
        }
        if let last = links.last, last.sequence == head.sequence, last.state.isEmpty, replay.head?.state != nil {
            return (last.index, "the chain's head link stores no derived state; the head keeps the replayed state")
        }
        if let last = links.last, last.sequence < head.sequence {
            return (
                last.index,
                "the stored chain ends at sequence \(last.sequence) (entry \(last.index)); the log continues to "
                    + "sequence \(head.sequence) (entry \(head.lastIndex))"
            )
        }
        return nil
    }
}

/// What comparing one chain's stored links and row (or a stored chain or row no replayed head has)
/// found, in key order. Finding needs no storage; naming the wrong link of a chain whose links
/// differ needs its stored chain replayed, which reads the ledger (``AuditEngine/apply(_:reader:)``),
/// so the finding can happen beside the reading.
enum StoredFinding: Sendable {
    /// A failure as it stands.
    case failure(index: UInt64?, product: String, rule: String, reason: String)
    /// The chain's stored links differ from the replay (`problem`), or a superseded link stores a
    /// state (`problem` nil: only a replay of the stored chain tells whether it is the right one):
    /// the stored chain is replayed to name the first wrong link.
    case replayStored(key: String, head: SettledHead, problem: (index: UInt64?, reason: String)?)
}

/// The stored links and products rows of one key range, read in the audit's read transaction.
struct StoredRange: Sendable {
    let links: [ChainLink]
    let rows: [ProductRow]

    init(_ reader: any LedgerReader, after lower: String?, through upper: String?) throws {
        links = try reader.chainLinks(after: lower, through: upper)
        rows = try reader.products(after: lower, through: upper)
    }
}

/// From the end's helper thread to the thread that reads: the next range to read, with what
/// comparing the run before the last found.
private enum RangeRequest: Sendable {
    case read(after: String?, through: String?, findings: [StoredFinding])
    /// No more ranges: the last findings, or why the helper stopped.
    case end(findings: [StoredFinding], failure: (any Error)?)
}

/// What the end's helper thread works from. `ChainHeads` shares its scratch table, a class, so it is
/// not `Sendable` by itself: the reading thread does not touch the heads while the helper runs,
/// and the table's connection is a serial queue.
private struct HelperHeads: @unchecked Sendable {
    let heads: ChainHeads
    let broken: Set<String>
    let chainsPerRead: Int
}

/// Values passed from one thread to another, in order; ``take()`` waits for the next one.
private final class Handoff<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    private let available = DispatchSemaphore(value: 0)

    func put(_ value: Value) {
        values.withLock { $0.append(value) }
        available.signal()
    }

    func take() -> Value {
        available.wait()
        return values.withLock { $0.removeFirst() }
    }
}
