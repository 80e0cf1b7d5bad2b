import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `retrace witness` over HTTP: `POST /add-checkpoint` (submission) and
/// `GET /<hex SHA-256 of origin>/checkpoint` (monitoring), both prefixes the server's root.
public struct WitnessServer: Sendable {
    public let service: WitnessService
    public let host: String
    public let port: Int
    public let logger: Logger

    /// A request body larger than this is not a checkpoint (63 proof lines and a note fit in 16 KiB).
    static let maxBody = 64 << 10

    public init(service: WitnessService, host: String, port: Int, logger: Logger) {
        self.service = service
        self.host = host
        self.port = port
        self.logger = logger
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let service = self.service
        router.post("/add-checkpoint") { request, _ -> Response in
            let buffer: ByteBuffer
            do { buffer = try await request.body.collect(upTo: Self.maxBody) } catch {
                return Self.response(
                    .init(status: 413, contentType: "text/plain; charset=utf-8", body: "request body too large\n")
                )
            }
            return Self.response(await service.addCheckpoint(body: String(buffer: buffer)))
        }
        router.get("/:origin/checkpoint") { _, context -> Response in
            Self.response(service.checkpoint(originHash: context.parameters.get("origin") ?? ""))
        }
        return router
    }

    static func response(_ answer: WitnessService.Answer) -> Response {
        Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: [.contentType: answer.contentType],
            body: .init(byteBuffer: ByteBuffer(string: answer.body))
        )
    }

    public func run(onRunning: @escaping @Sendable (Int) async -> Void) async throws {
        let app = Application(
            router: makeRouter(),
            configuration: .init(
                address: .hostname(host, port: port),
                serverName: "retrace-witness",
                reuseAddress: true
            ),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}
