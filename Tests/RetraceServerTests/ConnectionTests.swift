import CanonicalJSON
import LoopbackHTTP
import Testing

extension ServerTests {
    /// Connection handling any HTTP/1 client relies on (issue 16 points 15–17), over raw loopback
    /// sockets so that broken requests reach the server as sent. A server that fails to close
    /// makes the socket timeout expire and the test fail: 30 s, below the server's 60 s idle
    /// timeout (which would otherwise close it) and far above any answer's time, even with the
    /// whole suite running beside it on two cores. Nothing here measures time.
    ///
    /// Every blocking socket call runs in ``ServerFixture/offPool(_:)``: the server under test runs
    /// in this process, its connections are served by tasks on Swift's cooperative pool, and that
    /// pool is as wide as the machine's two cores. A test blocked in `read` on a pool thread while
    /// another test does the same leaves the server no thread to answer either: both wait out
    /// their 30 s timeout (`errno 11`), which is how this suite failed, now and then, in CI.
    @Suite("HTTP/1 connections")
    struct ConnectionTests {
        static let timeout = 30

        /// What a conversation on one connection got back: the responses read, in order, and
        /// whether the server then closed the connection.
        struct Conversation: Sendable {
            let responses: [LoopbackResponse]
            let serverClosed: Bool
            var first: LoopbackResponse { responses[0] }
        }

        /// Sends `text`, reads `responses` responses (sending each of `followUps` after the
        /// response with the same position), then waits for the server to close.
        func converse(
            _ fixture: ServerFixture,
            _ text: String,
            body: [UInt8] = [],
            responses: Int = 1,
            followUps: [String] = []
        ) async throws -> Conversation {
            let port = fixture.port
            return try await ServerFixture.offPool {
                let connection = try LoopbackConnection(port: port, timeoutSeconds: Self.timeout)
                try connection.send(Array(text.utf8))
                if !body.isEmpty { try connection.send(body) }
                var read: [LoopbackResponse] = []
                for position in 0..<responses {
                    read.append(try connection.readResponse())
                    if position < followUps.count { try connection.send(Array(followUps[position].utf8)) }
                }
                return Conversation(responses: read, serverClosed: connection.serverCloses())
            }
        }

        @Test("HTTP/1.0 without Connection is answered as HTTP/1.0 and the server closes the connection")
        func http10Closes() async throws {
            let fixture = try await ServerFixture.shared.value
            let conversation = try await converse(fixture, "GET /health HTTP/1.0\r\n\r\n")
            #expect(conversation.first.status == 200)
            #expect(conversation.first.header("connection")?.lowercased() == "close")
            #expect(conversation.serverClosed, "an HTTP/1.0 request without keep-alive ends the connection")
        }

        @Test("HTTP/1.0 with Connection: keep-alive is told keep-alive and can send a second request")
        func http10KeepAlive() async throws {
            let fixture = try await ServerFixture.shared.value
            let conversation = try await converse(
                fixture,
                "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                responses: 2,
                followUps: ["GET /checkpoint HTTP/1.0\r\n\r\n"]
            )
            let (first, second) = (conversation.responses[0], conversation.responses[1])
            #expect(first.status == 200)
            #expect(first.header("connection")?.lowercased() == "keep-alive")
            #expect(second.status == 200)
            #expect(second.header("connection")?.lowercased() == "close")
            #expect(conversation.serverClosed)
        }

        @Test("HTTP/1.1 with Connection: close is answered and closed; without it the connection stays usable")
        func http11() async throws {
            let fixture = try await ServerFixture.shared.value
            let port = fixture.port
            let (statuses, closed) = try await ServerFixture.offPool {
                let connection = try LoopbackConnection(port: port, timeoutSeconds: Self.timeout)
                let first = try connection.request("GET", "/health").status
                let second = try connection.request("GET", "/health", headers: [("Connection", "close")]).status
                return ([first, second], connection.serverCloses())
            }
            #expect(statuses == [200, 200])
            #expect(closed)
        }

        @Test("Pipelined requests are each answered with their own persistence, the last one closing")
        func pipelined() async throws {
            let fixture = try await ServerFixture.shared.value
            let conversation = try await converse(
                fixture,
                "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                    + "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                responses: 3
            )
            let (first, second, third) = (
                conversation.responses[0], conversation.responses[1], conversation.responses[2]
            )
            #expect(first.status == 200 && first.header("connection") == nil)
            #expect(second.status == 200 && second.header("connection")?.lowercased() == "keep-alive")
            #expect(third.status == 200 && third.header("connection")?.lowercased() == "close")
            #expect(conversation.serverClosed)
        }

        @Test("A body over the limit sent whole with Connection: close still gets its 413, then the close")
        func oversizedBodyWithClose() async throws {
            let fixture = try await ServerFixture.shared.value
            let size = 16 << 20  // far more than the loopback socket buffers hold
            // The whole body first, as a naive client does: the server must keep reading it.
            let conversation = try await converse(
                fixture,
                "POST /v1/batches HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(size)\r\nConnection: close\r\n\r\n",
                body: [UInt8](repeating: 0x20, count: size)
            )
            #expect(conversation.first.status == 413)
            #expect(try ProblemDocument(conversation.first).code == "too-large")
            #expect(conversation.first.header("connection")?.lowercased() == "close")
            #expect(conversation.serverClosed)
        }

        @Test(
            "Requests the HTTP parser refuses get a problem document, Connection: close, and are counted",
            arguments: [
                ("BREW /health HTTP/1.1\r\nHost: x\r\n\r\n", 400),
                ("GET /health\r\n\r\n", 400),
                ("GET /health HTTP/9.9\r\nHost: x\r\n\r\n", 400),
                ("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
                ("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400),
                (
                    "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "0\r\n\r\n", 400
                ),
                ("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 100_000))\r\n\r\n", 431),
                ("GET /\(String(repeating: "a", count: 200_000)) HTTP/1.1\r\nHost: x\r\n\r\n", 431),
                (
                    "GET /health HTTP/1.1\r\nHost: x\r\n"
                        + (0..<2_000).map { "X-H\($0): 1\r\n" }.joined() + "\r\n", 431
                ),
            ]
        )
        func parserRefusals(_ request: String, _ status: Int) async throws {
            let fixture = try await ServerFixture.shared.value
            let before = try await metric(fixture, status: status)
            let conversation = try await converse(fixture, request)
            let response = conversation.first
            #expect(response.status == status, "\(request.prefix(60))")
            #expect(response.header("content-type") == "application/problem+json")
            #expect(response.header("connection")?.lowercased() == "close")
            let problem = try ProblemDocument(response)
            #expect(problem.code == "unparsable-request")
            #expect(problem.status == status)
            #expect(conversation.serverClosed)
            // Other tests share the server, so the count grows by at least this one request.
            #expect(try await metric(fixture, status: status) >= before + 1)
        }

        /// `retrace_http_requests_total{route="unparsed",…,status=…}` from `/metrics`.
        func metric(_ fixture: ServerFixture, status: Int) async throws -> Int {
            let text = try await fixture.get("/metrics").text
            let prefix = "retrace_http_requests_total{"
            for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
                guard line.contains("route=\"unparsed\""), line.contains("status=\"\(status)\""),
                    let value = line.split(separator: " ").last.flatMap({ Double($0) })
                else { continue }
                return Int(value)
            }
            return 0
        }
    }
}
