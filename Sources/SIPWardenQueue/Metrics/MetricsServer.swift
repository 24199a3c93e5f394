import Foundation
import SIPWardenCore

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny HTTP/1.0 responder on a loopback address: `GET /metrics` answers the Prometheus text, on its
/// own thread, one connection at a time (a scraper is one client every few seconds).
public final class MetricsServer: Sendable {
    let loop: AcceptLoop
    public let endpoint: RuleSet.Endpoint
    let render: @Sendable () -> [UInt8]

    public init(endpoint: RuleSet.Endpoint, render: @escaping @Sendable () -> [UInt8]) throws(SystemCallError) {
        self.endpoint = endpoint
        self.render = render
        let family = endpoint.address.family == .v4 ? AF_INET : AF_INET6
        let listener = try SocketDescriptor.stream(family)
        var on: Int32 = 1
        setsockopt(listener.fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        let bound: Int32
        if endpoint.address.family == .v4 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = endpoint.port.bigEndian
            address.sin_addr.s_addr = endpoint.address.v4Value.bigEndian
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(listener.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        } else {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = endpoint.port.bigEndian
            var raw = (endpoint.address.high.bigEndian, endpoint.address.low.bigEndian)
            withUnsafeBytes(of: &raw) { bytes in
                withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyMemory(from: bytes) }
            }
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(listener.fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        guard bound == 0 else { throw .last("bind metrics address \(endpoint)") }
        guard listen(listener.fd, 16) == 0 else { throw .last("listen on metrics address \(endpoint)") }
        loop = AcceptLoop(listener)
    }

    public func start() {
        loop.start(name: "sipwarden-metrics") { [self] in answer($0) }
    }

    public func stop() {
        loop.stop()
    }

    func answer(_ client: SocketDescriptor) {
        let request = client.readLine(limit: 8192, within: AcceptLoop.requestSeconds)
        client.write(Self.response(to: String(decoding: request, as: UTF8.self), render: render))
    }

    /// The answer to an HTTP request: the metrics for `GET` (or, headers only, `HEAD`) of `/metrics` or
    /// `/`, a query string ignored, lines ended by CR LF or LF alone; 404 for anything else.
    static func response(to request: String, render: () -> [UInt8]) -> [UInt8] {
        let words = request.split(maxSplits: 2) { $0 == " " || $0 == "\r" || $0 == "\n" }
        let method = words.first ?? ""
        let path = words.count > 1 ? words[1].prefix { $0 != "?" } : ""
        let found = (method == "GET" || method == "HEAD") && (path == "/metrics" || path == "/")
        let body = found ? render() : Array("not found: try /metrics\n".utf8)
        let status = found ? "200 OK" : "404 Not Found"
        let header =
            "HTTP/1.0 \(status)\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        return Array(header.utf8) + (method == "HEAD" ? [] : body)
    }
}
