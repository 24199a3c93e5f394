/// Cuts SIP messages out of TCP byte streams (RFC 3261 §18.3: Content-Length frames each message).
///
/// A segment that carries whole messages, the common case, is framed where it lies: nothing is copied
/// and nothing is kept. Only a stream that has the start of a message waiting for its end, or a dropped
/// segment whose retransmissions must be dropped too, has an entry: at most `capacity` of them (the
/// oldest eighth goes when the table is full) and at most `bufferLimit` waiting bytes each. A stream
/// that breaks those bounds or carries something other than SIP is forgotten.
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
        var nextSequence: UInt32
        var lastSeen: Timestamp
        /// The sequence range of the last segment dropped on this flow, and why: its retransmissions are
        /// dropped too, since bytes of a stream cannot be judged twice.
        var refused: (from: UInt32, until: UInt32, reason: Decision.Reason)?
    }

    public var capacity: Int
    public var bufferLimit: Int
    var classifier: SIPClassifier
    var streams: [Flow: Stream] = [:]

    public init(classifier: SIPClassifier, capacity: Int = 4096, bufferLimit: Int = 65536) {
        self.classifier = classifier
        self.capacity = capacity
        self.bufferLimit = bufferLimit
    }

    /// Adds a segment's payload and hands each message it completes, with its classification, to `judge`
    /// in stream order (the bytes are valid during the call only). Returns how many messages there were.
    public mutating func add(
        _ packet: DecodedPacket, payload: UnsafeRawBufferPointer, at now: Timestamp,
        judge: (SIPMessage, UnsafeRawBufferPointer) -> Void
    ) -> Int {
        guard let segment = packet.tcp else { return 0 }
        let flow = Self.flow(of: packet)
        var stream = streams.isEmpty ? nil : streams.removeValue(forKey: flow)
        guard !segment.isReset else { return 0 }
        var data = payload
        if let known = stream {
            let ahead = Int32(bitPattern: segment.dataSequence &- known.nextSequence)
            if ahead < 0 {
                // A retransmission: keep only what was not seen before.
                data = UnsafeRawBufferPointer(rebasing: payload.dropFirst(Int(-ahead)))
            } else if ahead > 0 {
                // A gap: what was missed cannot be framed, so start over here.
                stream?.waiting.removeAll()
            }
        }
        let messages: Int
        var leftover = UnsafeRawBufferPointer(start: nil, count: 0)
        if var waiting = stream?.waiting, !waiting.isEmpty {
            stream?.waiting = []
            waiting.append(contentsOf: data)
            let (used, count) = waiting.withUnsafeBytes { frame($0, judge) }
            waiting.removeFirst(used)
            stream?.waiting = waiting
            messages = count
        } else {
            let (used, count) = frame(data, judge)
            leftover = UnsafeRawBufferPointer(rebasing: data[used...])
            messages = count
        }
        let next = segment.dataSequence &+ UInt32(truncatingIfNeeded: payload.count) &+ (segment.isFin ? 1 : 0)
        guard !segment.isFin, stream != nil || !leftover.isEmpty else { return messages }
        var kept = stream ?? Stream(nextSequence: next, lastSeen: now)
        kept.waiting.append(contentsOf: leftover)
        kept.nextSequence = next
        kept.lastSeen = now
        if kept.waiting.count <= bufferLimit, !kept.waiting.isEmpty || kept.refused != nil { keep(kept, for: flow) }
        return messages
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

    static func flow(of packet: DecodedPacket) -> Flow {
        Flow(
            source: packet.source, destination: packet.destination, sourcePort: packet.sourcePort,
            destinationPort: packet.destinationPort)
    }

    /// Hands each complete message at the front of `bytes` to `judge`. Returns how many bytes are used
    /// up (the messages and the CRLFs around them, or all of them when what comes next is not SIP) and
    /// how many messages there were.
    func frame(
        _ bytes: UnsafeRawBufferPointer, _ judge: (SIPMessage, UnsafeRawBufferPointer) -> Void
    ) -> (used: Int, messages: Int) {
        var start = 0
        var messages = 0
        while true {
            // RFC 3261 §7.5: CRLFs between messages (keep-alives included) are skipped.
            while start < bytes.count, bytes[start] == ByteClass.cr || bytes[start] == ByteClass.lf { start += 1 }
            guard start < bytes.count else { return (start, messages) }
            let rest = UnsafeRawBufferPointer(rebasing: bytes[start...])
            let message = classifier.classify(rest)
            if message.anomalies.contains(.notSIP) { return (bytes.count, messages) }
            if !message.anomalies.isDisjoint(with: [.keepAlive, .unterminatedHeaders, .contentLengthExceedsPayload]) {
                return (start, messages)
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
    /// it is full (one sort per `capacity / 8` new streams, not a scan per stream).
    mutating func keep(_ stream: Stream, for flow: Flow) {
        if streams.count >= capacity {
            let oldest = streams.values.map(\.lastSeen).sorted()[max(streams.count / 8, 1) - 1]
            streams = streams.filter { $0.value.lastSeen > oldest }
        }
        streams[flow] = stream
    }
}
