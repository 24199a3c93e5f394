import Testing

@testable import SIPWardenCore

/// Framing SIP messages out of TCP segments: whole messages where they lie, split ones kept until
/// their end, and a table that stays bounded under many connections.
@Suite struct TCPStreamFramerTests {
    /// What the framer handed out for one segment.
    struct Framed {
        var methods: [String] = []
        var anomalies: [SIPAnomalies] = []
    }

    /// A decoded TCP segment and the bytes its offsets point into.
    struct Segment {
        var packet: DecodedPacket
        var bytes: [UInt8]
    }

    static func segment(from source: String, sequence: UInt32, _ text: String) -> Segment {
        let bytes = PacketBuilder.ipv4(
            source: source, protocol: 6, payload: PacketBuilder.tcp(sequence: sequence, payload: Array(text.utf8)))
        let decoded = bytes.withUnsafeBytes { PacketDecoder.decode(ipPacket: $0) }
        guard case .success(let packet) = decoded else { fatalError("the builder's packet does not decode") }
        return Segment(packet: packet, bytes: bytes)
    }

    static func add(_ segment: Segment, to framer: inout TCPStreamFramer, at seconds: Double = 1) -> Framed {
        var framed = Framed()
        segment.bytes.withUnsafeBytes { bytes in
            let payload = UnsafeRawBufferPointer(rebasing: bytes[segment.packet.payload])
            _ = framer.add(segment.packet, payload: payload, at: Timestamp(seconds: seconds)) { message, bytes in
                framed.methods.append(String(decoding: bytes[message.methodToken.range], as: UTF8.self))
                framed.anomalies.append(message.anomalies)
            }
        }
        return framed
    }

    let options = Transaction(method: "OPTIONS").request
    let register = Transaction(method: "REGISTER", callID: "reg").request

    @Test func aSegmentOfWholeMessagesIsFramedWithoutKeepingAnything() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        let framed = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, options + register), to: &framer)
        #expect(framed.methods == ["OPTIONS", "REGISTER"])
        // Each is classified alone: the message after it is no trailing data of the first.
        #expect(framed.anomalies.allSatisfy { !$0.contains(.trailingData) && !$0.isMalformed })
        #expect(framer.streams.isEmpty)
    }

    @Test func aMessageSplitOverSegmentsWaitsForItsEndAndThenLeavesNoEntry() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        let cut = options.utf8.count / 2
        let head = String(options.prefix(cut))
        let tail = String(options.dropFirst(cut))
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, head), to: &framer).methods.isEmpty)
        #expect(framer.streams.count == 1)
        let rest = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(head.utf8.count), tail + register), to: &framer)
        #expect(rest.methods == ["OPTIONS", "REGISTER"])
        #expect(framer.streams.isEmpty)
    }

    @Test func aRetransmittedHeadIsNotFramedTwice() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        let cut = 40
        let head = String(options.prefix(cut))
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, head), to: &framer)
        // The sender resends the head together with the rest.
        let whole = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, options), to: &framer)
        #expect(whole.methods == ["OPTIONS"])
        #expect(whole.anomalies.allSatisfy { !$0.isMalformed })
    }

    @Test func manyWaitingStreamsStayWithinCapacityAndTheNewestIsKept() {
        var framer = TCPStreamFramer(classifier: SIPClassifier(), capacity: 64)
        let head = String(options.prefix(30))
        for client in 0..<1000 {
            _ = Self.add(
                Self.segment(from: "10.0.\(client / 250).\(client % 250 + 1)", sequence: 1000, head), to: &framer,
                at: 1 + Double(client) / 1000)
            #expect(framer.streams.count <= 64)
        }
        // The last client's message completes: its waiting head was not pushed out by older streams.
        let tail = String(options.dropFirst(30))
        let done = Self.add(Self.segment(from: "10.0.3.250", sequence: 1030, tail), to: &framer, at: 2)
        #expect(done.methods == ["OPTIONS"])
    }
}
