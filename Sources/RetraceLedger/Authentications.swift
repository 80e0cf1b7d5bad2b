import Dispatch
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceRules
import Synchronization

/// Who signed each statement of a batch, as far as a check made before the commit knows: the
/// commit asks statement by statement, in order, and authenticates afresh any statement this has
/// no party for (a refused signature, a roster that moved).
///
/// Two sources: parties found before the commit began (``known(_:)``: group commit, whose batches
/// were prepared while an earlier one committed), or a stream that checks signatures while the
/// commit runs (``stream(_:trust:)``), so that a single caller's batch keeps both cores busy —
/// signatures on one, state checks and inserts on the other — instead of verifying on all cores
/// and then committing on one.
struct Authentications: Sendable {
    private enum Source: Sendable {
        case known([Party?])
        case stream(AuthenticationStream)
    }

    private let source: Source

    static func known(_ parties: [Party?]) -> Authentications { Authentications(source: .known(parties)) }

    static func none(count: Int) -> Authentications { .known([Party?](repeating: nil, count: count)) }

    /// Starts checking `statements` against `trust` on the other cores; stop it with ``finish()``
    /// once the commit no longer asks (it stops checking what is left).
    static func stream(_ statements: [SignedStatement], trust: TrustState) -> Authentications {
        Authentications(source: .stream(AuthenticationStream(statements, trust: trust)))
    }

    /// The party that signed statement `position`, or `nil` when the check found none.
    func party(at position: Int) -> Party? {
        switch source {
        case .known(let parties): parties[position]
        case .stream(let stream): stream.party(at: position)
        }
    }

    /// Stops a stream's workers after the chunk each is checking, and waits for them: a command
    /// that exits with a worker still inside libcrypto can crash in its exit-time cleanup (as the
    /// audit found), turning a clear refusal into a signal. Nothing to do for known parties.
    func finish() {
        if case .stream(let stream) = source { stream.stop() }
    }
}

/// Signature checks run in chunks, in log order, by background workers and by the asking thread
/// itself: a thread that needs a chunk no worker has finished checks the next unclaimed chunk
/// rather than wait, so the stream finishes even if no background worker is ever scheduled (a
/// saturated dispatch pool cannot deadlock it), and it only blocks on a chunk a worker is
/// already checking.
final class AuthenticationStream: Sendable {
    private struct Progress {
        var parties: [Party?]
        var done: [Bool]
    }

    /// Statements per chunk: small enough that the commit starts after a few signatures, large
    /// enough that the hand-over (a lock, a semaphore) is noise beside them.
    static let chunk = 16

    private let statements: [SignedStatement]
    private let trust: TrustState
    private let chunks: Int
    private let nextChunk = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private let progress: Mutex<Progress>
    private let finished: [DispatchSemaphore]
    private let workers = DispatchGroup()

    init(_ statements: [SignedStatement], trust: TrustState) {
        self.statements = statements
        self.trust = trust
        chunks = (statements.count + Self.chunk - 1) / Self.chunk
        progress = Mutex(
            Progress(
                parties: [Party?](repeating: nil, count: statements.count),
                done: Array(repeating: false, count: chunks)
            )
        )
        finished = (0..<chunks).map { _ in DispatchSemaphore(value: 0) }
        // The asking thread is the last core's worker.
        let helpers = min(chunks, max(1, Parallelism.cores - 1))
        for _ in 0..<helpers {
            DispatchQueue.global(qos: .userInitiated).async(group: workers) { [self] in
                while !stopped.load(ordering: .relaxed), let claimed = claim() { check(claimed) }
            }
        }
    }

    func party(at position: Int) -> Party? {
        let wanted = position / Self.chunk
        while true {
            let answer = progress.withLock { $0.done[wanted] ? Optional($0.parties[position]) : nil }
            if let answer { return answer }
            if let claimed = claim() {
                check(claimed)
            } else {
                // Claimed by a worker that is checking it now: its semaphore is signalled once.
                finished[wanted].wait()
                finished[wanted].signal()
            }
        }
    }

    /// Workers claim no chunk after this; returns once each has finished the one it holds.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        workers.wait()
    }

    /// Chunks checked so far (for the tests that prove no worker outlives ``stop()``).
    var checkedChunks: Int { progress.withLock { $0.done.count(where: { $0 }) } }

    private func claim() -> Int? {
        let claimed = nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
        return claimed < chunks ? claimed : nil
    }

    private func check(_ chunk: Int) {
        let range = (chunk * Self.chunk)..<min(statements.count, (chunk + 1) * Self.chunk)
        var found: [(Int, Party)] = []
        for index in range where statements[index].statement.type != .roster {
            if let party = try? trust.authenticate(statements[index]) { found.append((index, party)) }
        }
        progress.withLock { progress in
            for (index, party) in found { progress.parties[index] = party }
            progress.done[chunk] = true
        }
        finished[chunk].signal()
    }
}
