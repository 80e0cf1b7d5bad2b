import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle

/// `retrace serve`: the ledger as an HTTP service on Hummingbird 2.
///
/// One process, one SQLite ledger: many readers at once (WAL snapshots), one writer through the
/// group-commit ``AppendSequencer``. Shutdown is graceful (SIGTERM/SIGINT): in-flight requests
/// finish, and because an append is answered only after its commit, a client never holds an
/// acknowledgement the file does not.
public struct RetraceServer: Sendable {
    public let service: LedgerService
    public let configuration: ServerConfiguration
    public let logger: Logger

    public init(service: LedgerService, configuration: ServerConfiguration, logger: Logger) {
        self.service = service
        self.configuration = configuration
        self.logger = logger
    }

    /// Every route of the service; `routes` lists them for the OpenAPI agreement test.
    public func makeRouter() -> Router<BasicRequestContext> {
        // HEAD is answered for every GET (monitors and link checkers use it; RFC 9110 §9.3.2).
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        let routes = Self.routeTable(configuration: configuration, service: service)
        router.add(middleware: ServiceMiddleware(metrics: service.metrics, logger: logger, routes: routes))
        register(on: router)
        return router
    }

    private func register(on router: Router<BasicRequestContext>) {
        LogRoutes(service: service).register(on: router)
        TileRoutes(service: service).register(on: router)
        APIRoutes(service: service, configuration: configuration).register(on: router)
        ProductPageRoutes(service: service).register(on: router)
        InsightsRoutes(service: service).register(on: router)
    }

    /// (method, path segments) of every route, read off a router holding the same registrations.
    private static func routeTable(
        configuration: ServerConfiguration,
        service: LedgerService
    ) -> [(method: String, pattern: [Substring])] {
        let probe = Router(context: BasicRequestContext.self)
        RetraceServer(service: service, configuration: configuration, logger: Logger(label: "probe")).register(
            on: probe
        )
        return probe.routes.map { ($0.method.rawValue, "\($0.path)".split(separator: "/")) }
    }

    /// The application, not yet running; `onRunning` receives the bound port (useful with port 0).
    public func makeApplication(
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        // HTTP/1 with the connection discipline Hummingbird's own loop lacks (ConnectionDiscipline.swift).
        let http1 = HTTPServerBuilder { [configuration, service] responder in
            DisciplinedHTTP1Channel(
                responder: responder,
                idleTimeout: configuration.idleTimeout,
                metrics: service.metrics
            )
        }
        var server = http1
        if let tls = configuration.tls {
            // TLS wraps every accepted connection; a configuration that cannot be used fails the
            // start, never falls back to plain HTTP.
            server =
                (try? HTTPServerBuilder.tls(http1, tlsConfiguration: tls))
                ?? HTTPServerBuilder { _ in throw TLSUnavailable() }
        }
        return Application(
            router: makeRouter(),
            server: server,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "retrace",
                reuseAddress: true
            ),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// The services that make up a running server: the HTTP application, and the certificate
    /// index built in the background (which ends when done without stopping the rest; listed
    /// last, it is the first told to stop at shutdown).
    func services(
        onRunning: @escaping @Sendable (Int) async -> Void
    ) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        [
            .init(service: makeApplication(onRunning: onRunning)),
            .init(
                service: CertificateIndexWarmup(verifier: service.verifier, logger: logger),
                successTerminationBehavior: .ignore,
                failureTerminationBehavior: .ignore
            ),
        ]
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: services(onRunning: onRunning),
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}

/// The TLS configuration could not be turned into a server: no connection is served, rather than
/// one in plain HTTP.
struct TLSUnavailable: Error {}

/// A server running in this process, for tests and benchmarks: started on a free loopback port,
/// stopped gracefully.
public final class RunningServer: Sendable {
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    public static func start(_ server: RetraceServer) async throws -> RunningServer {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = ServiceGroup(
            configuration: .init(
                services: server.services { port in continuation.yield(port) },
                gracefulShutdownSignals: [],
                logger: server.logger
            )
        )
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            task.cancel()
            throw CancellationError()
        }
        return RunningServer(port: port, group: group, task: task)
    }

    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
