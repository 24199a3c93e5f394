import SIPWardenCore

/// What one queue has seen and decided: plain integers its worker thread bumps per packet, published
/// to readers now and then (`QueueWorker.published`). Fixed size: nothing is allocated per packet.
public struct QueueCounters: Sendable, Equatable, PacketObserver {
    public var packets = 0
    public var inbound = 0
    public var outbound = 0
    /// Packets that carried no queued-packet header we could answer (malformed netlink messages).
    public var malformedMessages = 0
    /// Verdicts, indexed by `Decision.Verdict` then `Decision.Reason` (see `verdicts(_:_:)`).
    var decisions = [Int](repeating: 0, count: 3 * Decision.Reason.allCases.count)
    /// SIP messages by method (`SIPMethod.rawValue`), plus one slot for responses at the end.
    var messages = [Int](repeating: 0, count: SIPMethod.allCases.count + 1)
    public var reassembledDatagrams = 0

    public init() {}

    static let verdicts: [Decision.Verdict] = [.accept, .drop, .ban]

    @inline(__always)
    static func index(_ verdict: Decision.Verdict, _ reason: Decision.Reason) -> Int {
        let row: Int
        switch verdict {
        case .accept: row = 0
        case .drop: row = 1
        case .ban: row = 2
        }
        return row * Decision.Reason.allCases.count + Self.position(reason)
    }

    /// The reason's position in `Decision.Reason.allCases`, without a dictionary lookup.
    @inline(__always)
    static func position(_ reason: Decision.Reason) -> Int {
        // `allCases` is in declaration order; a switch compiles to a jump table.
        switch reason {
        case .sip: return 0
        case .keepAlive: return 1
        case .trusted: return 2
        case .outbound: return 3
        case .notSIPPort: return 4
        case .partial: return 5
        case .undecodable: return 6
        case .denied: return 7
        case .banned: return 8
        case .unknownSourceBudget: return 9
        case .scanner: return 10
        case .malformed: return 11
        case .notSIP: return 12
        case .rateLimit: return 13
        case .enumeration: return 14
        case .passwordGuessing: return 15
        case .distributedGuessing: return 16
        case .tollFraud: return 17
        case .hijack: return 18
        case .digestReplay: return 19
        case .cleartextKeys: return 20
        }
    }

    @inline(__always)
    mutating func count(_ decision: Decision, direction: Direction) {
        packets &+= 1
        if direction == .outbound { outbound &+= 1 } else { inbound &+= 1 }
        decisions[Self.index(decision.verdict, decision.reason)] &+= 1
    }

    public mutating func observe(_ message: SIPMessage, in payload: UnsafeRawBufferPointer) {
        switch message.kind {
        case .request: messages[Int(message.method.rawValue)] &+= 1
        case .response: messages[messages.count - 1] &+= 1
        case .unknown: break
        }
    }

    public mutating func reassembled() { reassembledDatagrams &+= 1 }

    /// How many packets got `verdict` for `reason`.
    public func verdicts(_ verdict: Decision.Verdict, _ reason: Decision.Reason) -> Int {
        decisions[Self.index(verdict, reason)]
    }

    /// Every non-zero (verdict, reason, count).
    public var verdictCounts: [(verdict: Decision.Verdict, reason: Decision.Reason, count: Int)] {
        Self.verdicts.flatMap { verdict in
            Decision.Reason.allCases.compactMap { reason in
                let count = verdicts(verdict, reason)
                return count == 0 ? nil : (verdict, reason, count)
            }
        }
    }

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
        sum.inbound += other.inbound
        sum.outbound += other.outbound
        sum.malformedMessages += other.malformedMessages
        sum.reassembledDatagrams += other.reassembledDatagrams
        for index in sum.decisions.indices { sum.decisions[index] += other.decisions[index] }
        for index in sum.messages.indices { sum.messages[index] += other.messages[index] }
        return sum
    }
}
