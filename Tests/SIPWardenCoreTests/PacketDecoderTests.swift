import Testing

@testable import SIPWardenCore

@Suite struct PacketDecoderTests {
    let sip = [UInt8]("OPTIONS sip:a@b SIP/2.0\r\n\r\n")

    func decode(_ bytes: [UInt8], _ linkType: LinkType = .raw) -> Result<DecodedPacket, DecodeError> {
        bytes.withUnsafeBytes { PacketDecoder.decode(frame: $0, linkType: linkType) }
    }

    @Test func ipv4UDPFields() throws {
        let packet = PacketBuilder.ipv4(ttl: 17, payload: PacketBuilder.udp(sourcePort: 5062, payload: sip))
        let decoded = try decode(PacketBuilder.ethernet(packet), .ethernet).get()
        #expect(decoded.source == IPAddress("192.0.2.10"))
        #expect(decoded.destination == IPAddress("198.51.100.1"))
        #expect(decoded.transport == .udp)
        #expect(decoded.sourcePort == 5062)
        #expect(decoded.destinationPort == 5060)
        #expect(decoded.payload == (14 + 28)..<(14 + 28 + sip.count))
        #expect(decoded.fragment == nil)
        #expect(decoded.hopLimit == 17)
    }

    @Test func ipv4OptionsAndEthernetPaddingAreSkipped() throws {
        let packet = PacketBuilder.ipv4(options: [1, 1, 1, 0], payload: PacketBuilder.udp(payload: sip))
        let decoded = try decode(PacketBuilder.ethernet(packet) + [0, 0, 0, 0], .ethernet).get()
        #expect(decoded.payload == (14 + 32)..<(14 + 32 + sip.count))
    }

    @Test(arguments: [1, 2, 3])
    func vlanTagsAreSkipped(tags: Int) throws {
        let frame = PacketBuilder.ethernet(vlanTags: tags, PacketBuilder.ipv4(payload: PacketBuilder.udp(payload: sip)))
        #expect(try decode(frame, .ethernet).get().payload.count == sip.count)
    }

    @Test func linuxCookedNullAndLoopHeaders() throws {
        let packet = PacketBuilder.ipv4(payload: PacketBuilder.udp(payload: sip))
        let sll: [UInt8] = [0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00]
        let sll2: [UInt8] = [0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0]
        #expect(try decode(sll + packet, .linuxCooked).get().destinationPort == 5060)
        #expect(try decode(sll2 + packet, .linuxCooked2).get().destinationPort == 5060)
        #expect(try decode([2, 0, 0, 0] + packet, .null).get().destinationPort == 5060)
        #expect(try decode([0, 0, 0, 2] + packet, .loop).get().destinationPort == 5060)
        #expect(try decode(packet, .ipv4).get().destinationPort == 5060)
    }

    @Test func nonIPFramesAreNotIP() {
        let arp = PacketBuilder.ethernet(etherType: 0x0806, [UInt8](repeating: 0, count: 28))
        #expect(decode(arp, .ethernet) == .failure(.notIP))
    }

    @Test func ipv6ExtensionChainIsWalked() throws {
        let packet = PacketBuilder.ipv6(
            extensions: [
                (0, PacketBuilder.optionsHeader), (43, [0, 0, 0, 0, 0, 0, 0]), (60, PacketBuilder.optionsHeader),
            ],
            payload: PacketBuilder.udp(payload: sip))
        let decoded = try decode(packet).get()
        #expect(decoded.source == IPAddress("2001:db8::10"))
        #expect(decoded.transport == .udp)
        #expect(decoded.payload == (40 + 24 + 8)..<(40 + 24 + 8 + sip.count))
    }

    /// However many extension headers come before the UDP header (the kernel walks them all), the
    /// datagram is found: a request hidden behind more of them than a decoder expects is still judged.
    @Test func aLongIPv6ExtensionChainIsWalkedToItsEnd() throws {
        let chain = Array(repeating: (type: UInt8(60), body: PacketBuilder.optionsHeader), count: 40)
        let decoded = try decode(PacketBuilder.ipv6(extensions: chain, payload: PacketBuilder.udp(payload: sip))).get()
        #expect(decoded.transport == .udp)
        #expect(decoded.payload == (40 + 40 * 8 + 8)..<(40 + 40 * 8 + 8 + sip.count))
    }

    @Test func ipv6FirstAndLaterFragments() throws {
        let udp = PacketBuilder.udp(payload: sip)
        let first = PacketBuilder.ipv6(
            extensions: [(44, PacketBuilder.fragmentHeader(offset: 0, more: true, identification: 99))],
            payload: Array(udp[..<16]))
        let later = PacketBuilder.ipv6(
            extensions: [(44, PacketBuilder.fragmentHeader(offset: 16, more: false, identification: 99))],
            payload: Array(udp[16...]))
        let head = try decode(first).get()
        #expect(head.fragment == .init(identification: 99, offset: 0, moreFragments: true, payloadProtocol: 17))
        #expect(head.transport == .udp)
        #expect(head.hasTransportHeader)
        let tail = try decode(later).get()
        #expect(tail.fragment == .init(identification: 99, offset: 16, moreFragments: false, payloadProtocol: 17))
        #expect(!tail.hasTransportHeader)
        #expect(tail.ipPayload.count == udp.count - 16)
    }

    @Test func ipv4FragmentsAndTheirFlags() throws {
        let udp = PacketBuilder.udp(payload: sip)
        let first = try decode(PacketBuilder.ipv4(identification: 5, moreFragments: true, payload: Array(udp[..<16])))
            .get()
        #expect(first.fragment == .init(identification: 5, offset: 0, moreFragments: true, payloadProtocol: 17))
        #expect(first.transport == .udp)
        let later = try decode(PacketBuilder.ipv4(identification: 5, fragmentOffset: 16, payload: Array(udp[16...])))
            .get()
        #expect(later.fragment?.offset == 16)
        #expect(later.transport == .other(17))
    }

    /// A first fragment too short for its transport header (RFC 1858) is a piece to reassemble, not an
    /// error; the same bytes unfragmented are truncated.
    @Test func aFirstFragmentShorterThanItsTransportHeaderIsAPiece() throws {
        let tcp = PacketBuilder.tcp(payload: sip)
        let first = try decode(
            PacketBuilder.ipv4(protocol: 6, identification: 5, moreFragments: true, payload: Array(tcp[..<16]))
        ).get()
        #expect(first.fragment == .init(identification: 5, offset: 0, moreFragments: true, payloadProtocol: 6))
        #expect(first.transport == .other(6) && !first.hasTransportHeader)
        #expect(first.ipPayload.count == 16)
        let v6 = try decode(
            PacketBuilder.ipv6(
                protocol: 6, extensions: [(44, PacketBuilder.fragmentHeader(offset: 0, more: true, identification: 7))],
                payload: Array(tcp[..<8]))
        ).get()
        #expect(v6.transport == .other(6) && v6.ipPayload.count == 8)
        #expect(decode(PacketBuilder.ipv4(protocol: 6, payload: Array(tcp[..<16]))) == .failure(.truncated(.tcp)))
    }

    @Test func tcpDataOffsetAndSequence() throws {
        let segment = PacketBuilder.tcp(
            sequence: 4242, acknowledgment: 0x8000_0001, flags: 0x19, options: [1, 1, 1, 1], payload: sip)
        let decoded = try decode(PacketBuilder.ipv4(protocol: 6, payload: segment)).get()
        #expect(decoded.transport == .tcp)
        #expect(decoded.tcp?.sequence == 4242)
        #expect(decoded.tcp?.acknowledgment == 0x8000_0001)
        #expect(decoded.tcp?.isFin == true)
        #expect(decoded.payload == (20 + 24)..<(20 + 24 + sip.count))
    }

    @Test func ipInIPIsUnwrapped() throws {
        let inner = PacketBuilder.ipv4(source: "203.0.113.5", payload: PacketBuilder.udp(payload: sip))
        let outer = PacketBuilder.ipv4(protocol: 4, payload: inner)
        let decoded = try decode(outer).get()
        #expect(decoded.source == IPAddress("203.0.113.5"))
        #expect(decoded.tunnelDepth == 1)
        #expect(decoded.transport == .udp)
    }

    @Test func inconsistentLengthsAreErrors() {
        var shortIHL = PacketBuilder.ipv4(payload: PacketBuilder.udp(payload: sip))
        shortIHL[0] = 0x44
        #expect(decode(shortIHL) == .failure(.inconsistentLength(.ipv4)))
        var longTotal = PacketBuilder.ipv4(payload: PacketBuilder.udp(payload: sip))
        longTotal[3] &+= 50
        #expect(decode(longTotal) == .failure(.truncated(.ipv4)))
        var udpLength = PacketBuilder.ipv4(payload: PacketBuilder.udp(payload: sip))
        udpLength[20 + 5] = 4
        #expect(decode(udpLength) == .failure(.inconsistentLength(.udp)))
        var tcpOffset = PacketBuilder.ipv4(protocol: 6, payload: PacketBuilder.tcp(payload: sip))
        tcpOffset[20 + 12] = 0x30
        #expect(decode(tcpOffset) == .failure(.inconsistentLength(.tcp)))
    }

    static let whole: [(String, [UInt8])] = {
        let sip = [UInt8]("OPTIONS sip:a@b SIP/2.0\r\n\r\n")
        return [
            ("ipv4-udp", PacketBuilder.ipv4(payload: PacketBuilder.udp(payload: sip))),
            ("ipv4-tcp", PacketBuilder.ipv4(protocol: 6, payload: PacketBuilder.tcp(payload: sip))),
            ("ipv6-udp", PacketBuilder.ipv6(payload: PacketBuilder.udp(payload: sip))),
            (
                "ipv6-chain-tcp",
                PacketBuilder.ipv6(
                    protocol: 6, extensions: [(0, PacketBuilder.optionsHeader), (60, PacketBuilder.optionsHeader)],
                    payload: PacketBuilder.tcp(payload: sip))
            ),
        ]
    }()

    /// Cutting a packet anywhere before its payload gives an error value, never a trap.
    @Test(arguments: whole)
    func everyTruncationPointIsAnError(name: String, packet: [UInt8]) throws {
        let payloadStart = try decode(packet).get().payload.lowerBound
        for length in 0..<payloadStart {
            let result = decode(Array(packet[..<length]))
            guard case .failure(let error) = result else {
                Issue.record("\(name) cut at \(length) decoded")
                continue
            }
            #expect(error != .notIP || length == 0, "\(name) cut at \(length)")
        }
        // Cutting inside the payload leaves the IP length larger than the buffer.
        for length in payloadStart..<packet.count {
            #expect(throws: DecodeError.self) { try decode(Array(packet[..<length])).get() }
        }
    }
}
