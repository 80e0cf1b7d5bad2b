import Foundation
import RetraceStorage

/// The PostgreSQL schema of a Retrace ledger, version 4: the SQLite tables (spec/format.md §6) in
/// PostgreSQL types, append-only by trigger but for the one UPDATE SQLite's schema also allows
/// (emptying a superseded chain link's derived state), entries packed as SQLite packs them, chain
/// links without a copy of their entry's event id.
enum PostgresSchema {
    static let version = 4
    /// Marks a schema as a Retrace ledger, as `PRAGMA application_id` does for an SQLite file.
    static let applicationTag = "retrace-ledger"

    static let tables = [
        "schema_info", "meta", "entries", "batch_members", "chain_links", "products", "nodes", "checkpoints",
    ]

    /// Lower-case letters, digits and `_`, starting with a letter, at most 63 bytes: a name that needs
    /// no quoting rules beyond double quotes, and is never a keyword problem.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first), name.utf8.count <= 63 else {
            return false
        }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func quoted(_ name: String) -> String { "\"\(name)\"" }

    /// The advisory-lock key of a ledger: FNV-1a of its schema name, so two ledgers in one database
    /// never wait for each other.
    static func lockKey(_ schema: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in Array("retrace/ledger/\(schema)".utf8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }

    /// Run in order, in one transaction, with `search_path` set to the new schema.
    static func create(schema: String) -> [String] {
        var statements = [
            "CREATE SCHEMA \(quoted(schema))",
            "CREATE TABLE schema_info (key TEXT COLLATE \"C\" PRIMARY KEY, value TEXT NOT NULL)",
            "INSERT INTO schema_info (key, value) VALUES ('application', '\(applicationTag)'), ('version', '\(version)')",
            "CREATE TABLE meta (key TEXT COLLATE \"C\" PRIMARY KEY, value TEXT NOT NULL)",
            """
            CREATE TABLE entries (idx BIGINT PRIMARY KEY CHECK (idx >= 0), event_id BYTEA NOT NULL UNIQUE,
                type TEXT NOT NULL, received BIGINT NOT NULL, leaf_hash BYTEA NOT NULL, bytes BYTEA NOT NULL)
            """,
            """
            CREATE TABLE batch_members (idx BIGINT NOT NULL, position INTEGER NOT NULL, bytes BYTEA NOT NULL,
                PRIMARY KEY (idx, position))
            """,
            """
            CREATE TABLE chain_links (chain TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL, idx BIGINT NOT NULL,
                state BYTEA NOT NULL, PRIMARY KEY (chain, seq))
            """,
            """
            CREATE TABLE products (product TEXT COLLATE "C" PRIMARY KEY, gtin TEXT NOT NULL,
                serial TEXT COLLATE "C" NOT NULL, passport BYTEA NOT NULL)
            """,
            "CREATE INDEX products_by_serial ON products (serial)",
            "CREATE TABLE nodes (level INTEGER NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY (level, idx))",
            "CREATE TABLE checkpoints (size BIGINT PRIMARY KEY, root BYTEA NOT NULL, note TEXT NOT NULL)",
            """
            CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'retrace: % is append-only', TG_TABLE_NAME; END $$
            """,
            refuseLinkChange,
        ]
        for table in tables {
            statements.append(
                "CREATE TRIGGER \(table)_append_only BEFORE UPDATE OR DELETE ON \(table) "
                    + "FOR EACH ROW EXECUTE FUNCTION \(table == "chain_links" ? "refuse_link_change" : "refuse_change")()"
            )
            statements.append(
                "CREATE TRIGGER \(table)_no_truncate BEFORE TRUNCATE ON \(table) "
                    + "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()"
            )
        }
        return statements
    }

    /// `chain_links`' trigger: every UPDATE or DELETE is refused except emptying the state of a link
    /// a newer link of its chain has superseded, its other columns unchanged (as SQLite's schema).
    static let refuseLinkChange = """
        CREATE OR REPLACE FUNCTION refuse_link_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND NEW.chain = OLD.chain AND NEW.seq = OLD.seq AND NEW.idx = OLD.idx
                AND NEW.state = ''::bytea
                AND EXISTS (SELECT 1 FROM chain_links AS newer WHERE newer.chain = OLD.chain AND newer.seq > OLD.seq)
            THEN RETURN NEW; END IF;
            RAISE EXCEPTION 'retrace: chain_links is append-only but for superseded states';
        END $$
        """

    /// Version 1 → 2: the `chain_links` trigger that lets a superseded link's state be emptied,
    /// and every superseded link's state emptied.
    static let upgradeFrom1 = [
        refuseLinkChange,
        "DROP TRIGGER chain_links_append_only ON chain_links",
        """
        CREATE TRIGGER chain_links_append_only BEFORE UPDATE OR DELETE ON chain_links
            FOR EACH ROW EXECUTE FUNCTION refuse_link_change()
        """,
        """
        UPDATE chain_links AS old SET state = ''::bytea WHERE length(old.state) > 0
            AND EXISTS (SELECT 1 FROM chain_links AS newer WHERE newer.chain = old.chain AND newer.seq > old.seq)
        """,
    ]

    /// Version 2 → 3: no row changes (entries stored before stay verbatim; see ``EntryPacking``).
    static let upgradeFrom2: [String] = []

    /// Version 3 → 4: `chain_links.event_id` dropped, the trigger's function first (it named the
    /// column). PostgreSQL drops a column without rewriting rows: the old rows' bytes are freed as
    /// they are rewritten (a superseded state emptied) or by `VACUUM FULL`.
    static let upgradeFrom3 = [refuseLinkChange, "ALTER TABLE chain_links DROP COLUMN event_id"]

    /// The statements bringing `version` to the current one, in one transaction holding the
    /// writers' lock; nil for a version no release wrote.
    static func upgrade(from version: Int) -> [String]? {
        let steps = [1: upgradeFrom1, 2: upgradeFrom2, 3: upgradeFrom3]
        guard version >= 1, version <= self.version else { return nil }
        guard version < self.version else { return [] }
        return (version..<self.version).flatMap { steps[$0] ?? [] } + recordVersion
    }

    /// The version recorded (its row's own trigger is stepped around for that one UPDATE).
    static let recordVersion = [
        "ALTER TABLE schema_info DISABLE TRIGGER schema_info_append_only",
        "UPDATE schema_info SET value = '\(version)' WHERE key = 'version'",
        "ALTER TABLE schema_info ENABLE TRIGGER schema_info_append_only",
    ]
}

/// `postgres://user[:password]@host[:port]/database[?schema=NAME]`.
struct PostgresURL {
    let host: String
    let port: Int
    let user: String
    let password: String?
    let database: String
    let schema: String

    init(parsing text: String) throws {
        guard let components = URLComponentsLite(text) else {
            throw StorageError(
                .notFound,
                "\"\(PostgresURL.redact(text))\" is not postgres://user[:password]@host[:port]/database[?schema=NAME]"
            )
        }
        host = components.host
        port = components.port ?? 5432
        user = components.user
        password = components.password
        database = components.database
        schema = components.query["schema"] ?? "retrace"
        guard PostgresSchema.isValidName(schema) else {
            throw StorageError(
                .notFound,
                "schema \"\(schema)\" must be lower-case letters, digits and _, starting with a letter"
            )
        }
    }

    var redacted: String { "postgres://\(user)@\(host):\(port)/\(database)?schema=\(schema)" }

    static func redact(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://") else { return text }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":…" + String(text[at...])
    }
}

/// A strict reader of the URL forms above (Foundation's URLComponents accepts far more).
private struct URLComponentsLite {
    let user: String
    let password: String?
    let host: String
    let port: Int?
    let database: String
    let query: [String: String]

    init?(_ text: String) {
        var rest = Substring(text)
        if rest.hasPrefix("postgres://") {
            rest = rest.dropFirst("postgres://".count)
        } else if rest.hasPrefix("postgresql://") {
            rest = rest.dropFirst("postgresql://".count)
        } else {
            return nil
        }
        var queryText: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            queryText = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let at = rest.lastIndex(of: "@"), let slash = rest[at...].firstIndex(of: "/") else { return nil }
        let credentials = rest[..<at]
        if let colon = credentials.firstIndex(of: ":") {
            user = String(credentials[..<colon]).removingPercentEncoding ?? ""
            password = String(credentials[credentials.index(after: colon)...]).removingPercentEncoding
        } else {
            user = String(credentials).removingPercentEncoding ?? ""
            password = nil
        }
        let hostPort = rest[rest.index(after: at)..<slash]
        if let colon = hostPort.lastIndex(of: ":") {
            guard let number = Int(hostPort[hostPort.index(after: colon)...]), (1...65_535).contains(number) else {
                return nil
            }
            host = String(hostPort[..<colon])
            port = number
        } else {
            host = String(hostPort)
            port = nil
        }
        database = String(rest[rest.index(after: slash)...])
        var query: [String: String] = [:]
        for pair in queryText.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            query[parts[0]] = parts[1].removingPercentEncoding
        }
        self.query = query
        guard !user.isEmpty, !host.isEmpty, !database.isEmpty else { return nil }
    }
}
