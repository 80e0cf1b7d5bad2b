#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A response as it came off the wire.
public struct LoopbackResponse: Sendable {
    public let status: Int
    /// Header names lowercased, in arrival order.
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name == wanted }?.value
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

public struct LoopbackError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// One HTTP/1.1 connection to a server on this machine, over a plain blocking socket.
///
/// Tests need to send what no well-behaved client library would (a body shorter than its
/// Content-Length, a connection closed mid-request), and the load benchmark wants keep-alive
/// connections with no client-side machinery in the measured path; this does both and no more.
public final class LoopbackConnection {
    private let descriptor: Int32
    private var buffer: [UInt8] = []

    public init(port: Int, timeoutSeconds: Int = 30) throws {
        #if canImport(Glibc)
        let socketType = Int32(SOCK_STREAM.rawValue)
        #else
        let socketType = SOCK_STREAM
        #endif
        descriptor = socket(AF_INET, socketType, 0)
        guard descriptor >= 0 else { throw LoopbackError("socket() failed: errno \(errno)") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // A server that stops reading makes a write fail after the timeout instead of blocking forever.
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            throw LoopbackError("connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
    }

    deinit { close(descriptor) }

    /// Sends a request and reads its response, keeping the connection open.
    public func request(
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil
    ) throws -> LoopbackResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try send(Array(head.utf8) + (body ?? []))
        return try readResponse(expectingBody: method != "HEAD")
    }

    /// Writes raw bytes (a hand-made request, perhaps a broken one).
    public func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { throw LoopbackError("write failed: errno \(errno)") }
            sent += count
        }
    }

    /// Half-closes the connection: the server sees end-of-stream (a client that gave up mid-body).
    public func finishSending() { shutdown(descriptor, Int32(SHUT_WR)) }

    /// Whether the server closes the connection (end of stream) before the read timeout; any bytes
    /// that arrive first are kept for ``readResponse(expectingBody:)``. For the tests of when the
    /// server must close (HTTP/1.0, `Connection: close`, a refused body).
    public func serverCloses() -> Bool {
        while true {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return true }
            guard count > 0 else { return errno == ECONNRESET }
            buffer += chunk[..<count]
        }
    }

    /// Reads one response; throws if the server closes without answering. A response to HEAD has
    /// headers only, whatever its Content-Length says.
    public func readResponse(expectingBody: Bool = true) throws -> LoopbackResponse {
        let headEnd = try readUntilHeadEnd()
        let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
        buffer.removeFirst(headEnd + 4)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw LoopbackError("bad status line in \(head.prefix(80))")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(
                (String(line[..<colon]).lowercased(), String(line[line.index(after: colon)...]).trimmed())
            )
        }
        let response = { (body: [UInt8]) in LoopbackResponse(status: status, headers: headers, body: body) }
        guard expectingBody else { return response([]) }
        if let length = headers.first(where: { $0.name == "content-length" }).flatMap({ Int($0.value) }) {
            try fill(to: length)
            let body = Array(buffer[..<length])
            buffer.removeFirst(length)
            return response(body)
        }
        if headers.contains(where: { $0.name == "transfer-encoding" && $0.value.lowercased().contains("chunked") }) {
            var body: [UInt8] = []
            while true {
                let lineEnd = try readUntil([13, 10])
                let sizeText = String(decoding: buffer[..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
                buffer.removeFirst(lineEnd + 2)
                guard let size = Int(sizeText.trimmed(), radix: 16) else { throw LoopbackError("bad chunk size") }
                try fill(to: size + 2)
                body += buffer[..<size]
                buffer.removeFirst(size + 2)
                if size == 0 { return response(body) }
            }
        }
        return response([])  // 204, 304, or a redirect without a body
    }

    private func readUntilHeadEnd() throws -> Int { try readUntil([13, 10, 13, 10]) }

    private func readUntil(_ marker: [UInt8]) throws -> Int {
        var searchFrom = 0
        while true {
            if buffer.count >= marker.count {
                for start in searchFrom...(buffer.count - marker.count)
                where buffer[start..<(start + marker.count)].elementsEqual(marker) {
                    return start
                }
                searchFrom = max(0, buffer.count - marker.count + 1)
            }
            try readMore()
        }
    }

    private func fill(to count: Int) throws {
        while buffer.count < count { try readMore() }
    }

    private func readMore() throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else {
            throw LoopbackError(count == 0 ? "the server closed the connection" : "read failed: errno \(errno)")
        }
        buffer += chunk[..<count]
    }
}

extension StringProtocol {
    fileprivate func trimmed() -> String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return String(text)
    }
}

/// One request on a fresh connection, for tests.
public func loopbackRequest(
    port: Int,
    _ method: String,
    _ path: String,
    headers: [(String, String)] = [],
    body: [UInt8]? = nil
) throws -> LoopbackResponse {
    try LoopbackConnection(port: port).request(method, path, headers: headers, body: body)
}
