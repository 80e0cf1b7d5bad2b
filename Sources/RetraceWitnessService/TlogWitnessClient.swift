import NIOCore
import NIOHTTP1
import NIOPosix
import RetraceWitness

/// Sends `add-checkpoint` requests to a witness over plain HTTP/1.1 (SwiftNIO, one connection per
/// request), so the log can gather cosignatures without blocking a thread per witness.
public struct TlogWitnessClient: Sendable {
    public struct Reply: Sendable, Hashable {
        public let status: Int
        public let contentType: String
        public let body: String
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
        /// An answer over the size limit: another connection would bring the same.
        var oversized = false
    }

    public let host: String
    public let port: Int
    /// The submission prefix's path, without a trailing slash ("" for the root).
    public let prefix: String
    public let timeoutSeconds: Int64

    /// Reads `http://host:port/prefix`; https needs TLS, which the witness side here does not serve.
    public init(url: String, timeoutSeconds: Int64 = 10) throws(Failure) {
        guard url.hasPrefix("http://") else {
            throw Failure(description: "witness URL \(url) must start with http:// (put TLS in front with a proxy)")
        }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        while path.hasSuffix("/") { path.removeLast() }
        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let host = parts.first, !host.isEmpty else {
            throw Failure(description: "witness URL \(url) has no host")
        }
        let port = parts.count == 2 ? Int(parts[1]) : 80
        guard let port, (1...65_535).contains(port) else {
            throw Failure(description: "witness URL \(url) has a bad port")
        }
        self.host = String(host)
        self.port = port
        self.prefix = path
        self.timeoutSeconds = timeoutSeconds
    }

    public func addCheckpoint(_ request: AddCheckpointRequest) async throws -> Reply {
        try await post(path: prefix + "/add-checkpoint", body: Array(request.body.utf8))
    }

    /// A GET below the URL's path (monitors read `/checkpoint`, proofs and entries this way).
    ///
    /// A GET changes nothing, so a connection that fails before a whole answer (refused, reset, or
    /// closed by the server before the request was written: NIO's "I/O on closed channel") is
    /// tried again, up to ``getAttempts`` times in all, within the one timeout. A monitor polling
    /// a log across a network should not report a dropped connection as a failure of the log.
    public func get(_ path: String) async throws -> Reply {
        try await post(path: prefix + path, body: nil, attempts: Self.getAttempts)
    }

    /// Connections a GET may use before its failure is reported.
    public static let getAttempts = 3

    func post(path: String, body: [UInt8]?, attempts: Int = 1) async throws -> Reply {
        let timeout = timeoutSeconds
        return try await withThrowingTaskGroup(of: Reply.self) { group in
            group.addTask {
                var attempt = 1
                while true {
                    do {
                        return try await exchange(path: path, body: body)
                    } catch let failure as Failure where failure.oversized {
                        throw failure
                    } catch {
                        guard attempt < attempts, !Task.isCancelled else { throw error }
                        try await Task.sleep(for: .milliseconds(100 * attempt * attempt))
                        attempt += 1
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                throw Failure(description: "no answer from \(host):\(port) within \(timeout) s")
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw Failure(description: "no answer") }
            return first
        }
    }

    private func exchange(path: String, body: [UInt8]?) async throws -> Reply {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(timeoutSeconds))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
        let host = self.host
        let port = self.port
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(
                version: .http1_1,
                method: body == nil ? .GET : .POST,
                uri: path.isEmpty ? "/" : path
            )
            head.headers.add(name: "Host", value: "\(host):\(port)")
            if let body {
                head.headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
                head.headers.add(name: "Content-Length", value: "\(body.count)")
            }
            head.headers.add(name: "Connection", value: "close")
            // The whole request in one write: a server may answer and close as soon as it has the
            // request head (a GET is whole then), and a separate later write of `.end` would then
            // fail on the closed channel ("I/O on closed channel") with the answer already there.
            var parts: [HTTPClientRequestPart] = [.head(head)]
            if let body { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            parts.append(.end(nil))
            try await outbound.write(contentsOf: parts)
            var status = 0
            var contentType = ""
            var bytes: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let response):
                    status = Int(response.status.code)
                    contentType = response.headers.first(name: "Content-Type") ?? ""
                case .body(var buffer):
                    bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
                    guard bytes.count <= 64 << 20 else {
                        throw Failure(description: "answer from \(host):\(port) is over 64 MiB", oversized: true)
                    }
                case .end:
                    return Reply(status: status, contentType: contentType, body: String(decoding: bytes, as: UTF8.self))
                }
            }
            throw Failure(description: "\(host):\(port) closed the connection before a whole answer")
        }
    }
}
