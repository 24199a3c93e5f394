/// A ban the engine issued: what, when, why, for how long.
public struct BanRecord: Equatable, Sendable {
    public var time: Timestamp
    /// The banned address, or the prefix when the whole /24 or /64 was banned.
    public var target: IPPrefix
    public var reason: Decision.Reason
    public var ttl: Int64
    public var score: Double

    public var expires: Timestamp { Timestamp(nanoseconds: time.nanoseconds + ttl) }
}

/// Counts of what the engine decided and which detectors fired, for stats and reports.
public struct EngineCounters: Equatable, Sendable {
    public var detectors: [RuleSet.Detector: Int] = [:]
    public var bans = 0
    public var prefixBans = 0
    /// Digest credentials without qop/cnonce (RFC 2069 style): weaker against replay.
    public var weakDigest = 0
    /// Bans not kept as records because nobody drained them in time (`Engine.pendingBanLimit`).
    public var unreportedBans = 0

    public init() {}
}
