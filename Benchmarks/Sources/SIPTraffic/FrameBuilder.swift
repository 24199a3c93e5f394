/// Builds Ethernet frames carrying IPv4 or IPv6 with UDP or TCP, with correct lengths and checksums.
public enum FrameBuilder {
    /// Locally administered MAC addresses: the protected server and its gateway.
    static let serverMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x50, 0x60]
    static let gatewayMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01]

    static let udp: UInt8 = 17
    static let tcp: UInt8 = 6

    /// TCP header flags.
    public struct TCPFlags: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let fin = TCPFlags(rawValue: 0x01)
        public static let syn = TCPFlags(rawValue: 0x02)
        public static let push = TCPFlags(rawValue: 0x08)
        public static let ack = TCPFlags(rawValue: 0x10)
    }

    /// An Ethernet frame with a UDP datagram. Both ends must be of the same address family.
    public static func udp(
        from source: Endpoint, to destination: Endpoint, payload: [UInt8], identification: UInt16 = 0
    ) -> [UInt8] {
        var segment = [UInt8]()
        segment.reserveCapacity(8 + payload.count)
        append16(source.port, to: &segment)
        append16(destination.port, to: &segment)
        append16(UInt16(8 + payload.count), to: &segment)
        append16(0, to: &segment)
        segment += payload
        var checksum = transportChecksum(segment, protocol: udp, source: source.address, destination: destination.address)
        // RFC 768: a computed zero is sent as all ones (zero means "no checksum").
        if checksum == 0 { checksum = 0xFFFF }
        segment[6] = UInt8(checksum >> 8)
        segment[7] = UInt8(checksum & 0xFF)
        return frame(segment, protocol: udp, from: source.address, to: destination.address, identification: identification)
    }

    /// An Ethernet frame with a TCP segment (20-byte header, no options).
    public static func tcp(
        from source: Endpoint, to destination: Endpoint, sequence: UInt32, acknowledgement: UInt32,
        flags: TCPFlags, payload: [UInt8], identification: UInt16 = 0
    ) -> [UInt8] {
        var segment = [UInt8]()
        segment.reserveCapacity(20 + payload.count)
        append16(source.port, to: &segment)
        append16(destination.port, to: &segment)
        append32(sequence, to: &segment)
        append32(acknowledgement, to: &segment)
        segment += [5 << 4, flags.rawValue]
        append16(64240, to: &segment)  // window
        append16(0, to: &segment)  // checksum, filled below
        append16(0, to: &segment)  // urgent pointer
        segment += payload
        let checksum = transportChecksum(segment, protocol: tcp, source: source.address, destination: destination.address)
        segment[16] = UInt8(checksum >> 8)
        segment[17] = UInt8(checksum & 0xFF)
        return frame(segment, protocol: tcp, from: source.address, to: destination.address, identification: identification)
    }

    static func frame(
        _ segment: [UInt8], protocol ipProtocol: UInt8, from source: NetworkAddress, to destination: NetworkAddress,
        identification: UInt16
    ) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(14 + 40 + segment.count)
        let fromServer = source == TrafficGenerator.server || source == TrafficGenerator.serverV6
        bytes += fromServer ? gatewayMAC : serverMAC
        bytes += fromServer ? serverMAC : gatewayMAC
        switch source {
        case .v4:
            append16(0x0800, to: &bytes)
            let start = bytes.count
            bytes += [0x45, 0]
            append16(UInt16(20 + segment.count), to: &bytes)
            append16(identification, to: &bytes)
            append16(0x4000, to: &bytes)  // don't fragment
            bytes += [64, ipProtocol, 0, 0]
            bytes += source.bytes
            bytes += destination.bytes
            let checksum = internetChecksum(bytes[start..<(start + 20)])
            bytes[start + 10] = UInt8(checksum >> 8)
            bytes[start + 11] = UInt8(checksum & 0xFF)
        case .v6:
            append16(0x86DD, to: &bytes)
            bytes += [0x60, 0, 0, 0]
            append16(UInt16(segment.count), to: &bytes)
            bytes += [ipProtocol, 64]
            bytes += source.bytes
            bytes += destination.bytes
        }
        bytes += segment
        return bytes
    }

    /// The UDP or TCP checksum over the pseudo-header (RFC 768, RFC 8200 §8.1) and the segment.
    static func transportChecksum(
        _ segment: [UInt8], protocol ipProtocol: UInt8, source: NetworkAddress, destination: NetworkAddress
    ) -> UInt16 {
        var pseudo = source.bytes + destination.bytes
        if source.isV6 {
            append32(UInt32(segment.count), to: &pseudo)
            pseudo += [0, 0, 0, ipProtocol]
        } else {
            pseudo += [0, ipProtocol]
            append16(UInt16(segment.count), to: &pseudo)
        }
        return internetChecksum((pseudo + segment)[...])
    }

    /// The ones' complement of the ones' complement sum of 16-bit words (RFC 1071).
    static func internetChecksum(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var sum: UInt32 = 0
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.endIndex { sum += UInt32(bytes[index]) << 8 }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func append16(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
    }

    static func append32(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
