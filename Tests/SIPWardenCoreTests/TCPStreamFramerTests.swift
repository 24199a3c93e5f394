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

    static func segment(
        from source: String, port: UInt16 = 40000, sequence: UInt32, flags: UInt8 = 0x18, _ text: String
    ) -> Segment {
        let bytes = PacketBuilder.ipv4(
            source: source, protocol: 6,
            payload: PacketBuilder.tcp(sourcePort: port, sequence: sequence, flags: flags, payload: Array(text.utf8)))
        let decoded = bytes.withUnsafeBytes { PacketDecoder.decode(ipPacket: $0) }
        guard case .success(let packet) = decoded else { fatalError("the builder's packet does not decode") }
        return Segment(packet: packet, bytes: bytes)
    }

    /// The UTF-8 bytes of `text` in `range`, as text (a String's own prefix counts CR LF as one).
    static func bytes(_ text: String, _ range: some RangeExpression<Int>) -> String {
        let all = Array(text.utf8)
        return Self.text(all[range.relative(to: all)])
    }

    /// `bytes` as text.
    static func text(_ bytes: some Collection<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Adds `segment` as the filter does a client's in enforce mode (`dropsUnframed`), the segment
    /// dropped when `drops` says so of a message's method.
    static func add(
        _ segment: Segment, to framer: inout TCPStreamFramer, at seconds: Double = 1, dropsUnframed: Bool = true,
        drops: (String) -> Bool = { _ in false }
    ) -> Framed {
        var framed = Framed()
        segment.bytes.withUnsafeBytes { bytes in
            let payload = UnsafeRawBufferPointer(rebasing: bytes[segment.packet.payload])
            let framing = framer.add(
                segment.packet, payload: payload, at: Timestamp(seconds: seconds), dropsUnframed: dropsUnframed
            ) { message, bytes in
                let method = Self.text(bytes[message.methodToken.range])
                framed.methods.append(method)
                framed.anomalies.append(message.anomalies)
                return drops(method)
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
        let head = Self.bytes(options, ..<cut)
        let tail = Self.bytes(options, cut...)
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, head), to: &framer).methods.isEmpty)
        #expect(framer.streams.count == 1)
        let rest = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(head.utf8.count), tail + register), to: &framer)
        #expect(rest.methods == ["OPTIONS", "REGISTER"])
    }

    /// Segments of a message split in three, and the message after it, from 192.0.2.10: head, middle and
    /// tail of an OPTIONS, then a whole REGISTER.
    struct Split {
        let options: [UInt8]
        let register: [UInt8]
        var cuts: (Int, Int) { (options.count / 3, 2 * options.count / 3) }

        func part(_ range: Range<Int>, at seconds: Double = 1) -> Segment {
            TCPStreamFramerTests.segment(
                from: "192.0.2.10", sequence: 1000 + UInt32(range.lowerBound),
                TCPStreamFramerTests.text(options[range]))
        }
        var head: Segment { part(0..<cuts.0) }
        var middle: Segment { part(cuts.0..<cuts.1) }
        var tail: Segment { part(cuts.1..<options.count) }
        func next(_ extra: String = "") -> Segment {
            TCPStreamFramerTests.segment(
                from: "192.0.2.10", sequence: 1000 + UInt32(options.count),
                TCPStreamFramerTests.text(register) + extra)
        }
    }

    var split: Split { Split(options: Array(options.utf8), register: Array(register.utf8)) }

    /// The segments of a split message come again when the server's ACKs for them were lost: the same
    /// bytes at the same place pass as bytes already judged (dropped as bytes where no message starts,
    /// they would be sent again and again, never ACKed, and the connection would stall), also when the
    /// client's TCP sends them together with the next message's. Other bytes in their place cannot be
    /// placed. The message after them is judged each time it comes; the judged bytes are forgotten after
    /// two minutes without traffic.
    @Test func segmentsOfASplitMessageSentAgainPass() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        let split = split
        _ = Self.add(split.head, to: &framer)
        _ = Self.add(split.middle, to: &framer)
        #expect(Self.add(split.tail, to: &framer).methods == ["OPTIONS"])
        for (name, resent) in [("tail", split.tail), ("head", split.head), ("middle", split.middle)] {
            let again = Self.add(resent, to: &framer, at: 1.5)
            #expect(again.methods.isEmpty && !again.unframed, "\(name) sent again")
        }
        let other = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, register), to: &framer)
        #expect(other.unframed && other.methods.isEmpty, "other bytes in judged bytes' place")
        for attempt in 0..<2 {
            #expect(Self.add(split.next(), to: &framer, at: 4 + Double(attempt)).methods == ["REGISTER"])
        }
        // The tail and the REGISTER after it sent again as one segment: the REGISTER is judged.
        let collapsed = Self.segment(
            from: "192.0.2.10", sequence: 1000 + UInt32(split.cuts.1),
            Self.bytes(options, split.cuts.1...) + register)
        let both = Self.add(collapsed, to: &framer, at: 6)
        #expect(both.methods == ["REGISTER"] && !both.unframed)

        // A whole message before the split one, sent again with the split one's head: the message is
        // judged again, and the head, judged already, does not wait again (the next message would then
        // be past a gap).
        var before = TCPStreamFramer(classifier: SIPClassifier())
        let earlier = 1000 - UInt32(register.utf8.count)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: earlier, register), to: &before)
        for part in [split.head, split.middle, split.tail] { _ = Self.add(part, to: &before) }
        let resent = Self.add(
            Self.segment(from: "192.0.2.10", sequence: earlier, register + Self.bytes(options, ..<split.cuts.0)),
            to: &before, at: 2)
        #expect(resent.methods == ["REGISTER"] && !resent.unframed)
        #expect(Self.add(split.next(), to: &before, at: 3).methods == ["REGISTER"])

        // The next segment carries a whole message and the head of another: the split message's tail
        // sent again still passes.
        var following = TCPStreamFramer(classifier: SIPClassifier())
        for part in [split.head, split.middle, split.tail] { _ = Self.add(part, to: &following) }
        #expect(Self.add(split.next(Self.bytes(options, ..<20)), to: &following).methods == ["REGISTER"])
        let tailAgain = Self.add(split.tail, to: &following, at: 2)
        #expect(tailAgain.methods.isEmpty && !tailAgain.unframed)

        var expiring = TCPStreamFramer(classifier: SIPClassifier())
        for part in [split.head, split.middle, split.tail] { _ = Self.add(part, to: &expiring) }
        #expect(!Self.add(split.tail, to: &expiring, at: 100).unframed)
        #expect(Self.add(split.tail, to: &expiring, at: 221).unframed, "past its retention")
    }

    /// The server's TCP reads a stream's bytes in sequence order, so the framer judges them in it.
    /// Bytes of a whole message sent before a waiting head's place (or a refused one's) are not taken for
    /// a resend; bytes past a gap do not start the stream over; a FIN, reset or SYN from the client,
    /// which the server ignores outside its window, does not make it forget a waiting head. Each would
    /// let a message reach the server unjudged.
    @Test func bytesAreJudgedInTheOrderTheServerReadsThem() {
        let call = Array(
            Transaction.invite(from: "1001", at: "192.0.2.10", to: "+88216100000", callID: "x").request.utf8)
        // A harmless head far ahead, then the call in the place before it.
        var gap = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 5000, Self.bytes(options, ..<40)), to: &gap)
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, Self.text(call[...])), to: &gap).unframed)
        // The call refused where it was sent first, then sent before that place.
        var refused = TCPStreamFramer(classifier: SIPClassifier())
        let dropped = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 5000, Self.text(call[...])), to: &refused, drops: { _ in true })
        #expect(dropped.methods == ["INVITE"])
        let before = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, Self.text(call[...])), to: &refused)
        #expect(before.methods == ["INVITE"], "judged, not passed as a resend")
        // The call's head waits; a whole message past a gap; then the gap's bytes complete the call.
        var overGap = TCPStreamFramer(classifier: SIPClassifier())
        let end = call.count - 2
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, Self.text(call[..<end])), to: &overGap)
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 3000, options), to: &overGap).unframed)
        let filled = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(end), "\r\n" + options), to: &overGap)
        #expect(filled.methods == ["INVITE", "OPTIONS"])
        // The call's head waits; FIN, reset and SYN from the client; then its last bytes.
        var closing = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, Self.text(call[..<end])), to: &closing)
        for flags: UInt8 in [0x11, 0x04, 0x02] {
            _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 9000, flags: flags, ""), to: &closing)
        }
        let last = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(end), "\r\n"), to: &closing)
        #expect(last.methods == ["INVITE"])
        // Waiting bytes a segment turns into no SIP: that segment is unframed, and so is its resend.
        var garbled = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 5000, "XYZ"), to: &garbled)
        let scan = Self.segment(from: "192.0.2.10", sequence: 5003, "\r\n\r\n" + options)
        #expect(Self.add(scan, to: &garbled).unframed)
        #expect(Self.add(scan, to: &garbled, at: 1.2).unframed)
    }

    /// Bytes just before a message that waits unjudged come first in the stream, and it is framed again
    /// with them: the head of a message overtaken by its rest (a rest that looks like a start line cut
    /// short waits as one), or a message lost before another's head and sent again, alone or with it.
    @Test func bytesJustBeforeAWaitingMessageAreFramedWithIt() {
        let body = "Signal=1\r\nDuration=160"
        let info = Array(
            ("INFO sip:100@pbx.example.com SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.10;branch=z9hG4bKi1\r\n"
                + "From: <sip:1@pbx.example.com>;tag=1\r\nTo: <sip:100@pbx.example.com>\r\nCall-ID: info-1\r\n"
                + "CSeq: 2 INFO\r\nContent-Type: application/dtmf-relay\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                + body).utf8)
        var overtaken = TCPStreamFramer(classifier: SIPClassifier())
        let cut = info.count - 12
        let rest = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(cut), Self.text(info[cut...])), to: &overtaken)
        #expect(!rest.unframed && rest.methods.isEmpty)
        let head = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, Self.text(info[..<cut])), to: &overtaken)
        #expect(head.methods == ["INFO"] && !head.unframed)
        let after = Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(info.count), register)
        #expect(Self.add(after, to: &overtaken).methods == ["REGISTER"])

        // A REGISTER lost before an OPTIONS head that waits, sent again alone and with the head.
        let length = UInt32(register.utf8.count)
        let waiting = Self.segment(from: "192.0.2.10", sequence: 1000 + length, Self.bytes(options, ..<40))
        for resent in [register, register + Self.bytes(options, ..<10)] {
            var lost = TCPStreamFramer(classifier: SIPClassifier())
            _ = Self.add(waiting, to: &lost)
            let again = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, resent), to: &lost)
            #expect(again.methods == ["REGISTER"] && !again.unframed)
            let end = Self.segment(from: "192.0.2.10", sequence: 1040 + length, Self.bytes(options, 40...))
            #expect(Self.add(end, to: &lost).methods == ["OPTIONS"])
        }
        var other = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(waiting, to: &other)
        let changed = Self.segment(from: "192.0.2.10", sequence: 1000, register + "XXXXXXXXXX")
        #expect(Self.add(changed, to: &other).unframed, "other bytes in the waiting head's place")
        // Sent again with the whole OPTIONS: both judged.
        var whole = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(waiting, to: &whole)
        let both = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, register + options), to: &whole)
        #expect(both.methods == ["REGISTER", "OPTIONS"])
    }

    /// The rule for bytes just before a waiting message, bounded: a dropped segment leaves the entry as
    /// it was; a message whose Content-Length is known is framed again from the new start; only a
    /// message that began its segment takes bytes before it (of one that followed others in its
    /// segment, the filter saw what came before), and only a few times (each frames it all again).
    @Test func bytesJustBeforeAWaitingMessageWithinBounds() {
        let length = UInt32(register.utf8.count)
        let waiting = Self.segment(from: "192.0.2.10", sequence: 1000 + length, Self.bytes(options, ..<40))
        let lost = Self.segment(from: "192.0.2.10", sequence: 1000, register)
        var dropped = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(waiting, to: &dropped)
        let before = dropped.streams.first?.value
        #expect(Self.add(lost, to: &dropped, drops: { _ in true }).methods == ["REGISTER"])
        let after = dropped.streams.first?.value
        #expect(after?.bytes == before?.bytes && after?.waitingFrom == before?.waitingFrom)
        #expect(after?.nextSequence == before?.nextSequence && after?.prependable == before?.prependable)
        #expect(after?.needed == before?.needed && after?.searched == before?.searched)

        // The head of a message with a body: its end is known, and a lost message before it is framed.
        let withBody = Array(
            ("MESSAGE sip:100@pbx.example.com SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.10;branch=z9hG4bKm\r\n"
                + "From: <sip:1@pbx.example.com>;tag=1\r\nTo: <sip:100@pbx.example.com>\r\nCall-ID: m-1\r\n"
                + "CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 900\r\n\r\nhello").utf8)
        var known = TCPStreamFramer(classifier: SIPClassifier())
        let head = Self.segment(
            from: "192.0.2.10", sequence: 1000 + length, Self.text(withBody))
        _ = Self.add(head, to: &known)
        #expect(Self.add(lost, to: &known).methods == ["REGISTER"])

        // A head that followed a whole message in its segment, and bytes sent in that message's place.
        var followed = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 1000, register + Self.bytes(options, ..<40)), to: &followed)
        let sameLength = register.replacingOccurrences(of: "Call-ID: reg", with: "Call-ID: ger")
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, sameLength), to: &followed).unframed)
        // Judged bytes before the waiting ones: bytes before them cannot be placed.
        var judged = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000 + length, Self.bytes(options, ..<40)), to: &judged)
        _ = Self.add(
            Self.segment(
                from: "192.0.2.10", sequence: 1040 + length, Self.bytes(options, 40...) + Self.bytes(register, ..<20)),
            to: &judged)
        #expect(Self.add(lost, to: &judged).unframed)

        // The method of a waiting head sent again from its end, a byte a segment: a few are taken,
        // then no more.
        var many = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1105, Self.bytes(options, 5..<40)), to: &many)
        var unframed: [Bool] = []
        for k in (0..<5).reversed() {
            let byte = Self.segment(from: "192.0.2.10", sequence: 1100 + UInt32(k), Self.bytes(options, k..<(k + 1)))
            unframed.append(Self.add(byte, to: &many).unframed)
        }
        #expect(unframed == [false, false, false, false, true])
    }

    /// A waiting message never grows past the limit, here or at the server: the segment that would take
    /// it past cannot be placed (unless it also completes it), and the stream waits as it was. (Forgotten, its
    /// rest would be framed afresh, and a bare line end would pass and complete it at the server.)
    @Test func aWaitingMessageNeverGrowsPastTheLimit() {
        var framer = TCPStreamFramer(classifier: SIPClassifier(), bufferLimit: 300)
        let long = Array(("OPTIONS sip:x SIP/2.0\r\nX-Pad: " + String(repeating: "a", count: 400) + "\r\n").utf8)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, Self.text(long[..<150])), to: &framer)
        let over = Self.segment(from: "192.0.2.10", sequence: 1150, Self.text(long[150..<350]))
        #expect(Self.add(over, to: &framer).unframed)
        #expect(Self.add(over, to: &framer, at: 2).unframed)
        #expect(framer.streams.first?.value.waitingCount == 150)
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 1350, "\r\n"), to: &framer).unframed)
        var oneSegment = TCPStreamFramer(classifier: SIPClassifier(), bufferLimit: 300)
        #expect(
            Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, Self.text(long[..<350])), to: &oneSegment)
                .unframed)
    }

    /// A segment that is dropped never reaches the server: the stream stays as it was before it, and
    /// other bytes in its place continue the waiting message.
    @Test func aDroppedSegmentLeavesTheStreamAsItWas() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        let split = split
        _ = Self.add(split.head, to: &framer)
        let rest = Self.bytes(options, split.cuts.0...)
        let start = 1000 + UInt32(split.cuts.0)
        let first = Self.add(Self.segment(from: "192.0.2.10", sequence: start, rest), to: &framer, drops: { _ in true })
        #expect(first.methods == ["OPTIONS"])
        let other = Self.add(Self.segment(from: "192.0.2.10", sequence: start, rest + register), to: &framer, at: 2)
        #expect(other.methods == ["OPTIONS", "REGISTER"])
    }

    /// Where unframed bytes pass (the server's own, monitor mode), the server reads them: the stream's
    /// position is no longer known, and what follows is framed where it lies.
    @Test func unframedBytesThatPassEndTheEntry() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(split.head, to: &framer, dropsUnframed: false)
        let past = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 3000, options), to: &framer, dropsUnframed: false)
        #expect(past.unframed)
        let next = Self.segment(from: "192.0.2.10", sequence: 3000 + UInt32(options.utf8.count), register)
        #expect(Self.add(next, to: &framer, dropsUnframed: false).methods == ["REGISTER"])
    }

    /// The server's SYN-ACK (a new connection on the same ports) ends what was known of the old one.
    @Test func theServersSynAckEndsTheEntry() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(split.head, to: &framer)
        #expect(framer.streams.count == 1)
        let bytes = PacketBuilder.ipv4(
            source: "198.51.100.1", destination: "192.0.2.10", protocol: 6,
            payload: PacketBuilder.tcp(sourcePort: 5060, destinationPort: 40000, sequence: 7, flags: 0x12, payload: []))
        guard case .success(let synAck) = bytes.withUnsafeBytes({ PacketDecoder.decode(ipPacket: $0) }) else {
            Issue.record("the SYN-ACK does not decode")
            return
        }
        _ = Self.add(Segment(packet: synAck, bytes: bytes), to: &framer)
        #expect(framer.streams.isEmpty)
    }

    /// When the table is full, entries that only keep a judged tail go before streams whose messages
    /// wait for their end, even older ones: forgetting a waiting head drops its tail for good.
    @Test func judgedTailsGoBeforeWaitingMessagesWhenTheTableIsFull() {
        var framer = TCPStreamFramer(classifier: SIPClassifier(), capacity: 16)
        let cut = options.utf8.count / 2
        let head = Self.bytes(options, ..<cut)
        let tail = Self.bytes(options, cut...)
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
        let head = Self.text(bytes[..<40])
        let tail = Self.text(bytes[40...])
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, head), to: &framer)
        let far = Self.add(Self.segment(from: "192.0.2.10", sequence: 1040 &+ 0x8000_0000, options), to: &framer)
        #expect(far.methods.isEmpty && far.unframed)
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
                    options + Self.text(subscribe[..<cut])), to: &framer)
            #expect(first.methods == ["OPTIONS"] && !first.unframed, "cut at \(cut)")
            let rest = Self.add(
                Self.segment(
                    from: "192.0.2.10", sequence: 1000 + UInt32(options.utf8.count + cut),
                    Self.text(subscribe[cut...])), to: &framer)
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
        let head = Self.bytes(options, ..<cut)
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
        let head = Self.segment(from: "192.0.2.10", sequence: 1000, Self.bytes(options, ..<cut))
        let tail = Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(cut), Self.bytes(options, cut...))
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
                Self.text(bytes[range]))
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
        // Judged bytes before the waiting ones (the end of a message: an empty line) are not searched.
        let judged = Array("Via: b\r\n\r\n".utf8)
        var stream = TCPStreamFramer.Stream(
            bytes: judged, waitingFrom: judged.count, nextSequence: 0, lastSeen: Timestamp(seconds: 0))
        stream.bytes += Array("INVITE sip:1@x SIP/2.0\r\nVia: a\r\n".utf8)
        var ready = stream.mayComplete(stream.bytes)
        #expect(!ready && stream.searched == stream.waitingCount)
        stream.bytes += Array("Call-ID: 1\r\n\r".utf8)
        ready = stream.mayComplete(stream.bytes)
        #expect(!ready)
        stream.bytes += Array("\n".utf8)
        ready = stream.mayComplete(stream.bytes)
        #expect(ready)
        var bare = TCPStreamFramer.Stream(
            bytes: Array("OPTIONS sip:x SIP/2.0\nVia: a\n\n".utf8), nextSequence: 0, lastSeen: Timestamp(seconds: 0))
        ready = bare.mayComplete(bare.bytes)
        #expect(ready)
        var body = TCPStreamFramer.Stream(
            bytes: judged + Array(repeating: 0x41, count: 99), waitingFrom: judged.count, needed: 100,
            nextSequence: 0, lastSeen: Timestamp(seconds: 0))
        ready = body.mayComplete(body.bytes)
        #expect(!ready)
        body.bytes.append(0x41)
        ready = body.mayComplete(body.bytes)
        #expect(ready)
    }

    /// A message's head sent again after the message completed (the client's ACK was lost) starts a
    /// waiting stream at the old position; the next message, past that "gap", starts the stream over
    /// instead of waiting for bytes that already came (its resends too).
    @Test func aHeadResentAfterItsMessageLeavesTheNextMessagesFramed() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        let cut = 40
        let head = Self.bytes(options, ..<cut)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, head), to: &framer)
        let tail = Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(cut), Self.bytes(options, cut...))
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
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: start, Self.bytes(options, ..<cut)), to: &framer)
        _ = Self.add(first, to: &framer, at: 1.1)
        let tail = Self.segment(from: "192.0.2.10", sequence: start + UInt32(cut), Self.bytes(options, cut...))
        let framed = Self.add(tail, to: &framer, at: 2)
        #expect(framed.methods == ["OPTIONS"] && !framed.unframed)
    }

    /// One address may have only a sixteenth of the table waiting: it cannot fill the table with
    /// unfinished messages and push out others' (or its own oldest, whose end would then be framed
    /// afresh). Another address still may; and a message that completes makes room.
    @Test func oneAddressMayHaveOnlyAFewMessagesWaiting() {
        var framer = TCPStreamFramer(classifier: SIPClassifier(), capacity: 64)
        let head = Self.bytes(options, ..<40)
        let waited = (0..<5).map { port in
            !Self.add(Self.segment(from: "192.0.2.66", port: 41000 + UInt16(port), sequence: 1000, head), to: &framer)
                .unframed
        }
        #expect(waited == [true, true, true, true, false])
        #expect(!Self.add(Self.segment(from: "192.0.2.67", sequence: 1000, head), to: &framer).unframed)
        let rest = Self.segment(from: "192.0.2.66", port: 41000, sequence: 1040, Self.bytes(options, 40...))
        #expect(Self.add(rest, to: &framer).methods == ["OPTIONS"])
        #expect(!Self.add(Self.segment(from: "192.0.2.66", port: 41004, sequence: 1000, head), to: &framer).unframed)
    }

    @Test func manyWaitingStreamsStayWithinCapacityAndTheNewestIsKept() {
        var framer = TCPStreamFramer(classifier: SIPClassifier(), capacity: 64)
        let head = Self.bytes(options, ..<30)
        for client in 0..<1000 {
            _ = Self.add(
                Self.segment(from: "10.0.\(client / 250).\(client % 250 + 1)", sequence: 1000, head), to: &framer,
                at: 1 + Double(client) / 1000)
            #expect(framer.streams.count <= 64)
        }
        // The last client's message completes: its waiting head was not pushed out by older streams.
        let tail = Self.bytes(options, 30...)
        let done = Self.add(Self.segment(from: "10.0.3.250", sequence: 1030, tail), to: &framer, at: 2)
        #expect(done.methods == ["OPTIONS"])
    }
}
