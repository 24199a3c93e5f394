/// Decodes link, IP and transport headers without copying: the result is offsets into the input.
///
/// Every length is checked against the buffer; a short or inconsistent packet yields a `DecodeError`.
/// Trailing bytes beyond the IP total length (Ethernet padding) are ignored.
public enum PacketDecoder {
    /// IP protocol numbers this decoder acts on.
    enum IPProtocol {
        static let hopByHop: UInt8 = 0
        static let ipInIP: UInt8 = 4
        static let tcp: UInt8 = 6
        static let udp: UInt8 = 17
        static let ipv6InIP: UInt8 = 41
        static let routing: UInt8 = 43
        static let fragment: UInt8 = 44
        static let authentication: UInt8 = 51
        static let destinationOptions: UInt8 = 60
    }

    /// How many IP-in-IP layers are unwrapped before giving up.
    static let maximumTunnelDepth = 2

    /// Decodes a captured frame of the given link type.
    public static func decode(frame: UnsafeRawBufferPointer, linkType: LinkType) -> Result<DecodedPacket, DecodeError> {
        switch linkType.networkLayerOffset(in: frame) {
        case .failure(let error): return .failure(error)
        case .success(let offset): return result { decodeIP(frame, at: offset, depth: 0, into: &$0) }
        }
    }

    /// Decodes a bare IP packet, as NFQUEUE delivers it.
    public static func decode(ipPacket: UnsafeRawBufferPointer) -> Result<DecodedPacket, DecodeError> {
        result { decode(ipPacket: ipPacket, into: &$0) }
    }

    /// Decodes a bare IP packet into `packet`; the error when it cannot be decoded. For the filter's way
    /// of every packet: in place, as each stage below decodes, where a `Result` returned copied the
    /// packet's 120 bytes once more at each stage it came back through.
    static func decode(ipPacket: UnsafeRawBufferPointer, into packet: inout DecodedPacket) -> DecodeError? {
        decodeIP(ipPacket, at: 0, depth: 0, into: &packet)
    }

    /// What `decode` reads into a packet, as a `Result`.
    static func result(of decode: (inout DecodedPacket) -> DecodeError?) -> Result<DecodedPacket, DecodeError> {
        var packet = DecodedPacket.unread
        if let error = decode(&packet) { return .failure(error) }
        return .success(packet)
    }

    /// Decodes the transport header of a reassembled datagram whose payload is `bytes`.
    public static func decodeTransport(
        _ bytes: UnsafeRawBufferPointer, protocol ipProtocol: UInt8, source: IPAddress, destination: IPAddress
    ) -> Result<DecodedPacket, DecodeError> {
        var packet = DecodedPacket(
            source: source, destination: destination, transport: .other(ipProtocol),
            payload: 0..<bytes.count, ipPayload: 0..<bytes.count)
        if let error = transport(bytes, &packet, protocol: ipProtocol, start: 0, end: bytes.count) {
            return .failure(error)
        }
        return .success(packet)
    }

    static func decodeIP(
        _ bytes: UnsafeRawBufferPointer, at offset: Int, depth: Int, into packet: inout DecodedPacket
    ) -> DecodeError? {
        guard offset < bytes.count else { return .truncated(.ipv4) }
        switch bytes[offset] >> 4 {
        case 4: return ipv4(bytes, at: offset, depth: depth, into: &packet)
        case 6: return ipv6(bytes, at: offset, depth: depth, into: &packet)
        default: return .notIP
        }
    }

    static func ipv4(
        _ bytes: UnsafeRawBufferPointer, at start: Int, depth: Int, into packet: inout DecodedPacket
    ) -> DecodeError? {
        guard start + 20 <= bytes.count,
            let totalLength = bytes.uint16(at: start + 2),
            let flagsAndOffset = bytes.uint16(at: start + 6),
            let source = bytes.uint32(at: start + 12),
            let destination = bytes.uint32(at: start + 16)
        else { return .truncated(.ipv4) }
        let headerLength = Int(bytes[start] & 0x0F) * 4
        guard headerLength >= 20 else { return .inconsistentLength(.ipv4) }
        guard start + headerLength <= bytes.count else { return .truncated(.ipv4) }
        guard Int(totalLength) >= headerLength else { return .inconsistentLength(.ipv4) }
        let end = start + Int(totalLength)
        guard end <= bytes.count else { return .truncated(.ipv4) }

        let ipProtocol = bytes[start + 9]
        let payloadStart = start + headerLength
        packet = DecodedPacket(
            source: IPAddress(v4: source), destination: IPAddress(v4: destination),
            transport: .other(ipProtocol), payload: payloadStart..<end, ipPayload: payloadStart..<end)
        packet.hopLimit = bytes[start + 8]
        let moreFragments = flagsAndOffset & 0x2000 != 0
        let fragmentOffset = Int(flagsAndOffset & 0x1FFF) * 8
        if moreFragments || fragmentOffset > 0 {
            packet.fragment = .init(
                identification: UInt32(bytes.uint16(at: start + 4)!), offset: fragmentOffset,
                moreFragments: moreFragments, payloadProtocol: ipProtocol)
            if fragmentOffset > 0 { return nil }
        }
        return transport(bytes, &packet, protocol: ipProtocol, start: payloadStart, end: end, depth: depth)
    }

    static func ipv6(
        _ bytes: UnsafeRawBufferPointer, at start: Int, depth: Int, into packet: inout DecodedPacket
    ) -> DecodeError? {
        guard start + 40 <= bytes.count,
            let payloadLength = bytes.uint16(at: start + 4),
            let sourceHigh = bytes.uint64(at: start + 8), let sourceLow = bytes.uint64(at: start + 16),
            let destinationHigh = bytes.uint64(at: start + 24), let destinationLow = bytes.uint64(at: start + 32)
        else { return .truncated(.ipv6) }
        // A zero payload length means a jumbogram, which no SIP packet is.
        guard payloadLength > 0 else { return .unsupported(.ipv6) }
        let end = start + 40 + Int(payloadLength)
        guard end <= bytes.count else { return .truncated(.ipv6) }

        packet = DecodedPacket(
            source: IPAddress(v6: sourceHigh, sourceLow), destination: IPAddress(v6: destinationHigh, destinationLow),
            transport: .other(0), payload: end..<end, ipPayload: end..<end)
        packet.hopLimit = bytes[start + 7]
        var nextHeader = bytes[start + 6]
        var cursor = start + 40
        // The whole chain, as the kernel walks it: a packet that hides its UDP header behind more
        // extension headers than a decoder expects is still judged. Each header takes 8 bytes or more,
        // so the walk ends within the payload.
        while true {
            switch nextHeader {
            case IPProtocol.hopByHop, IPProtocol.routing, IPProtocol.destinationOptions, IPProtocol.authentication:
                guard cursor + 2 <= end else { return .truncated(.ipv6) }
                let length =
                    nextHeader == IPProtocol.authentication
                    ? (Int(bytes[cursor + 1]) + 2) * 4 : (Int(bytes[cursor + 1]) + 1) * 8
                guard cursor + length <= end else { return .truncated(.ipv6) }
                nextHeader = bytes[cursor]
                cursor += length
            case IPProtocol.fragment:
                guard cursor + 8 <= end, let offsetAndFlags = bytes.uint16(at: cursor + 2),
                    let identification = bytes.uint32(at: cursor + 4)
                else { return .truncated(.ipv6) }
                nextHeader = bytes[cursor]
                cursor += 8
                let fragment = DecodedPacket.Fragment(
                    identification: identification, offset: Int(offsetAndFlags & 0xFFF8),
                    moreFragments: offsetAndFlags & 1 != 0, payloadProtocol: nextHeader)
                // An atomic fragment (offset 0, no more) is a whole datagram (RFC 6946).
                guard fragment.offset > 0 || fragment.moreFragments else { continue }
                packet.fragment = fragment
                if fragment.offset > 0 {
                    packet.transport = .other(nextHeader)
                    packet.payload = cursor..<end
                    packet.ipPayload = cursor..<end
                    return nil
                }
            default:
                packet.transport = .other(nextHeader)
                packet.payload = cursor..<end
                packet.ipPayload = cursor..<end
                return transport(bytes, &packet, protocol: nextHeader, start: cursor, end: end, depth: depth)
            }
        }
    }

    /// Reads the transport header at `start` (the IP payload ends at `end`) into `packet`; the error when
    /// it is short or inconsistent.
    static func transport(
        _ bytes: UnsafeRawBufferPointer, _ packet: inout DecodedPacket, protocol ipProtocol: UInt8,
        start: Int, end: Int, depth: Int = 0
    ) -> DecodeError? {
        // A first fragment carries only part of the datagram: lengths may exceed what is here, and one
        // too short for its transport header is a piece like a later one, decoded once reassembled.
        let isFragment = packet.fragment != nil
        switch ipProtocol {
        case IPProtocol.udp:
            guard start + 8 <= end, let length = bytes.uint16(at: start + 4) else {
                return isFragment ? nil : .truncated(.udp)
            }
            guard length >= 8 else { return .inconsistentLength(.udp) }
            let datagramEnd = start + Int(length)
            guard isFragment || datagramEnd <= end else { return .truncated(.udp) }
            packet.transport = .udp
            packet.sourcePort = bytes.uint16(at: start)!
            packet.destinationPort = bytes.uint16(at: start + 2)!
            packet.payload = (start + 8)..<min(datagramEnd, end)
            return nil
        case IPProtocol.tcp:
            guard start + 20 <= end, let sequence = bytes.uint32(at: start + 4),
                let acknowledgment = bytes.uint32(at: start + 8)
            else {
                return isFragment ? nil : .truncated(.tcp)
            }
            let headerLength = Int(bytes[start + 12] >> 4) * 4
            guard headerLength >= 20 else { return .inconsistentLength(.tcp) }
            guard start + headerLength <= end else {
                return isFragment ? nil : .truncated(.tcp)
            }
            packet.transport = .tcp
            packet.sourcePort = bytes.uint16(at: start)!
            packet.destinationPort = bytes.uint16(at: start + 2)!
            packet.tcp = .init(sequence: sequence, acknowledgment: acknowledgment, flags: bytes[start + 13])
            packet.payload = (start + headerLength)..<end
            return nil
        case IPProtocol.ipInIP, IPProtocol.ipv6InIP:
            guard !isFragment, depth < maximumTunnelDepth else { return nil }
            if let error = decodeIP(
                UnsafeRawBufferPointer(rebasing: bytes[..<end]), at: start, depth: depth + 1, into: &packet)
            {
                return error
            }
            packet.tunnelDepth = UInt8(depth + 1)
            return nil
        default:
            packet.transport = .other(ipProtocol)
            return nil
        }
    }
}
