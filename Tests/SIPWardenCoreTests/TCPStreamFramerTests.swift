import Testing

@testable import SIPWardenCore

/// Framing SIP messages out of TCP segments: whole messages where they lie, split ones kept until
/// their end, and a table that stays bounded under many connections.
@Suite struct TCPStreamFramerTests {
    /// What the framer handed out for one segment.
    struct Framed {
        var methods: [String] = []
        var anomalies: [SIPAnomalies] = []
        var unframed = false
    }

    /// A decoded TCP segment and the bytes its offsets point into.
    struct Segment {
        var packet: DecodedPacket
        var bytes: [UInt8]
    }

    static func segment(from source: String, sequence: UInt32, flags: UInt8 = 0x18, _ text: String) -> Segment {
        let bytes = PacketBuilder.ipv4(
            source: source, protocol: 6,
            payload: PacketBuilder.tcp(sequence: sequence, flags: flags, payload: Array(text.utf8)))
        let decoded = bytes.withUnsafeBytes { PacketDecoder.decode(ipPacket: $0) }
        guard case .success(let packet) = decoded else { fatalError("the builder's packet does not decode") }
        return Segment(packet: packet, bytes: bytes)
    }

    static func add(_ segment: Segment, to framer: inout TCPStreamFramer, at seconds: Double = 1) -> Framed {
        var framed = Framed()
        segment.bytes.withUnsafeBytes { bytes in
            let payload = UnsafeRawBufferPointer(rebasing: bytes[segment.packet.payload])
            let framing = framer.add(segment.packet, payload: payload, at: Timestamp(seconds: seconds)) {
                message, bytes in
                framed.methods.append(String(decoding: bytes[message.methodToken.range], as: UTF8.self))
                framed.anomalies.append(message.anomalies)
            }
            framed.unframed = framing.unframed
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

    @Test func aMessageSplitOverSegmentsWaitsForItsEnd() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        let cut = options.utf8.count / 2
        let head = String(options.prefix(cut))
        let tail = String(options.dropFirst(cut))
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, head), to: &framer).methods.isEmpty)
        #expect(framer.streams.count == 1)
        let rest = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(head.utf8.count), tail + register), to: &framer)
        #expect(rest.methods == ["OPTIONS", "REGISTER"])
    }

    /// The segment that completed a split message comes again when the server's ACK for it was lost:
    /// the same bytes at the same place pass as bytes already judged, where dropped as bytes that start
    /// no message they would be sent again and again, never ACKed, and the connection would stall. Other
    /// bytes there are framed as ever, whole messages after it too (each resend judged again), and the
    /// copy is forgotten on a SYN (a new connection on the same ports) and after its retention.
    @Test func theTailOfASplitMessageSentAgainPasses() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        let cut = options.utf8.count / 2
        let head = Self.segment(from: "192.0.2.10", sequence: 1000, String(options.prefix(cut)))
        let tail = Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(cut), String(options.dropFirst(cut)))
        _ = Self.add(head, to: &framer)
        #expect(Self.add(tail, to: &framer).methods == ["OPTIONS"])
        for attempt in 0..<2 {
            let again = Self.add(tail, to: &framer, at: 1.5 + Double(attempt))
            #expect(again.methods.isEmpty && !again.unframed, "resend \(attempt)")
        }
        let other = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(cut), register), to: &framer)
        #expect(other.methods == ["REGISTER"], "other bytes in the tail's place are judged")
        let next = Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(options.utf8.count), register)
        for attempt in 0..<2 {
            #expect(Self.add(next, to: &framer, at: 4 + Double(attempt)).methods == ["REGISTER"], "attempt \(attempt)")
        }
        let late = Self.add(tail, to: &framer, at: 6)
        #expect(late.methods.isEmpty && !late.unframed)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 400, flags: 0x02, ""), to: &framer, at: 7)
        #expect(Self.add(tail, to: &framer, at: 7.1).unframed, "after a SYN")

        // A segment that turns waiting bytes into something that is no SIP completes nothing: sent
        // again, it is framed again.
        var garbled = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 5000, "XYZ"), to: &garbled)
        let scan = Self.segment(from: "192.0.2.10", sequence: 5003, "\r\n\r\n" + options)
        #expect(Self.add(scan, to: &garbled).unframed)
        #expect(Self.add(scan, to: &garbled, at: 1.2).methods == ["OPTIONS"])

        var expiring = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(head, to: &expiring)
        _ = Self.add(tail, to: &expiring)
        #expect(!Self.add(tail, to: &expiring, at: 100).unframed)
        #expect(Self.add(tail, to: &expiring, at: 122).unframed, "past its retention")
    }

    /// When the table is full, entries that only keep a judged tail go before streams whose messages
    /// wait for their end, even older ones: forgetting a waiting head drops its tail for good.
    @Test func judgedTailsGoBeforeWaitingMessagesWhenTheTableIsFull() {
        var framer = TCPStreamFramer(classifier: SIPClassifier(), capacity: 16)
        let cut = options.utf8.count / 2
        let head = String(options.prefix(cut))
        let tail = String(options.dropFirst(cut))
        for client in 1...8 {
            _ = Self.add(Self.segment(from: "10.0.1.\(client)", sequence: 1000, head), to: &framer, at: Double(client))
        }
        for client in 1...9 {
            let source = "10.0.2.\(client)"
            let at = 20 + Double(client)
            _ = Self.add(Self.segment(from: source, sequence: 1000, head), to: &framer, at: at)
            _ = Self.add(Self.segment(from: source, sequence: 1000 + UInt32(cut), tail), to: &framer, at: at)
        }
        #expect(framer.streams.count <= 16)
        for client in 1...8 {
            let rest = Self.add(
                Self.segment(from: "10.0.1.\(client)", sequence: 1000 + UInt32(cut), tail), to: &framer, at: 40)
            #expect(rest.methods == ["OPTIONS"], "waiting client \(client)")
        }
    }

    /// A segment half the sequence space away from where its stream waits (`ahead` is `Int32.min`, whose
    /// negation overflows) is read as old bytes, not a trap: one forged packet must not stop the daemon.
    @Test func aSegmentHalfTheSequenceSpaceAwayIsReadWithoutATrap() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        let bytes = Array(options.utf8)
        let head = String(decoding: bytes[..<40], as: UTF8.self)
        let tail = String(decoding: bytes[40...], as: UTF8.self)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, head), to: &framer)
        let far = Self.add(Self.segment(from: "192.0.2.10", sequence: 1040 &+ 0x8000_0000, options), to: &framer)
        #expect(far.methods.isEmpty && !far.unframed)
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 1040, tail), to: &framer).methods == ["OPTIONS"])
    }

    /// A segment that ends a few bytes into the next message's start line ("SUBSCRIBE", "REGISTER s"),
    /// where a trunk's pipelined messages fall across segments, leaves those bytes waiting: they are not
    /// yet a request line, but not garbage either. Binary bytes are.
    @Test func aStartLineCutShortWaitsForItsEnd() {
        let subscribe = Array(
            Transaction(method: "SUBSCRIBE", user: "100", target: "200", fromUser: "100", callID: "blf").request.utf8)
        for cut in [9, 11, 13] {
            var framer = TCPStreamFramer(classifier: SIPClassifier())
            let first = Self.add(
                Self.segment(
                    from: "192.0.2.10", sequence: 1000,
                    options + String(decoding: subscribe[..<cut], as: UTF8.self)), to: &framer)
            #expect(first.methods == ["OPTIONS"] && !first.unframed, "cut at \(cut)")
            let rest = Self.add(
                Self.segment(
                    from: "192.0.2.10", sequence: 1000 + UInt32(options.utf8.count + cut),
                    String(decoding: subscribe[cut...], as: UTF8.self)), to: &framer)
            #expect(rest.methods == ["SUBSCRIBE"], "cut at \(cut)")
        }
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        #expect(
            Self.add(
                Self.segment(from: "192.0.2.10", sequence: 1000, "\u{16}\u{03}\u{01}\u{02}\u{00}binary"), to: &framer
            ).unframed)
        // Visible text that its line end shows is no request line is not SIP then, headers or not.
        var text = TCPStreamFramer(classifier: SIPClassifier())
        #expect(!Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, "HELLO WORLD"), to: &text).unframed)
        #expect(
            Self.add(Self.segment(from: "192.0.2.10", sequence: 1011, " AGAIN\r\nMore: text\r\n"), to: &text).unframed)
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

    /// A message's tail sent before its head (the server's TCP would put them together): the tail alone
    /// starts no message and is unframed, to be dropped; the head waits; the tail sent again completes
    /// the message, which is judged whole.
    @Test func bytesWhereNoMessageStartsAreUnframedUntilSentAgainInOrder() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        let cut = options.utf8.count / 2
        let head = Self.segment(from: "192.0.2.10", sequence: 1000, String(options.prefix(cut)))
        let tail = Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(cut), String(options.dropFirst(cut)))
        let early = Self.add(tail, to: &framer)
        #expect(early.unframed && early.methods.isEmpty)
        #expect(framer.streams.isEmpty)
        #expect(!Self.add(head, to: &framer).unframed)
        let whole = Self.add(tail, to: &framer)
        #expect(whole.methods == ["OPTIONS"] && !whole.unframed)
        #expect(whole.anomalies.allSatisfy { !$0.isMalformed })
    }

    /// Bytes past a gap in a stream (a segment lost or overtaken on the way) are unframed, and the
    /// stream waits as it was for the bytes before them: the gap's bytes, then the rest sent again.
    @Test func aSegmentPastAGapLeavesItsStreamWaitingForTheBytesBefore() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        let bytes = Array(options.utf8)
        func part(_ range: Range<Int>) -> Segment {
            Self.segment(
                from: "192.0.2.10", sequence: 1000 + UInt32(range.lowerBound),
                String(decoding: bytes[range], as: UTF8.self))
        }
        let (first, second) = (bytes.count / 3, 2 * bytes.count / 3)
        #expect(Self.add(part(0..<first), to: &framer).methods.isEmpty)
        let overtaking = Self.add(part(second..<bytes.count), to: &framer)
        #expect(overtaking.unframed && overtaking.methods.isEmpty)
        let gap = Self.add(part(first..<second), to: &framer)
        #expect(!gap.unframed && gap.methods.isEmpty)
        #expect(Self.add(part(second..<bytes.count), to: &framer).methods == ["OPTIONS"])
    }

    /// Waiting bytes are framed again only when they may hold a whole message: an empty line in the
    /// bytes not searched before (one split over two segments included), or, once the headers ended, as
    /// many bytes as the Content-Length needs. A header section sent a few bytes a segment is searched
    /// once, not classified again for every segment.
    @Test func waitingBytesAreFramedAgainOnlyWhenTheyMayHoldAMessage() {
        var stream = TCPStreamFramer.Stream(nextSequence: 0, lastSeen: Timestamp(seconds: 0))
        var waiting = Array("INVITE sip:1@x SIP/2.0\r\nVia: a\r\n".utf8)
        var ready = stream.mayComplete(waiting)
        #expect(!ready && stream.searched == waiting.count)
        waiting += Array("Call-ID: 1\r\n\r".utf8)
        ready = stream.mayComplete(waiting)
        #expect(!ready)
        waiting += Array("\n".utf8)
        ready = stream.mayComplete(waiting)
        #expect(ready)
        var bare = TCPStreamFramer.Stream(nextSequence: 0, lastSeen: Timestamp(seconds: 0))
        ready = bare.mayComplete(Array("OPTIONS sip:x SIP/2.0\nVia: a\n\n".utf8))
        #expect(ready)
        var body = TCPStreamFramer.Stream(needed: 100, nextSequence: 0, lastSeen: Timestamp(seconds: 0))
        ready = body.mayComplete(Array(repeating: 0x41, count: 99))
        #expect(!ready)
        ready = body.mayComplete(Array(repeating: 0x41, count: 100))
        #expect(ready)
    }

    /// A message's head sent again after the message completed (the client's ACK was lost) starts a
    /// waiting stream at the old position; the next message, past that "gap", starts the stream over
    /// instead of waiting for bytes that already came (its resends too).
    @Test func aHeadResentAfterItsMessageLeavesTheNextMessagesFramed() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        let cut = 40
        let head = String(options.prefix(cut))
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, head), to: &framer)
        let tail = Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(cut), String(options.dropFirst(cut)))
        #expect(Self.add(tail, to: &framer).methods == ["OPTIONS"])
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, head), to: &framer, at: 1.3)
        let next = Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(options.utf8.count), register)
        for attempt in 0..<3 {
            let framed = Self.add(next, to: &framer, at: 2 + Double(attempt))
            #expect(framed.methods == ["REGISTER"] && !framed.unframed, "attempt \(attempt)")
        }
    }

    /// An old duplicate of an earlier segment while a head waits does not take the stream back: the
    /// head's tail still completes the message.
    @Test func anOldDuplicateDoesNotTakeAWaitingStreamBack() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        let cut = 40
        let first = Self.segment(from: "192.0.2.10", sequence: 900, register)
        let start = 900 + UInt32(register.utf8.count)
        _ = Self.add(first, to: &framer)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: start, String(options.prefix(cut))), to: &framer)
        _ = Self.add(first, to: &framer, at: 1.1)
        let tail = Self.segment(from: "192.0.2.10", sequence: start + UInt32(cut), String(options.dropFirst(cut)))
        let framed = Self.add(tail, to: &framer, at: 2)
        #expect(framed.methods == ["OPTIONS"] && !framed.unframed)
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
