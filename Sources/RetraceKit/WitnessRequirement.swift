import Foundation
import RetraceWitness
import Synchronization

/// What a client demands of the log's checkpoints beyond the log key's signature: a quorum of the
/// witnesses of a C2SP tlog-policy it holds, and optionally that they witnessed recently enough.
///
/// This is the reader's side of witnessing (spec/witness.md §3.1, §6). `retrace serve
/// --witness-policy` is the log's side: whom the log asks to cosign. A client never takes the
/// policy from the server; it brings its own, and a server whose witnesses it does not trust
/// cannot satisfy it.
///
/// Evidence the server hands out (a bundle, a receipt) is usually under the log's newest
/// checkpoint, which witnesses cosign moments after it is signed. Such evidence is accepted when
/// the checkpoint itself carries the quorum, or when the server's published checkpoint carries it,
/// is at least as large, and is proven consistent with the evidence's (so a quorum saw a tree that
/// contains it). The client waits up to ``patience`` seconds for the cosignatures to arrive.
public struct WitnessRequirement: Sendable {
    public let policy: WitnessPolicy
    /// Refuse evidence last witnessed longer ago than this many seconds.
    public let maxAge: UInt64?
    /// The time to judge freshness at (seconds since 1970); `nil` is the clock.
    public let now: UInt64?
    /// How long to wait for the witnesses to cosign a checkpoint that is not yet witnessed.
    public let patience: Double

    public init(policy: WitnessPolicy, maxAge: UInt64? = nil, now: UInt64? = nil, patience: Double = 5) {
        self.policy = policy
        self.maxAge = maxAge
        self.now = now
        self.patience = patience
    }

    /// The quorum, then the age, of a witnessed checkpoint.
    func require(_ witnessed: WitnessedCheckpoint) throws(WitnessError) {
        try witnessed.requireQuorum()
        if let maxAge {
            let judgedAt = now ?? UInt64(max(0, Date().timeIntervalSince1970))
            try witnessed.requireFresh(now: judgedAt, maxAge: maxAge)
        }
    }
}

/// The newest witnessed checkpoint a ``RemoteLedger`` relied on, for the caller to report
/// ("witnessed … by 2 of 3").
public final class WitnessRecord: Sendable {
    private let newest = Mutex<WitnessedCheckpoint?>(nil)

    public init() {}

    public var witnessed: WitnessedCheckpoint? { newest.withLock { $0 } }

    func note(_ witnessed: WitnessedCheckpoint) {
        newest.withLock { current in
            if (current?.checkpoint.size ?? 0) <= witnessed.checkpoint.size { current = witnessed }
        }
    }
}
