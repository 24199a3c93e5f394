/// A token bucket: holds up to `burst` tokens, refills at `rate` per second, and an event spends one.
///
/// Time is passed in; the bucket stores only its level and when it was last filled, in integers,
/// so it is 16 bytes and needs no clock.
public struct TokenBucket: Equatable, Sendable {
    /// Tokens × 2^16, so fractional refill is kept between events.
    var level: Int64
    var filledAt: Int64

    static let scale: Int64 = 1 << 16

    /// A full bucket.
    public init(_ rate: Rate, at now: Timestamp) {
        level = Int64(rate.burst * Double(Self.scale))
        filledAt = now.nanoseconds
    }

    /// Refills for the time since the last call, then takes `cost` tokens if there are enough.
    /// Returns whether the event conforms to the rate.
    @inline(__always)
    public mutating func take(_ cost: Int64 = 1, rate: Rate, at now: Timestamp) -> Bool {
        refill(rate: rate, at: now)
        let price = cost * Self.scale
        guard level >= price else { return false }
        level -= price
        return true
    }

    /// The tokens left now (for stats and tests).
    public func tokens(rate: Rate, at now: Timestamp) -> Double {
        var copy = self
        copy.refill(rate: rate, at: now)
        return Double(copy.level) / Double(Self.scale)
    }

    @inline(__always)
    mutating func refill(rate: Rate, at now: Timestamp) {
        let elapsed = now.nanoseconds - filledAt
        guard elapsed > 0 else { return }
        let capacity = Int64(rate.burst * Double(Self.scale))
        let perNanosecond = rate.perSecond * Double(Self.scale) / 1e9
        let added = Int64(Double(elapsed) * perNanosecond)
        if level >= capacity - added {
            level = capacity
            filledAt = now.nanoseconds
        } else if added > 0 {
            // Advance the fill time only by what was turned into tokens, so no fraction is lost.
            level += added
            filledAt += Int64(Double(added) / perNanosecond)
        }
    }
}
