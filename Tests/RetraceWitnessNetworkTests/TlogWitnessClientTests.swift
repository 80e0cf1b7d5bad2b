import Foundation
import RetraceWitness
import RetraceWitnessService
import Testing

/// The monitor's HTTP client against a loopback server that drops connections: a GET is tried on
/// a new connection (it changes nothing), a POST is not, and a server that always drops is
/// reported after a bounded number of tries.
@Suite("TlogWitnessClient over dropped connections", .serialized)
struct TlogWitnessClientTests {
    /// A loopback listener that closes the first `drops` connections at once and answers the rest
    /// `200 ok`; counts the connections it accepted.
    final class DroppingServer: @unchecked Sendable {
        let port: Int
        private let socket: Int32
        private let lock = NSLock()
        private var accepted = 0

        init(drops: Int) throws {
            let listener = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
            }
            socket = listener
            port = Int(UInt16(bigEndian: address.sin_port))
            let socket = self.socket
            Thread.detachNewThread { [self] in
                while true {
                    let client = accept(socket, nil, nil)
                    guard client >= 0 else { return }
                    let number = lock.withLock {
                        accepted += 1
                        return accepted
                    }
                    if number <= drops {
                        close(client)
                        continue
                    }
                    var request: [UInt8] = []
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    while !request.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)) {
                        let count = read(client, &buffer, buffer.count)
                        guard count > 0 else { break }
                        request += buffer[0..<count]
                    }
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
                    let answer = Array((head + "Connection: close\r\n\r\nok").utf8)
                    _ = answer.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                    close(client)
                }
            }
        }

        var connections: Int { lock.withLock { accepted } }

        func stop() {
            shutdown(socket, Int32(SHUT_RDWR))
            close(socket)
        }
    }

    @Test("a GET whose connections are dropped twice is answered on the third")
    func getRetries() async throws {
        let server = try DroppingServer(drops: 2)
        defer { server.stop() }
        let client = try TlogWitnessClient(url: "http://127.0.0.1:\(server.port)", timeoutSeconds: 20)
        let reply = try await client.get("/checkpoint")
        #expect(reply.status == 200)
        #expect(reply.body == "ok")
        #expect(server.connections == 3)
    }

    @Test("a GET to a server that always drops fails after the bounded tries; a POST is tried once")
    func boundedTries() async throws {
        let server = try DroppingServer(drops: 1_000)
        defer { server.stop() }
        let client = try TlogWitnessClient(url: "http://127.0.0.1:\(server.port)", timeoutSeconds: 20)
        await #expect(throws: (any Error).self) { _ = try await client.get("/checkpoint") }
        #expect(server.connections == TlogWitnessClient.getAttempts)
        let before = server.connections
        await #expect(throws: (any Error).self) {
            _ = try await client.addCheckpoint(AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: "x\n"))
        }
        #expect(server.connections - before == 1)
    }
}
