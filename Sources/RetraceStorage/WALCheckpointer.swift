import Dispatch
import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Copies committed WAL frames into the database file on its own connection and thread, so that a
/// commit returns once its WAL is synced instead of also copying the WAL into the main file.
///
/// SQLite's automatic checkpoint runs inside the `COMMIT` that crosses 1,000 WAL frames, on the
/// committing connection: a batch of 1,000 appends writes more frames than that, so every batch
/// paid for a checkpoint (reading its frames back, writing them into the file, syncing it) while
/// its signature workers sat idle and the next batch waited for the write lock (about a third of a
/// batch's wall time under `strace`, 2026-12-03). A checkpoint changes no committed data — the WAL
/// stays authoritative until every frame is copied and synced — so it can run beside the writer:
/// a `PASSIVE` checkpoint never blocks readers or writers.
///
/// The writer connection's WAL hook (installed in place of SQLite's automatic checkpoint) asks for
/// a background checkpoint after a commit leaves ``Thresholds/background`` or more frames in the
/// WAL, and still checkpoints in line from ``Thresholds/inline`` on, so the WAL stays bounded when
/// the background falls behind. Under a steady stream of large commits the WAL only restarts after
/// such an in-line checkpoint (SQLite rewinds it when a write begins with every frame copied, and
/// the next batch begins while the last one is being copied), which then copies only what the
/// background has not.
final class WALCheckpointer: Sendable {
    struct Thresholds: Sendable {
        /// WAL frames after a commit from which a background checkpoint is requested.
        var background: Int32
        /// WAL frames after a commit from which the writer checkpoints in line.
        var inline: Int32

        /// SQLite's own automatic-checkpoint threshold (1,000 frames), moved off the writer;
        /// in line from about 40 MB of 4 KiB pages.
        static let standard = Thresholds(background: 1_000, inline: 10_000)
    }

    let thresholds: Thresholds
    private let path: String
    private let queue = DispatchQueue(label: "retrace.wal-checkpoint", qos: .utility)
    private let connection = Mutex<DatabaseQueue?>(nil)
    private let requested = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)
    /// Checkpoints run and failed, for tests and diagnostics; a failed one is retried by the next
    /// commit's request or, from ``Thresholds/inline`` frames on, by the writer itself.
    let completed = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    /// Checkpoints the writer ran itself, past ``Thresholds/inline``.
    let inlineCheckpoints = Atomic<Int>(0)

    init(path: String, thresholds: Thresholds = .standard) {
        self.path = path
        self.thresholds = thresholds
    }

    /// Replaces SQLite's automatic checkpoint on `db`, the store's one writer connection.
    ///
    /// The hook holds an unretained pointer to `self`: the store removes the hook from its writer
    /// before it closes and releases the checkpointer (``SQLiteLedgerStore`` `deinit`).
    func install(on db: Database) {
        sqlite3_wal_hook(db.sqliteConnection, walHook, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Schedules one checkpoint unless one is already waiting to start.
    func request() {
        guard !closed.load(ordering: .acquiring), !requested.exchange(true, ordering: .acquiringAndReleasing) else {
            return
        }
        queue.async { self.run() }
    }

    /// Waits for a requested or running checkpoint to finish.
    func drain() { queue.sync {} }

    /// Stops taking requests, waits for the one running and closes the connection. The last
    /// connection to close runs SQLite's final checkpoint and removes the WAL.
    func close() {
        closed.store(true, ordering: .releasing)
        queue.sync {
            connection.withLock { connection in
                try? connection?.close()
                connection = nil
            }
        }
    }

    private func run() {
        requested.store(false, ordering: .releasing)
        guard !closed.load(ordering: .acquiring) else { return }
        do {
            try connection.withLock { connection in
                if connection == nil {
                    var configuration = Configuration()
                    configuration.label = "retrace-checkpoint"
                    // The checkpoint syncs the WAL before copying and the file after, as the
                    // writer's own would.
                    configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
                    connection = try DatabaseQueue(path: path, configuration: configuration)
                }
                try connection?.writeWithoutTransaction { db in
                    // SQLITE_BUSY here means another connection is checkpointing: nothing to do.
                    let code = sqlite3_wal_checkpoint_v2(db.sqliteConnection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
                    guard code == SQLITE_OK || code == SQLITE_BUSY else {
                        throw DatabaseError(resultCode: ResultCode(rawValue: code))
                    }
                }
            }
            completed.add(1, ordering: .relaxed)
        } catch {
            failed.add(1, ordering: .relaxed)
        }
    }
}

/// SQLite calls this on the committing connection after each commit, with the WAL's frame count.
private func walHook(
    _ context: UnsafeMutableRawPointer?,
    _ connection: OpaquePointer?,
    _ name: UnsafePointer<CChar>?,
    _ frames: Int32
) -> Int32 {
    guard let context else { return SQLITE_OK }
    let checkpointer = Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue()
    if frames >= checkpointer.thresholds.inline {
        // What SQLite's automatic checkpoint does; its result does not change the commit's.
        _ = sqlite3_wal_checkpoint_v2(connection, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        checkpointer.inlineCheckpoints.add(1, ordering: .relaxed)
    } else if frames >= checkpointer.thresholds.background {
        checkpointer.request()
    }
    return SQLITE_OK
}
