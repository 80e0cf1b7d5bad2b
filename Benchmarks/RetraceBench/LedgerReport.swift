import Foundation

/// What each benchmark ledger holds and what it takes on disk.
enum LedgerReport {
    static func print(_ ledgers: [LedgerCache.Prepared]) {
        Swift.print("\n## Ledgers (seeded generator; cached under the cache directory, reused when present)")
        var table = Table("generated events", "log entries", "file MiB", "bytes per entry", "generation")
        for ledger in ledgers {
            let bytes = fileBytes(ledger.path)
            let generation =
                ledger.generatedSeconds.map {
                    "\(Measure.format($0, 1)) s (\(Measure.format(Double(ledger.treeSize) / $0, 0)) entries/s)"
                } ?? "cached"
            table.add(
                "\(ledger.events)",
                "\(ledger.treeSize)",
                Measure.format(Double(bytes) / 1_048_576, 1),
                "\(bytes / Int(ledger.treeSize))",
                generation
            )
        }
        table.print()
        Swift.print("(bytes: the SQLite file and its WAL: entries, Merkle nodes, chain links with states, indexes.)")
    }

    static func fileBytes(_ path: String) -> Int {
        ["", "-wal"].reduce(0) { total, suffix in
            total + ((try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int) ?? 0)
        }
    }
}
