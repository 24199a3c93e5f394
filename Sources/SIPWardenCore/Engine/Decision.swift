/// What to do with one packet, why, and the score behind it.
public struct Decision: Equatable, Sendable {
    public enum Verdict: String, Sendable, CaseIterable {
        case accept, drop
        /// Drop this packet and have the kernel drop the source (or its prefix) for `ban.ttl`.
        case ban

        /// Severity, which is also the declaration order (`DecisionCounts` indexes by it).
        var rank: Int {
            switch self {
            case .accept: return 0
            case .drop: return 1
            case .ban: return 2
            }
        }
    }

    /// Why: a stable name that logs, metrics and `--verdicts` lines carry.
    public enum Reason: String, Sendable, CaseIterable {
        /// A SIP message within every limit, from a source in good standing.
        case sip
        /// A CRLF or STUN keep-alive from a NATed client.
        case keepAlive = "keep-alive"
        /// From `trust.allow` or the server itself: never limited or banned.
        case trusted
        /// Sent by the server: read for its answers, always accepted.
        case outbound
        /// Not on a SIP port: the filter does not judge it (the firewall does).
        case notSIPPort = "not-sip-port"
        /// A non-first IP fragment or a TCP segment that does not complete a message; dropped when the
        /// segment carries TCP bytes that cannot be placed in a message (past a gap in the stream, or
        /// where no message starts), which the client's TCP sends again.
        case partial
        /// The packet's headers could not be decoded (the kernel checked them: it is longer than the copy
        /// the queue hands over); a client's is dropped in enforce mode, the server's accepted.
        case undecodable
        /// From `trust.deny`.
        case denied
        /// From a source (or prefix) banned earlier: the kernel drops these before they reach us.
        case banned
        /// Over the budget for sources with no good history (a flood from many addresses).
        case unknownSourceBudget = "unknown-source-budget"
        // One reason per detector:
        case scanner
        case malformed
        case notSIP = "not-sip"
        case rateLimit = "rate-limit"
        case enumeration
        case passwordGuessing = "password-guessing"
        case distributedGuessing = "distributed-guessing"
        case tollFraud = "toll-fraud"
        case hijack
        case digestReplay = "digest-replay"
        case cleartextKeys = "cleartext-keys"

        public init(_ detector: RuleSet.Detector) {
            switch detector {
            case .scannerUserAgent, .scannerMarks, .sharedUserAgent: self = .scanner
            case .malformed: self = .malformed
            case .notSIP: self = .notSIP
            case .rateLimit: self = .rateLimit
            case .enumeration: self = .enumeration
            case .passwordGuessing: self = .passwordGuessing
            case .distributedGuessing: self = .distributedGuessing
            case .tollFraud: self = .tollFraud
            case .hijack: self = .hijack
            case .digestReplay: self = .digestReplay
            case .cleartextKeys: self = .cleartextKeys
            }
        }
    }

    /// A kernel ban: how long, and whether it covers the whole prefix.
    public struct Ban: Equatable, Sendable {
        public var ttl: Int64
        /// 32 or 128 for the address alone; 24 or 64 for its prefix.
        public var prefixLength: Int
        /// Which ban of this source it is (1 for the first), selecting the TTL class.
        public var offence: Int
    }

    public var verdict: Verdict
    public var reason: Reason
    /// The source's score after this packet.
    public var score: Double = 0
    /// The points this packet added, by detector.
    public var parts = ScoreParts()
    public var ban: Ban?

    public init(_ verdict: Verdict, _ reason: Reason) {
        self.verdict = verdict
        self.reason = reason
    }

    /// Whether the packet is dropped (a ban drops too).
    public var drops: Bool { verdict != .accept }

    /// Whether this decision wins over `other` for a packet carrying both messages: a ban over a drop over
    /// an accept, the later of two equal ones (so a ban is never lost to the next message's drop).
    public func outranks(_ other: Decision) -> Bool { verdict.rank >= other.verdict.rank }
}

/// Points per detector for one packet: a fixed-size value (no allocation on the hot path).
public struct ScoreParts: Equatable, Sendable {
    var points = SIMD16<Float>()
    /// One bit per detector lane whose points are not zero, so an empty packet costs one comparison.
    var scored: UInt16 = 0

    public init() {}

    public subscript(_ detector: RuleSet.Detector) -> Double {
        get { Double(points[detector.lane]) }
        set {
            let lane = detector.lane
            points[lane] = Float(newValue)
            if points[lane] != 0 { scored |= 1 << lane } else { scored &= ~(1 << lane) }
        }
    }

    public var total: Double { isEmpty ? 0 : Double(points.sum()) }
    public var isEmpty: Bool { scored == 0 }

    /// The detector with the most points (the first in declaration order on a tie), if any has points.
    public var strongest: RuleSet.Detector? {
        var best: RuleSet.Detector?
        var bestPoints: Float = 0
        var lanes = scored
        while lanes != 0 {
            let lane = lanes.trailingZeroBitCount
            lanes &= lanes - 1
            if points[lane] > bestPoints {
                best = RuleSet.Detector.allCases[lane]
                bestPoints = points[lane]
            }
        }
        return best
    }

    /// The non-zero parts, by detector name (for reports).
    public var named: [(String, Double)] {
        RuleSet.Detector.allCases.filter { self[$0] != 0 }.map { ($0.rawValue, self[$0]) }
    }
}
