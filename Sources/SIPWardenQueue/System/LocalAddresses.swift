import SIPWardenCore

#if canImport(Glibc)
    import Glibc
#endif

/// The host's own interface addresses (`getifaddrs`): the protected server, never banned.
public enum LocalAddresses {
    public static func current() -> Set<IPAddress> {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var addresses = Set<IPAddress>()
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let raw = entry.pointee.ifa_addr else { continue }
            switch Int32(raw.pointee.sa_family) {
            case AF_INET:
                let address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                addresses.insert(IPAddress(v4: UInt32(bigEndian: address)))
            case AF_INET6:
                raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    var address = $0.pointee.sin6_addr
                    let (high, low) = withUnsafeBytes(of: &address) {
                        (
                            UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)),
                            UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                        )
                    }
                    addresses.insert(IPAddress(v6: high, low))
                }
            default:
                continue
            }
        }
        return addresses
    }
}
