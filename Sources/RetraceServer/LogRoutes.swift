import Hummingbird
import RetraceIdentity
import RetraceVerification

/// The transparency-log face of the service: the signed checkpoint in C2SP form (so existing
/// tlog tools read it unchanged), the log key, proofs and raw entries for mirrors and auditors,
/// plus health and metrics for operators.
struct LogRoutes: Sendable {
    let service: LedgerService

    func register(on router: Router<BasicRequestContext>) {
        router.get("/checkpoint") { _, _ in
            Responses.text(try service.publishedCheckpoint())
        }
        router.get("/v1/log") { _, _ in
            Responses.json(try service.logInfo())
        }
        router.get("/v1/log/key") { _, _ in
            Responses.text(service.ledger.logKey.description + "\n")
        }
        router.get("/v1/proofs/inclusion") { request, _ in
            let index = try RequestReading.unsigned(request, "index")
            let event = request.uri.queryParameters["event"].map(String.init)
            guard (index == nil) != (event == nil) else {
                throw Problem.badRequest("give exactly one of index=N or event=<64 hex digits>")
            }
            return Responses.json(
                try service.inclusionProof(
                    index: index,
                    event: event,
                    treeSize: try RequestReading.unsigned(request, "treeSize")
                )
            )
        }
        router.get("/v1/proofs/consistency") { request, _ in
            guard let from = try RequestReading.unsigned(request, "from") else {
                throw Problem.badRequest("give from=N (the older tree size) and optionally to=M")
            }
            return Responses.json(
                try service.consistencyProof(from: from, to: try RequestReading.unsigned(request, "to"))
            )
        }
        router.get("/v1/roster") { _, _ in
            let bundle: [UInt8]
            do throws(VerificationError) { bundle = try service.verifier.rosterBundle().encoded() } catch {
                throw Problem.verification(error)
            }
            return Responses.bytes(bundle, contentType: "application/json")
        }
        router.get("/v1/classes/:gtin") { _, context in
            let gtin = context.parameters.get("gtin") ?? ""
            guard gtin.utf8.count == 14, (try? GTIN(gtin))?.digits == gtin else {
                throw Problem.badRequest("\(gtin) is not a GTIN-14 (14 digits ending in the GS1 check digit)")
            }
            let bundle: [UInt8]
            do throws(VerificationError) { bundle = try service.verifier.classBundle(gtin: gtin).encoded() } catch {
                throw Problem.verification(error)
            }
            return Responses.bytes(bundle, contentType: "application/json")
        }
        router.get("/v1/entries") { request, _ in
            let start = try RequestReading.unsigned(request, "start") ?? 0
            return Responses.json(try service.entries(start: start, end: try RequestReading.unsigned(request, "end")))
        }
        router.get("/health") { _, _ in
            let health = service.health()
            return Responses.json(health.json, status: health.ok ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            Responses.bytes(service.metrics.exposition(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
    }
}
