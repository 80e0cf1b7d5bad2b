import Foundation
import GRDB
import RetracePostgres
import RetraceStorage
import Testing

/// The storage engines every conformance test runs against. PostgreSQL is reached through
/// `RETRACE_TEST_POSTGRES` (a `postgres://` URL of a throw-away cluster, which `.ci/run` starts);
/// each test gets its own schema, so tests run side by side in one database.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? { ProcessInfo.processInfo.environment["RETRACE_TEST_POSTGRES"] }

    /// Whether this backend can run here; under CI PostgreSQL must be there, so its absence is a
    /// recorded failure, not a skip.
    var available: Bool {
        switch self {
        case .sqlite: return true
        case .postgres:
            if Self.postgresURL != nil { return true }
            if ProcessInfo.processInfo.environment["CI"] != nil {
                Issue.record("RETRACE_TEST_POSTGRES is not set under CI: .ci/run must start the PostgreSQL cluster")
            } else {
                print("SKIPPED postgres backend: set RETRACE_TEST_POSTGRES=postgres://user@127.0.0.1:PORT/DB")
            }
            return false
        }
    }
}

/// A new, empty location for one test's ledger on one backend.
struct ScratchLocation {
    let backend: Backend
    /// What `--db` takes: a file path or a `postgres://…?schema=…` URL.
    let db: String
    let directory: URL
    let schema: String

    init(_ backend: Backend) throws {
        self.backend = backend
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-conf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        schema = "t" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        switch backend {
        case .sqlite: db = directory.appendingPathComponent("ledger.sqlite").path
        case .postgres:
            let base = Backend.postgresURL ?? "postgres://postgres@127.0.0.1:5432/postgres"
            db = base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
        }
    }

    func create() throws -> any LedgerStore {
        switch backend {
        case .sqlite: return try SQLiteLedgerStore.create(path: db)
        case .postgres: return try PostgresLedgerStore.create(url: db)
        }
    }

    func open(readOnly: Bool = false) throws -> any LedgerStore {
        switch backend {
        case .sqlite: return try SQLiteLedgerStore.open(path: db, readOnly: readOnly)
        case .postgres: return try PostgresLedgerStore.open(url: db, readOnly: readOnly)
        }
    }

    /// Runs SQL outside Retrace, as someone with write access to the database would: through GRDB
    /// on the file, or `psql` on the cluster. Returns whether the database accepted it.
    @discardableResult
    func rawExecute(_ sql: String) throws -> (accepted: Bool, message: String) {
        switch backend {
        case .sqlite:
            let queue = try DatabaseQueue(path: db)
            defer { try? queue.close() }
            do {
                try queue.write { try $0.execute(sql: sql) }
                return (true, "")
            } catch let error as DatabaseError {
                return (false, error.message ?? "\(error)")
            }
        case .postgres:
            let base = (Backend.postgresURL ?? "").split(separator: "?").first.map(String.init) ?? ""
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
            // On standard input, in one transaction (`-1`): a long script does not fit in one argument.
            process.arguments = [base, "-v", "ON_ERROR_STOP=1", "-q", "-1", "-f", "-"]
            let input = Pipe()
            let output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = output
            try process.run()
            input.fileHandleForWriting.write(Data("SET search_path TO \(schema); \(sql)".utf8))
            try input.fileHandleForWriting.close()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus == 0, String(decoding: data, as: UTF8.self))
        }
    }

    /// The first column of the first row of `sql`, as text, read outside Retrace.
    func rawScalar(_ sql: String) throws -> String {
        switch backend {
        case .sqlite:
            let queue = try DatabaseQueue(path: db)
            defer { try? queue.close() }
            return try queue.read { try String.fetchOne($0, sql: sql) } ?? ""
        case .postgres:
            let base = (Backend.postgresURL ?? "").split(separator: "?").first.map(String.init) ?? ""
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
            process.arguments = [
                base, "-v", "ON_ERROR_STOP=1", "-q", "-t", "-A", "-c", "SET search_path TO \(schema); \(sql)",
            ]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Puts back what schemas 1–3 stored and schema 4 dropped: `chain_links.event_id`, a copy of
    /// each link's entry's event id, and the SQLite trigger that named it. The upgrade tests start
    /// from a current ledger and rewrite it into an older one's shape.
    func restoreSchema3ChainLinks() throws {
        let script: String
        switch backend {
        case .sqlite:
            script = """
                DROP TRIGGER chain_links_no_update;
                ALTER TABLE chain_links ADD COLUMN event_id BLOB NOT NULL DEFAULT x'';
                UPDATE chain_links SET event_id = (SELECT event_id FROM entries WHERE entries.idx = chain_links.idx);
                CREATE TRIGGER chain_links_no_update BEFORE UPDATE ON chain_links
                    WHEN NEW.chain IS NOT OLD.chain OR NEW.seq IS NOT OLD.seq OR NEW.idx IS NOT OLD.idx
                        OR NEW.event_id IS NOT OLD.event_id OR NEW.state IS NOT x''
                        OR NOT EXISTS (SELECT 1 FROM chain_links AS newer WHERE newer.chain = OLD.chain AND newer.seq > OLD.seq)
                    BEGIN SELECT RAISE(ABORT, 'retrace: chain_links is append-only but for superseded states'); END;
                """
        case .postgres:
            script = """
                ALTER TABLE chain_links DISABLE TRIGGER USER;
                ALTER TABLE chain_links ADD COLUMN event_id BYTEA;
                UPDATE chain_links AS l SET event_id = e.event_id FROM entries AS e WHERE e.idx = l.idx;
                ALTER TABLE chain_links ALTER COLUMN event_id SET NOT NULL;
                ALTER TABLE chain_links ENABLE TRIGGER USER;
                CREATE OR REPLACE FUNCTION refuse_link_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'UPDATE' AND NEW.chain = OLD.chain AND NEW.seq = OLD.seq AND NEW.idx = OLD.idx
                        AND NEW.event_id = OLD.event_id AND NEW.state = ''::bytea
                        AND EXISTS (SELECT 1 FROM chain_links AS newer WHERE newer.chain = OLD.chain AND newer.seq > OLD.seq)
                    THEN RETURN NEW; END IF;
                    RAISE EXCEPTION 'retrace: chain_links is append-only but for superseded states';
                END $$;
                """
        }
        let (accepted, message) = try rawExecute(script)
        #expect(accepted, "restoring schema 3's chain_links.event_id: \(message)")
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
        if backend == .postgres { _ = try? rawExecute("RESET search_path; DROP SCHEMA IF EXISTS \(schema) CASCADE") }
    }
}
