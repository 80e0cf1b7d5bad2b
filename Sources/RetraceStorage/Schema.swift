/// The SQLite schema of a Retrace ledger, version 4.
///
/// Every ledger table is append-only in the schema itself: triggers abort any UPDATE or DELETE, so
/// no code path, present or future, can rewrite history without first dropping a trigger (which
/// the audit would still catch, since every byte is covered by the Merkle tree).
///
/// One UPDATE is allowed, and only in one shape: emptying the derived `state` of a chain link that
/// a newer link of its chain has superseded (version 2). The state exists so the next append need
/// not replay the chain; only the head's is ever read, and keeping one per step was 603 of the
/// 1,713 bytes each entry cost on disk (issue 15). Nothing signed or hashed is in that column.
///
/// Version 3 changes no table: `entries.bytes` may hold an entry packed (``EntryPacking``), which
/// a version 2 reader would take for the entry itself, so the version says it may.
///
/// Version 4 drops `chain_links.event_id`: it was the 32 bytes of the linked entry's own
/// `event_id`, stored twice (33 of the 711 bytes an entry cost at 10^5 events). Readers join on
/// `idx`, so a link can no longer name an event other than its entry's.
enum Schema {
    static let version = 4
    /// `PRAGMA application_id`: "RTRC". Lets a reader tell a Retrace ledger from any other SQLite file
    /// without trusting table names.
    static let applicationID: Int32 = 0x5254_5243

    static let tables = ["meta", "entries", "batch_members", "chain_links", "products", "nodes", "checkpoints"]

    static let create = """
        CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE entries (
            idx INTEGER PRIMARY KEY NOT NULL,
            event_id BLOB NOT NULL UNIQUE,
            type TEXT NOT NULL,
            received INTEGER NOT NULL,
            leaf_hash BLOB NOT NULL,
            bytes BLOB NOT NULL
        );
        CREATE TABLE batch_members (
            idx INTEGER NOT NULL,
            position INTEGER NOT NULL,
            bytes BLOB NOT NULL,
            PRIMARY KEY (idx, position)
        ) WITHOUT ROWID;
        CREATE TABLE chain_links (
            chain TEXT NOT NULL,
            seq INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            state BLOB NOT NULL,
            PRIMARY KEY (chain, seq)
        ) WITHOUT ROWID;
        CREATE TABLE products (
            product TEXT PRIMARY KEY NOT NULL,
            gtin TEXT NOT NULL,
            serial TEXT NOT NULL,
            passport BLOB NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX products_by_serial ON products (serial);
        CREATE TABLE nodes (
            level INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            hash BLOB NOT NULL,
            PRIMARY KEY (level, idx)
        ) WITHOUT ROWID;
        CREATE TABLE checkpoints (size INTEGER PRIMARY KEY NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL);
        """

    static var appendOnlyTriggers: String {
        tables.map { table in
            if table == "chain_links" { return chainLinkTriggers }
            return
                """
                CREATE TRIGGER \(table)_no_update BEFORE UPDATE ON \(table)
                    BEGIN SELECT RAISE(ABORT, 'retrace: \(table) is append-only'); END;
                CREATE TRIGGER \(table)_no_delete BEFORE DELETE ON \(table)
                    BEGIN SELECT RAISE(ABORT, 'retrace: \(table) is append-only'); END;
                """
        }.joined(separator: "\n")
    }

    /// `chain_links` refuses DELETE and every UPDATE except emptying a superseded link's state:
    /// the link's other columns unchanged, its new state empty, and a newer link of its chain
    /// already stored.
    static let chainLinkTriggers = """
        \(chainLinkUpdateTrigger)
        CREATE TRIGGER chain_links_no_delete BEFORE DELETE ON chain_links
            BEGIN SELECT RAISE(ABORT, 'retrace: chain_links is append-only'); END;
        """

    static let chainLinkUpdateTrigger = """
        CREATE TRIGGER chain_links_no_update BEFORE UPDATE ON chain_links
            WHEN NEW.chain IS NOT OLD.chain OR NEW.seq IS NOT OLD.seq OR NEW.idx IS NOT OLD.idx
                OR NEW.state IS NOT x''
                OR NOT EXISTS (SELECT 1 FROM chain_links AS newer WHERE newer.chain = OLD.chain AND newer.seq > OLD.seq)
            BEGIN SELECT RAISE(ABORT, 'retrace: chain_links is append-only but for superseded states'); END;
        """

    /// Version 1 → 2, in one transaction: the new `chain_links` trigger, and every superseded
    /// link's state emptied (the pages are reused by later appends, or returned by `VACUUM`).
    static let upgradeFrom1 = """
        DROP TRIGGER chain_links_no_update;
        \(chainLinkUpdateTrigger)
        UPDATE chain_links SET state = x''
            WHERE length(state) > 0 AND EXISTS (
                SELECT 1 FROM chain_links AS newer WHERE newer.chain = chain_links.chain AND newer.seq > chain_links.seq);
        PRAGMA user_version = 2;
        """

    /// Version 2 → 3: nothing to rewrite. Entries stored before stay verbatim and read as they
    /// are; entries appended from now on are packed.
    static let upgradeFrom2 = "PRAGMA user_version = 3;"

    /// Version 3 → 4: `chain_links` rewritten without `event_id` (SQLite's DROP COLUMN copies the
    /// table; the trigger naming the column goes first and comes back without it).
    static let upgradeFrom3 = """
        DROP TRIGGER chain_links_no_update;
        ALTER TABLE chain_links DROP COLUMN event_id;
        \(chainLinkUpdateTrigger)
        PRAGMA user_version = 4;
        """

    /// Each step from the version it starts at, run in order inside one transaction.
    static let upgrades: [(from: Int, sql: String)] = [(1, upgradeFrom1), (2, upgradeFrom2), (3, upgradeFrom3)]
}
