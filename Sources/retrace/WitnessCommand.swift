import ArgumentParser
import Foundation
import Logging
import RetraceCrypto
import RetraceWitness
import RetraceWitnessService

/// `retrace witness`: a C2SP tlog-witness for the logs given, cosigning each checkpoint that is
/// consistent with the last one it cosigned for that log (spec/witness.md).
struct WitnessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Run a C2SP tlog-witness: POST /add-checkpoint cosigns consistent checkpoints of the logs given."
    )

    @Option(name: .long, help: "The witness's cosigner private key (retrace keygen --cosigner NAME).")
    var key: String
    @Option(
        name: .customLong("log"),
        help: "A log public key file (NAME.pub) to witness; its key name must be the log's origin. Repeatable."
    )
    var logs: [String] = []
    @Option(name: .long, help: "The file keeping the heads cosigned (created if missing; keep it across restarts).")
    var state: String
    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one and prints it).")
    var port: Int = 8090
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"
    @Option(
        name: .customLong("audit-url"),
        help: "The log's URL: fetch and check every new entry from its /v1/entries before cosigning (one --log only)."
    )
    var auditURL: String?

    func validate() throws {
        guard !logs.isEmpty else { throw ValidationError("give at least one --log key file to witness") }
        guard auditURL == nil || logs.count == 1 else {
            throw ValidationError("--audit-url audits one log: give one --log")
        }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535, found \(port)") }
    }

    func run() async throws {
        var logger = Logger(label: "retrace.witness")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let signer: CosignerSigner
        do { signer = try CosignerSigner(parsing: try LedgerAccess.readText(key, what: "cosigner key")) } catch let
            error as WitnessError
        {
            throw CLIError.usage("\(key): \(error.reason) (make one with retrace keygen --cosigner NAME)")
        }
        let verifiers = try logs.map { try LedgerAccess.readPublicKey($0, what: "log key") }
        let stateFile: WitnessStateFile
        do { stateFile = try WitnessStateFile(path: state) } catch {
            throw CLIError.usage("cannot open the witness state \(state): \(error)")
        }
        var auditor: EntryAuditor?
        if let auditURL {
            do { auditor = try EntryAuditor(url: auditURL, logKey: verifiers[0], path: state + ".audited") } catch {
                throw CLIError.usage("--audit-url \(auditURL): \(error)")
            }
        }
        let service = WitnessService(
            signer: signer,
            logs: verifiers,
            state: stateFile,
            auditor: auditor,
            logger: logger
        )
        let server = WitnessServer(service: service, host: host, port: port, logger: logger)
        let host = self.host
        let name = signer.name
        do {
            try await server.run { port in
                FileHandle.standardOutput.write(
                    Data("retrace: witness \(name) at http://\(host):\(port)/ (\(verifiers.count) log(s))\n".utf8)
                )
            }
        } catch  where "\(error)".contains("Address already in use") {
            throw CLIError.usage(
                "port \(port) on \(host) is already in use; choose another with --port (0 picks a free one)"
            )
        }
    }
}
