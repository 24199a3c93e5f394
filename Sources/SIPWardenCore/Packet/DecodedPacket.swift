/// The addresses, ports and payload of one IP packet, as offsets into the buffer it came from.
public struct DecodedPacket: Sendable, Equatable {
    public enum Transport: Sendable, Equatable {
        case udp, tcp
        /// Any other IP protocol, by number (ICMP, SCTP, …).
        case other(UInt8)
    }

    /// Where this packet stands in a fragmented datagram.
    public struct Fragment: Sendable, Equatable {
        public var identification: UInt32
        /// Offset of this fragment's data in the original datagram, in bytes.
        public var offset: Int
        public var moreFragments: Bool
        /// The protocol of the reassembled datagram's payload (UDP, TCP, …).
        public var payloadProtocol: UInt8
        public var isFirst: Bool { offset == 0 }
    }

    /// The header fields the SIP stages care about on TCP.
    public struct TCPSegment: Sendable, Equatable {
        public var sequence: UInt32
        /// The next sequence number the sender expects of the other side (meaningful with `isAck`).
        public var acknowledgment: UInt32
        public var flags: UInt8
        public var isSyn: Bool { flags & 0x02 != 0 }
        /// The sequence number of the segment's first data byte (a SYN takes up one number).
        public var dataSequence: UInt32 { sequence &+ (isSyn ? 1 : 0) }
        public var isFin: Bool { flags & 0x01 != 0 }
        public var isReset: Bool { flags & 0x04 != 0 }
        public var isAck: Bool { flags & 0x10 != 0 }
        public var isUrgent: Bool { flags & 0x20 != 0 }
    }

    public var source: IPAddress
    public var destination: IPAddress
    public var transport: Transport
    public var sourcePort: UInt16 = 0
    public var destinationPort: UInt16 = 0
    /// The transport payload (UDP/TCP data), or the IP payload for other protocols, later fragments and
    /// first ones too short for their transport header.
    public var payload: Range<Int>
    /// The bytes after all IP headers: what a reassembler concatenates.
    public var ipPayload: Range<Int>
    /// Non-nil when the packet is a fragment.
    public var fragment: Fragment?
    public var tcp: TCPSegment?
    /// How many IP-in-IP or IPv6-in-IP headers were unwrapped to reach this packet.
    public var tunnelDepth: UInt8 = 0
    /// The IP hop limit (IPv4 TTL or IPv6 hop limit) of the innermost header.
    public var hopLimit: UInt8 = 0

    /// A packet not decoded yet, for the decoder to overwrite whole where it decodes in place.
    static var unread: DecodedPacket {
        DecodedPacket(
            source: IPAddress(v4: 0), destination: IPAddress(v4: 0), transport: .other(0), payload: 0..<0,
            ipPayload: 0..<0)
    }

    /// Whether the transport header is present (false for later fragments, and for a first one too short
    /// to hold it).
    public var hasTransportHeader: Bool {
        switch transport {
        case .udp, .tcp: return fragment.map(\.isFirst) ?? true
        case .other: return false
        }
    }
}
