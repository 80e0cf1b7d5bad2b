import Foundation
import RetraceEvents
import RetraceLedger
import Synchronization

/// The one path by which the service appends: group commit.
///
/// Requests queue here; one writer drains the queue and hands everything waiting to
/// ``Ledger/append(groups:)``, so N concurrent clients cost one transaction and one fsync, not N,
/// while each client's batch stays all-or-nothing on its own. A client is answered only after the
/// transaction holding its statements committed (durable), and the checkpoint covering them is
/// signed only after that. The writer runs on a thread of its own, started when work arrives and
/// ending when the queue is empty: SQLite's fsync blocks, so it must not stall the server's event
/// loops or Swift's cooperative pool, and it must not wait for a worker of Dispatch's global pool
/// either (that pool is as wide as the machine has cores, and a host process blocking those
/// workers would starve the writer until they time out).
public final class AppendSequencer: Sendable {
    public typealias Outcome = Result<Ledger.AppendResult, LedgerError>

    private struct Waiting {
        let batch: Ledger.PreparedBatch
        let continuation: CheckedContinuation<Outcome, Never>
    }

    private struct Queue {
        var waiting: [Waiting] = []
        var draining = false
    }

    public let ledger: Ledger
    /// At most this many statements go into one transaction, so one commit's latency stays bounded.
    public let maxStatementsPerCommit: Int
    private let queue = Mutex(Queue())
    /// Observes each group commit: how many requests and statements it carried.
    private let onCommit: @Sendable (_ requests: Int, _ statements: Int) -> Void

    public init(
        ledger: Ledger,
        maxStatementsPerCommit: Int = 4_096,
        onCommit: @escaping @Sendable (_ requests: Int, _ statements: Int) -> Void = { _, _ in }
    ) {
        self.ledger = ledger
        self.maxStatementsPerCommit = max(1, maxStatementsPerCommit)
        self.onCommit = onCommit
    }

    /// Appends one all-or-nothing batch, sharing the transaction with whatever else is waiting.
    ///
    /// The batch's signatures are checked here, in the caller's task and on whatever core is free,
    /// before it joins the queue: the writer thread then only commits, so signature checking of
    /// the next requests overlaps the current commit.
    public func append(_ statements: [SignedStatement]) async -> Outcome {
        let batch = ledger.prepare(statements)
        return await withCheckedContinuation { continuation in
            let start = queue.withLock { queue -> Bool in
                queue.waiting.append(Waiting(batch: batch, continuation: continuation))
                guard !queue.draining else { return false }
                queue.draining = true
                return true
            }
            if start {
                let thread = Thread { self.drain() }
                thread.name = "retrace.append-sequencer"
                thread.start()
            }
        }
    }

    private func drain() {
        while true {
            let group = queue.withLock { queue -> [Waiting] in
                // The longest prefix within the statement limit (at least one request), taken in one
                // move: removing requests one by one from the front is quadratic in the queue's length.
                var taken = 0
                var count = 0
                for next in queue.waiting {
                    guard taken == 0 || count + next.batch.statements.count <= maxStatementsPerCommit else { break }
                    taken += 1
                    count += next.batch.statements.count
                }
                if taken == 0 { queue.draining = false }
                let group = Array(queue.waiting.prefix(taken))
                queue.waiting.removeFirst(taken)
                return group
            }
            guard !group.isEmpty else { return }
            let outcomes = ledger.append(prepared: group.map(\.batch))
            onCommit(group.count, group.reduce(0) { $0 + $1.batch.statements.count })
            for (waiting, outcome) in zip(group, outcomes) { waiting.continuation.resume(returning: outcome) }
        }
    }
}
