#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Cuts SIP messages out of TCP byte streams (RFC 3261 §18.3: Content-Length frames each message).
///
/// A segment that carries whole messages, the common case, is framed where it lies: nothing is copied
/// and nothing is kept. A stream whose message is split over segments has an entry with its latest bytes
/// (`Stream.bytes`): the start of the message waiting for its end, and before it bytes already judged
/// (the rest of the message that last completed so, kept for `judgedRetention` once nothing waits).
/// The server's TCP reads a stream's bytes in sequence order, so the framer places them so too:
/// - bytes that continue the entry's are framed with them;
/// - bytes in the place of kept ones pass only if they are the same (a resend after a lost ACK): any
///   other bytes there cannot be placed;
/// - bytes just before a waiting message that began its segment and has not been judged come first
///   in the stream (its head overtaken by its rest; a lost message sent again): it is framed again
///   with them, a few times at most;
/// - while a message waits, other bytes before the kept ones or past a gap cannot be placed either;
/// - with nothing waiting, any other bytes are framed where they lie.
/// Bytes that cannot be placed are `unframed`, to be dropped: the client's TCP sends them again, in
/// order. A segment that is dropped leaves the entry as it was before it (the server never got its
/// bytes), and its range is kept (`refused`) so that its resends are dropped too. The server's SYN-ACK
/// (a new connection on the same ports) ends the entry; the client's FIN or reset does not, since the
/// server ignores those outside its window and a client can send them anywhere. At most `capacity`
/// entries (when the table is full the least recently seen eighth goes, entries where nothing waits
/// first) and at most `bufferLimit` bytes each: a segment that would take a waiting message past it
/// cannot be placed either.
public struct TCPStreamFramer {
    struct Flow: Hashable {
        var source: IPAddress
        var destination: IPAddress
        var sourcePort: UInt16
        var destinationPort: UInt16

        var reversed: Flow {
            Flow(source: destination, destination: source, sourcePort: destinationPort, destinationPort: sourcePort)
        }
    }

    struct Stream {
        /// The stream's latest bytes, ending at `nextSequence`: from `waitingFrom` on, the start of a
        /// message whose end has not arrived yet; before it, bytes already judged.
        var bytes: [UInt8] = []
        var waitingFrom = 0
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
        /// How many more times bytes just before the waiting message may be framed with it: only when it
        /// began its segment (else the filter saw what comes before it), a few times (each one frames it
        /// all again).
        var prependable: UInt8 = 0
        static let prependLimit: UInt8 = 4

        var isWaiting: Bool { waitingFrom < bytes.count }
        var waitingCount: Int { bytes.count - waitingFrom }
        /// The sequence number of `bytes[0]`.
        var startSequence: UInt32 { nextSequence &- UInt32(truncatingIfNeeded: bytes.count) }

        /// When it was last seen, for eviction; an entry where nothing waits counts as older by the
        /// retention of its judged bytes.
        var evictionAge: Int64 { lastSeen.nanoseconds - (isWaiting ? 0 : TCPStreamFramer.judgedRetention) }

        /// Where `payload`, sent at `sequence`, lies against the kept bytes.
        func placement(of payload: UnsafeRawBufferPointer, at sequence: UInt32) -> Placement {
            guard let sent = payload.baseAddress, !bytes.isEmpty else { return .outside }
            let offset = Int(Int32(bitPattern: sequence &- startSequence))
            let (kept, given, count): (Int, Int, Int)
            if offset < 0 {
                guard -offset <= payload.count else { return .outside }
                (kept, given, count) = (0, -offset, min(payload.count + offset, bytes.count))
            } else {
                guard offset < bytes.count else { return .outside }
                (kept, given, count) = (offset, 0, min(payload.count, bytes.count - offset))
            }
            let same = bytes.withUnsafeBytes { memcmp($0.baseAddress! + kept, sent + given, count) == 0 }
            guard same else { return .different }
            return offset < 0 ? .before(-offset) : .same(count)
        }

        /// Whether the waiting bytes in `bytes` (the entry's, with a segment's added, held apart) may now
        /// hold a whole message: as many bytes as its Content-Length needs, or, before that is known, an
        /// empty line ending its headers in the bytes not searched before, or the line end of a start line
        /// that was cut short.
        mutating func mayComplete(_ bytes: [UInt8]) -> Bool {
            let count = bytes.count - waitingFrom
            if needed > 0 { return count >= needed }
            defer { searched = count }
            // A start line cut short is framed again at its line end: a request line then, or not SIP.
            if needed == Self.atLineEnd { return bytes[(waitingFrom + min(searched, count))...].contains(ByteClass.lf) }
            // An empty line is LF, an optional CR and LF: it may begin two bytes before the new ones.
            var k = waitingFrom + max(searched - 2, 0)
            while let lf = bytes[k...].firstIndex(of: ByteClass.lf) {
                var next = lf + 1
                if next < bytes.count, bytes[next] == ByteClass.cr { next += 1 }
                if next < bytes.count, bytes[next] == ByteClass.lf { return true }
                k = lf + 1
            }
            return false
        }

        /// Forgets judged bytes beyond `limit` in all, the oldest first (into an array of its size: one
        /// grown by doubling may hold twice that).
        mutating func trim(to limit: Int) {
            let extra = min(bytes.count - limit, waitingFrom)
            guard extra > 0 else { return }
            bytes = Array(bytes[extra...])
            waitingFrom -= extra
        }
    }

    /// Where a segment's bytes lie against an entry's kept bytes.
    enum Placement: Equatable {
        /// They start outside them.
        case outside
        /// Their first `count` bytes are the same as the kept ones in their place.
        case same(Int)
        /// Their first `count` bytes come just before the kept ones, and the rest, where they overlap
        /// the kept ones, is the same.
        case before(Int)
        /// Some of them differ from the kept ones in their place.
        case different
    }

    /// How long judged bytes are kept once nothing waits: resends after a lost ACK come within seconds,
    /// and by then the server has answered the message, its answer carrying the ACK.
    static let judgedRetention: Int64 = 120_000_000_000

    public var capacity: Int
    public var bufferLimit: Int
    var classifier: SIPClassifier
    var streams: [Flow: Stream] = [:]

    /// At most this many streams are kept, each with at most `defaultBufferLimit` bytes in an array that
    /// may have grown to twice that: 128 MiB at worst per queue, whatever connections an attacker opens
    /// with messages that never end.
    public static let defaultCapacity = 1024
    public static let defaultBufferLimit = 65536
    public static var worstCaseBytes: Int { 2 * defaultCapacity * defaultBufferLimit }

    public init(classifier: SIPClassifier, capacity: Int = defaultCapacity, bufferLimit: Int = defaultBufferLimit) {
        self.classifier = classifier
        self.capacity = capacity
        self.bufferLimit = bufferLimit
    }

    /// What one segment gave.
    public struct Framing {
        /// The messages it completed.
        public var messages = 0
        /// It carries bytes that cannot be placed in a message: in the place of kept bytes but other
        /// than them, before or past the bytes of a waiting message, or where no message starts (the rest
        /// of a message whose start the framer never saw, or no SIP at all). They are to be dropped: the
        /// server's TCP would put them together with bytes the filter never judged so, and the client's
        /// TCP sends them again, in order.
        public var unframed = false
        /// Its messages were framed from its own bytes alone, none of them left waiting: sent again, it
        /// can be framed and judged again.
        public var selfContained = false
    }

    /// Adds a segment's payload and hands each message it completes, with its classification, to `judge`
    /// in stream order (the bytes are valid during the call only); `judge` answers whether that message
    /// has the segment dropped, and `dropsUnframed` says whether unframed bytes are: a dropped segment
    /// leaves the entry as it was before it. Unframed bytes that pass (the server's own, in monitor mode)
    /// end the entry: the stream is no longer known.
    public mutating func add(
        _ packet: DecodedPacket, payload: UnsafeRawBufferPointer, at now: Timestamp, dropsUnframed: Bool,
        judge: (SIPMessage, UnsafeRawBufferPointer) -> Bool
    ) -> Framing {
        guard let segment = packet.tcp else { return Framing() }
        let flow = Self.flow(of: packet)
        // The server accepts a new connection on these ports: the client's old stream is over.
        if segment.isSyn, segment.isAck, !streams.isEmpty { streams.removeValue(forKey: flow.reversed) }
        guard !payload.isEmpty else { return Framing() }
        var stream = streams.isEmpty ? nil : streams.removeValue(forKey: flow)
        if let known = stream, !known.isWaiting, now.nanoseconds - known.lastSeen.nanoseconds > Self.judgedRetention {
            stream?.bytes = []
            stream?.waitingFrom = 0
        }
        let start = segment.dataSequence
        var data = payload
        var prefix = 0
        if let known = stream, !known.bytes.isEmpty {
            switch known.placement(of: payload, at: start) {
            case .same(let count):
                data = UnsafeRawBufferPointer(rebasing: payload[count...])
            case .before(let count) where known.waitingFrom == 0 && known.isWaiting && known.prependable > 0:
                // Bytes just before a message that waits unjudged come first in the stream (its head,
                // overtaken by its rest; a lost message sent again): it is framed again with them.
                prefix = count
                data = UnsafeRawBufferPointer(rebasing: payload.dropFirst(count + known.bytes.count))
            case .outside where !known.isWaiting || start == known.nextSequence, .before where !known.isWaiting:
                break
            case .different, .outside, .before:
                // Other bytes than the kept ones in their place; or, while a message waits, bytes before
                // its kept ones or past a gap: the server would join them with bytes not judged so.
                return settle(known, for: flow, Framing(unframed: true), dropsUnframed: dropsUnframed, at: now)
            }
        }
        let dataStart = start &+ UInt32(truncatingIfNeeded: payload.count - data.count)
        if var known = stream, known.isWaiting {
            // The bytes held once only, so that adding to them copies nothing.
            stream = nil
            var bytes = known.bytes
            known.bytes = []
            let (before, count) = (known, bytes.count)
            if prefix > 0 {
                bytes.insert(contentsOf: payload[..<prefix], at: 0)
                (known.waitingFrom, known.needed, known.searched) = (0, 0, 0)
                known.prependable -= 1
            }
            let (framing, dropped) = continueWaiting(&bytes, of: &known, with: data, judge)
            // A message longer than the limit never completes here, nor at the server.
            let overflows = bytes.count - known.waitingFrom > bufferLimit
            if framing.unframed || dropped || overflows {
                // Not delivered: the entry as it was.
                bytes.removeLast(bytes.count - count - prefix)
                bytes.removeFirst(prefix)
                known = before
            }
            known.bytes = bytes
            let result = overflows ? Framing(messages: framing.messages, unframed: true) : framing
            return settle(known, for: flow, result, dropsUnframed: dropsUnframed, at: now)
        }
        let framed = frame(data, judge)
        let leftover = UnsafeRawBufferPointer(rebasing: data[framed.used...])
        let framing = Framing(messages: framed.messages, unframed: framed.unframed, selfContained: leftover.isEmpty)
        let leftoverStart = dataStart &+ UInt32(truncatingIfNeeded: framed.used)
        let judgedAlready = stream.map { $0.placement(of: leftover, at: leftoverStart) == .same(leftover.count) }
        guard !leftover.isEmpty, !framing.unframed, !framed.dropped, judgedAlready != true else {
            return settle(stream, for: flow, framing, dropsUnframed: dropsUnframed, at: now)
        }
        guard leftover.count <= bufferLimit, mayWait(from: flow.source) else {
            return settle(
                stream, for: flow, Framing(messages: framing.messages, unframed: true), dropsUnframed: dropsUnframed,
                at: now)
        }
        var waiting = stream ?? Stream(nextSequence: 0, lastSeen: now)
        if waiting.bytes.isEmpty || dataStart != waiting.nextSequence {
            // Bytes apart from the kept ones replace them.
            waiting.bytes = []
            waiting.bytes.append(contentsOf: leftover)
        } else {
            waiting.bytes.append(contentsOf: data)
        }
        waiting.waitingFrom = waiting.bytes.count - leftover.count
        waiting.nextSequence = dataStart &+ UInt32(truncatingIfNeeded: data.count)
        waiting.needed = framed.needed
        waiting.searched = 0
        waiting.prependable = waiting.waitingFrom == 0 && leftoverStart == start ? Stream.prependLimit : 0
        keep(waiting, for: flow, at: now)
        return framing
    }

    /// Whether `source` may have one more message waiting: fewer than `capacity / 16` of its streams
    /// wait. One address cannot fill the table with unfinished messages, pushing out others' (or its own
    /// oldest, whose end would then be framed afresh); a NAT office's phones rarely split a message at
    /// once. A scan of the table, made only for a new waiting message.
    func mayWait(from source: IPAddress) -> Bool {
        var waiting = 0
        for (flow, stream) in streams where flow.source == source && stream.isWaiting {
            waiting += 1
            if waiting >= max(capacity / 16, 1) { return false }
        }
        return true
    }

    /// Keeps what is known of `flow` after a segment, unless the segment's unframed bytes pass
    /// (`dropsUnframed` false): then the server reads bytes the framer could not place, and the stream
    /// is no longer known. Returns `framing`.
    mutating func settle(
        _ stream: Stream?, for flow: Flow, _ framing: Framing, dropsUnframed: Bool, at now: Timestamp
    ) -> Framing {
        if let stream, !framing.unframed || dropsUnframed { keep(stream, for: flow, at: now) }
        return framing
    }

    /// Adds `data` to `bytes`, `stream`'s bytes (held apart from it so that appending copies nothing),
    /// and frames its waiting ones when they may hold a message; `dropped` as `frame` says.
    func continueWaiting(
        _ bytes: inout [UInt8], of stream: inout Stream, with data: UnsafeRawBufferPointer,
        _ judge: (SIPMessage, UnsafeRawBufferPointer) -> Bool
    ) -> (Framing, dropped: Bool) {
        bytes.append(contentsOf: data)
        stream.nextSequence &+= UInt32(truncatingIfNeeded: data.count)
        guard stream.mayComplete(bytes) else { return (Framing(), false) }
        let framed = bytes.withUnsafeBytes { frame(UnsafeRawBufferPointer(rebasing: $0[stream.waitingFrom...]), judge) }
        stream.waitingFrom += framed.used
        stream.needed = framed.needed
        stream.searched = 0
        return (Framing(messages: framed.messages, unframed: framed.unframed), framed.dropped)
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
        guard let segment = packet.tcp, !segment.isReset else { return }
        let flow = Self.flow(of: packet)
        let start = segment.dataSequence
        let end = start &+ UInt32(truncatingIfNeeded: payloadCount)
        var stream = streams.removeValue(forKey: flow) ?? Stream(nextSequence: end, lastSeen: now)
        stream.refused = (start, end, reason)
        keep(stream, for: flow)
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
    /// `unframed`), how many messages there were, how many of the rest complete the next message when
    /// its headers ended (0 when they have not; `Stream.atLineEnd` when its start line is cut short), and
    /// whether `judge` said of a message that it has the segment dropped.
    func frame(
        _ bytes: UnsafeRawBufferPointer, _ judge: (SIPMessage, UnsafeRawBufferPointer) -> Bool
    ) -> (used: Int, messages: Int, unframed: Bool, needed: Int, dropped: Bool) {
        var start = 0
        var messages = 0
        var dropped = false
        while true {
            start = Self.messageStart(bytes, from: start)
            guard start < bytes.count else { return (start, messages, false, 0, dropped) }
            let rest = UnsafeRawBufferPointer(rebasing: bytes[start...])
            let message = classifier.classify(rest)
            if message.anomalies.contains(.notSIP) {
                // A start line the segment cut short ("SUBSCRIBE", "INVITE si") is no verdict yet: it waits.
                if Self.mayBeCutStartLine(rest) { return (start, messages, false, Stream.atLineEnd, dropped) }
                return (bytes.count, messages, true, 0, dropped)
            }
            if message.anomalies.contains(.contentLengthExceedsPayload) {
                let needed = Int(message.body.lowerBound) + Int(message.contentLength ?? 0)
                return (start, messages, false, needed, dropped)
            }
            // Two tests, not a set literal: in this function the literal is an array allocated per call.
            if message.anomalies.contains(.keepAlive) || message.anomalies.contains(.unterminatedHeaders) {
                return (start, messages, false, 0, dropped)
            }
            // Over a stream a missing Content-Length means an empty body.
            let length = message.contentLength == nil ? Int(message.body.lowerBound) : Int(message.end)
            let whole = UnsafeRawBufferPointer(rebasing: rest[..<length])
            // Bytes after the message (the next one) are no anomaly of it: those messages are read again alone.
            if judge(length == rest.count ? message : classifier.classify(whole), whole) { dropped = true }
            messages += 1
            start += length
        }
    }

    /// Stores `stream`, seen `now`, if it still holds something (waiting or judged bytes, or a refused
    /// range) and its waiting bytes are within `bufferLimit`; judged bytes beyond it in all are forgotten.
    mutating func keep(_ stream: Stream, for flow: Flow, at now: Timestamp) {
        guard stream.waitingCount <= bufferLimit, !stream.bytes.isEmpty || stream.refused != nil else { return }
        var seen = stream
        seen.lastSeen = now
        seen.trim(to: bufferLimit)
        keep(seen, for: flow)
    }

    /// Stores `stream`, first making room by forgetting the least recently seen eighth of the table when
    /// it is full (one sort per `capacity / 8` new streams, not a scan per stream); entries where nothing
    /// waits count as older by the retention of their judged bytes, so they go before waiting messages.
    mutating func keep(_ stream: Stream, for flow: Flow) {
        if streams.count >= capacity {
            let oldest = streams.values.map(\.evictionAge).sorted()[max(streams.count / 8, 1) - 1]
            streams = streams.filter { $0.value.evictionAge > oldest }
        }
        streams[flow] = stream
    }
}
