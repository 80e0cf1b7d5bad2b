/// The SQLite schema of a Retrace ledger, version 1.
///
/// Every ledger table is append-only in the schema itself: triggers abort any UPDATE or DELETE, so
/// no code path, present or future, can rewrite history without first dropping a trigger (which
/// the audit would still catch, since every byte is covered by the Merkle tree).
enum Schema {
    static let version = 1
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
            event_id BLOB NOT NULL,
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
            """
            CREATE TRIGGER \(table)_no_update BEFORE UPDATE ON \(table)
                BEGIN SELECT RAISE(ABORT, 'retrace: \(table) is append-only'); END;
            CREATE TRIGGER \(table)_no_delete BEFORE DELETE ON \(table)
                BEGIN SELECT RAISE(ABORT, 'retrace: \(table) is append-only'); END;
            """
        }.joined(separator: "\n")
    }
}
