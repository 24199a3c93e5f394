import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's control socket: a Unix stream socket, mode 0600, answering one JSON request line per
/// connection on `threads` threads of its own (never on a queue's): `stats` and `bans list` are
/// answered while an unban waits for the kernel's tools.
public final class ControlServer: Sendable {
    let loop: AcceptLoop
    let path: String
    let handler: @Sendable (ControlRequest) -> ControlResponse
    let logger: Logger

    /// Listens on `path`, replacing a stale socket file left by a daemon that died; fails when another
    /// daemon answers there.
    public init(
        path: String, logger: Logger, handler: @escaping @Sendable (ControlRequest) -> ControlResponse
    ) throws(SystemCallError) {
        self.path = path
        self.handler = handler
        self.logger = logger
        if ControlClient(path: path).isAnswering {
            throw SystemCallError("control socket \(path) is in use by a running daemon", .addressInUse)
        }
        // A stale socket is replaced; anything else there (the state file, a mistyped path) is kept.
        guard Self.removeSocket(at: path) else {
            throw SystemCallError("control socket \(path): a file that is not a socket is there", .fileExists)
        }
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let listener = try SocketDescriptor.stream(AF_UNIX)
        // The socket file is created 0600: only root may ask for bans, unbans and stats.
        let previous = umask(0o177)
        let bound = try SocketDescriptor.withUnixAddress(path) { bind(listener.fd, $0, $1) }
        umask(previous)
        guard bound == 0 else { throw .last("bind control socket \(path)") }
        guard listen(listener.fd, 16) == 0 else { throw .last("listen on control socket \(path)") }
        loop = AcceptLoop(listener, threads: Self.threads)
    }

    /// Connections answered at once.
    static let threads = 4

    public func start() {
        loop.start(name: "sipwarden-control") { [self] in serve($0) }
    }

    /// Stops answering and removes the socket file.
    public func stop() {
        loop.stop()
        _ = Self.removeSocket(at: path)
    }

    /// Removes the socket file at `path`; false, removing nothing, when something else is there.
    static func removeSocket(at path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0 else { return true }
        guard info.st_mode & S_IFMT == S_IFSOCK else { return false }
        unlink(path)
        return true
    }

    func serve(_ client: SocketDescriptor) {
        let line = client.readLine(within: AcceptLoop.requestSeconds)
        let response: ControlResponse
        do {
            response = handler(try JSONDecoder().decode(ControlRequest.self, from: Data(line)))
        } catch {
            logger.warning("control request not understood", metadata: ["bytes": "\(line.count)"])
            response = .failed("not a control request")
        }
        guard var reply = try? JSONEncoder().encode(response) else { return }
        reply.append(UInt8(ascii: "\n"))
        client.write([UInt8](reply))
    }
}

/// Talks to a running daemon's control socket.
public struct ControlClient: Sendable {
    /// Why a request got no answer.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case notRunning(path: String, reason: String)
        case badAnswer(path: String)

        public var description: String {
            switch self {
            case .notRunning(let path, let reason):
                return "no sipwarden daemon answers on \(path) (\(reason)); is `sipwarden run` running?"
            case .badAnswer(let path): return "\(path): the daemon's answer could not be read"
            }
        }
    }

    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Sends `request` and waits up to `timeout` seconds for the answer.
    public func send(_ request: ControlRequest, timeout: Double = 10) throws(Failure) -> ControlResponse {
        let socket: SocketDescriptor
        do throws(SystemCallError) {
            socket = try SocketDescriptor.stream(AF_UNIX)
            // Before connecting: a daemon whose queue of connections is full would hold `connect` too.
            socket.setTimeout(seconds: timeout)
            let connected = try SocketDescriptor.withUnixAddress(path) { connect(socket.fd, $0, $1) }
            guard connected == 0 else { throw SystemCallError.last("connect") }
        } catch {
            throw .notRunning(path: path, reason: "\(error.errno)")
        }
        guard var line = try? JSONEncoder().encode(request) else { throw .badAnswer(path: path) }
        line.append(UInt8(ascii: "\n"))
        guard socket.write([UInt8](line)) else { throw .notRunning(path: path, reason: "connection closed") }
        let answer = socket.readLine(limit: 16 << 20, within: timeout)
        guard let response = try? JSONDecoder().decode(ControlResponse.self, from: Data(answer)) else {
            throw .badAnswer(path: path)
        }
        return response
    }

    /// Whether a daemon accepts connections on the path: one that is too busy to take this one in 2 s
    /// (its queue of connections full) counts.
    var isAnswering: Bool {
        guard let socket = try? SocketDescriptor.stream(AF_UNIX) else { return false }
        socket.setTimeout(seconds: 2)
        // The error number is read in the call, before anything else may change it.
        guard
            let failure = try? SocketDescriptor.withUnixAddress(path, { connect(socket.fd, $0, $1) == 0 ? 0 : errno })
        else { return false }
        return failure == 0 || failure == EAGAIN
    }
}
