/// The command line of `retrace-appender`, parsed by hand to keep this test helper dependency-free.
///
/// `--db PATH` ledger file · `--create` make it first (test roster, test log key) · `--seed N` which
/// racer this is (picks its signer sites and its product choices) · `--count N` statements to append
/// (0: until killed) · `--batch N` statements per append · `--mode chain|fresh` · `--products N` size of
/// the product set in chain mode · `--prefix P` serial prefix of the product set · `--max-file-size B`
/// caps every file this process writes (RLIMIT_FSIZE), a disk that fills up without root.
struct AppenderOptions: Sendable {
    enum Mode: String, Sendable { case chain, fresh }

    var db = ""
    var create = false
    var seed: UInt64 = 1
    var count = 0
    var batch = 1
    var mode = Mode.chain
    var products = 16
    var prefix = "P"
    var maxFileSize: UInt64?
    var retries = 200

    init(arguments: [String]) throws(AppenderFailure) {
        var rest = arguments[...]
        func value(_ name: String) throws(AppenderFailure) -> String {
            guard let next = rest.popFirst() else { throw AppenderFailure("\(name) needs a value") }
            return next
        }
        func number(_ name: String) throws(AppenderFailure) -> UInt64 {
            let text = try value(name)
            guard let parsed = UInt64(text) else { throw AppenderFailure("\(name) needs a number, not \(text)") }
            return parsed
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--db": db = try value(argument)
            case "--create": create = true
            case "--seed": seed = try number(argument)
            case "--count": count = Int(try number(argument))
            case "--batch": batch = max(1, Int(try number(argument)))
            case "--products": products = max(1, Int(try number(argument)))
            case "--prefix": prefix = try value(argument)
            case "--max-file-size": maxFileSize = try number(argument)
            case "--retries": retries = Int(try number(argument))
            case "--mode":
                let text = try value(argument)
                guard let parsed = Mode(rawValue: text) else { throw AppenderFailure("unknown mode \(text)") }
                mode = parsed
            default: throw AppenderFailure("unknown option \(argument)")
            }
        }
        guard !db.isEmpty else { throw AppenderFailure("--db PATH is required") }
    }
}

/// A usage or setup failure of the appender itself (not a ledger refusal).
struct AppenderFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
