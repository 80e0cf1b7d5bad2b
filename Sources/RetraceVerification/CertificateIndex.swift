import RetraceStorage
import Synchronization

/// Where each recycling certificate's recycle statements are in the log, for a long-lived
/// verifier: kept up to date by reading only the entries appended since its last lookup.
///
/// Without it, looking up a certificate read every entry of the log (1.7 GB at 10^6 entries), on
/// every request of a public HTTP route. The log is append-only, so after one full read the index
/// only ever needs the new entries. It is a pointer into the log, not evidence: each hit is
/// re-read and must still carry the certificate (a log rewritten under the index makes it start
/// again), and every bundle it leads to is verified as before. At worst a rewritten log could make
/// it miss a certificate (not found), never answer for the wrong one.
final class CertificateIndex: Sendable {
    private struct State {
        /// Entries `0..<read` have been read.
        var read: UInt64 = 0
        var entries: [String: [UInt64]] = [:]
    }

    private let state = Mutex(State())
    private let entriesRead = Atomic<Int>(0)

    /// Entries read from storage to build and update the index so far (tests, benchmarks).
    var statistics: Int { entriesRead.load(ordering: .relaxed) }

    /// The indices of the recycle statements that carry `certificate`, in log order.
    func entries(certificate: String, reader: any LedgerReader) throws -> [UInt64] {
        try state.withLock { state in
            let size = try reader.treeSize()
            try readNew(&state, to: size, reader: reader)
            if let found = try confirmed(state, certificate: certificate, size: size, reader: reader) { return found }
            // A hit that no longer carries the certificate: the log changed under the index.
            state = State()
            try readNew(&state, to: size, reader: reader)
            return try confirmed(state, certificate: certificate, size: size, reader: reader) ?? []
        }
    }

    /// Reads every entry the index has not seen yet, so that later lookups read only newer ones.
    /// `shouldStop` is asked every 1,024 entries; stopping leaves the index as it was.
    func update(reader: any LedgerReader, shouldStop: () -> Bool) throws {
        try state.withLock { state in
            try readNew(&state, to: try reader.treeSize(), reader: reader, shouldStop: shouldStop)
        }
    }

    /// Adds the recycle statements among entries `state.read..<size`; all or nothing.
    private func readNew(
        _ state: inout State,
        to size: UInt64,
        reader: any LedgerReader,
        shouldStop: () -> Bool = { false }
    ) throws {
        guard size > state.read else { return }
        var entries = state.entries
        var added = 0
        try reader.forEachEntry(from: state.read, to: size) { stored in
            added += 1
            if added % 1_024 == 0, shouldStop() { throw CancellationError() }
            if let found = EvidenceCollector.recycleCertificate(stored) {
                entries[found, default: []].append(stored.index)
            }
        }
        entriesRead.add(added, ordering: .relaxed)
        state.entries = entries
        state.read = size
    }

    /// The hits for `certificate` visible at `size`, each re-read from storage; `nil` if one no
    /// longer carries the certificate.
    private func confirmed(
        _ state: State,
        certificate: String,
        size: UInt64,
        reader: any LedgerReader
    ) throws
        -> [UInt64]?
    {
        // A reader on an older snapshot than the index's (concurrent requests) sees only its prefix.
        let hits = (state.entries[certificate] ?? []).filter { $0 < size }
        for index in hits {
            guard let stored = try reader.entry(at: index), EvidenceCollector.recycleCertificate(stored) == certificate
            else { return nil }
        }
        return hits
    }
}
