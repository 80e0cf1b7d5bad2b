import ArgumentParser
import Foundation

/// Global options shared by commands that read or write a ledger.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The ledger file (SQLite).")
    var db: String
}
