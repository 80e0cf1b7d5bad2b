import Foundation
import Logging
import RetraceVerification
import ServiceLifecycle
import Synchronization

/// Builds the verifier's recycling-certificate index in the background after the service starts.
///
/// Until it is built, the first certificate lookup reads the whole log (15.8 s at 10^6 entries),
/// and a client would wait for it. The read runs on a thread of its own, not on the cooperative
/// pool the requests need, and stops within 1,024 entries when the service shuts down, so the
/// process never exits under it. It ends when the index is built; the service carries on.
struct CertificateIndexWarmup: Service, CustomStringConvertible {
    let verifier: Verifier
    let logger: Logger
    /// How service-lifecycle's logs name it.
    var description: String { "CertificateIndexWarmup" }

    func run() async throws {
        let stop = StopFlag()
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let verifier = self.verifier
                    let logger = self.logger
                    let thread = Thread {
                        let started = ContinuousClock.now
                        do {
                            try verifier.prepareCertificateIndex { stop.isSet }
                            logger.debug(
                                "recycling certificate index ready",
                                metadata: [
                                    "entries": "\(verifier.certificateIndexEntriesRead)",
                                    "duration": "\(ContinuousClock.now - started)",
                                ]
                            )
                        } catch {
                            // Lookups build it themselves; this only saves the first client the wait.
                            logger.warning(
                                "recycling certificate index not built ahead",
                                metadata: ["error": "\(error)"]
                            )
                        }
                        continuation.resume()
                    }
                    thread.name = "retrace-certificate-index"
                    thread.start()
                }
            } onGracefulShutdown: {
                stop.set()
            }
        } onCancel: {
            stop.set()
        }
    }
}

private final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}
