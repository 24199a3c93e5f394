/// Why a packet could not be decoded. A value, never a trap: every packet gets a verdict.
public enum DecodeError: Error, Equatable, Sendable {
    public enum Layer: String, Sendable { case link, ipv4, ipv6, udp, tcp }

    /// The buffer ends before the layer's header does.
    case truncated(Layer)
    /// A length field disagrees with the buffer or with itself.
    case inconsistentLength(Layer)
    /// Something this decoder does not handle (an unknown link type, an IPv6 jumbogram).
    case unsupported(Layer)
    /// The frame carries something other than IPv4 or IPv6 (ARP, LLDP, …).
    case notIP
}
