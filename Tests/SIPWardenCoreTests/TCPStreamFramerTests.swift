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
        var lost = false
    }

    /// A decoded TCP segment and the bytes its offsets point into.
    struct Segment {
        var packet: DecodedPacket
        var bytes: [UInt8]
    }

    static func segment(
        from source: String, port: UInt16 = 40000, sequence: UInt32, acknowledgment: UInt32 = 0, flags: UInt8 = 0x18,
        _ text: String
    ) -> Segment {
        let bytes = PacketBuilder.ipv4(
            source: source, protocol: 6,
            payload: PacketBuilder.tcp(
                sourcePort: port, sequence: sequence, acknowledgment: acknowledgment, flags: flags,
                payload: Array(text.utf8)))
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

    /// The server's segment to a client of `framer`'s tests: an ACK of every byte before `ack`.
    static func acknowledgment(
        to client: String = "192.0.2.10", port: UInt16 = 40000, _ ack: UInt32, sequence: UInt32 = 7, flags: UInt8 = 0x10
    ) -> Segment {
        let bytes = PacketBuilder.ipv4(
            source: "198.51.100.1", destination: client, protocol: 6,
            payload: PacketBuilder.tcp(
                sourcePort: 5060, destinationPort: port, sequence: sequence, acknowledgment: ack, flags: flags,
                payload: []))
        guard case .success(let packet) = bytes.withUnsafeBytes({ PacketDecoder.decode(ipPacket: $0) }) else {
            fatalError("the builder's packet does not decode")
        }
        return Segment(packet: packet, bytes: bytes)
    }

    /// Adds `segment` as the filter does a client's in enforce mode (`guarded`), the segment
    /// dropped when `drops` says so of a message's method; `fromServer` as the filter does the server's.
    static func add(
        _ segment: Segment, to framer: inout TCPStreamFramer, at seconds: Double = 1, guarded: Bool = true,
        fromServer: Bool = false, drops: (String) -> Bool = { _ in false }
    ) -> Framed {
        var framed = Framed()
        segment.bytes.withUnsafeBytes { bytes in
            let payload = UnsafeRawBufferPointer(rebasing: bytes[segment.packet.payload])
            let framing = framer.add(
                segment.packet, payload: payload, at: Timestamp(seconds: seconds), fromServer: fromServer,
                guarded: guarded
            ) { message, bytes in
                let method = Self.text(bytes[message.methodToken.range])
                framed.methods.append(method)
                framed.anomalies.append(message.anomalies)
                return drops(method)
            }
            framed.unframed = framing.unframed
            framed.lost = framing.lost
        }
        return framed
    }

    /// Adds the server's ACK of every byte before `ack` on 192.0.2.10's stream.
    static func acknowledge(_ ack: UInt32, in framer: inout TCPStreamFramer, at seconds: Double = 1) {
        _ = add(acknowledgment(ack), to: &framer, at: seconds, fromServer: true)
    }

    /// Ten connections of `network`.1 to .10 at 2 s, each confirmed with an OPTIONS: in a table of 8,
    /// they push out the oldest entries.
    static func crowd(_ framer: inout TCPStreamFramer, from network: String = "10.0.8") {
        let options = Transaction(method: "OPTIONS").request
        for client in 1...10 {
            _ = add(acknowledgment(to: "\(network).\(client)", 1, flags: 0x12), to: &framer, at: 2, fromServer: true)
            _ = add(segment(from: "\(network).\(client)", sequence: 1, options), to: &framer, at: 2)
        }
    }

    let options = Transaction(method: "OPTIONS").request

    /// An inline framer (`framesLateJoins` false) with `capacity` entries, where 192.0.2.10's connection
    /// was made (the server's SYN-ACK: 7, acknowledging 1000) and carried `first` (an OPTIONS unless
    /// given) from 1000, which the server acknowledged, at 1 s.
    func inlineFramer(capacity: Int = TCPStreamFramer.defaultCapacity, carrying first: String? = nil) -> TCPStreamFramer
    {
        let first = first ?? options
        var framer = TCPStreamFramer(classifier: SIPClassifier(), capacity: capacity)
        framer.framesLateJoins = false
        _ = Self.add(Self.acknowledgment(1000, flags: 0x12), to: &framer, at: 1, fromServer: true)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, first), to: &framer, at: 1)
        Self.acknowledge(1000 + UInt32(first.utf8.count), in: &framer)
        return framer
    }
    let register = Transaction(method: "REGISTER", callID: "reg").request

    /// A segment of whole messages is framed where it lies. A client's bytes are kept until the server's
    /// ACK says it has them (to hold resends against); where unframed bytes pass, nothing is kept.
    @Test func aSegmentOfWholeMessagesIsFramedAndKeptUntilTheServerHasIt() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        let both = options + register
        let framed = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, both), to: &framer)
        #expect(framed.methods == ["OPTIONS", "REGISTER"])
        // Each is classified alone: the message after it is no trailing data of the first.
        #expect(framed.anomalies.allSatisfy { !$0.contains(.trailingData) && !$0.isMalformed })
        #expect(framer.streams.first?.value.bytes.count == both.utf8.count)
        Self.acknowledge(1000 + UInt32(options.utf8.count), in: &framer)
        #expect(framer.streams.first?.value.bytes.count == both.utf8.count, "an ACK within the judged bytes")
        Self.acknowledge(1000 + UInt32(both.utf8.count), in: &framer)
        #expect(framer.streams.first?.value.bytes.isEmpty == true)
        #expect(framer.streams.first?.value.serverKnown == true)

        var unguarded = TCPStreamFramer(classifier: SIPClassifier())
        let passed = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 1000, both), to: &unguarded, guarded: false)
        #expect(passed.methods == ["OPTIONS", "REGISTER"])
        #expect(unguarded.streams.isEmpty)
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

    /// Segments come again when the client saw no ACK for them: the same bytes at the same place pass
    /// unjudged (dropped, they would be sent again and again, never ACKed, and the connection would
    /// stall), alone or with the next message's bytes, which are judged. Other bytes in their place
    /// cannot be placed while the server may have the first ones; bytes before the server's position
    /// pass, whatever they are, since its TCP discards them.
    @Test func segmentsSentAgainPass() {
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
        #expect(Self.add(split.next(), to: &framer, at: 2).methods == ["REGISTER"])
        let registerAgain = Self.add(split.next(), to: &framer, at: 2.5)
        #expect(registerAgain.methods.isEmpty && !registerAgain.unframed)
        // The tail and the REGISTER sent again as one segment with a new message: only it is judged.
        let collapsed = Self.segment(
            from: "192.0.2.10", sequence: 1000 + UInt32(split.cuts.1),
            Self.bytes(options, split.cuts.1...) + register + options)
        let three = Self.add(collapsed, to: &framer, at: 2.6)
        #expect(three.methods == ["OPTIONS"] && !three.unframed)

        // Once the server has them, anything in their place passes unread.
        let end = 1000 + UInt32(split.options.count + split.register.count + options.utf8.count)
        Self.acknowledge(end, in: &framer, at: 2.7)
        #expect(framer.streams.first?.value.bytes.isEmpty == true)
        let old = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, register), to: &framer, at: 3)
        #expect(old.methods.isEmpty && !old.unframed)
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
        // No SIP after a whole message (a TLS handshake), line end or not: unframed.
        var tls = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 5000, options), to: &tls)
        let hello = Self.segment(
            from: "192.0.2.10", sequence: 5000 + UInt32(options.utf8.count), "\u{16}\u{03}\u{01}\u{02}\u{00}binary")
        #expect(Self.add(hello, to: &tls).unframed)
        // Waiting bytes a segment turns into no SIP: that segment is unframed, and so is its resend.
        var garbled = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 5000, "XYZ"), to: &garbled)
        let scan = Self.segment(from: "192.0.2.10", sequence: 5003, "\r\n\r\n" + options)
        #expect(Self.add(scan, to: &garbled).unframed)
        #expect(Self.add(scan, to: &garbled, at: 1.2).unframed)
    }

    /// A stream's first segment the filter sees (a connection it joined late) is framed where it lies,
    /// and bytes before it cannot be placed: the server may not have them. Should the server's ACK then
    /// say it lacks bytes before it, the server will read them first, with the bytes after them the
    /// filter framed otherwise: the stream is lost, and every later segment of it unframed. An ACK at or
    /// past its first byte says where the server is.
    @Test func bytesBeforeAStreamsFirstSegmentAreNotPlaced() {
        let length = UInt32(register.utf8.count)
        let first = Self.segment(from: "192.0.2.10", sequence: 1000 + length, options)
        let before = Self.segment(from: "192.0.2.10", sequence: 1000, register)
        var late = TCPStreamFramer(classifier: SIPClassifier())
        #expect(Self.add(first, to: &late).methods == ["OPTIONS"])
        #expect(Self.add(before, to: &late).unframed)
        Self.acknowledge(1000, in: &late)
        let lost = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, register + options), to: &late)
        #expect(lost.unframed && lost.lost && lost.methods.isEmpty)
        let next = Self.segment(from: "192.0.2.10", sequence: 1000 + length + UInt32(options.utf8.count), register)
        #expect(Self.add(next, to: &late, at: 2).lost)

        // The server has every byte before the first: now bytes before it pass unread.
        var joined = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(first, to: &joined)
        Self.acknowledge(1000 + length, in: &joined)
        let old = Self.add(before, to: &joined)
        #expect(!old.unframed && old.methods.isEmpty)
        #expect(Self.add(next, to: &joined).methods == ["REGISTER"])
    }

    /// The server's ACK of bytes the filter never let through (they went past a full queue): the stream
    /// is known again from there, and what waited is given up.
    @Test func anAcknowledgmentPastTheFiltersPositionStartsTheStreamThere() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, Self.bytes(options, ..<40)), to: &framer)
        Self.acknowledge(5000, in: &framer)
        let stream = framer.streams.first?.value
        #expect(stream?.bytes.isEmpty == true && stream?.nextSequence == 5000 && stream?.serverKnown == true)
        #expect(
            Self.add(Self.segment(from: "192.0.2.10", sequence: 5000, register), to: &framer).methods == ["REGISTER"])
        #expect(
            Self.add(Self.segment(from: "192.0.2.10", sequence: 1040, Self.bytes(options, 40...)), to: &framer)
                .methods.isEmpty)
    }

    /// Over a connection whose position the server told, the tricks that make the server read bytes the
    /// filter framed otherwise fail: a message's bare last line sent before its head (the head then
    /// waits; the server would complete it), and a segment over bytes the server already has whose body
    /// hides a call at the server's position (the server discards the overlap and reads the call).
    @Test func bytesAreFramedFromWhereTheServerReads() {
        let call = Array(
            Transaction.invite(from: "1001", at: "192.0.2.10", to: "+88216100000", callID: "x").request.utf8)
        var ordered = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, options), to: &ordered)
        let at = 1000 + UInt32(options.utf8.count)
        Self.acknowledge(at, in: &ordered)
        let early = Self.add(
            Self.segment(from: "192.0.2.10", sequence: at + UInt32(call.count - 2), "\r\n"), to: &ordered)
        #expect(early.unframed, "a last line before its head is past a gap")

        var hidden = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, options), to: &hidden)
        let covering = Array(
            ("MESSAGE sip:1@x SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.10;branch=z9hG4bKm\r\nFrom: <sip:1@x>;tag=1\r\n"
                + "To: <sip:1@x>\r\nCall-ID: m\r\nCSeq: 1 MESSAGE\r\n").utf8)
        // Its body runs to the segment's end, over the OPTIONS's place and the call.
        let rest = options.utf8.count + call.count - covering.count - "Content-Length: \r\n\r\n".utf8.count
        let bodyLength = (1...5).map { rest - $0 }.first { String($0).count == rest - $0 }!
        let message = covering + Array("Content-Length: \(bodyLength)\r\n\r\n".utf8)
        let padding = Array(repeating: UInt8(ascii: "x"), count: options.utf8.count - message.count)
        let trick = Self.segment(from: "192.0.2.10", sequence: 1000, Self.text(message + padding + call))
        #expect(Self.add(trick, to: &hidden).unframed, "other bytes in the place of bytes the server may lack")
        Self.acknowledge(at, in: &hidden)
        #expect(Self.add(trick, to: &hidden, at: 2).methods == ["INVITE"], "framed from the server's position")
    }

    /// Other bytes in the place of bytes let through that the server has not acknowledged are never
    /// placed, however long after: a TCP sends the same bytes again (segments with a bad checksum never
    /// reach the queue), and the server may hold the bytes after them out of order, to be read with
    /// whatever fills their place.
    @Test func otherBytesInThePlaceOfUnacknowledgedOnesAreNeverPlaced() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        let head = Self.bytes(register, ..<40)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, head), to: &framer, at: 1)
        Self.acknowledge(1040, in: &framer, at: 1.1)
        let rest = Self.bytes(register, 40...)
        let garbled = String(rest.dropLast(30)) + String(repeating: "~", count: 30)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1040, garbled), to: &framer, at: 1.2)
        for at in [2.0, 60] {
            let other = Self.add(Self.segment(from: "192.0.2.10", sequence: 1040, rest), to: &framer, at: at)
            #expect(other.unframed && other.methods.isEmpty, "at \(at) s")
        }
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

    /// Judged bytes the server lacks are kept (its TCP may have dropped them, its receive buffer full:
    /// the client sends them again), up to `bufferLimit`; those it has go once more than `judgedLimit`
    /// can. Where the server is not known, only the last `judgedLimit` to twice that are kept.
    @Test func judgedBytesTheServerLacksAreKept() {
        let length = UInt32(options.utf8.count)
        let base = 1000 + length
        var framer = inlineFramer(capacity: 64)
        framer.judgedLimit = 300
        for k: UInt32 in 0..<3 {
            _ = Self.add(Self.segment(from: "192.0.2.10", sequence: base + k * length, options), to: &framer)
        }
        #expect(framer.streams.first?.value.bytes.count == 3 * Int(length))
        let resent = Self.add(Self.segment(from: "192.0.2.10", sequence: base, options), to: &framer, at: 2)
        #expect(!resent.unframed && resent.methods.isEmpty)
        // Bytes the server has go once more than the limit can: 200 stay.
        Self.acknowledge(base + 200, in: &framer, at: 2)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: base + 3 * length, options), to: &framer, at: 2)
        #expect(framer.streams.first?.value.bytes.count == 4 * Int(length))
        let inFourth = base + 4 * length - 100
        Self.acknowledge(inFourth, in: &framer, at: 2)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: base + 4 * length, options), to: &framer, at: 2)
        #expect(framer.streams.first?.value.bytes.count == 100 + Int(length))
        let other = Self.add(Self.segment(from: "192.0.2.10", sequence: inFourth, register), to: &framer, at: 5)
        #expect(other.unframed && other.methods.isEmpty)

        var oneWay = TCPStreamFramer(classifier: SIPClassifier(), judgedLimit: 300)
        for k: UInt32 in 0..<3 {
            _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000 + k * length, options), to: &oneWay)
        }
        #expect(oneWay.streams.first?.value.bytes.count == 300)
        let unplaced = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, options), to: &oneWay, at: 2)
        #expect(unplaced.unframed && !unplaced.lost)
    }

    /// Past `bufferLimit` bytes the server lacks, the oldest are forgotten, and a resend of them (the
    /// server still waits for them) loses the connection: the client connects again rather than stall.
    @Test func aResendOfBytesForgottenBeforeTheServerHadThemLosesTheConnection() {
        let length = UInt32(options.utf8.count)
        let base = 1000 + length
        var framer = inlineFramer(capacity: 64)
        (framer.bufferLimit, framer.judgedLimit) = (2 * Int(length), 100)
        for k: UInt32 in 0..<4 {
            _ = Self.add(Self.segment(from: "192.0.2.10", sequence: base + k * length, options), to: &framer)
        }
        #expect(framer.streams.first?.value.bytes.count == 2 * Int(length))
        let resent = Self.add(Self.segment(from: "192.0.2.10", sequence: base, options), to: &framer, at: 2)
        #expect(resent.unframed && resent.lost)
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
        _ = Self.add(split.head, to: &framer, guarded: false)
        let past = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 3000, options), to: &framer, guarded: false)
        #expect(past.unframed)
        let next = Self.segment(from: "192.0.2.10", sequence: 3000 + UInt32(options.utf8.count), register)
        #expect(Self.add(next, to: &framer, guarded: false).methods == ["REGISTER"])
    }

    /// The server's SYN-ACK (a new connection on the same ports) starts the client's stream afresh,
    /// known from the byte it acknowledges: a segment overtaking the first is past a gap. Resets and
    /// FINs end nothing: the server ignores a client's outside its window, and the firewall's resets on
    /// the filter's behalf leave through the queue as the server's (forgetting there would let a
    /// refused message's last bytes through as a new stream's).
    @Test func theServersSynAckStartsTheStreamAndResetsEndNothing() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(split.head, to: &framer)
        for clients: UInt8 in [0x02, 0x04, 0x11] {
            _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, flags: clients, ""), to: &framer)
        }
        _ = Self.add(Self.acknowledgment(1000, flags: 0x14), to: &framer, fromServer: true)
        #expect(framer.streams.first?.value.isWaiting == true)
        _ = Self.add(Self.acknowledgment(1000, flags: 0x11), to: &framer, fromServer: true)  // the server closes
        _ = Self.add(Self.acknowledgment(7000, flags: 0x12), to: &framer, fromServer: true)
        let fresh = framer.streams.first?.value
        #expect(fresh?.bytes.isEmpty == true && fresh?.nextSequence == 7000 && fresh?.serverKnown == true)
        let overtaking = Self.segment(from: "192.0.2.10", sequence: 7000 + UInt32(options.utf8.count), register)
        #expect(Self.add(overtaking, to: &framer).unframed)
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 7000, options), to: &framer).methods == ["OPTIONS"])
        // Unguarded (monitor mode), a SYN-ACK keeps nothing.
        var monitored = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(Self.acknowledgment(7000, flags: 0x12), to: &monitored, guarded: false, fromServer: true)
        #expect(monitored.streams.isEmpty)
    }

    /// Inline, a stream whose handshake the filter did not see is lost at its first segment (the server
    /// may hold bytes past its start, which its TCP would discard and the filter would frame), and
    /// answered with a reset; the handshake of the connection made again starts it. A SYN-ACK sent again
    /// is the same connection: it leaves a waiting message where it is.
    @Test func inlineAStreamWithoutItsHandshakeIsLost() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        framer.framesLateJoins = false
        for at in [1.0, 2, 3] {
            let late = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, options), to: &framer, at: at)
            #expect(late.lost && late.unframed && late.methods.isEmpty, "at \(at) s")
            // The server's ACKs (of bytes before, say) do not make it known again.
            Self.acknowledge(1000 + UInt32(options.utf8.count), in: &framer, at: at)
        }
        #expect(framer.streams.isEmpty && framer.forgotten.isEmpty, "nothing is kept of a stream not known")
        _ = Self.add(Self.acknowledgment(5000, flags: 0x12), to: &framer, at: 3, fromServer: true)
        let head = Self.bytes(options, ..<40)
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 5000, head), to: &framer, at: 3).methods.isEmpty)
        _ = Self.add(Self.acknowledgment(5000, flags: 0x12), to: &framer, at: 4, fromServer: true)
        Self.acknowledge(5040, in: &framer, at: 4)
        let rest = Self.add(Self.segment(from: "192.0.2.10", sequence: 5040, Self.bytes(options, 40...)), to: &framer)
        #expect(rest.methods == ["OPTIONS"])
    }

    /// Inline, a stream whose entry is evicted is remembered where it stood (or as lost, when a message
    /// waited): bytes between the server's position and the filter's lose it after that, since the bytes
    /// let through there are gone; bytes the server has pass unread, as before.
    @Test func anEvictedStreamIsRememberedWhereItStood() {
        var framer = inlineFramer(capacity: 8)
        let afterOptions = 1000 + UInt32(options.utf8.count)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: afterOptions, register), to: &framer, at: 1)
        // A connection whose data the server has not acknowledged yet is not remembered: unknown, lost.
        _ = Self.add(Self.acknowledgment(to: "192.0.2.11", 1000, flags: 0x12), to: &framer, at: 1, fromServer: true)
        _ = Self.add(Self.segment(from: "192.0.2.11", sequence: 1000, options), to: &framer, at: 1)
        // Connections that carry data: a SYN flood's half-open ones would go first.
        Self.crowd(&framer)
        #expect(framer.streams.count == 8 && framer.forgotten.count == 1)
        let unconfirmed = Self.segment(from: "192.0.2.11", sequence: 1000 + UInt32(options.utf8.count), register)
        #expect(Self.add(unconfirmed, to: &framer, at: 3).lost)
        // Once the server acknowledges the bytes let through, the connection goes on from there.
        var acknowledged = framer
        let afterRegister = afterOptions + UInt32(register.utf8.count)
        Self.acknowledge(afterRegister, in: &acknowledged, at: 3)
        let after = Self.segment(from: "192.0.2.10", sequence: afterRegister, register)
        #expect(Self.add(after, to: &acknowledged, at: 3).methods == ["REGISTER"])
        // Before that, bytes in their place (a resend or others) cannot be checked: the connection is lost.
        let other = Self.add(Self.segment(from: "192.0.2.10", sequence: afterOptions, options), to: &framer, at: 3)
        #expect(other.unframed && other.lost, "in the place of bytes let through that the server may lack")
    }

    /// A new connection on the same ports, once the server acknowledged data on the old one (whose
    /// socket would answer a SYN with an ACK, never a SYN-ACK: the old one is gone), is started afresh
    /// by its SYN-ACK, even with the same initial sequence number: the server reads its bytes from the
    /// start, and so does the filter. Before that (SYN cookies answered a second SYN of a client that
    /// completed the first), another handshake makes the connection lost: the server may read from
    /// either. The old connection's SYN-ACK sent again, before the server acknowledged anything, is not
    /// a new connection.
    @Test func aNewConnectionWithTheSameSequenceNumbersStartsAfresh() {
        let call = Transaction.invite(from: "1001", at: "192.0.2.10", to: "+88216100000", callID: "again").request
        let length = UInt32((options + register).utf8.count)
        for acknowledged in [true, false] {
            var framer = TCPStreamFramer(classifier: SIPClassifier())
            framer.framesLateJoins = false
            _ = Self.add(Self.acknowledgment(1000, flags: 0x12), to: &framer, fromServer: true)
            _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, options + register), to: &framer)
            if acknowledged { Self.acknowledge(1000 + length, in: &framer) }
            let first: UInt32 = acknowledged ? 1000 : 1500
            _ = Self.add(Self.acknowledgment(first, flags: 0x12), to: &framer, at: 2, fromServer: true)
            let again = Self.add(Self.segment(from: "192.0.2.10", sequence: first, call), to: &framer, at: 2)
            #expect(acknowledged ? again.methods == ["INVITE"] : again.lost, "acknowledged: \(acknowledged)")
        }
    }

    /// With SYN cookies the server makes the connection from the first ACK it takes that carries a valid
    /// cookie (of any of the last minutes' SYN-ACKs), reading from that ACK's sequence number, wherever
    /// the client put it. Until the server acknowledges data, a client segment with a cookie's ACK is
    /// dropped (its TCP sends it again once the server's ACK comes) unless it starts where a message of
    /// the filter's does (the handshake's first byte, the end of the messages framed), even after a
    /// segment at the first byte (which the server may have refused): a pure ACK a few bytes off, the
    /// body of a waiting message sent where it would start a new one at the server, a keep-alive probe
    /// before the first byte. A client's bytes sent before the server's ACK pass: messages behind whole
    /// ones, and the rest of a message with the ACK of the connection.
    @Test func untilTheServerAcknowledgesDataNoSegmentMayMakeItReadElsewhere() {
        func made() -> TCPStreamFramer {
            var framer = TCPStreamFramer(classifier: SIPClassifier())
            framer.framesLateJoins = false
            _ = Self.add(Self.acknowledgment(1000, flags: 0x12), to: &framer, fromServer: true)
            return framer
        }
        func segment(_ sequence: UInt32, ack: UInt32, _ text: String = "") -> Segment {
            Self.segment(
                from: "192.0.2.10", sequence: sequence, acknowledgment: ack, flags: text.isEmpty ? 0x10 : 0x18, text)
        }
        var skewed = made()
        #expect(Self.add(segment(1003, ack: 11), to: &skewed).unframed)
        #expect(Self.add(segment(1000, ack: 8, options), to: &skewed).methods == ["OPTIONS"])
        var hidden = made()
        let head = "MESSAGE sip:x SIP/2.0\r\nContent-Length: 1000\r\n\r\n"
        #expect(!Self.add(segment(1000, ack: 3, head), to: &hidden).unframed, "its wrong ACK: the server refuses it")
        let at = 1000 + UInt32(head.utf8.count)
        let call = Self.add(segment(at, ack: 8 + UInt32(head.utf8.count), options), to: &hidden)
        #expect(call.unframed && call.methods.isEmpty)
        var probed = made()
        #expect(
            Self.add(segment(999, ack: 8), to: &probed).unframed && !Self.add(segment(999, ack: 8), to: &probed).lost)
        var pipelined = made()
        _ = Self.add(segment(1000, ack: 8, "\r\n\r\n"), to: &pipelined)
        #expect(Self.add(segment(1004, ack: 12, options), to: &pipelined).methods == ["OPTIONS"], "a cookie's ACK")
        let next = 1004 + UInt32(options.utf8.count)
        #expect(!Self.add(segment(next, ack: 8, Self.bytes(register, ..<40)), to: &pipelined).unframed)
        let rest = Self.bytes(register, 40...)
        #expect(Self.add(segment(next + 40, ack: 8 + next + 40 - 1000, rest), to: &pipelined).unframed)
        #expect(Self.add(segment(next + 40, ack: 8, rest), to: &pipelined).methods == ["REGISTER"])
    }

    /// Connections evicted before they carried data (a SYN flood's, which may have had the listener use
    /// cookies) take their cookies with them: for as long as those live, one of them may be any
    /// connection's on the same ports, so a connection not yet confirmed is read only where a message of
    /// the filter's starts, as if every segment had a cookie's ACK.
    @Test func whileForgottenCookiesLiveUnconfirmedConnectionsAreReadOnlyWhereMessagesStart() {
        var framer = TCPStreamFramer(classifier: SIPClassifier(), capacity: 8)
        framer.framesLateJoins = false
        for client in 1...10 {
            let synAck = Self.acknowledgment(to: "10.0.8.\(client)", 1, flags: 0x12)
            _ = Self.add(synAck, to: &framer, at: 2, fromServer: true)
        }
        let (head, rest) = (Self.bytes(register, ..<40), Self.bytes(register, 40...))
        for seconds in [3.0, 131] {
            var connection = framer
            _ = Self.add(Self.acknowledgment(1000, flags: 0x12), to: &connection, at: seconds, fromServer: true)
            let first = Self.segment(from: "192.0.2.10", sequence: 1000, acknowledgment: 8, head)
            _ = Self.add(first, to: &connection, at: seconds)
            let tail = Self.segment(from: "192.0.2.10", sequence: 1040, acknowledgment: 8, rest)
            let framed = Self.add(tail, to: &connection, at: seconds)
            guard seconds < 131 else {
                #expect(framed.methods == ["REGISTER"], "the forgotten cookies have expired")
                continue
            }
            #expect(framed.unframed && framed.methods.isEmpty)
            Self.acknowledge(1040, in: &connection, at: seconds)
            #expect(Self.add(tail, to: &connection, at: seconds).methods == ["REGISTER"], "confirmed")
        }
    }

    /// Cookies are forgotten (`cookiesForgottenUntil` until the last expires) wherever a connection's
    /// are not kept: evicted while a message waited (remembered as lost), a remembered connection reset
    /// by the server or pushed out of memory, the server connecting out from its ports, a SYN-ACK on an
    /// unguarded stream; not when a connection is remembered where it stood.
    @Test func everyWayCookiesAreForgottenIsNoted() {
        var cookies = TCPStreamFramer.SynCookies()
        cookies.record(sequence: 7, acknowledgment: 1000, at: Timestamp(seconds: 50))
        let flow = TCPStreamFramer.Flow(
            source: IPAddress("192.0.2.10")!, destination: IPAddress("198.51.100.1")!, sourcePort: 40000,
            destinationPort: 5060)
        func framer(capacity: Int = 8, _ stream: (inout TCPStreamFramer.Stream) -> Void) -> TCPStreamFramer {
            var framer = TCPStreamFramer(classifier: SIPClassifier(), capacity: capacity)
            framer.framesLateJoins = false
            var kept = TCPStreamFramer.Stream(at: 1000, guarded: true, seen: Timestamp(seconds: 50))
            (kept.serverNext, kept.serverKnown, kept.cookies) = (2000, true, cookies)
            kept.nextSequence = 2000
            stream(&kept)
            framer.keep(kept, for: flow)
            return framer
        }
        var idle = framer { _ in }
        idle.evict(flow)
        #expect(idle.cookiesForgottenUntil == 0)
        var waiting = framer { $0.bytes = Array("INVITE sip:".utf8) }
        waiting.evict(flow)
        #expect(waiting.cookiesForgottenUntil == 179)
        var reset = idle
        _ = Self.add(Self.acknowledgment(2000, flags: 0x14), to: &reset, at: 60, fromServer: true)
        #expect(reset.cookiesForgottenUntil == 179)
        var pushedOut = framer(capacity: 1) { _ in }
        pushedOut.evict(flow)
        for port: UInt16 in 1...4 {
            var other = flow
            other.sourcePort = port
            pushedOut.remember(other, as: .lost)
        }
        #expect(pushedOut.cookiesForgottenUntil == 179)
        var connectingOut = framer { _ in }
        _ = Self.add(Self.acknowledgment(0, flags: 0x02), to: &connectingOut, at: 60, fromServer: true)
        #expect(connectingOut.cookiesForgottenUntil == 179)
        var unguarded = framer { _ in }
        _ = Self.add(
            Self.acknowledgment(5000, flags: 0x12), to: &unguarded, at: 60, guarded: false, fromServer: true)
        #expect(unguarded.cookiesForgottenUntil == 179)
    }

    /// A client that sent two SYNs (SYN cookies answer each) may complete either handshake: a segment
    /// completing the earlier one (its `ack - sequence` matching that SYN-ACK's), or any bytes before
    /// the latest one's first byte, are dropped until the server acknowledges data; completing the
    /// latest one is framed.
    @Test func theClientCompletesTheHandshakeTheFilterKnows() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        framer.framesLateJoins = false
        _ = Self.add(Self.acknowledgment(1000, flags: 0x12), to: &framer, fromServer: true)
        _ = Self.add(Self.acknowledgment(1500, flags: 0x12), to: &framer, fromServer: true)
        #expect(
            Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, acknowledgment: 8, options), to: &framer).unframed
        )
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, options), to: &framer).unframed)
        #expect(
            Self.add(Self.segment(from: "192.0.2.10", sequence: 1500, acknowledgment: 8, options), to: &framer).methods
                == ["OPTIONS"])
        // A head at the latest one's first byte that the server refused (a wrong ACK), then, where the
        // filter would continue it, a segment completing the earlier handshake there.
        var earlier = TCPStreamFramer(classifier: SIPClassifier())
        earlier.framesLateJoins = false
        _ = Self.add(Self.acknowledgment(1000, flags: 0x12), to: &earlier, fromServer: true)
        _ = Self.add(Self.acknowledgment(1500, flags: 0x12), to: &earlier, fromServer: true)
        let head = "MESSAGE sip:x SIP/2.0\r\nContent-Length: 1000\r\n\r\n"
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1500, acknowledgment: 3, head), to: &earlier)
        let at = 1500 + UInt32(head.utf8.count)
        let rest = Self.segment(from: "192.0.2.10", sequence: at, acknowledgment: 8 + (at - 1000), options)
        #expect(Self.add(rest, to: &earlier).unframed)
    }

    /// Once the connection closes (the client's FIN right after its bytes, the server's FIN, or the
    /// client's reset where the server takes it), the server's listener may make a new one on these
    /// ports from a SYN cookie, wherever the client puts it: no more bytes are placed, not even as bytes
    /// the server has, until a SYN-ACK starts a new connection. A FIN or reset elsewhere closes nothing.
    @Test func noBytesArePlacedOnAClosedConnection() {
        let end = 1000 + UInt32(options.utf8.count)
        let call = Transaction.invite(from: "1001", at: "192.0.2.10", to: "+88216100000", callID: "late").request
        for (flags, sequence) in [(UInt8(0x11), end), (0x14, end), (0x11, end + 1), (0x14, end + 50)] {
            var framer = inlineFramer(capacity: 64)
            _ = Self.add(Self.segment(from: "192.0.2.10", sequence: sequence, flags: flags, ""), to: &framer)
            let closed = sequence == end
            let next = Self.add(Self.segment(from: "192.0.2.10", sequence: end, call), to: &framer)
            #expect(next.lost == closed && next.methods.isEmpty == closed, "flags \(flags) at \(sequence)")
        }
        // After its FIN and the server's ACK of it, bytes before the server's position are not taken
        // for bytes it has.
        var finished = inlineFramer(capacity: 64)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: end, flags: 0x11, ""), to: &finished)
        Self.acknowledge(end + 1, in: &finished)
        let overlapping = Self.segment(from: "192.0.2.10", sequence: end - 20, String(repeating: "x", count: 21) + call)
        let afterFin = Self.add(overlapping, to: &finished)
        #expect(afterFin.unframed && afterFin.methods.isEmpty)
        // The server's own reset (an abort) closes it too; a client's reset carrying data places none.
        var aborted = inlineFramer(capacity: 64)
        _ = Self.add(Self.acknowledgment(end, flags: 0x14), to: &aborted, fromServer: true)
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: end, call), to: &aborted).unframed)
        var resetWithData = inlineFramer(capacity: 64)
        let reset = Self.add(Self.segment(from: "192.0.2.10", sequence: end, flags: 0x14, call), to: &resetWithData)
        #expect(reset.methods.isEmpty && resetWithData.streams.first?.value.closed == true)
        // Evicted, a closed connection is not remembered where it stood: unknown, it is lost.
        var evicted = inlineFramer(capacity: 8)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: end, flags: 0x11, ""), to: &evicted)
        Self.crowd(&evicted, from: "10.0.3")
        #expect(evicted.forgotten.isEmpty)
        var serverClosed = inlineFramer(capacity: 64)
        _ = Self.add(Self.acknowledgment(end, flags: 0x11), to: &serverClosed, fromServer: true)
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: end, call), to: &serverClosed).unframed)
        _ = Self.add(Self.acknowledgment(9000, flags: 0x12), to: &serverClosed, fromServer: true)
        #expect(
            Self.add(Self.segment(from: "192.0.2.10", sequence: 9000, call), to: &serverClosed).methods == ["INVITE"])
    }

    /// A client's FIN is placed only right after the bytes let through: past them the server would hold
    /// it out of order and report it in a SACK block, and a reset at that block's edge (which Linux
    /// takes) would close the socket where the filter saw no close, leaving a listener with SYN cookies
    /// to read a new connection from anywhere. Dropped, it comes again in its place. One the server
    /// has (sent again after its ACK was lost, or before its position) passes: the server ignores it.
    @Test func aFinAnywhereButAfterTheBytesLetThroughIsNotPlaced() {
        let end = 1000 + UInt32(options.utf8.count)
        var framer = inlineFramer(capacity: 64)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: end, register), to: &framer)
        let afterRegister = end + UInt32(register.utf8.count)
        for sequence in [afterRegister + 10, end + 5] {
            let fin = Self.add(Self.segment(from: "192.0.2.10", sequence: sequence, flags: 0x11, ""), to: &framer)
            #expect(fin.unframed && !fin.lost, "FIN at \(sequence)")
        }
        #expect(!Self.add(Self.segment(from: "192.0.2.10", sequence: end - 5, flags: 0x11, ""), to: &framer).unframed)
        #expect(framer.streams.first?.value.closed == false)
        let fin = Self.segment(from: "192.0.2.10", sequence: afterRegister, flags: 0x11, "")
        #expect(!Self.add(fin, to: &framer).unframed)
        #expect(framer.streams.first?.value.closed == true)
        Self.acknowledge(afterRegister + 1, in: &framer, at: 1.1)
        #expect(!Self.add(fin, to: &framer, at: 1.5).unframed, "sent again after the server's ACK")
    }

    /// A server's socket can go without a word (an orphan's zero-window probes or retries run out, a
    /// user timeout), and a listener with SYN cookies then makes a new connection of a segment whose
    /// ACK less its sequence number is a recent SYN-ACK's cookie, reading from its first byte. For a
    /// cookie's life such a segment is not read where no message of the filter's starts: bytes the
    /// server has are dropped (a live socket has them), others lose the stream; at the filter's
    /// position, where nothing waits, it is read as ever.
    @Test func aSegmentASynCookieWouldOpenIsNotReadWhereNoMessageStarts() {
        let call = Transaction.invite(from: "1001", at: "192.0.2.10", to: "+88216100000", callID: "hidden").request
        let padding = String(repeating: "\r\n", count: 1000)
        let length = UInt32(padding.utf8.count)
        var framer = inlineFramer(carrying: padding)
        /// A segment at `sequence` with the cookie's ACK (the handshake's ack - seq, give or take `mss`).
        func cookie(_ sequence: UInt32, _ text: String, mss: UInt32 = 0) -> Segment {
            Self.segment(from: "192.0.2.10", sequence: sequence, acknowledgment: sequence &- 992 &+ mss, text)
        }
        var had = framer
        let old = Self.add(cookie(1000, call), to: &had, at: 100)
        #expect(old.unframed && !old.lost && old.methods.isEmpty, "bytes the server has")
        // Sent again (a client whose ACK from the server was lost would resend it until it gave up).
        #expect(Self.add(cookie(1000, call), to: &had, at: 101).lost, "sent again")
        var across = framer
        let overlapping = Self.add(cookie(1000 + length - 10, call, mss: 3), to: &across, at: 100)
        #expect(overlapping.lost && overlapping.methods.isEmpty, "past the server's position")
        var waiting = framer
        _ = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 1000 + length, Self.bytes(options, ..<40)), to: &waiting)
        #expect(Self.add(cookie(1000 + length + 40, Self.bytes(options, 40...)), to: &waiting, at: 100).lost)
        #expect(
            Self.add(cookie(1000 + length, options), to: &framer, at: 100).methods == ["OPTIONS"], "a message starts")
        var later = framer
        #expect(!Self.add(cookie(1000, padding), to: &later, at: 200).unframed, "the cookie has expired")
        #expect(!Self.add(cookie(1000, padding, mss: 4), to: &framer, at: 100).unframed, "not the cookie")
    }

    /// A connection evicted and remembered where it stood keeps its handshake's cookie.
    @Test func anEvictedConnectionKeepsItsCookie() {
        var framer = inlineFramer(capacity: 8)
        Self.crowd(&framer)
        #expect(framer.forgotten.count == 1)
        let old = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 1000, acknowledgment: 8, options), to: &framer, at: 3)
        #expect(old.unframed && old.methods.isEmpty)
    }

    /// Every SYN-ACK's cookie counts: one sent again for the same handshake in a later minute, an old
    /// connection's on these ports after a new one started, and after the stream started anew.
    @Test func everySynAcksCookieCounts() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        framer.framesLateJoins = false
        _ = Self.add(Self.acknowledgment(1000, flags: 0x12), to: &framer, at: 1, fromServer: true)
        _ = Self.add(Self.acknowledgment(1000, sequence: 90007, flags: 0x12), to: &framer, at: 61, fromServer: true)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, acknowledgment: 8, options), to: &framer, at: 61)
        let end = 1000 + UInt32(options.utf8.count)
        Self.acknowledge(end, in: &framer, at: 61)
        let again = Self.segment(from: "192.0.2.10", sequence: 1000, acknowledgment: 90008, options)
        #expect(Self.add(again, to: &framer, at: 62).unframed, "the later minute's")
        _ = Self.add(Self.acknowledgment(end + 1, flags: 0x11), to: &framer, at: 62, fromServer: true)
        _ = Self.add(Self.acknowledgment(9000, sequence: 50007, flags: 0x12), to: &framer, at: 63, fromServer: true)
        _ = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 9000, acknowledgment: 50008, options), to: &framer, at: 63)
        Self.acknowledge(9000 + UInt32(options.utf8.count), in: &framer, at: 63)
        let old = Self.segment(from: "192.0.2.10", sequence: 9000, acknowledgment: 8008, options)
        #expect(Self.add(old, to: &framer, at: 64).unframed, "the old connection's")
        // An ACK past the filter's position (bytes that passed a full queue) starts the stream there anew.
        Self.acknowledge(9100 + UInt32(options.utf8.count), in: &framer, at: 64)
        #expect(Self.add(old, to: &framer, at: 65).unframed, "after the server's ACK past the filter")
    }

    /// The last eight SYN-ACKs' cookies are kept, each for 128 s (to the whole second); a ninth pushing
    /// out one still alive makes any segment a possible cookie until that one would have expired.
    @Test func theLastEightCookiesAreKeptAndANinthMakesAnySegmentOne() {
        var cookies = TCPStreamFramer.SynCookies()
        func mayOpen(_ sequence: UInt32, _ acknowledgment: UInt32, at seconds: Double) -> Bool {
            cookies.mayOpen(sequence: sequence, acknowledgment: acknowledgment, at: Timestamp(seconds: seconds))
        }
        for k: UInt32 in 0..<8 {
            cookies.record(sequence: 5000 + 1000 * k, acknowledgment: 1000, at: Timestamp(seconds: 10 + Double(k)))
        }
        // Differences 4001, 5001, ... 11001: ack - seq within 3 of one.
        #expect(mayOpen(2000, 6001, at: 100) && mayOpen(2000, 6004, at: 100) && !mayOpen(2000, 6005, at: 100))
        #expect(mayOpen(2000, 13001, at: 100) && !mayOpen(2000, 8501, at: 100))
        #expect(!mayOpen(2000, 6001, at: 139) && mayOpen(2000, 13001, at: 139))
        // The same SYN-ACK again, or another MSS's in the same minute, takes its own place (not the
        // oldest's).
        cookies.record(sequence: 8000, acknowledgment: 1000, at: Timestamp(seconds: 20))
        cookies.record(sequence: 8002, acknowledgment: 1000, at: Timestamp(seconds: 20))
        #expect(!mayOpen(2000, 8501, at: 100) && mayOpen(2000, 9001, at: 147))
        cookies.record(sequence: 20000, acknowledgment: 1000, at: Timestamp(seconds: 21))
        #expect(mayOpen(2000, 8501, at: 138) && !mayOpen(2000, 8501, at: 140) && mayOpen(2000, 21001, at: 140))
        // A cookie within 3 of an expired one (another minute's) is kept as it is, not as the old one.
        cookies.record(sequence: 6003, acknowledgment: 1000, at: Timestamp(seconds: 300))
        #expect(mayOpen(2000, 7007, at: 301))
    }

    /// A cookie for a SYN with another MSS in the same minute has the MSS index (0 to 3) added to its
    /// low 24 bits, which may wrap: its ack - seq then lies 2^24 off the recorded one, give or take 3.
    @Test func aCookieOfAnotherMSSMayWrapItsLow24Bits() {
        var cookies = TCPStreamFramer.SynCookies()
        cookies.record(sequence: 5000, acknowledgment: 1000, at: Timestamp(seconds: 10))
        func mayOpen(_ difference: UInt32) -> Bool {
            cookies.mayOpen(sequence: 2000, acknowledgment: 2000 &+ difference, at: Timestamp(seconds: 20))
        }
        let wrap: UInt32 = 1 << 24
        #expect(mayOpen(4004 &- wrap) && mayOpen(3999 &+ wrap) && mayOpen(3998))
        #expect(!mayOpen(4005 &- wrap) && !mayOpen(4001 &+ wrap / 2) && !mayOpen(4001 &+ 2 &* wrap))
        #expect(TCPStreamFramer.SynCookies.isNear(4001, 4004 &- wrap))
    }

    /// A listener with SYN cookies makes a new connection of a bare ACK as of one with data: such an
    /// ACK off the filter's position is dropped too (a live socket loses nothing), or the next segment,
    /// starting before it with no cookie's difference, would pass as bytes the server has, and the new
    /// socket would read its tail.
    @Test func aBareAckASynCookieWouldOpenIsDropped() {
        let padding = String(repeating: "\r\n", count: 1000)
        var framer = inlineFramer(carrying: padding)
        let bare = Self.segment(from: "192.0.2.10", sequence: 1100, acknowledgment: 1100 &- 992, flags: 0x10, "")
        let opened = Self.add(bare, to: &framer, at: 100)
        #expect(opened.unframed && !opened.lost)
        let ahead = 1010 + UInt32(padding.utf8.count)
        let past = Self.add(
            Self.segment(from: "192.0.2.10", sequence: ahead, acknowledgment: ahead &- 992, flags: 0x10, ""),
            to: &framer,
            at: 100)
        #expect(past.unframed && !past.lost, "past the server's position")
    }

    /// A SYN-ACK that loses a stream (another handshake after the client completed one) still counts
    /// its cookie for the connection made after it.
    @Test func aSynAckThatLosesAStreamStillCountsItsCookie() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        framer.framesLateJoins = false
        _ = Self.add(Self.acknowledgment(1000, flags: 0x12), to: &framer, at: 1, fromServer: true)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, acknowledgment: 8, flags: 0x10, ""), to: &framer)
        _ = Self.add(Self.acknowledgment(5000, sequence: 100_007, flags: 0x12), to: &framer, at: 70, fromServer: true)
        #expect(framer.streams.first?.value.lost == true)
        _ = Self.add(Self.acknowledgment(9000, sequence: 50007, flags: 0x12), to: &framer, at: 130, fromServer: true)
        _ = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 9000, acknowledgment: 50008, options), to: &framer, at: 130)
        Self.acknowledge(9000 + UInt32(options.utf8.count), in: &framer, at: 130)
        let old = Self.segment(from: "192.0.2.10", sequence: 9000, acknowledgment: 9000 &+ 95008, options)
        #expect(Self.add(old, to: &framer, at: 140).unframed, "the second SYN-ACK's cookie lives until 199 s")
    }

    /// A phone on a fixed port that reconnects now and then keeps its calls: its SYN-ACKs' cookies are
    /// kept, not taken for a cookie flood, so a message in two segments is framed as ever.
    @Test func aClientThatReconnectsKeepsItsCalls() {
        let call = Transaction.invite(from: "1001", at: "192.0.2.10", to: "+88216100000", callID: "big").request
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        framer.framesLateJoins = false
        var resets: [Double] = []
        for k: UInt32 in 0..<12 {
            let seconds = 1 + 30 * Double(k)
            let (server, first) = (100_007 &+ k &* 7_919_000, 1000 &+ k &* 100_000)
            _ = Self.add(
                Self.acknowledgment(first, sequence: server, flags: 0x12), to: &framer, at: seconds, fromServer: true)
            let ping = Self.segment(from: "192.0.2.10", sequence: first, acknowledgment: server &+ 1, options)
            _ = Self.add(ping, to: &framer, at: seconds)
            let next = first &+ UInt32(options.utf8.count)
            _ = Self.add(Self.acknowledgment(next, sequence: server &+ 1), to: &framer, at: seconds, fromServer: true)
            let head = Self.segment(
                from: "192.0.2.10", sequence: next, acknowledgment: server &+ 1, Self.bytes(call, ..<40))
            _ = Self.add(head, to: &framer, at: seconds + 1)
            _ = Self.add(
                Self.acknowledgment(next &+ 40, sequence: server &+ 1), to: &framer, at: seconds + 1, fromServer: true)
            let tail = Self.segment(
                from: "192.0.2.10", sequence: next &+ 40, acknowledgment: server &+ 1, Self.bytes(call, 40...))
            let framed = Self.add(tail, to: &framer, at: seconds + 1)
            if framed.lost || framed.methods != ["INVITE"] { resets.append(seconds + 1) }
        }
        #expect(resets.isEmpty, "calls lost at \(resets)")
    }

    /// A client's reset where the server takes it closes a connection whose entry was evicted and
    /// remembered where it stood, as one in the table: recalled as open, it would take a SYN cookie's
    /// new connection (ack - seq as the old handshake's, anywhere) for the old one.
    @Test func aClientsResetClosesARememberedConnection() {
        var framer = inlineFramer(capacity: 8)
        let end = 1000 + UInt32(options.utf8.count)
        Self.crowd(&framer)
        #expect(framer.forgotten.count == 1)
        let reset = Self.add(Self.segment(from: "192.0.2.10", sequence: end, flags: 0x14, ""), to: &framer, at: 3)
        #expect(!reset.unframed)
        let call = Transaction.invite(from: "1001", at: "192.0.2.10", to: "+88216100000", callID: "hidden").request
        let start = end &- UInt32(call.utf8.count)
        let cookie = Self.segment(from: "192.0.2.10", sequence: start, acknowledgment: start &- 1000 &+ 8, call)
        #expect(Self.add(cookie, to: &framer, at: 4).lost)
    }

    /// A server reset closes a connection whose entry was evicted and remembered where it stood: recalled
    /// as open, it would take a SYN cookie's new connection for the old one.
    @Test func theServersResetClosesARememberedConnection() {
        var framer = inlineFramer(capacity: 8)
        let end = 1000 + UInt32(options.utf8.count)
        Self.crowd(&framer)
        #expect(framer.forgotten.count == 1)
        _ = Self.add(Self.acknowledgment(end, flags: 0x14), to: &framer, at: 3, fromServer: true)
        let call = Transaction.invite(from: "1001", at: "192.0.2.10", to: "+88216100000", callID: "hidden").request
        let old = Self.segment(from: "192.0.2.10", sequence: end &- UInt32(call.utf8.count) &- 100, call)
        #expect(Self.add(old, to: &framer, at: 3).lost)
    }

    /// The peer's SYN-ACK never moves its stream, whenever it comes (the server drops one to an
    /// established socket, or one with a TCP-MD5 option): after the server's first ACK made the stream
    /// and the server acknowledged data on it, or after the server's SYN-ACK where the SYNs crossed.
    @Test func aPeersSynAckMovesNothing() {
        let call = Transaction.invite(from: "1001", at: "192.0.2.10", to: "+88216100000", callID: "hidden").request
        /// A MESSAGE at `from` whose body covers the bytes up to `at`, where the INVITE starts.
        func cover(from: UInt32, at: UInt32) -> String {
            func head(_ length: Int) -> String { "MESSAGE sip:x SIP/2.0\r\nContent-Length: \(length)\r\n\r\n" }
            let padding = Int(at &- from) - head(1000).utf8.count
            return head(padding + call.utf8.count) + String(repeating: "x", count: padding) + call
        }
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        framer.framesLateJoins = false
        _ = Self.add(Self.acknowledgment(0, flags: 0x02), to: &framer, fromServer: true)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 999, acknowledgment: 8, flags: 0x12, ""), to: &framer)
        _ = Self.add(Self.acknowledgment(1000, sequence: 8), to: &framer, fromServer: true)
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, options), to: &framer).methods == ["OPTIONS"])
        let end = 1000 + UInt32(options.utf8.count)
        Self.acknowledge(end, in: &framer)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 499, acknowledgment: 8, flags: 0x12, ""), to: &framer)
        let late = Self.add(Self.segment(from: "192.0.2.10", sequence: 500, cover(from: 500, at: end)), to: &framer)
        #expect(late.methods == ["INVITE"], "read from where the server reads")

        var crossed = TCPStreamFramer(classifier: SIPClassifier())
        crossed.framesLateJoins = false
        _ = Self.add(Self.acknowledgment(0, flags: 0x02), to: &crossed, fromServer: true)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1999, flags: 0x02, ""), to: &crossed)
        _ = Self.add(Self.acknowledgment(2000, flags: 0x12), to: &crossed, fromServer: true)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 999, acknowledgment: 8, flags: 0x12, ""), to: &crossed)
        let early = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 1000, cover(from: 1000, at: 2000)), to: &crossed)
        #expect(early.methods.isEmpty && early.unframed)
    }

    /// A client's data without an ACK is not placed: the server's TCP discards it without a reset, so
    /// the filter would have judged bytes the server never read (and framed the next ones after them).
    @Test func dataWithoutAnAckIsNotPlaced() {
        var framer = inlineFramer()
        let next = 1000 + UInt32(options.utf8.count)
        let unacknowledged = Self.add(
            Self.segment(from: "192.0.2.10", sequence: next, flags: 0x08, register), to: &framer)
        #expect(unacknowledged.unframed && unacknowledged.methods.isEmpty)
        #expect(
            Self.add(Self.segment(from: "192.0.2.10", sequence: next, register), to: &framer).methods == ["REGISTER"])
    }

    /// After a connection out that failed (the peer reset the server's SYN), a SYN-ACK on its ports is
    /// the listener's: its cookie counts as any other's.
    @Test func aSynAckAfterAFailedConnectionOutCountsItsCookie() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        framer.framesLateJoins = false
        _ = Self.add(Self.acknowledgment(0, sequence: 500, flags: 0x02), to: &framer, fromServer: true)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 0, acknowledgment: 501, flags: 0x14, ""), to: &framer)
        _ = Self.add(Self.acknowledgment(1000, flags: 0x12), to: &framer, at: 2, fromServer: true)
        #expect(framer.connectingOut.isEmpty, "the connection out is gone")
        let head = Self.segment(from: "192.0.2.10", sequence: 1000, acknowledgment: 8, Self.bytes(register, ..<40))
        #expect(!Self.add(head, to: &framer, at: 2).unframed)
        let cookie = Self.segment(
            from: "192.0.2.10", sequence: 1040, acknowledgment: 1040 &+ 8 &- 1000, Self.bytes(register, 40...))
        #expect(Self.add(cookie, to: &framer, at: 2).unframed, "the listener would read from there")
    }

    /// A SYN flood's half-open connections (the server's SYN-ACK seen, no data) go first when the table
    /// is full, and nothing is remembered of them: established connections keep their entries.
    @Test func halfOpenConnectionsGoFirst() {
        var framer = inlineFramer(capacity: 8)
        for client in 1...40 {
            let synAck = Self.acknowledgment(to: "10.0.7.\(client)", 1, flags: 0x12)
            _ = Self.add(synAck, to: &framer, at: 2 + Double(client) / 100, fromServer: true)
        }
        #expect(framer.forgotten.isEmpty)
        let next = Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(options.utf8.count), register)
        #expect(Self.add(next, to: &framer, at: 3).methods == ["REGISTER"])
    }

    /// When the server connects out from its SIP port (its SYN, 7), its first ACK (8) starts the peer's
    /// stream at the byte it acknowledges: the peer's data is framed, not lost. The peer's SYN-ACK starts
    /// nothing (the server may drop it); nor does a later ACK of the server's, nor one before its SYN.
    @Test func theServersFirstAckOnAConnectionOutStartsThePeersStream() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        framer.framesLateJoins = false
        let data = Self.segment(from: "192.0.2.10", sequence: 5000, options)
        _ = Self.add(Self.acknowledgment(5000, sequence: 8), to: &framer, fromServer: true)
        #expect(Self.add(data, to: &framer).lost, "no connection out")
        _ = Self.add(Self.acknowledgment(0, flags: 0x02), to: &framer, fromServer: true)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 4999, acknowledgment: 8, flags: 0x12, ""), to: &framer)
        #expect(Self.add(data, to: &framer).lost, "the peer's SYN-ACK")
        _ = Self.add(Self.acknowledgment(5000, sequence: 9), to: &framer, fromServer: true)
        #expect(Self.add(data, to: &framer).lost, "not the server's first ACK")
        _ = Self.add(Self.acknowledgment(5000, sequence: 8), to: &framer, fromServer: true)
        #expect(Self.add(data, to: &framer).methods == ["OPTIONS"])
        // The server's SYN ends what was on these ports before, even a connection whose data it never
        // acknowledged.
        _ = Self.add(Self.acknowledgment(to: "192.0.2.12", 3000, flags: 0x12), to: &framer, fromServer: true)
        _ = Self.add(Self.segment(from: "192.0.2.12", sequence: 3000, options), to: &framer)
        _ = Self.add(Self.acknowledgment(to: "192.0.2.12", 0, flags: 0x02), to: &framer, fromServer: true)
        _ = Self.add(Self.acknowledgment(to: "192.0.2.12", 6000, sequence: 8), to: &framer, fromServer: true)
        #expect(Self.add(Self.segment(from: "192.0.2.12", sequence: 6000, options), to: &framer).methods == ["OPTIONS"])
        // Where the peer's SYN crosses the server's, the server's SYN-ACK starts it.
        _ = Self.add(Self.acknowledgment(to: "192.0.2.11", 0, flags: 0x02), to: &framer, fromServer: true)
        _ = Self.add(Self.acknowledgment(to: "192.0.2.11", 7000, flags: 0x12), to: &framer, fromServer: true)
        let crossed = Self.segment(from: "192.0.2.11", sequence: 7000, options)
        #expect(Self.add(crossed, to: &framer).methods == ["OPTIONS"])
        // Its SYN-ACK made the connection: its next segment (8) restarts nothing, and the OPTIONS sent
        // again is bytes the server has.
        let acknowledged = 7000 + UInt32(options.utf8.count)
        _ = Self.add(
            Self.acknowledgment(to: "192.0.2.11", acknowledged, sequence: 8), to: &framer, fromServer: true)
        #expect(!Self.add(crossed, to: &framer).unframed)
    }

    /// A second handshake on a connection that carried nothing yet (SYN cookies answer every SYN, with
    /// first bytes apart) starts it at the new first byte; bytes before it are not placed until the
    /// server acknowledges data. A client's SYN-ACK (a simultaneous open the server never made) moves
    /// nothing.
    @Test func aSecondHandshakeOnANewConnectionStartsItThere() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        framer.framesLateJoins = false
        _ = Self.add(Self.acknowledgment(1000, flags: 0x12), to: &framer, fromServer: true)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 66000, acknowledgment: 8, flags: 0x12, ""), to: &framer)
        _ = Self.add(Self.acknowledgment(1500, flags: 0x12), to: &framer, fromServer: true)
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, options), to: &framer).unframed)
    }

    /// The client's ACK of the server's SYN-ACK makes the connection one that is no SYN flood's: a flood
    /// of half-open ones does not push it out before its first data.
    @Test func aConnectionMadeIsNoLongerHalfOpen() {
        var framer = TCPStreamFramer(classifier: SIPClassifier(), capacity: 8)
        framer.framesLateJoins = false
        _ = Self.add(Self.acknowledgment(1000, flags: 0x12), to: &framer, at: 1, fromServer: true)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, acknowledgment: 8, flags: 0x10, ""), to: &framer)
        for client in 1...40 {
            let synAck = Self.acknowledgment(to: "10.0.4.\(client)", 1, flags: 0x12)
            _ = Self.add(synAck, to: &framer, at: 1 + Double(client) / 100, fromServer: true)
        }
        #expect(
            Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, options), to: &framer, at: 2).methods == [
                "OPTIONS"
            ])
    }

    /// Over the byte budget the entries holding the most go (an attacker's long waiting messages), not
    /// the idle ones, which hold next to nothing.
    @Test func overTheByteBudgetTheLargestGo() {
        var framer = TCPStreamFramer(classifier: SIPClassifier(), byteBudget: 40_000)
        let idle = (1...10).map { "10.0.6.\($0)" }
        for client in idle {
            _ = Self.add(Self.segment(from: client, sequence: 1000, options), to: &framer)
            _ = Self.add(
                Self.acknowledgment(to: client, 1000 + UInt32(options.utf8.count)), to: &framer, fromServer: true)
        }
        let long = "MESSAGE sip:x SIP/2.0\r\nContent-Length: 60000\r\n\r\n" + String(repeating: "x", count: 9000)
        var evictions = 0
        for port: UInt16 in 41000..<41006 {
            let before = framer.streams.count
            _ = Self.add(Self.segment(from: "203.0.113.9", port: port, sequence: 1, long), to: &framer, at: 2)
            guard framer.streams.count <= before else { continue }
            evictions += 1
            #expect(framer.heldBytes <= 35_000, "down to seven eighths, not one sort per segment")
        }
        #expect(evictions > 0 && framer.heldBytes <= 40_000)
        #expect(idle.allSatisfy { client in framer.streams.keys.contains { $0.source == IPAddress(client) } })
    }

    /// Inline, a stream evicted while a message waited is lost, and nothing need be remembered of it:
    /// a stream the filter knows nothing of is lost (so cycling the memory gains an attacker nothing).
    @Test func inlineAnEvictedWaitingStreamIsLostWithoutAMemory() {
        var framer = TCPStreamFramer(classifier: SIPClassifier(), capacity: 8)
        framer.framesLateJoins = false
        let head = Self.bytes(options, ..<(options.utf8.count - 2))
        for (client, at) in [("192.0.2.10", 1.0)] + (1...8).map({ ("10.0.5.\($0)", 2.0) }) {
            _ = Self.add(Self.acknowledgment(to: client, 1000, flags: 0x12), to: &framer, at: at, fromServer: true)
            _ = Self.add(Self.segment(from: client, sequence: 1000, head), to: &framer, at: at)
        }
        #expect(framer.forgotten.isEmpty)
        let end = Self.add(
            Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(head.utf8.count), "\r\n"), to: &framer, at: 3)
        #expect(end.lost && end.methods.isEmpty)
    }

    /// The memory of forgotten streams is a ring: a stream forgotten again takes a new place, and the
    /// old place, when its turn comes, does not forget it.
    @Test func aStreamForgottenTwiceIsRememberedFromItsLastPlace() {
        var framer = TCPStreamFramer(classifier: SIPClassifier(), capacity: 1)
        func flow(_ host: String) -> TCPStreamFramer.Flow {
            TCPStreamFramer.flow(of: Self.segment(from: host, sequence: 1, "").packet)
        }
        framer.remember(flow("192.0.2.10"), as: .lost)
        framer.forgotten.removeValue(forKey: flow("192.0.2.10"))  // its connection made again
        for host in ["10.0.0.1", "10.0.0.2"] { framer.remember(flow(host), as: .lost) }
        framer.remember(flow("192.0.2.10"), as: .lost)
        framer.remember(flow("10.0.0.3"), as: .lost)  // in the first place, 192.0.2.10's old one
        #expect(framer.forgotten[flow("192.0.2.10")] != nil)
        framer.remember(flow("10.0.0.4"), as: .lost)
        #expect(framer.forgotten[flow("10.0.0.1")] == nil && framer.forgotten.count == 4)
    }

    /// The server's resets carry no position: the firewall's, sent on the filter's behalf, pass the
    /// queue as the server's, acknowledging all the client sent (a SYN among it), and must not move the
    /// filter past bytes the server never got.
    @Test func aResetFromTheServerMovesNothing() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        _ = Self.add(Self.acknowledgment(1000, flags: 0x12), to: &framer, fromServer: true)
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, Self.bytes(options, ..<40)), to: &framer)
        _ = Self.add(Self.acknowledgment(9000, flags: 0x14), to: &framer, fromServer: true)
        let stream = framer.streams.first?.value
        #expect(stream?.nextSequence == 1040 && stream?.serverNext == 1000 && stream?.isWaiting == true)
    }

    /// An array grown for a long message is given back once the server has the message: the budget
    /// counts what the arrays hold, and idle connections must not fill it.
    @Test func anArrayGrownForALongMessageIsGivenBack() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        var long = Transaction(method: "MESSAGE", callID: "long")
        long.body = String(repeating: "x", count: 60_000)
        let bytes = Array(long.request.utf8)
        _ = Self.add(Self.acknowledgment(1000, flags: 0x12), to: &framer, fromServer: true)
        #expect(
            Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, long.request), to: &framer).methods == ["MESSAGE"]
        )
        Self.acknowledge(1000 + UInt32(bytes.count), in: &framer)
        #expect(framer.streams.first?.value.bytes.capacity == 0, "emptied, it holds nothing")
        #expect(framer.heldBytes == framer.streams.first?.value.bytes.capacity)
    }

    /// Bytes a client's socket would not read in place cannot be placed: data on a SYN (TCP Fast Open,
    /// which a SYN-ACK would then start afresh) and urgent data (taken out of the stream by the server's
    /// socket, so that "Content-Length: 1040" with an urgent "1" reads as 040 there), its pointer sent
    /// on data or on a bare ACK.
    @Test func dataOnASynAndUrgentDataAreNotPlaced() {
        var framer = TCPStreamFramer(classifier: SIPClassifier())
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 999, flags: 0x02, options), to: &framer).unframed)
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, flags: 0x38, options), to: &framer).unframed)
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, flags: 0x30, ""), to: &framer).unframed)
        #expect(framer.streams.isEmpty)
        #expect(Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, options), to: &framer).methods == ["OPTIONS"])
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
        func stream(_ bytes: [UInt8], waitingFrom: Int = 0, needed: Int = 0) -> TCPStreamFramer.Stream {
            var stream = TCPStreamFramer.Stream(at: 0, guarded: true, seen: Timestamp(seconds: 0))
            (stream.bytes, stream.waitingFrom, stream.needed) = (bytes, waitingFrom, needed)
            return stream
        }
        var headers = stream(judged, waitingFrom: judged.count)
        headers.bytes += Array("INVITE sip:1@x SIP/2.0\r\nVia: a\r\n".utf8)
        var ready = headers.mayComplete()
        #expect(!ready && headers.searched == headers.waitingCount)
        headers.bytes += Array("Call-ID: 1\r\n\r".utf8)
        ready = headers.mayComplete()
        #expect(!ready)
        headers.bytes += Array("\n".utf8)
        ready = headers.mayComplete()
        #expect(ready)
        var bare = stream(Array("OPTIONS sip:x SIP/2.0\nVia: a\n\n".utf8))
        ready = bare.mayComplete()
        #expect(ready)
        var body = stream(judged + Array(repeating: 0x41, count: 99), waitingFrom: judged.count, needed: 100)
        ready = body.mayComplete()
        #expect(!ready)
        body.bytes.append(0x41)
        ready = body.mayComplete()
        #expect(ready)
    }

    /// A message's head sent again after the message completed (the client saw no ACK) passes as the
    /// bytes they are; the next message is judged, and passes unjudged when sent again.
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
            #expect(framed.methods == (attempt == 0 ? ["REGISTER"] : []) && !framed.unframed, "attempt \(attempt)")
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

    /// One address may have only a few messages waiting: it cannot fill the table with unfinished
    /// messages and push out others' (or its own oldest, whose end would then be framed afresh). Another
    /// address still may; and a message that completes makes room.
    @Test func oneAddressMayHaveOnlyAFewMessagesWaiting() {
        var framer = TCPStreamFramer(classifier: SIPClassifier(), waitingPerSource: 4)
        let head = Self.bytes(options, ..<40)
        let waited = (0..<5).map { port in
            !Self.add(Self.segment(from: "192.0.2.66", port: 41000 + UInt16(port), sequence: 1000, head), to: &framer)
                .unframed
        }
        #expect(waited == [true, true, true, true, false])
        #expect(!Self.add(Self.segment(from: "192.0.2.67", sequence: 1000, head), to: &framer).unframed)
        // Nor may a connection of its that carried whole messages so far.
        _ = Self.add(Self.segment(from: "192.0.2.66", port: 41005, sequence: 1000, options), to: &framer)
        let after = Self.segment(from: "192.0.2.66", port: 41005, sequence: 1000 + UInt32(options.utf8.count), head)
        #expect(Self.add(after, to: &framer).unframed)
        let rest = Self.segment(from: "192.0.2.66", port: 41000, sequence: 1040, Self.bytes(options, 40...))
        #expect(Self.add(rest, to: &framer).methods == ["OPTIONS"])
        #expect(!Self.add(Self.segment(from: "192.0.2.66", port: 41004, sequence: 1000, head), to: &framer).unframed)
    }

    /// An address at its limit of waiting messages gets back the places of those that waited longer
    /// than a transaction lives (phones behind one NAT that lost power mid-message); their connections
    /// are lost. The table is searched for them at most once a second.
    @Test func messagesWaitingLongerThanATransactionGiveUpTheirPlaces() {
        var framer = TCPStreamFramer(classifier: SIPClassifier(), waitingPerSource: 4)
        let head = Self.bytes(options, ..<40)
        func waits(_ port: UInt16, at seconds: Double) -> Bool {
            let segment = Self.segment(from: "192.0.2.66", port: 41000 + port, sequence: 1000, head)
            return !Self.add(segment, to: &framer, at: seconds).unframed
        }
        #expect(waits(1, at: 1) && waits(2, at: 2) && waits(3, at: 9) && waits(4, at: 9))
        // At 33.5 s the first has waited 32.5 s: it goes, the second (31.5 s) stays.
        #expect(waits(5, at: 33.5))
        // At 34.2 s the second has waited 32.2 s, but the table was searched less than a second ago.
        #expect(!waits(6, at: 34.2))
        #expect(waits(6, at: 34.6))
        let rest = Self.bytes(options, 40...)
        let first = Self.add(Self.segment(from: "192.0.2.66", port: 41001, sequence: 1040, rest), to: &framer, at: 35)
        #expect(first.lost && first.methods.isEmpty)
        let third = Self.add(Self.segment(from: "192.0.2.66", port: 41003, sequence: 1040, rest), to: &framer, at: 35)
        #expect(third.methods == ["OPTIONS"])
    }

    /// The entries' arrays together stay within the byte budget: past it the oldest eighth goes, and the
    /// count of each address's waiting messages follows what is left.
    @Test func theEntriesStayWithinTheByteBudget() {
        var framer = TCPStreamFramer(classifier: SIPClassifier(), byteBudget: 20_000)
        let head = Self.bytes(options, ..<200)
        for client in 0..<400 {
            let source = "10.1.\(client / 200).\(client % 200 + 1)"
            _ = Self.add(Self.segment(from: source, sequence: 1000, head), to: &framer, at: 1 + Double(client) / 1000)
            let held = framer.streams.values.reduce(0) { $0 + $1.bytes.capacity }
            #expect(held == framer.heldBytes && held <= 20_000)
        }
        #expect(framer.streams.count < 400)
        let waiting = framer.streams.filter(\.value.isWaiting).map(\.key.source)
        #expect(framer.waitingBySource == Dictionary(waiting.map { ($0, 1) }, uniquingKeysWith: +))
        let done = Self.add(Self.segment(from: "10.1.1.200", sequence: 1200, Self.bytes(options, 200...)), to: &framer)
        #expect(done.methods == ["OPTIONS"])
    }

    /// A connection whose waiting message is evicted (the server holds its start) is lost: framed afresh,
    /// its next bytes (a bare line end) would complete that message at the server unjudged. Eviction
    /// takes an eighth of the table, however many entries were seen at the same time.
    @Test func anEvictedWaitingMessageLosesItsConnection() {
        var framer = TCPStreamFramer(classifier: SIPClassifier(), capacity: 16)
        let head = Self.bytes(options, ..<(options.utf8.count - 2))
        _ = Self.add(Self.segment(from: "192.0.2.10", sequence: 1000, head), to: &framer, at: 1)
        for client in 1...16 {
            _ = Self.add(Self.segment(from: "10.0.9.\(client)", sequence: 1000, head), to: &framer, at: 2)
        }
        #expect(framer.streams.count == 15)
        let end = Self.segment(from: "192.0.2.10", sequence: 1000 + UInt32(head.utf8.count), "\r\n")
        let last = Self.add(end, to: &framer, at: 3)
        #expect(last.unframed && last.lost && last.methods.isEmpty)
        // A new connection on the same ports (the server's SYN-ACK) is not lost.
        _ = Self.add(Self.acknowledgment(5000, flags: 0x12), to: &framer, at: 4, fromServer: true)
        #expect(
            Self.add(Self.segment(from: "192.0.2.10", sequence: 5000, options), to: &framer, at: 4).methods == [
                "OPTIONS"
            ])
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
