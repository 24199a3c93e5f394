import Foundation
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// An open socket file descriptor, closed exactly once when its owner lets go of it.
final class SocketDescriptor: @unchecked Sendable {
    let fd: Int32

    init(_ fd: Int32) {
        self.fd = fd
    }

    deinit { close(fd) }

    /// A new stream socket of `family`, close-on-exec.
    static func stream(_ family: Int32) throws(SystemCallError) -> SocketDescriptor {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .last("socket") }
        return SocketDescriptor(fd)
    }

    /// Sets SO_RCVTIMEO (and SO_SNDTIMEO): how long accept, read and write wait.
    func setTimeout(seconds: Double) {
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Accepts a connection, close-on-exec like every descriptor of the daemon (`accept4` is not visible
    /// to Swift); nil on timeout.
    func accept() -> SocketDescriptor? {
        let client = retryingInterrupts { Glibc.accept(fd, nil, nil) }
        guard client >= 0 else { return nil }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        return SocketDescriptor(client)
    }

    /// Reads until a newline, end of input, `limit` bytes or `seconds` after the call: a peer that sends
    /// a byte now and then holds the reader no longer than that.
    func readLine(limit: Int = 65536, within seconds: Double) -> [UInt8] {
        let deadline = MonotonicClock.now().nanoseconds + Int64(seconds * 1e9)
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while data.count < limit, !data.contains(UInt8(ascii: "\n")) {
            let left = deadline - MonotonicClock.now().nanoseconds
            guard left > 0 else { break }
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(clamping: max(1, left / 1_000_000))
            guard retryingInterrupts({ poll(&ready, 1, milliseconds) }) > 0 else { break }
            let count = retryingInterrupts { buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        return data
    }

    /// Writes all of `bytes`; false when the peer went away or timed out.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = retryingInterrupts {
                bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            }
            if count <= 0 { return false }
            offset += count
        }
        return true
    }

    /// Runs `body` with `path` as a `sockaddr_un`; throws when the path is too long.
    static func withUnixAddress<Result>(
        _ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result
    ) throws(SystemCallError) -> Result {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw SystemCallError("socket path \(path)", .fileNameTooLong)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }
}
