import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The systemd notify protocol, written to `NOTIFY_SOCKET` directly (no libsystemd): READY=1,
/// RELOADING=1, STOPPING=1, WATCHDOG=1 and STATUS=… . Without `NOTIFY_SOCKET` every call does nothing.
public struct SystemdNotifier: Sendable {
    let socketPath: String?
    /// Half of `WATCHDOG_USEC`: how often to send WATCHDOG=1; nil without a watchdog.
    public let watchdogInterval: Double?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let watchdogFor = environment["WATCHDOG_PID"].flatMap { Int32($0) }
        if let microseconds = environment["WATCHDOG_USEC"].flatMap(Double.init), microseconds > 0,
            watchdogFor == nil || watchdogFor == getpid()
        {
            watchdogInterval = microseconds / 2e6
        } else {
            watchdogInterval = nil
        }
    }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }

    /// RELOADING=1 with the MONOTONIC_USEC systemd wants beside it (Type=notify-reload).
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        send("RELOADING=1\nMONOTONIC_USEC=\(Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000)")
    }

    public func stopping() { send("STOPPING=1") }
    public func watchdog() { send("WATCHDOG=1") }
    public func status(_ text: String) { send("STATUS=\(text)") }

    /// Sends one datagram; errors are ignored (systemd may be gone, and that must not stop filtering).
    func send(_ message: String) {
        guard let socketPath else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        // "@name" is an abstract socket: a leading NUL byte instead of the "@".
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        _ = message.withCString { text in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                    retryingInterrupts { sendto(fd, text, strlen(text), 0, target, length) }
                }
            }
        }
    }
}
