import Foundation
import SIPWardenCore

/// The TCP connections this host accepted and its own addresses, as the kernel lists them: `firewall`
/// and `check` warn before a generated firewall cuts an administrator's session or closes a service in use.
enum HostConnections {
    /// Warnings for this host's accepted connections of `families` that `ruleset` would cut or keep from
    /// connecting again.
    static func warnings(_ ruleset: FirewallRuleset, families: [IPAddress.Family]) -> [String] {
        let connections = ["/proc/net/tcp", "/proc/net/tcp6"].flatMap { path in
            (try? String(contentsOfFile: path, encoding: .utf8)).map(InboundConnection.accepted(inProcNetTCP:)) ?? []
        }
        return InboundConnection.warnings(
            for: connections.filter { families.contains($0.client.family) }, in: ruleset, local: localAddresses())
    }

    /// The addresses of this host's interfaces: connections from them arrive on the loopback interface.
    static func localAddresses() -> [IPAddress] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        return sequence(first: first) { $0.pointee.ifa_next }.compactMap { entry in
            guard let address = entry.pointee.ifa_addr else { return nil }
            switch Int32(address.pointee.sa_family) {
            case AF_INET:
                return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    IPAddress(v4: UInt32(bigEndian: $0.pointee.sin_addr.s_addr))
                }
            case AF_INET6:
                return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                    withUnsafeBytes(of: v6.pointee.sin6_addr) { bytes in
                        IPAddress(
                            v6: UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)),
                            UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
                    }
                }
            default:
                return nil
            }
        }
    }
}
