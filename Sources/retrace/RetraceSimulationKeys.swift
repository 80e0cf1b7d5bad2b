import RetraceCrypto
import RetraceSimulation

/// The embedded public test keys (see keys/README.md), used only for ledgers that use them.
enum RetraceSimulationKeys {
    static func testLogSigner() throws -> NoteSigner { try TestParties().log }
}
