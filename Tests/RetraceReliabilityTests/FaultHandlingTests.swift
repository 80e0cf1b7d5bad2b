import Dispatch
import Foundation
import GRDB
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Issue 7 point 5: a full disk, a read-only file, a locked database and a damaged page each give a
/// clear error, leave no partial append, and acknowledge nothing that was not stored.
@Suite("Fault handling")
struct FaultHandlingTests {
    static var parties: TestParties { CrashSafetyTests.parties }

    static func now() -> Timestamp { Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)) }

    static func commission(_ serial: String) throws -> SignedStatement {
        let item = try SGTIN(gtin: GTIN("09506000134352"), serial: Serial(serial))
        return try parties.sign(.commission, product: item, previous: nil, by: "northwind", at: now())
    }

    static func createLedger(at path: String) throws -> Ledger {
        try Ledger.create(
            store: SQLiteLedgerStore.create(path: path),
            origin: TestParties.origin,
            logSigner: parties.log,
            governance: [parties.governance.verifier],
            roster: parties.signedRoster(time: now())
        )
    }

    /// Runs a system tool (mount, umount); returns its exit status.
    @discardableResult
    static func tool(_ path: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// A refused append changed nothing: same tree size, none of its statements stored.
    static func expectNothingStored(_ batch: [SignedStatement], size before: UInt64, in store: any LedgerStore) throws {
        let (size, found) = try store.read { reader in
            (try reader.treeSize(), try batch.compactMap { try reader.entryIndex(eventID: $0.statement.id.bytes) })
        }
        #expect(size == before)
        #expect(found.isEmpty, "a refused statement was stored at \(found)")
    }

    /// Whether a tmpfs can be mounted here (root, and a container that allows it), probed once: the
    /// tests that need one are skipped with this reason where it cannot, never passed unchecked.
    static let canMount: Bool = {
        let point = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-mount-\(UUID().uuidString)")
        guard (try? FileManager.default.createDirectory(at: point, withIntermediateDirectories: true)) != nil else {
            return false
        }
        defer { try? FileManager.default.removeItem(at: point) }
        guard tool("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", point.path]) == 0 else { return false }
        tool("/bin/umount", ["-l", point.path])
        return true
    }()
    static let cannotMount: Comment = "mount -t tmpfs is not permitted here (not root, or no CAP_SYS_ADMIN)"

    /// Under CI (.ci/run sets CI=1) the machine is set up for the tmpfs tests: a skip there would
    /// hide that they no longer run.
    static var underCI: Bool { ["1", "true"].contains(ProcessInfo.processInfo.environment["CI"]?.lowercased() ?? "") }

    @Test(
        "under CI, tmpfs can be mounted, so the full-disk and read-only file system tests run",
        .enabled(if: FaultHandlingTests.underCI)
    )
    func mountWorksUnderCI() {
        #expect(Self.canMount, "\(Self.cannotMount); CI must run the tmpfs tests, not skip them")
    }

    @Test(
        "a full disk (512 KiB tmpfs): storage full, nothing partial, nothing acknowledged; appends resume with space",
        .enabled(if: FaultHandlingTests.canMount, FaultHandlingTests.cannotMount)
    )
    func fullDiskOnTmpfs() throws {
        let scratch = try ScratchFolder("fulldisk")
        defer { scratch.remove() }
        let disk = scratch.url.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        try #require(Self.tool("/bin/mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", disk.path]) == 0)
        defer { Self.tool("/bin/umount", ["-l", disk.path]) }
        let path = disk.appendingPathComponent("ledger.sqlite").path
        var acknowledged: [String] = []
        var failure: LedgerError?
        do {
            let ledger = try Self.createLedger(at: path)
            var serial = 0
            for _ in 0..<1_000 where failure == nil {
                let batch = try (0..<8).map { _ in
                    serial += 1
                    return try Self.commission("FULL\(serial)")
                }
                let before = try ledger.store.read { try $0.treeSize() }
                do {
                    acknowledged += try ledger.append(batch).receipts.map(\.eventID.hex)
                } catch {
                    failure = error
                    try Self.expectNothingStored(batch, size: before, in: ledger.store)
                }
            }
            var checker = LedgerChecker(logKey: Self.parties.log.verifier)
            try checker.check(ledger.store, acknowledged: acknowledged)
            #expect(checker.verifiedSize == UInt64(1 + acknowledged.count))
        }
        let error = try #require(failure, "512 KiB never filled up")
        #expect(error.code == .storage)
        #expect(error.storage?.code == .full, "\(error)")
        print("full disk: \(acknowledged.count) acknowledged before the disk filled; then: \(error)")

        // Space returns: the same file takes appends again and still verifies.
        #expect(Self.tool("/bin/mount", ["-o", "remount,size=4m", disk.path]) == 0)
        let store = try SQLiteLedgerStore.open(path: path)
        let ledger = try Ledger.open(store: store, logSigner: Self.parties.log)
        let more = try ledger.append([Self.commission("AFTERFULL")])
        acknowledged += more.receipts.map(\.eventID.hex)
        var checker = LedgerChecker(logKey: Self.parties.log.verifier)
        try checker.check(store, acknowledged: acknowledged)
        #expect(try store.integrityCheck().isEmpty)
    }

    @Test("a file that may not grow (RLIMIT_FSIZE in the child): clean storage error, lost batch absent, then resumes")
    func fullFileWithoutRoot() throws {
        let scratch = try ScratchFolder("fsize")
        defer { scratch.remove() }
        let db = scratch.ledger
        let created = try AppenderProcess.run(
            ["--db", db, "--create", "--count", "24", "--batch", "4", "--mode", "fresh", "--prefix", "R"],
            in: scratch.url,
            name: "create"
        )
        #expect(created.status == 0, "\(created.text)")
        let sizes = ["", "-wal"].compactMap {
            (try? FileManager.default.attributesOfItem(atPath: db + $0)[.size] as? NSNumber)?.uint64Value
        }
        let limit = (sizes.max() ?? 0) + 64 * 1_024
        let full = try AppenderProcess.run(
            [
                "--db", db, "--seed", "3", "--count", "20000", "--batch", "4", "--mode", "fresh", "--prefix", "R",
                "--max-file-size", "\(limit)",
            ],
            in: scratch.url,
            name: "full"
        )
        #expect(full.status == 3, "\(full.text.suffix(500))")
        let error = try #require(full.errors.first)
        #expect(error.hasPrefix("ERR storage full") || error.hasPrefix("ERR storage io"), "\(error)")
        #expect(!full.lost.isEmpty)
        let acknowledged = created.acknowledged + full.acknowledged
        let store = try SQLiteLedgerStore.open(path: db)
        var checker = LedgerChecker(logKey: Self.parties.log.verifier)
        try checker.check(store, acknowledged: acknowledged)
        #expect(checker.verifiedSize == UInt64(1 + acknowledged.count))
        let found = try store.read { reader in
            try full.lost.compactMap { try reader.entryIndex(eventID: Hex.decode($0) ?? []) }
        }
        #expect(found.isEmpty, "a batch reported lost was stored at \(found)")
        let resumed = try AppenderProcess.run(
            ["--db", db, "--seed", "5", "--count", "8", "--batch", "4", "--mode", "fresh", "--prefix", "R"],
            in: scratch.url,
            name: "resumed"
        )
        #expect(resumed.status == 0 && resumed.acknowledged.count == 8, "\(resumed.text)")
        print("file size limit \(limit) B: \(full.acknowledged.count) acknowledged, then \(error)")
    }

    @Test("a ledger opened read-only refuses to append with storage readOnly and stores nothing")
    func readOnlyOpen() throws {
        let scratch = try ScratchFolder("readonly")
        defer { scratch.remove() }
        let writable = try Self.createLedger(at: scratch.ledger)
        try writable.append([Self.commission("RO1"), Self.commission("RO2")])
        let store = try SQLiteLedgerStore.open(path: scratch.ledger, readOnly: true)
        let ledger = try Ledger.open(store: store, logSigner: Self.parties.log)
        let batch = [try Self.commission("RO3")]
        do {
            let result = try ledger.append(batch)
            Issue.record("an append to a read-only ledger was acknowledged: \(result.receipts)")
        } catch {
            #expect(error.code == .storage, "\(error)")
            Self.expectMapped(error, to: [.readOnly])
        }
        try Self.expectNothingStored(batch, size: 3, in: writable.store)
    }

    @Test(
        "a read-only file system (tmpfs remounted ro; file modes cannot stop root): clear error, nothing stored",
        .enabled(if: getuid() != 0 || FaultHandlingTests.canMount, FaultHandlingTests.cannotMount)
    )
    func readOnlyFileSystem() throws {
        let scratch = try ScratchFolder("rofs")
        defer { scratch.remove() }
        if getuid() != 0 {
            // Without root, file modes are honest: a 0444 file refuses writes.
            let writable = try Self.createLedger(at: scratch.ledger)
            try writable.append([Self.commission("M1")])
            #expect(chmod(scratch.ledger, 0o444) == 0)
            try Self.expectRefused(path: scratch.ledger, size: 2)
            return
        }
        let disk = scratch.url.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        try #require(Self.tool("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", disk.path]) == 0)
        defer { Self.tool("/bin/umount", ["-l", disk.path]) }
        let path = disk.appendingPathComponent("ledger.sqlite").path
        let created = try AppenderProcess.run(
            ["--db", path, "--create", "--count", "4", "--batch", "2", "--mode", "fresh", "--prefix", "Q"],
            in: scratch.url,
            name: "create"
        )
        #expect(created.status == 0, "\(created.text)")
        #expect(Self.tool("/bin/mount", ["-o", "remount,ro", disk.path]) == 0)
        try Self.expectRefused(path: path, size: 5)
        #expect(Self.tool("/bin/mount", ["-o", "remount,rw", disk.path]) == 0)
        var checker = LedgerChecker(logKey: Self.parties.log.verifier)
        try checker.check(SQLiteLedgerStore.open(path: path), acknowledged: created.acknowledged)
        #expect(checker.verifiedSize == 5)
    }

    /// Opening for writing or appending must fail with a storage error; nothing may be acknowledged.
    static func expectRefused(path: String, size: UInt64) throws {
        let batch = [try commission("NOPE")]
        do {
            let ledger = try Ledger.open(store: SQLiteLedgerStore.open(path: path), logSigner: parties.log)
            let result = try ledger.append(batch)
            Issue.record("append on a read-only file was acknowledged: \(result.receipts)")
        } catch let error as LedgerError {
            #expect(error.code == .storage, "\(error)")
            expectMapped(error, to: [.readOnly, .io])
            print("read-only: \(error.storage?.code.description ?? "-"): \(error)")
        } catch let error as StorageError {
            #expect([.readOnly, .io].contains(error.code), "\(error)")
            print("read-only (at open): \(error.code): \(error)")
        }
    }

    /// The storage failure under a `.storage` refusal must be a mapped StorageError, so callers can
    /// tell retryable (busy, conflict) from fatal (readOnly, full, corrupt).
    /// (Regression: SQLite errors raised inside the append's statement loop used to escape unmapped.)
    static func expectMapped(_ error: LedgerError, to codes: [StorageError.Code]) {
        #expect(error.storage.map { codes.contains($0.code) } == true, "\(error)")
    }

    @Test("a database locked by another connection past the busy timeout: storage busy, nothing stored, then appends")
    func lockedDatabase() throws {
        let scratch = try ScratchFolder("locked")
        defer { scratch.remove() }
        let ledger = try Self.createLedger(at: scratch.ledger)
        try ledger.append([Self.commission("L1")])
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        let holder = try DatabaseQueue(path: scratch.ledger, configuration: configuration)
        try holder.writeWithoutTransaction { try $0.execute(sql: "BEGIN EXCLUSIVE") }
        let batch = [try Self.commission("L2")]
        let started = Date()
        #expect {
            try ledger.append(batch)
        } throws: { error in
            (error as? LedgerError)?.code == .storage && (error as? LedgerError)?.storage?.code == .busy
        }
        let waited = Date().timeIntervalSince(started)
        try Self.expectNothingStored(batch, size: 2, in: ledger.store)
        try holder.writeWithoutTransaction { try $0.execute(sql: "ROLLBACK") }
        try holder.close()
        let result = try ledger.append(batch)
        #expect(result.treeSize == 3)
        print("locked database: refused as busy after \(Int(waited)) s (the fixed busy timeout), then appended")
    }
}

extension FaultHandlingTests {
    /// Writes a ledger with a child process (so it is closed and its WAL folded in), then returns
    /// the page size, the page count and the root page of `entries`.
    static func closedLedger(
        in scratch: ScratchFolder
    ) throws
        -> (pageSize: Int, pages: Int, entriesRoot: Int, acked: [String])
    {
        let created = try AppenderProcess.run(
            ["--db", scratch.ledger, "--create", "--count", "60", "--batch", "6", "--mode", "fresh", "--prefix", "C"],
            in: scratch.url,
            name: "create"
        )
        #expect(created.status == 0, "\(created.text)")
        let queue = try DatabaseQueue(path: scratch.ledger)
        let layout = try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            return (
                try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0, try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0,
                try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'entries'") ?? 0
            )
        }
        try queue.close()
        return (layout.0, layout.1, layout.2, created.acknowledged)
    }

    /// Overwrites one whole page with a byte pattern, as a torn or rotten sector would.
    static func damage(page: Int, pageSize: Int, path: String) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: UInt64((page - 1) * pageSize))
        try handle.write(contentsOf: Data(repeating: 0xA5, count: pageSize))
        try handle.synchronize()
        try handle.close()
    }

    /// The audit refuses to read the store or reports a failure.
    static func auditDetects(_ store: any LedgerStore) -> Bool {
        do { return try !IndependentAudit.run(store, parties: parties).passed } catch { return true }
    }

    @Test("a damaged page under the entries table: integrity check reports it, the append fails as corrupt")
    func corruptedEntriesPage() throws {
        let scratch = try ScratchFolder("corrupt")
        defer { scratch.remove() }
        let layout = try Self.closedLedger(in: scratch)
        #expect(layout.entriesRoot > 1)
        try Self.damage(page: layout.entriesRoot, pageSize: layout.pageSize, path: scratch.ledger)

        let store = try SQLiteLedgerStore.open(path: scratch.ledger)
        let problems: [String]
        do { problems = try store.integrityCheck() } catch let error as StorageError {
            #expect(error.code == .corrupt, "\(error)")
            problems = [error.reason]
        }
        #expect(!problems.isEmpty)
        let ledger = try Ledger.open(store: store, logSigner: Self.parties.log)
        let batch = [try Self.commission("AFTERDAMAGE")]
        do {
            let result = try ledger.append(batch)
            Issue.record("an append to a damaged ledger was acknowledged: \(result.receipts)")
        } catch {
            #expect(error.code == .storage, "\(error)")
            #expect(error.storage?.code == .corrupt, "\(error)")
            print("damaged entries page: integrity check \(problems.count) problem(s); append refused: \(error)")
        }
        #expect(Self.auditDetects(store))
        // Nothing was added: the other tables still read, and no link or product row names the batch.
        let link = try store.read { try $0.head(of: batch[0].statement.product?.digitalLink ?? "") }
        #expect(link == nil)
    }

    @Test("a damaged page in the middle of the file: integrity check and audit report it")
    func corruptedMiddlePage() throws {
        let scratch = try ScratchFolder("corruptmid")
        defer { scratch.remove() }
        let layout = try Self.closedLedger(in: scratch)
        #expect(layout.pages > 4)
        try Self.damage(page: layout.pages / 2, pageSize: layout.pageSize, path: scratch.ledger)
        let store = try SQLiteLedgerStore.open(path: scratch.ledger)
        let problems: [String]
        do { problems = try store.integrityCheck() } catch { problems = ["integrity_check refused to run: \(error)"] }
        #expect(!problems.isEmpty)
        #expect(Self.auditDetects(store))
        print("damaged page \(layout.pages / 2) of \(layout.pages): \(problems.first ?? "-")")
    }
}

extension FaultHandlingTests {
    @Test("a create whose first roster is refused leaves no half-created ledger behind")
    func failedCreateLeavesNothing() throws {
        let scratch = try ScratchFolder("halfcreate")
        defer { scratch.remove() }
        let store = try SQLiteLedgerStore.create(path: scratch.ledger)
        // Dated two hours ahead of the log's clock: the first roster is refused as a future event.
        let roster = try Self.parties.signedRoster(time: Self.now().adding(seconds: 7_200))
        #expect(throws: LedgerError(.futureEvent, "")) {
            try Ledger.create(
                store: store,
                origin: TestParties.origin,
                logSigner: Self.parties.log,
                governance: [Self.parties.governance.verifier],
                roster: roster
            )
        }
        let (format, size) = try store.read { (try $0.metadata("format"), try $0.treeSize()) }
        #expect(size == 0)
        // Regression: metadata and the first roster commit together, so a refused create can be retried.
        #expect(format == nil, "a refused create left ledger metadata on an empty log")
        let retry = try Self.parties.signedRoster(time: Self.now())
        _ = try Ledger.create(
            store: store,
            origin: TestParties.origin,
            logSigner: Self.parties.log,
            governance: [Self.parties.governance.verifier],
            roster: retry
        )
    }
}

extension FaultHandlingTests {
    @Test("opening a ledger while another connection holds its lock for a moment waits, instead of failing at once")
    func openWhileBrieflyLocked() throws {
        let scratch = try ScratchFolder("openlock")
        defer { scratch.remove() }
        do { _ = try Self.createLedger(at: scratch.ledger) }  // closed again at the end of this scope
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        let holder = try DatabaseQueue(path: scratch.ledger, configuration: configuration)
        try holder.writeWithoutTransaction { db in
            // As a process opening or closing the file does (WAL recovery, the last close's checkpoint).
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
            try db.execute(sql: "BEGIN EXCLUSIVE")
            try db.execute(sql: "COMMIT")  // in exclusive locking mode the lock stays until close
        }
        let release = DispatchWorkItem { try? holder.close() }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5, execute: release)
        var failure: StorageError?
        do { _ = try SQLiteLedgerStore.open(path: scratch.ledger) } catch let error as StorageError { failure = error }
        release.wait()
        // Whatever happens, the refusal is clean and retryable, never a crash or a damaged file.
        if let failure { #expect(failure.code == .busy, "\(failure)") }
        // Regression: the open-time probe waits on the lock like every other connection.
        #expect(failure == nil, "\(failure?.description ?? "")")
        let store = try SQLiteLedgerStore.open(path: scratch.ledger)
        #expect(try store.read { try $0.treeSize() } == 1)
    }
}
