import NIOSSL

/// How `retrace serve` listens and what it accepts.
public struct ServerConfiguration: Sendable {
    /// Loopback by default: exposing a ledger service is a deliberate act (`--host 0.0.0.0`).
    public var host: String
    /// 0 asks the system for a free port (tests).
    public var port: Int
    /// The largest request body accepted; larger ones are refused with 413 before being read in full.
    public var maxBodyBytes: Int
    /// The most statements one batch request may carry.
    public var maxBatchStatements: Int
    /// How long a client may take to send its whole body before the request is refused with 408.
    public var bodyTimeout: Duration
    /// Idle keep-alive connections are closed after this long.
    public var idleTimeout: Duration
    /// HTTPS with this certificate and key (`--tls-cert/--tls-key`); plain HTTP when nil.
    public var tls: TLSConfiguration?

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        maxBodyBytes: Int = 4 << 20,
        maxBatchStatements: Int = 1_000,
        bodyTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(60)
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.maxBatchStatements = maxBatchStatements
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
    }
}
