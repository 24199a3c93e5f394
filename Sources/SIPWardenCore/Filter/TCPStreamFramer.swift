/// Cuts SIP messages out of TCP byte streams (RFC 3261 §18.3: Content-Length frames each message).
///
/// Keeps at most `capacity` streams and `bufferLimit` bytes per stream; a stream that breaks those
/// bounds or carries something other than SIP is dropped.
public struct TCPStreamFramer {
    struct Flow: Hashable {
        var source: IPAddress
        var destination: IPAddress
        var sourcePort: UInt16
        var destinationPort: UInt16
    }

    struct Stream {
        var buffer: [UInt8] = []
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

    /// Adds a segment's payload; returns the complete messages it finishes (maybe none), in order.
    public mutating func add(_ packet: DecodedPacket, payload: UnsafeRawBufferPointer, at now: Timestamp) -> [[UInt8]] {
        guard let segment = packet.tcp else { return [] }
        let flow = Self.flow(of: packet)
        if segment.isReset {
            streams[flow] = nil
            return []
        }
        let dataSequence = segment.dataSequence
        var stream = streams[flow] ?? Stream(nextSequence: dataSequence, lastSeen: now)
        stream.lastSeen = now
        var data = payload[...]
        let ahead = Int32(bitPattern: dataSequence &- stream.nextSequence)
        if ahead < 0 {
            // A retransmission: keep only what was not seen before.
            data = data.dropFirst(Int(-ahead))
        } else if ahead > 0 {
            // A gap: what was missed cannot be framed, so start over here.
            stream.buffer.removeAll()
        }
        stream.buffer.append(contentsOf: data)
        stream.nextSequence = dataSequence &+ UInt32(truncatingIfNeeded: payload.count) &+ (segment.isFin ? 1 : 0)
        let messages = cut(&stream.buffer)
        if segment.isFin || stream.buffer.count > bufferLimit {
            streams[flow] = nil
        } else {
            if streams[flow] == nil, streams.count >= capacity { evictOldest() }
            streams[flow] = stream
        }
        return messages
    }

    /// Why `packet` must be dropped again: it carries bytes of a segment dropped earlier on its flow (a
    /// retransmission). Nil for anything else.
    public func refusal(of packet: DecodedPacket, payloadCount: Int) -> Decision.Reason? {
        guard payloadCount > 0, let segment = packet.tcp, let refused = streams[Self.flow(of: packet)]?.refused
        else { return nil }
        let start = segment.dataSequence
        let end = start &+ UInt32(truncatingIfNeeded: payloadCount)
        let overlaps = Int32(bitPattern: start &- refused.until) < 0 && Int32(bitPattern: end &- refused.from) > 0
        return overlaps ? refused.reason : nil
    }

    /// Records that `packet`, just added, was dropped for `reason`: its retransmissions will be too.
    public mutating func refuse(_ packet: DecodedPacket, payloadCount: Int, reason: Decision.Reason) {
        let flow = Self.flow(of: packet)
        guard let segment = packet.tcp, streams[flow] != nil else { return }
        let start = segment.dataSequence
        streams[flow]?.refused = (start, start &+ UInt32(truncatingIfNeeded: payloadCount), reason)
    }

    static func flow(of packet: DecodedPacket) -> Flow {
        Flow(
            source: packet.source, destination: packet.destination, sourcePort: packet.sourcePort,
            destinationPort: packet.destinationPort)
    }

    /// Removes every complete message from the front of `buffer`.
    func cut(_ buffer: inout [UInt8]) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        while true {
            // RFC 3261 §7.5: CRLFs between messages (keep-alives included) are skipped.
            buffer.removeFirst(buffer.prefix { $0 == 13 || $0 == 10 }.count)
            guard !buffer.isEmpty else { return messages }
            let end: Int? = buffer.withUnsafeBytes { bytes in
                let message = classifier.classify(bytes)
                if message.anomalies.contains(.notSIP) { return 0 }
                if message.anomalies.contains(.keepAlive) { return nil }
                if message.anomalies.contains(.unterminatedHeaders)
                    || message.anomalies.contains(.contentLengthExceedsPayload)
                {
                    return nil
                }
                // Over a stream a missing Content-Length means an empty body.
                return message.contentLength == nil ? Int(message.body.lowerBound) : Int(message.end)
            }
            guard let end else { return messages }
            if end == 0 {
                buffer.removeAll()
                return messages
            }
            messages.append(Array(buffer[..<end]))
            buffer.removeFirst(end)
        }
    }

    mutating func evictOldest() {
        if let oldest = streams.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key { streams[oldest] = nil }
    }
}
