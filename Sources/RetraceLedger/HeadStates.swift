import RetraceRules
import Synchronization

/// The product states most recently written or read at chain heads, so that extending a chain
/// does not decode its head's stored state again.
///
/// An appended event needs the state after its chain's head. That state is stored as canonical
/// JSON in the head's link row, and decoding it was about a sixth of a commit's instructions
/// (issue 15's append profile), although this process usually computed that very state in a
/// recent commit. A state is used only when its canonical bytes equal the bytes stored at the head
/// the transaction reads, so the answer is exactly what decoding those bytes gives (a state and
/// its canonical JSON read back are equal: `ProductStateTests`), whoever wrote the row and whether
/// or not the commit that computed it was kept.
///
/// Two generations bound the memory: when the newer one is full it becomes the older one and the
/// oldest is dropped, so a chain extended within the last few thousand touched chains is a hit.
final class HeadStates: Sendable {
    private struct Generations {
        var newer: [String: (bytes: [UInt8], state: ProductState)] = [:]
        var older: [String: (bytes: [UInt8], state: ProductState)] = [:]
    }

    let capacity: Int
    private let generations = Mutex(Generations())

    init(capacity: Int = 4_096) {
        self.capacity = max(capacity, 1)
    }

    /// The state for `chain` whose canonical JSON is exactly `bytes`, if one is kept.
    func state(_ chain: String, bytes: [UInt8]) -> ProductState? {
        generations.withLock { kept in
            if let found = kept.newer[chain] { return found.bytes == bytes ? found.state : nil }
            guard let found = kept.older[chain], found.bytes == bytes else { return nil }
            Self.insert(&kept, chain, found, capacity: capacity)
            return found.state
        }
    }

    /// Keeps `state`, whose canonical JSON is `bytes`, as `chain`'s latest.
    func remember(_ chain: String, bytes: [UInt8], state: ProductState) {
        generations.withLock { Self.insert(&$0, chain, (bytes, state), capacity: capacity) }
    }

    private static func insert(
        _ kept: inout Generations,
        _ chain: String,
        _ value: (bytes: [UInt8], state: ProductState),
        capacity: Int
    ) {
        if kept.newer[chain] == nil, kept.newer.count >= capacity {
            kept.older = kept.newer
            kept.newer = [:]
            kept.newer.reserveCapacity(capacity)
        }
        kept.newer[chain] = value
    }
}
