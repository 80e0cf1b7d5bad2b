import Synchronization

/// Signature checks that two threads share: each item is claimed once, by whichever thread takes
/// it first, so a scan's gathering thread can join the second core's checks when its own reading is
/// done without checking anything twice.
///
/// Items are independent (each fills the event cache under its own key), so the order in which
/// they are taken does not matter.
final class PrewarmWork: Sendable {
    private let next = Atomic<Int>(0)
    private let count: Int
    private let check: @Sendable (Int) -> Void

    init(count: Int, check: @escaping @Sendable (Int) -> Void) {
        self.count = count
        self.check = check
    }

    /// Checks unclaimed items until none is left; returns while another thread may still be
    /// checking the last ones it took (the caller waits for that thread separately).
    func drain() {
        while true {
            let position = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard position < count else { return }
            check(position)
        }
    }
}

/// Where the second core publishes its ``PrewarmWork`` once it has read the entries; `nil` until
/// then, or for good when it could not read them.
final class SharedPrewarm: Sendable {
    let work = Mutex<PrewarmWork?>(nil)
}
