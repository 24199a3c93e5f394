/// Cuts SIP messages out of TCP byte streams (RFC 3261 §18.3: Content-Length frames each message).
///
/// A segment that carries whole messages, the common case, is framed where it lies: nothing is copied
/// and nothing is kept. Only a stream that has the start of a message waiting for its end, or a dropped
/// segment whose retransmissions must be dropped too, has an entry; and for `JudgedTail.retention`, a
/// stream whose waiting message a segment completed keeps a copy of that segment (`JudgedTail`). At
/// most `capacity` entries (when the table is full the oldest eighth goes, copies first) and at most
/// `bufferLimit` bytes each. A stream that breaks those bounds or carries something other than SIP is
/// forgotten.
public struct TCPStreamFramer {
    struct Flow: Hashable {
        var source: IPAddress
        var destination: IPAddress
        var sourcePort: UInt16
        var destinationPort: UInt16
    }

    struct Stream {
        /// The start of a message whose end has not arrived yet.
        var waiting: [UInt8] = []
        /// How many waiting bytes complete the message when its headers ended (its Content-Length
        /// known); 0 while they have not: then `searched` bytes of it are known to hold no empty line.
        /// Waiting bytes are framed again only when that may complete a message, so a header section
        /// sent a few bytes a segment costs each byte once, not once per segment.
        var needed = 0
        var searched = 0
        /// `needed` for a start line cut short: the waiting bytes are framed again at its line end.
        static let atLineEnd = -1
        var nextSequence: UInt32
        var lastSeen: Timestamp
        /// The sequence range of the last segment dropped on this flow, and why: its retransmissions are
        /// dropped too, since bytes of a stream cannot be judged twice.
        var refused: (from: UInt32, until: UInt32, reason: Decision.Reason)?
        /// The segment that last completed a waiting message, while nothing waits.
        var judgedTail: JudgedTail?

        /// Whether the entry is only a `JudgedTail`: for anything else the stream is framed as if it had none.
        var isJudgedTailOnly: Bool { judgedTail != nil && waiting.isEmpty && refused == nil }

        /// When it was last seen, for eviction; a judged tail alone counts as older by its retention.
        var evictionAge: Int64 { lastSeen.nanoseconds - (isJudgedTailOnly ? JudgedTail.retention : 0) }

        /// Whether `waiting` (its bytes with a segment's added) may now hold a whole message: as many
        /// bytes as its Content-Length needs, or, before that is known, an empty line ending its headers
        /// in the bytes not searched before, or the line end of a start line that was cut short.
        mutating func mayComplete(_ waiting: [UInt8]) -> Bool {
            if needed > 0 { return waiting.count >= needed }
            defer { searched = waiting.count }
            // A start line cut short is framed again at its line end: a request line then, or not SIP.
            if needed == Self.atLineEnd { return waiting[min(searched, waiting.count)...].contains(ByteClass.lf) }
            // An empty line is LF, an optional CR and LF: it may begin two bytes before the new ones.
            var k = max(searched - 2, 0)
            while let lf = waiting[k...].firstIndex(of: ByteClass.lf) {
                var next = lf + 1
                if next < waiting.count, waiting[next] == ByteClass.cr { next += 1 }
                if next < waiting.count, waiting[next] == ByteClass.lf { return true }
                k = lf + 1
            }
            return false
        }
    }

    /// A copy of the segment that completed a waiting message. Its ACK may be lost, and the client's TCP
    /// then sends it again: alone it starts no message, and dropped as such it would be sent again and
    /// again, never ACKed, until the connection died. The same bytes at the same place pass instead, as
    /// bytes already judged; any other bytes there are framed as ever. Byte for byte, not by a hash an
    /// attacker could match with other bytes; forgotten on a SYN (a new connection on the same ports
    /// places other bytes there) and after `retention`, by when the server has answered the message
    /// and its answer carried the ACK.
    struct JudgedTail {
        var sequence: UInt32
        var bytes: [UInt8]
        var at: Timestamp
        static let retention: Int64 = 120_000_000_000

        func isSentAgain(at sequence: UInt32, _ payload: UnsafeRawBufferPointer) -> Bool {
            sequence == self.sequence && payload.elementsEqual(bytes)
        }
    }

    public var capacity: Int
    public var bufferLimit: Int
    var classifier: SIPClassifier
    var streams: [Flow: Stream] = [:]

    /// At most this many streams are kept, each with at most `defaultBufferLimit` waiting bytes: 64 MiB
    /// at worst per queue, whatever connections an attacker opens with messages that never end.
    public static let defaultCapacity = 1024
    public static let defaultBufferLimit = 65536
    public static var worstCaseBytes: Int { defaultCapacity * defaultBufferLimit }

    public init(classifier: SIPClassifier, capacity: Int = defaultCapacity, bufferLimit: Int = defaultBufferLimit) {
        self.classifier = classifier
        self.capacity = capacity
        self.bufferLimit = bufferLimit
    }

    /// What one segment gave.
    public struct Framing {
        /// The messages it completed.
        public var messages = 0
        /// It carries bytes that cannot be placed in a message: past a gap in its stream (a segment
        /// before it has not arrived), or where no message starts (the rest of a message whose start the
        /// framer never saw, or no SIP at all). They are to be dropped: the server's TCP would put them
        /// together with bytes the filter never judged, and the client's TCP sends them again, in order.
        public var unframed = false
        /// Its messages were framed from its own bytes alone, none of them left waiting: sent again, it
        /// can be framed and judged again.
        public var selfContained = false
    }

    /// Adds a segment's payload and hands each message it completes, with its classification, to `judge`
    /// in stream order (the bytes are valid during the call only).
    public mutating func add(
        _ packet: DecodedPacket, payload: UnsafeRawBufferPointer, at now: Timestamp,
        judge: (SIPMessage, UnsafeRawBufferPointer) -> Void
    ) -> Framing {
        guard let segment = packet.tcp else { return Framing() }
        let flow = Self.flow(of: packet)
        var stream = streams.isEmpty ? nil : streams.removeValue(forKey: flow)
        guard !segment.isReset else { return Framing() }
        var judgedTail = stream?.judgedTail
        if let tail = judgedTail, segment.isSyn || now.nanoseconds - tail.at.nanoseconds > JudgedTail.retention {
            judgedTail = nil
        }
        if let known = stream, known.isJudgedTailOnly {
            if let judgedTail, judgedTail.isSentAgain(at: segment.dataSequence, payload) {
                keep(known, for: flow)
                return Framing()
            }
            stream = nil
        }
        var data = payload
        if let known = stream {
            let ahead = Int32(bitPattern: segment.dataSequence &- known.nextSequence)
            if ahead < 0 {
                // A retransmission: keep only what was not seen before.
                data = UnsafeRawBufferPointer(rebasing: payload.dropFirst(-Int(ahead)))
            } else if ahead > 0, !payload.isEmpty {
                // A gap: the bytes before these have not come. Bytes that start no message wait for them
                // (the stream is kept as it was); a new message starts the stream over here, since the
                // position this entry expects may be stale (a head resent after its message completed).
                guard Self.startsMessage(payload, classifier) else {
                    keep(known, for: flow)
                    return Framing(unframed: true)
                }
                stream?.waiting.removeAll()
                stream?.needed = 0
                stream?.searched = 0
            }
        }
        var framing = Framing()
        var leftover = UnsafeRawBufferPointer(start: nil, count: 0)
        var completed = false
        if var known = stream, !known.waiting.isEmpty {
            // The waiting bytes held once only, so that adding to them copies nothing.
            stream = nil
            var waiting = known.waiting
            known.waiting = []
            waiting.append(contentsOf: data)
            if known.mayComplete(waiting) {
                let framed = waiting.withUnsafeBytes { frame($0, judge) }
                waiting.removeFirst(framed.used)
                known.needed = framed.needed
                known.searched = 0
                framing = Framing(messages: framed.messages, unframed: framed.unframed)
                completed = waiting.isEmpty && framed.messages > 0 && !framed.unframed
            }
            known.waiting = waiting
            stream = known
        } else {
            let framed = frame(data, judge)
            leftover = UnsafeRawBufferPointer(rebasing: data[framed.used...])
            framing = Framing(messages: framed.messages, unframed: framed.unframed, selfContained: leftover.isEmpty)
            if !leftover.isEmpty { stream = stream ?? Stream(nextSequence: segment.dataSequence, lastSeen: now) }
            stream?.needed = framed.needed
        }
        let next = segment.dataSequence &+ UInt32(truncatingIfNeeded: payload.count) &+ (segment.isFin ? 1 : 0)
        guard !segment.isFin else { return framing }
        if completed { judgedTail = JudgedTail(sequence: segment.dataSequence, bytes: Array(payload), at: now) }
        guard var kept = stream else {
            // Whole messages framed past a judged tail: the tail may still come again.
            if let judgedTail { keep(Stream(nextSequence: next, lastSeen: now, judgedTail: judgedTail), for: flow) }
            return framing
        }
        stream = nil
        kept.waiting.append(contentsOf: leftover)
        // Only forward: an old duplicate must not take the stream back.
        if Int32(bitPattern: next &- kept.nextSequence) > 0 { kept.nextSequence = next }
        kept.lastSeen = now
        kept.judgedTail = kept.waiting.isEmpty ? judgedTail : nil
        if kept.waiting.count <= bufferLimit, !kept.waiting.isEmpty || kept.refused != nil || kept.judgedTail != nil {
            keep(kept, for: flow)
        }
        return framing
    }

    /// Why `packet` must be dropped again: it carries bytes of a segment dropped earlier on its flow (a
    /// retransmission). Nil for anything else.
    public func refusal(of packet: DecodedPacket, payloadCount: Int) -> Decision.Reason? {
        guard payloadCount > 0, !streams.isEmpty, let segment = packet.tcp,
            let refused = streams[Self.flow(of: packet)]?.refused
        else { return nil }
        let start = segment.dataSequence
        let end = start &+ UInt32(truncatingIfNeeded: payloadCount)
        let overlaps = Int32(bitPattern: start &- refused.until) < 0 && Int32(bitPattern: end &- refused.from) > 0
        return overlaps ? refused.reason : nil
    }

    /// Records that `packet`, just added, was dropped for `reason`: its retransmissions will be too.
    public mutating func refuse(_ packet: DecodedPacket, payloadCount: Int, reason: Decision.Reason, at now: Timestamp)
    {
        guard let segment = packet.tcp, !segment.isFin, !segment.isReset else { return }
        let flow = Self.flow(of: packet)
        let start = segment.dataSequence
        let end = start &+ UInt32(truncatingIfNeeded: payloadCount)
        var stream = streams.removeValue(forKey: flow) ?? Stream(nextSequence: end, lastSeen: now)
        stream.refused = (start, end, reason)
        keep(stream, for: flow)
    }

    /// Whether `bytes` begin a SIP message (after any CRLFs between messages).
    static func startsMessage(_ bytes: UnsafeRawBufferPointer, _ classifier: SIPClassifier) -> Bool {
        let start = messageStart(bytes, from: 0)
        return start < bytes.count
            && classifier.classify(UnsafeRawBufferPointer(rebasing: bytes[start...])).kind != .unknown
    }

    /// Whether `bytes` may be a start line cut short by the segment's end: visible ASCII and spaces, no
    /// line end yet, no longer than a start line may be.
    static func mayBeCutStartLine(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count < 512 && bytes.allSatisfy { $0 >= ByteClass.space && $0 < 0x7F }
    }

    /// Where the next message in `bytes` may start at `start` or after: past the CRLFs between messages
    /// (RFC 3261 §7.5, keep-alives included).
    static func messageStart(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var k = start
        while k < bytes.count, bytes[k] == ByteClass.cr || bytes[k] == ByteClass.lf { k += 1 }
        return k
    }

    static func flow(of packet: DecodedPacket) -> Flow {
        Flow(
            source: packet.source, destination: packet.destination, sourcePort: packet.sourcePort,
            destinationPort: packet.destinationPort)
    }

    /// Hands each complete message at the front of `bytes` to `judge`. Returns how many bytes are used
    /// up (the messages and the CRLFs around them, or all of them when what comes next is not SIP:
    /// `unframed`), how many messages there were, and how many of the rest complete the next message when
    /// its headers ended (0 when they have not; `Stream.atLineEnd` when its start line is cut short).
    func frame(
        _ bytes: UnsafeRawBufferPointer, _ judge: (SIPMessage, UnsafeRawBufferPointer) -> Void
    ) -> (used: Int, messages: Int, unframed: Bool, needed: Int) {
        var start = 0
        var messages = 0
        while true {
            start = Self.messageStart(bytes, from: start)
            guard start < bytes.count else { return (start, messages, false, 0) }
            let rest = UnsafeRawBufferPointer(rebasing: bytes[start...])
            let message = classifier.classify(rest)
            if message.anomalies.contains(.notSIP) {
                // A start line the segment cut short ("SUBSCRIBE", "INVITE si") is no verdict yet: it waits.
                if Self.mayBeCutStartLine(rest) { return (start, messages, false, Stream.atLineEnd) }
                return (bytes.count, messages, true, 0)
            }
            if message.anomalies.contains(.contentLengthExceedsPayload) {
                return (start, messages, false, Int(message.body.lowerBound) + Int(message.contentLength ?? 0))
            }
            if !message.anomalies.isDisjoint(with: [.keepAlive, .unterminatedHeaders]) {
                return (start, messages, false, 0)
            }
            // Over a stream a missing Content-Length means an empty body.
            let length = message.contentLength == nil ? Int(message.body.lowerBound) : Int(message.end)
            let whole = UnsafeRawBufferPointer(rebasing: rest[..<length])
            // Bytes after the message (the next one) are no anomaly of it: those messages are read again alone.
            judge(length == rest.count ? message : classifier.classify(whole), whole)
            messages += 1
            start += length
        }
    }

    /// Stores `stream`, first making room by forgetting the least recently seen eighth of the table when
    /// it is full (one sort per `capacity / 8` new streams, not a scan per stream). An entry that only
    /// keeps a judged tail counts as older by the tail's retention: those go before waiting messages.
    mutating func keep(_ stream: Stream, for flow: Flow) {
        if streams.count >= capacity {
            let oldest = streams.values.map(\.evictionAge).sorted()[max(streams.count / 8, 1) - 1]
            streams = streams.filter { $0.value.evictionAge > oldest }
        }
        streams[flow] = stream
    }
}
