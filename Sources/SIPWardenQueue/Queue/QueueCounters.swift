import SIPWardenCore

/// What one queue has seen and decided: plain integers its worker thread bumps per packet, published
/// to readers now and then (`QueueWorker.published`). Fixed size: nothing is allocated per packet.
public struct QueueCounters: Sendable, Equatable, PacketObserver {
    public var packets = 0
    /// Receives that brought packets: packets over batches is how many were judged per wake-up
    /// (`daemon.batch_wait_us` gathers them under steady traffic).
    public var batches = 0
    public var inbound = 0
    public var outbound = 0
    /// Packets that carried no queued-packet header we could answer (malformed netlink messages).
    public var malformedMessages = 0
    /// Verdicts by reason.
    public var decisions = DecisionCounts()
    /// SIP messages by method (`SIPMethod.rawValue`), plus one slot for responses at the end.
    var messages = [Int](repeating: 0, count: SIPMethod.allCases.count + 1)
    public var reassembledDatagrams = 0

    public init() {}

    @inline(__always)
    mutating func count(_ decision: Decision, direction: Direction) {
        packets &+= 1
        if direction == .outbound { outbound &+= 1 } else { inbound &+= 1 }
        decisions.count(decision)
    }

    public mutating func observe(_ message: SIPMessage, in payload: UnsafeRawBufferPointer) {
        switch message.kind {
        case .request: messages[Int(message.method.rawValue)] &+= 1
        case .response: messages[messages.count - 1] &+= 1
        case .unknown: break
        }
    }

    public mutating func reassembled() { reassembledDatagrams &+= 1 }

    /// Every method (by name, "response" for responses) with its message count, zeros included.
    public var messageCounts: [(method: String, count: Int)] {
        SIPMethod.allCases.filter { $0 != .none }.map { ($0.description, messages[Int($0.rawValue)]) } + [
            ("response", messages.last ?? 0)
        ]
    }

    /// These counts plus `other`'s (to total several queues).
    public func adding(_ other: QueueCounters) -> QueueCounters {
        var sum = self
        sum.packets += other.packets
        sum.batches += other.batches
        sum.inbound += other.inbound
        sum.outbound += other.outbound
        sum.malformedMessages += other.malformedMessages
        sum.reassembledDatagrams += other.reassembledDatagrams
        sum.decisions = decisions.adding(other.decisions)
        for index in sum.messages.indices { sum.messages[index] += other.messages[index] }
        return sum
    }
}
