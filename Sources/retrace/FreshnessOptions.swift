import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceKit
import RetraceVerification
import RetraceWitness

/// `--witness-policy`, `--max-age`, `--now`: who witnessed the evidence's checkpoint and when,
/// and a refusal (exit 1) when that is longer ago than the verifier accepts.
///
/// A checkpoint carries no time of its own; a witness's cosignature does. So "how old is this
/// evidence" is answered by the time at which a quorum of the policy's witnesses had cosigned it
/// (spec/witness.md §6), never by anything the log or the holder of the evidence says.
struct FreshnessOptions: ParsableArguments {
    @Option(
        name: .customLong("witness-policy"),
        help: """
            A C2SP tlog-policy file of witnesses YOU trust: the checkpoint must carry a quorum of their valid \
            cosignatures, else it is refused; says who cosigned and when. (serve --witness-policy is the log's \
            side: whom it asks to cosign.)
            """
    )
    var witnessPolicy: String?
    @Option(
        name: .customLong("max-age"),
        help: "Refuse evidence last witnessed longer ago than this (e.g. 90s, 15m, 24h, 7d). Needs --witness-policy."
    )
    var maxAge: String?
    @Option(name: .customLong("now"), help: "The time to judge freshness at (default: now), e.g. 2026-12-01T10:00:00Z.")
    var now: String?

    func validate() throws {
        if maxAge != nil, witnessPolicy == nil { throw ValidationError("--max-age needs --witness-policy") }
        if let maxAge, WitnessedCheckpoint.parseDuration(maxAge) == nil {
            throw ValidationError("--max-age \"\(maxAge)\" is not a duration like 90s, 15m, 24h or 7d")
        }
    }

    /// The demand a client of a remote ledger makes of every checkpoint it is shown; `nil`
    /// without `--witness-policy`.
    func requirement() throws -> WitnessRequirement? {
        guard let witnessPolicy else { return nil }
        let policy = try FreshnessOptions.readPolicy(witnessPolicy)
        return WitnessRequirement(
            policy: policy,
            maxAge: maxAge.flatMap { WitnessedCheckpoint.parseDuration($0) },
            now: try now.map { UInt64(max(0, try LedgerAccess.parseTime($0, option: "--now").secondsSinceEpoch)) }
        )
    }

    /// These options judge a remote server's checkpoints on commands that have no local check.
    func requireServer(_ command: String) throws {
        guard witnessPolicy == nil, maxAge == nil, now == nil else {
            throw CLIError.usage(
                "\(command) takes --witness-policy, --max-age and --now with --server (they pin what the server "
                    + "shows); for a local ledger or bundle use verify-bundle, scan or history"
            )
        }
    }

    /// A C2SP tlog-policy file, or a usage error naming the file and what is wrong in it.
    static func readPolicy(_ path: String) throws -> WitnessPolicy {
        do {
            return try WitnessPolicy(parsing: try LedgerAccess.readText(path, what: "witness policy"))
        } catch let error as WitnessError {
            throw CLIError.usage("\(path): \(error.reason)")
        }
    }

    static func cliError(_ error: WitnessError) -> CLIError {
        switch error.code {
        case .stale: return CLIError(CLIError.refused, "STALE: \(error.reason)")
        case .quorumNotMet: return CLIError(CLIError.refused, "NOT WITNESSED: \(error.reason)")
        default: return CLIError(CLIError.refused, "WITNESSING FAILED: \(error.reason)")
        }
    }

    /// Verifies `note` under the policy (and the trusted log key) and applies `--max-age`; `nil`
    /// when no policy is given.
    func check(note: String, logKey: NoteVerifier) throws -> WitnessedCheckpoint? {
        guard let witnessPolicy else { return nil }
        let policy = try FreshnessOptions.readPolicy(witnessPolicy)
        let judgedAt = try LedgerAccess.parseTime(now, option: "--now").secondsSinceEpoch
        do {
            let witnessed = try WitnessedCheckpoint(note: note, policy: policy, logKeys: [logKey])
            try witnessed.requireQuorum()
            if let maxAge, let seconds = WitnessedCheckpoint.parseDuration(maxAge) {
                try witnessed.requireFresh(now: UInt64(max(0, judgedAt)), maxAge: seconds)
            }
            return witnessed
        } catch {
            throw Self.cliError(error)
        }
    }

    static func json(_ witnessed: WitnessedCheckpoint) -> JSONValue {
        .object([
            "treeSize": .integer(Int64(witnessed.checkpoint.size)),
            "at": witnessed.witnessedAt.map { .string(Timestamp(secondsSinceEpoch: Int64($0)).description) } ?? .null,
            "quorum": .string(witnessed.policy.quorumDescription),
            "witnesses": .array(
                witnessed.witnessings.map {
                    .object([
                        "name": .string($0.witness), "key": .string($0.keyName),
                        "time": .string(Timestamp(secondsSinceEpoch: Int64($0.time)).description),
                    ])
                }
            ),
            "summary": .string(witnessed.summary),
        ])
    }

    /// Adds `"witnessed"` to a JSON answer object.
    static func adding(_ witnessed: WitnessedCheckpoint?, to value: JSONValue) -> JSONValue {
        guard let witnessed, case .object(var object) = value else { return value }
        object["witnessed"] = json(witnessed)
        return .object(object)
    }

    static func line(_ witnessed: WitnessedCheckpoint) -> String {
        "  \(witnessed.summary) (checkpoint \(witnessed.checkpoint.size))"
    }

    /// The newest checkpoint note of a ledger file with the witnesses' cosignatures, if `retrace
    /// serve --witness-policy` stored one beside it; else the ledger's own newest note.
    static func ledgerNote(db: String, fallback: String?) -> String? {
        (try? String(contentsOfFile: db + ".witnessed", encoding: .utf8)) ?? fallback
    }

    /// The bundle with the witnesses' cosignatures on its checkpoint, when the cosigned checkpoint
    /// stored beside the ledger is that very checkpoint (same signed text); else unchanged.
    static func cosigned(_ bundle: ProofBundle, db: String) -> ProofBundle {
        guard let cosigned = try? String(contentsOfFile: db + ".witnessed", encoding: .utf8),
            let theirs = try? SignedNote(parsing: cosigned), let mine = try? SignedNote(parsing: bundle.checkpoint),
            theirs.text == mine.text
        else { return bundle }
        return bundle.withCheckpoint(cosigned)
    }
}
