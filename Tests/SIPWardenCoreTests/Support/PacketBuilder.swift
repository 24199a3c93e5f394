import SIPWardenCore

/// Builds IPv4/IPv6 packets with UDP or TCP around a payload, for decoder and engine tests.
enum PacketBuilder {
    static func udp(sourcePort: UInt16 = 5062, destinationPort: UInt16 = 5060, payload: [UInt8]) -> [UInt8] {
        be16(sourcePort) + be16(destinationPort) + be16(UInt16(8 + payload.count)) + [0, 0] + payload
    }

    static func tcp(
        sourcePort: UInt16 = 40000, destinationPort: UInt16 = 5060, sequence: UInt32 = 1000,
        acknowledgment: UInt32 = 0, flags: UInt8 = 0x18, options: [UInt8] = [], payload: [UInt8]
    ) -> [UInt8] {
        let headerLength = UInt8((20 + options.count) / 4)
        let ports = be16(sourcePort) + be16(destinationPort)
        return ports + be32(sequence) + be32(acknowledgment) + [headerLength << 4, flags] + be16(65535) + [0, 0, 0, 0]
            + options + payload
    }

    static func ipv4(
        source: String = "192.0.2.10", destination: String = "198.51.100.1", protocol ipProtocol: UInt8 = 17,
        identification: UInt16 = 7, moreFragments: Bool = false, fragmentOffset: Int = 0, options: [UInt8] = [],
        ttl: UInt8 = 64, payload: [UInt8]
    ) -> [UInt8] {
        let headerLength = 20 + options.count
        let flags: UInt16 = (moreFragments ? 0x2000 : 0) | UInt16(fragmentOffset / 8)
        return [0x40 | UInt8(headerLength / 4), 0] + be16(UInt16(headerLength + payload.count)) + be16(identification)
            + be16(flags) + [ttl, ipProtocol, 0, 0] + v4(source) + v4(destination) + options + payload
    }

    /// IPv6 with the given extension headers, each `(type, bytes)` where bytes exclude next-header.
    static func ipv6(
        source: String = "2001:db8::10", destination: String = "2001:db8::1", protocol ipProtocol: UInt8 = 17,
        extensions: [(type: UInt8, body: [UInt8])] = [], payload: [UInt8]
    ) -> [UInt8] {
        var chain: [UInt8] = []
        let types = extensions.map(\.type) + [ipProtocol]
        for (index, ext) in extensions.enumerated() { chain += [types[index + 1]] + ext.body }
        let first = extensions.first?.type ?? ipProtocol
        return [0x60, 0, 0, 0] + be16(UInt16(chain.count + payload.count)) + [first, 64] + v6(source) + v6(destination)
            + chain + payload
    }

    /// A hop-by-hop or destination-options header body of 8 bytes (length field 0, PadN).
    static let optionsHeader: [UInt8] = [0, 1, 4, 0, 0, 0, 0]

    static func fragmentHeader(offset: Int, more: Bool, identification: UInt32) -> [UInt8] {
        [0] + be16(UInt16(offset) | (more ? 1 : 0)) + be32(identification)
    }

    static func ethernet(vlanTags: Int = 0, etherType: UInt16 = 0x0800, _ packet: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]
        for _ in 0..<vlanTags { frame += [0x81, 0x00, 0x00, 0x64] }
        return frame + be16(etherType) + packet
    }

    static func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static func be32(_ value: UInt32) -> [UInt8] { be16(UInt16(value >> 16)) + be16(UInt16(value & 0xFFFF)) }

    static func v4(_ text: String) -> [UInt8] {
        let address = IPAddress(text)!
        return be32(address.v4Value)
    }

    static func v6(_ text: String) -> [UInt8] {
        let address = IPAddress(text)!
        return be32(UInt32(address.high >> 32)) + be32(UInt32(address.high & 0xFFFF_FFFF))
            + be32(UInt32(address.low >> 32)) + be32(UInt32(address.low & 0xFFFF_FFFF))
    }
}

extension Array where Element == UInt8 {
    init(_ text: String) { self = Array(text.utf8) }
}
