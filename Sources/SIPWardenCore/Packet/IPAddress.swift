#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address, held inline (no heap), hashable and ordered.
///
/// IPv4 addresses keep their 32 bits in the low word; IPv6 addresses use both words.
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public enum Family: UInt8, Sendable { case v4 = 4, v6 = 6 }

    public let family: Family
    public let high: UInt64
    public let low: UInt64

    public init(v4 value: UInt32) {
        family = .v4
        high = 0
        low = UInt64(value)
    }

    public init(v6 high: UInt64, _ low: UInt64) {
        family = .v6
        self.high = high
        self.low = low
    }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text; nil when it is neither (a NUL inside included,
    /// which the C parser would take for the end).
    public init?(_ text: String) {
        guard !text.utf8.contains(0) else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.init(v4: UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let (high, low) = withUnsafeBytes(of: &v6) { ($0.uint64(at: 0)!, $0.uint64(at: 8)!) }
        self.init(v6: high, low)
    }

    /// An IPv4 address written as IPv6 (`::ffff:192.0.2.7`, RFC 4291 §2.5.5.2) as the IPv4 address it
    /// is, as the kernel's IPv4 rules and sets see it; any other address as it is.
    public var unmappingIPv4: IPAddress {
        family == .v6 && high == 0 && low >> 32 == 0xFFFF ? IPAddress(v4: UInt32(truncatingIfNeeded: low)) : self
    }

    /// The address as an IPv4 value; meaningful only for `.v4`.
    public var v4Value: UInt32 { UInt32(truncatingIfNeeded: low) }

    /// Text form: dotted quad, or RFC 5952 compressed IPv6.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch family {
        case .v4:
            var address = in_addr(s_addr: v4Value.bigEndian)
            inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count))
        case .v6:
            var raw = (high.bigEndian, low.bigEndian)
            withUnsafeBytes(of: &raw) { bytes in
                _ = inet_ntop(AF_INET6, bytes.baseAddress, &buffer, socklen_t(buffer.count))
            }
        }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        (a.family.rawValue, a.high, a.low) < (b.family.rawValue, b.high, b.low)
    }
}
