/// How many decisions had each verdict and reason: one fixed array of counters, indexed without
/// hashing, so counting a packet costs an increment.
public struct DecisionCounts: Sendable, Equatable {
    var counts = [Int](repeating: 0, count: Decision.Verdict.allCases.count * Decision.Reason.allCases.count)

    public init() {}

    @inline(__always)
    public mutating func count(_ decision: Decision) {
        counts[Self.index(decision.verdict, decision.reason)] &+= 1
    }

    /// How many decisions had `verdict` for `reason`.
    public func count(_ verdict: Decision.Verdict, _ reason: Decision.Reason) -> Int {
        counts[Self.index(verdict, reason)]
    }

    /// Every non-zero (verdict, reason, count), in declaration order.
    public var nonZero: [(verdict: Decision.Verdict, reason: Decision.Reason, count: Int)] {
        Decision.Verdict.allCases.flatMap { verdict in
            Decision.Reason.allCases.compactMap { reason in
                let count = count(verdict, reason)
                return count == 0 ? nil : (verdict, reason, count)
            }
        }
    }

    /// Decisions per verdict, only those seen.
    public var byVerdict: [Decision.Verdict: Int] {
        nonZero.reduce(into: [:]) { $0[$1.verdict, default: 0] += $1.count }
    }

    /// Decisions per reason, only those seen.
    public var byReason: [Decision.Reason: Int] {
        nonZero.reduce(into: [:]) { $0[$1.reason, default: 0] += $1.count }
    }

    /// These counts plus `other`'s.
    public func adding(_ other: DecisionCounts) -> DecisionCounts {
        var sum = self
        for index in sum.counts.indices { sum.counts[index] += other.counts[index] }
        return sum
    }

    @inline(__always)
    static func index(_ verdict: Decision.Verdict, _ reason: Decision.Reason) -> Int {
        verdict.rank * Decision.Reason.allCases.count + reason.position
    }
}

extension Decision.Reason {
    /// The reason's position in `allCases` (declaration order), without searching: a switch compiles
    /// to a jump table.
    @inline(__always)
    var position: Int {
        switch self {
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
}
