#!/usr/bin/env python3
"""WAL pages a 1,000-event commit writes, table by table, on a copy of a Retrace ledger.

Why: the append benchmark's store floor (BENCHMARKS.md, "the store alone") writes ~10 KiB per
appended event for ~660 bytes stored. A WAL commit writes every B-tree page the transaction
dirtied, whole, and the checkpoint copies each into the file again, so what an event costs the
store is the number of pages it dirties. This script tells which rows dirty them by committing
synthetic rows shaped like an append's, one table at a time, and counting the WAL's frames:

  - entries whose event ids are random (as SHA-256 ids are): the row appended at the end of the
    table plus the UNIQUE event_id index entry at a random place;
  - the same rows with ids in log order: the index entry then lands beside the last one, so the
    difference between the two is what the random index position costs;
  - chain links extending random existing chains: the new head row (with its derived state) and
    the UPDATE that empties the superseded head's state.

Synthetic rows, the real file's sizes and keys: an estimate of where the pages go, not a
measurement of the append (the benchmark's replay is that). Standard library only.

Usage: scripts/wal-pages-per-table.py LEDGER.sqlite [--rounds 5]
"""
import argparse
import os
import random
import shutil
import sqlite3
import tempfile

FRAME = 4096 + 24  # page size plus the WAL frame header
BATCH = 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ledger")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    random.seed(1)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "copy.sqlite")
        shutil.copyfile(args.ledger, path)
        if os.path.exists(args.ledger + "-wal"):
            shutil.copyfile(args.ledger + "-wal", path + "-wal")
        measure(path, args.rounds)


def measure(path, rounds):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA wal_autocheckpoint = 0")
    db.execute("PRAGMA synchronous = FULL")
    (page_size,) = db.execute("PRAGMA page_size").fetchone()
    assert page_size == 4096, f"page size {page_size}, this script assumes 4096"

    def frames():
        wal = path + "-wal"
        return max(0, os.path.getsize(wal) - 32) // FRAME if os.path.exists(wal) else 0

    def commit_alone(body):
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("BEGIN IMMEDIATE")
        body()
        db.execute("COMMIT")
        return frames()

    heads = dict(db.execute("SELECT chain, max(seq) FROM chain_links GROUP BY chain"))
    chains = list(heads)
    (index,) = db.execute("SELECT max(idx) + 1 FROM entries").fetchone()
    (state_bytes,) = db.execute("SELECT avg(length(state)) FROM chain_links WHERE length(state) > 0").fetchone()
    (entry_bytes,) = db.execute("SELECT avg(length(bytes)) FROM entries WHERE idx >= ?", (index - 10_000,)).fetchone()
    state_bytes, entry_bytes = int(state_bytes), int(entry_bytes)
    print(
        f"{index} entries, {len(chains)} chains; stored entry {entry_bytes} bytes, "
        f"head state {state_bytes} bytes (means)"
    )

    def entries(ordered_ids):
        nonlocal index
        for _ in range(BATCH):
            event_id = bytes(24) + index.to_bytes(8, "big") if ordered_ids else os.urandom(32)
            db.execute(
                "INSERT INTO entries (idx, event_id, type, received, leaf_hash, bytes) VALUES (?, ?, 'ship', 1, ?, ?)",
                (index, event_id, os.urandom(32), os.urandom(entry_bytes)),
            )
            index += 1

    def links():
        for offset in range(BATCH):
            chain = random.choice(chains)
            heads[chain] += 1
            sequence = heads[chain]
            db.execute(
                "INSERT INTO chain_links (chain, seq, idx, state) VALUES (?, ?, ?, ?)",
                (chain, sequence, index - BATCH + offset, os.urandom(state_bytes)),
            )
            db.execute("UPDATE chain_links SET state = x'' WHERE chain = ? AND seq = ?", (chain, sequence - 1))

    totals = {"random": 0, "ordered": 0, "links": 0}
    for _ in range(rounds):
        totals["random"] += commit_alone(lambda: entries(False))
        totals["links"] += commit_alone(links)
        totals["ordered"] += commit_alone(lambda: entries(True))
    per = {key: value / rounds for key, value in totals.items()}
    print(f"WAL pages per {BATCH}-event commit, mean of {rounds}:")
    print(f"  entries, random event ids (row + UNIQUE index):   {per['random']:.0f}")
    print(f"  entries, event ids in log order:                  {per['ordered']:.0f}")
    print(f"  chain links on random chains (head + state moved): {per['links']:.0f}")
    print(
        f"  => about {(per['random'] + per['links']) / BATCH:.1f} pages "
        f"({(per['random'] + per['links']) * FRAME / BATCH / 1024:.1f} KiB of WAL) per event, "
        "before the checkpoint writes them again"
    )


if __name__ == "__main__":
    main()
