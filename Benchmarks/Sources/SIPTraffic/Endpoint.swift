/// An IPv4 or IPv6 address as the generator writes it into frames and SIP headers.
public enum NetworkAddress: Hashable, Sendable {
    case v4(UInt32)
    /// The 128 bits as two big-endian words.
    case v6(UInt64, UInt64)

    public var isV6: Bool {
        if case .v6 = self { return true }
        return false
    }

    /// The address in network byte order: 4 or 16 bytes.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value):
            return [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        case .v6(let high, let low):
            let highBytes: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            let lowBytes: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
            return highBytes + lowBytes
        }
    }

    /// Dotted quad, or RFC 5952 text (lowercase hex, the longest run of zero groups as `::`).
    public var text: String {
        switch self {
        case .v4(let value):
            let octets: [UInt32] = [value >> 24, value >> 16 & 0xFF, value >> 8 & 0xFF, value & 0xFF]
            return octets.map { String($0) }.joined(separator: ".")
        case .v6(let high, let low):
            let highGroups: [UInt16] = (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) }
            let lowGroups: [UInt16] = (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
            let groups = highGroups + lowGroups
            var bestStart = -1
            var bestLength = 1
            var index = 0
            while index < 8 {
                guard groups[index] == 0 else {
                    index += 1
                    continue
                }
                var end = index
                while end < 8, groups[end] == 0 { end += 1 }
                if end - index > bestLength {
                    bestStart = index
                    bestLength = end - index
                }
                index = end
            }
            func join(_ part: ArraySlice<UInt16>) -> String {
                part.map { String($0, radix: 16) }.joined(separator: ":")
            }
            guard bestStart >= 0 else { return join(groups[...]) }
            return join(groups[..<bestStart]) + "::" + join(groups[(bestStart + bestLength)...])
        }
    }

    /// The host as it stands in a SIP URI or Via: IPv6 in brackets.
    public var uriHost: String { isV6 ? "[\(text)]" : text }

    /// The SDP address type and address, as on a `c=` or `o=` line.
    public var sdpAddress: String { isV6 ? "IP6 \(text)" : "IP4 \(text)" }
}

/// One end of a UDP or TCP conversation.
public struct Endpoint: Hashable, Sendable {
    public var address: NetworkAddress
    public var port: UInt16

    public init(_ address: NetworkAddress, _ port: UInt16) {
        self.address = address
        self.port = port
    }

    /// host:port as in a Via sent-by or a Contact URI.
    public var hostPort: String { "\(address.uriHost):\(port)" }
}
