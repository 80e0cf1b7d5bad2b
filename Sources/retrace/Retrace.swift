import ArgumentParser
import Foundation

/// The `retrace` command: a provenance ledger for authenticated product returns.
struct Retrace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrace",
        abstract: "A provenance ledger for authenticated product returns.",
        discussion: """
            Exit codes: 0 the check holds or the command did its job; 1 checked and found false (a flagged \
            return, a failed audit, a bundle that does not verify, an append refused by a rule); 2 could not \
            check (bad arguments, unreadable or malformed input, a wrong key, a file that is not a ledger).
            """,
        subcommands: RetraceCommands.all
    )
}
