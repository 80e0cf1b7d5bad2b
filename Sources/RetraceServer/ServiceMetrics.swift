import Prometheus
import Synchronization

/// The service's Prometheus metrics, owned by one server instance.
///
/// A registry per instance (rather than swift-metrics' process-global bootstrap) lets tests run
/// several servers in one process and read exactly their own counts.
public final class ServiceMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let appendedStatements: Counter
    private let groupCommits: Counter
    private let refusedAppends: Counter
    private let verificationFailures: Counter
    private let treeSize: Gauge
    private let requestBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5),
    ]

    public init() {
        appendedStatements = registry.makeCounter(
            descriptor: .init(
                namespace: "retrace",
                metricName: "appended_statements",
                unitName: "total",
                helpText: "Statements appended to the log (durable, acknowledged)."
            )
        )
        groupCommits = registry.makeCounter(
            descriptor: .init(
                namespace: "retrace",
                metricName: "group_commits",
                unitName: "total",
                helpText:
                    "Storage transactions of the append sequencer (each one fsync), whatever their requests' outcomes."
            )
        )
        refusedAppends = registry.makeCounter(
            descriptor: .init(
                namespace: "retrace",
                metricName: "refused_appends",
                unitName: "total",
                helpText:
                    "Append requests the ledger refused (untrusted, rule, conflict, duplicate, future); malformed requests are counted in retrace_http_requests_total by status."
            )
        )
        verificationFailures = registry.makeCounter(
            descriptor: .init(
                namespace: "retrace",
                metricName: "verification_failures",
                unitName: "total",
                helpText:
                    "Verifications that exposed broken or forged evidence: ledger integrity failures, and recycling claims that fail (integrity, reuse after recycling, mass, accreditation)."
            )
        )
        treeSize = registry.makeGauge(
            descriptor: .init(
                namespace: "retrace",
                metricName: "tree_size",
                unitName: "entries",
                helpText: "Entries in the log at the last append."
            )
        )
    }

    func request(route: String, method: String, status: Int, duration: Duration) {
        let labels = [("route", route), ("method", method), ("status", String(status))]
        registry.makeCounter(
            descriptor: .init(
                namespace: "retrace",
                subsystem: "http",
                metricName: "requests",
                unitName: "total",
                helpText: "HTTP requests by route, method and status."
            ),
            labels: labels
        ).increment()
        registry.makeDurationHistogram(
            descriptor: .init(
                namespace: "retrace",
                subsystem: "http",
                metricName: "request_duration",
                unitName: "seconds",
                helpText: "HTTP request latency by route."
            ),
            labels: [("route", route), ("method", method)],
            buckets: requestBuckets
        ).record(duration)
    }

    func appended(statements: Int, treeSize size: UInt64) {
        appendedStatements.increment(by: Int64(statements))
        treeSize.set(Double(size))
    }

    func verdict(_ code: String) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "retrace",
                metricName: "dock_verdicts",
                unitName: "total",
                helpText: "Dock verdicts given, by verdict code."
            ),
            labels: [("verdict", code)]
        ).increment()
    }

    func committed() { groupCommits.increment() }
    func refused() { refusedAppends.increment() }
    func verificationFailed() { verificationFailures.increment() }
    func observe(treeSize size: UInt64) { treeSize.set(Double(size)) }

    /// The Prometheus text exposition format (version 0.0.4).
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
