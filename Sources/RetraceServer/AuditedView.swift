import CanonicalJSON
import Foundation
import RetraceAudit
import RetraceCrypto
import RetraceEPCIS
import RetraceEvents
import RetraceInsights
import RetraceRules
import RetraceStorage
import RetraceVerification
import Synchronization

/// A value folded over every event an audit of the ledger accepts, kept up to date incrementally.
///
/// The first fold audits the whole ledger; each later one audits only what was appended since the
/// checkpoint the previous fold ended on (``Auditor/audit(store:since:observe:)``: consistency
/// proof, touched chains rebuilt from proven entries), so a report on a growing ledger costs the
/// new entries, not the whole log. A fold whose audit fails keeps nothing and says why.
struct AuditedFold<Value: Sendable>: Sendable {
    private(set) var value: Value
    private(set) var size: UInt64 = 0
    private(set) var root: [UInt8] = []
    private var note: String?

    init(_ initial: Value) { value = initial }

    mutating func refresh(
        store: any LedgerStore,
        anchors: TrustAnchors,
        add: @escaping (inout Value, AuditedEvent) -> Void
    ) throws(Problem) {
        let current: UInt64
        do { current = try store.read { try $0.treeSize() } } catch { throw LedgerService.storageProblem(error) }
        guard current != size || note == nil else { return }
        let auditor = Auditor(trustRoots: anchors.governance, logKey: anchors.logKey, origin: anchors.origin)
        var folded = value
        let report: AuditReport
        do {
            if let note {
                report = try auditor.audit(store: store, since: note) { add(&folded, $0) }
            } else {
                report = try auditor.audit(store: store) { add(&folded, $0) }
            }
        } catch {
            throw Problem(
                .serviceUnavailable,
                code: "storage-unavailable",
                title: "The ledger cannot be read now",
                detail: "\(error)",
                extensions: ["retryable": .bool(true)]
            )
        }
        // Entries appended a moment ago whose checkpoint is not signed yet (an append commits, then
        // signs): nothing is wrong, the next request will see them covered.
        if !report.passed, !report.failures.isEmpty,
            report.failures.allSatisfy({ $0.rule == AuditRule.uncoveredEntries })
        {
            throw Problem(
                .serviceUnavailable,
                code: "storage-unavailable",
                title: "The ledger cannot be read now",
                detail: "the newest entries are not yet covered by a signed checkpoint; retry in a moment",
                extensions: ["retryable": .bool(true)]
            )
        }
        guard report.passed else {
            throw Problem(
                .internalServerError,
                code: "ledger-integrity-failure",
                title: "The ledger's own evidence does not verify",
                detail: "nothing is derived from a ledger that does not verify: "
                    + (report.failures.first.map(\.description) ?? "an audit failure")
            )
        }
        let stored: StoredCheckpoint?
        do { stored = try store.read { try $0.checkpoint(size: report.treeSize) } } catch {
            throw LedgerService.storageProblem(error)
        }
        value = folded
        size = report.treeSize
        root = report.rootHash
        note = stored?.note ?? note
    }
}

/// The log positions of the audited events, for the EPCIS query (`GET /epcis/events`): entries
/// are read back from the store, which is append-only, only up to the audited size.
struct EventIndex: Sendable {
    struct Row: Sendable {
        let index: UInt64
        let time: Int64
        let bizStep: String
    }

    var rows: [Row] = []
    var byProduct: [String: [Int]] = [:]
    /// The company prefixes of the latest roster, to write GLNs as SGLN URNs as the export does.
    var codec = SGLNCodec(knownPrefixes: [])
    private var rosterID: Digest?

    mutating func add(_ event: AuditedEvent) {
        if event.trust.rosterID != rosterID {
            rosterID = event.trust.rosterID
            codec = SGLNCodec(roster: event.trust.roster)
        }
        let step = Catalogue.cbv(for: event.statement).map { EPCISExportTerms.bare($0.bizStep) } ?? ""
        rows.append(Row(index: event.index, time: event.statement.time.secondsSinceEpoch, bizStep: step))
        for step in event.steps { byProduct[step.product.digitalLink, default: []].append(rows.count - 1) }
    }
}

enum EPCISExportTerms {
    static func bare(_ urn: String) -> String {
        urn.hasPrefix(Catalogue.bizStepPrefix) ? String(urn.dropFirst(Catalogue.bizStepPrefix.count)) : urn
    }
}

/// Everything the server derives from audited events: return insights per filter, the EPCIS index.
final class AuditedView: Sendable {
    /// Filters whose insights are kept; the least recently asked is dropped beyond this.
    static let cachedFilters = 16

    private struct State: Sendable {
        var insights: [InsightsFilter: AuditedFold<ReturnInsights>] = [:]
        var order: [InsightsFilter] = []
        var events = AuditedFold(EventIndex())
    }

    private let state = Mutex(State())
    /// One refresh at a time: a second request waits and then finds the fold already current.
    private let refreshing = Mutex(())
    let store: any LedgerStore
    let anchors: TrustAnchors

    init(store: any LedgerStore, anchors: TrustAnchors) {
        self.store = store
        self.anchors = anchors
    }

    /// The insights under `filter`, brought up to the ledger's current size.
    func insights(_ filter: InsightsFilter) async throws(Problem) -> (ReturnInsights, size: UInt64, root: [UInt8]) {
        try await offload { () throws(Problem) in
            try self.refreshing.withLock { _ throws(Problem) in
                var fold = self.state.withLock { $0.insights[filter] } ?? AuditedFold(ReturnInsights(filter: filter))
                try fold.refresh(store: self.store, anchors: self.anchors) { $0.add($1) }
                let result = (fold.value, fold.size, fold.root)
                self.state.withLock { state in
                    state.insights[filter] = fold
                    state.order.removeAll { $0 == filter }
                    state.order.append(filter)
                    if state.order.count > Self.cachedFilters { state.insights[state.order.removeFirst()] = nil }
                }
                return result
            }
        }
    }

    /// The audited event index, brought up to the ledger's current size.
    func events() async throws(Problem) -> AuditedFold<EventIndex> {
        try await offload { () throws(Problem) in
            try self.refreshing.withLock { _ throws(Problem) in
                var fold = self.state.withLock { $0.events }
                try fold.refresh(store: self.store, anchors: self.anchors) { $0.add($1) }
                self.state.withLock { $0.events = fold }
                return fold
            }
        }
    }

    /// Runs a blocking audit off the cooperative pool, so that other requests keep being served.
    private func offload<T: Sendable>(_ body: @escaping @Sendable () throws(Problem) -> T) async throws(Problem) -> T {
        let result: Result<T, Problem> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(Problem) in try body() })
            }
        }
        return try result.get()
    }
}
