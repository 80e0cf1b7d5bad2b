import CanonicalJSON
import Foundation
import Synchronization

/// A one-line progress bar on standard error, drawn only when both outputs are terminals, so that
/// pipes, logs and tests see nothing of it. Safe to update from worker threads.
final class Progress: Sendable {
    private let label: String
    private let enabled: Bool
    private let state: Mutex<(total: Int, drawn: Int)>

    init(total: Int, label: String) {
        self.label = label
        self.enabled = isatty(2) == 1 && isatty(1) == 1
        self.state = Mutex((max(total, 1), -1))
    }

    func update(_ done: Int, total: Int? = nil) {
        guard enabled else { return }
        let line: String? = state.withLock { state in
            if let total { state.total = max(total, 1) }
            let percent = min(100, done * 100 / state.total)
            guard percent != state.drawn else { return nil }
            state.drawn = percent
            let width = 30
            let filled = percent * width / 100
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            return "\r\(label) [\(bar)] \(percent)%"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    func finish() {
        guard enabled, state.withLock({ $0.drawn >= 0 }) else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
