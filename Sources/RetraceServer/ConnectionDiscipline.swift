import CanonicalJSON
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// HTTP/1 connection handling that Hummingbird's own loop leaves out, at the one place that still
/// sees what it needs: between NIO's HTTP/1 codec and the conversion to Swift HTTP Types, which
/// drops the request's HTTP version.
///
/// - **Persistence (RFC 9112 §9.3).** An HTTP/1.0 request is persistent only with
///   `Connection: keep-alive`, an HTTP/1.1 one unless `Connection: close`. Hummingbird looks for
///   `close` only, so an HTTP/1.0 client waited for a close that came at the idle timeout. Here a
///   request that is not persistent is marked `Connection: close` for the loop above (which then
///   stops after its response), the response says `close` or, to an HTTP/1.0 client that asked,
///   `keep-alive`, and goes out as HTTP/1.0 to an HTTP/1.0 client.
/// - **Refusing a body (RFC 9112 §9.6).** When the service answers before the request body has
///   arrived (a 413 on Content-Length) and will not read it, it closes the connection after the
///   answer. Until the client has sent its body the socket is read and the bytes dropped, then
///   closed, so a client that writes its whole body before reading still gets the answer instead
///   of stalling on a full window until the idle timeout, and no reset destroys the answer.
/// - **Requests the parser refuses** (unknown method, no version, oversized head, conflicting or
///   invalid lengths) get an RFC 9457 problem document like every other refusal, with
///   `Connection: close`, and are counted in `/metrics` (route `unparsed`), instead of a bare 400.
final class ConnectionDiscipline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Bytes of an unread body dropped before the connection is closed anyway.
    static let discardLimit = 64 << 20
    /// How long a client that is still sending a refused body is waited for.
    static let discardTimeout = TimeAmount.seconds(10)

    /// A request read but not yet answered. Requests may be pipelined: NIO decodes the next ones
    /// while the first is answered, so what a response needs is kept per request, in order.
    private struct Pending {
        let version: HTTPVersion
        let keepAlive: Bool
        var complete = false
    }

    private let metrics: ServiceMetrics
    private var pending: [Pending] = []
    private var closeAfterResponse = false
    private var discarding = false
    private var discarded = 0
    private var discardDeadline: Scheduled<Void>?

    init(metrics: ServiceMetrics) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(var head):
            guard !discarding else { return }
            pending.append(Pending(version: head.version, keepAlive: head.isKeepAlive))
            if !head.isKeepAlive,
                !head.headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "close" })
            {
                head.headers.replaceOrAdd(name: "connection", value: "close")
            }
            context.fireChannelRead(wrapInboundOut(.head(head)))
        case .body(let buffer):
            guard discarding else { return context.fireChannelRead(data) }
            discarded += buffer.readableBytes
            if discarded > Self.discardLimit { context.close(promise: nil) }
        case .end:
            if !pending.isEmpty { pending[pending.count - 1].complete = true }
            guard discarding else { return context.fireChannelRead(data) }
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // While dropping a refused body, keep reading whatever the application above asks for.
        if discarding { context.read() }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            let request = pending.first ?? Pending(version: .http1_1, keepAlive: true, complete: true)
            let version = request.version
            let early = !request.complete
            closeAfterResponse = false
            let closes = head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "close" }
            // An HTTP/1.0 body without a length is delimited by the close.
            let unframed = version == .http1_0 && head.headers["content-length"].isEmpty
            if !request.keepAlive || closes || unframed || (early && head.status == .payloadTooLarge) {
                closeAfterResponse = true
                head.headers.replaceOrAdd(name: "connection", value: "close")
            } else if version == .http1_0 {
                head.headers.replaceOrAdd(name: "connection", value: "keep-alive")
            }
            if version == .http1_0 { head.version = .http1_0 }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            let request = pending.isEmpty ? nil : pending.removeFirst()
            guard closeAfterResponse else { return context.write(data, promise: promise) }
            context.writeAndFlush(data, promise: promise)
            // Requests pipelined behind this one are not answered: the connection ends here.
            pending.removeAll()
            if request?.complete ?? true {
                context.close(promise: nil)
            } else {
                discarding = true
                let channel = context.channel
                discardDeadline = context.eventLoop.scheduleTask(in: Self.discardTimeout) {
                    channel.close(promise: nil)
                }
                context.read()
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        discardDeadline?.cancel()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError, pending.isEmpty else {
            return context.fireErrorCaught(error)
        }
        let status: HTTPResponseStatus = parseError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
        let problem = Problem(
            HTTPResponse.Status(code: Int(status.code)),
            code: "unparsable-request",
            title: "The request is not HTTP/1.1 this service can read",
            detail: "the HTTP parser refused the request (\(Self.describe(parseError))); nothing was done"
        )
        let body = (try? CanonicalJSON.encode(problem.json)) ?? Array("{}".utf8)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: Problem.mediaType)
        headers.add(name: "content-length", value: String(body.count))
        headers.add(name: "connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil
        )
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        // Counted before the answer leaves, so a client that reads it and then asks `/metrics`
        // always finds it counted.
        metrics.request(route: "unparsed", method: "unparsed", status: Int(status.code), duration: .zero)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// The parser's complaint in words a client can act on.
    static func describe(_ error: HTTPParserError) -> String {
        switch error {
        case .headerOverflow: return "the request line or headers are too large"
        case .invalidMethod: return "unknown method"
        case .invalidVersion: return "no or an invalid HTTP version"
        case .unexpectedContentLength, .invalidContentLength:
            return "an invalid Content-Length, or Content-Length with Transfer-Encoding"
        case .invalidChunkSize: return "an invalid chunk size"
        case .invalidURL: return "an invalid request target"
        default: return "\(error)"
        }
    }
}

/// Hummingbird's HTTP/1 child channel with ``ConnectionDiscipline`` set between NIO's codec and
/// the conversion to Swift HTTP Types; the rest of the pipeline is Hummingbird's own.
struct DisciplinedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let idleTimeout: Duration
    let metrics: ServiceMetrics

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Hummingbird's limits: 80 KiB for a header and for all of them, at most 1,000 fields.
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldCount = 1_000
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                withPipeliningAssistance: false,
                withErrorHandling: false,
                withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: limits
            )
            try channel.pipeline.syncOperations.addHandler(ConnectionDiscipline(metrics: metrics))
            try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try channel.pipeline.syncOperations.addHandler(
                HTTPConnectionStateHandler(idleTimeout: idleTimeout, logger: logger)
            )
            return try NIOAsyncChannel(
                wrappingChannelSynchronously: channel,
                configuration: .init(isOutboundHalfClosureEnabled: true)
            )
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
