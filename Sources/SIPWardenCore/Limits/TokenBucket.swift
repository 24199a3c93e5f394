/// A token bucket: holds up to `burst` tokens, refills at `rate` per second, and an event spends one.
///
/// Time is passed in; the bucket stores only its level and when it was last filled, in integers,
/// so it is 16 bytes and needs no clock.
public struct TokenBucket: Equatable, Sendable {
    /// Tokens × 2^16, so fractional refill is kept between events.
    var level: Int64
    var filledAt: Int64

    static let scale: Int64 = 1 << 16

    /// A rate in the bucket's units, worked out once so that spending needs no division: the capacity
    /// and the refill per nanosecond, in tokens × 2^16 (rates and bursts at most `Rate.maximum`).
    struct Refill: Equatable, Sendable {
        let capacity: Int64
        let perNanosecond: Double

        init(_ rate: Rate) {
            capacity = Int64(min(rate.burst, Rate.maximum) * Double(TokenBucket.scale))
            perNanosecond = min(rate.perSecond, Rate.maximum) * Double(TokenBucket.scale) / 1e9
        }
    }

    /// A full bucket.
    public init(_ rate: Rate, at now: Timestamp) {
        self.init(Refill(rate), at: now)
    }

    /// A full bucket.
    init(_ refill: Refill, at now: Timestamp) {
        level = refill.capacity
        filledAt = now.nanoseconds
    }

    /// Refills for the time since the last call, then takes `cost` tokens if there are enough.
    /// Returns whether the event conforms to the rate.
    @inline(__always)
    public mutating func take(_ cost: Int64 = 1, rate: Rate, at now: Timestamp) -> Bool {
        take(cost, refill: Refill(rate), at: now)
    }

    /// `take(_:rate:at:)` with the rate worked out already.
    @inline(__always)
    mutating func take(_ cost: Int64 = 1, refill: Refill, at now: Timestamp) -> Bool {
        self.refill(refill, at: now)
        let price = cost * Self.scale
        guard level >= price else { return false }
        level -= price
        return true
    }

    /// The tokens left now (for stats and tests).
    public func tokens(rate: Rate, at now: Timestamp) -> Double {
        var copy = self
        copy.refill(Refill(rate), at: now)
        return Double(copy.level) / Double(Self.scale)
    }

    /// Adds the tokens earned since `filledAt`. They are counted in floating point first: at a high
    /// rate, over the years since a capture's epoch, they would not fit in the bucket's integers.
    @inline(__always)
    mutating func refill(_ refill: Refill, at now: Timestamp) {
        let elapsed = now.nanoseconds - filledAt
        guard elapsed > 0 else { return }
        let capacity = refill.capacity
        let perNanosecond = refill.perNanosecond
        let earned = Double(elapsed) * perNanosecond
        if earned >= Double(capacity - level) {
            level = capacity
            filledAt = now.nanoseconds
        } else if earned >= 1 {
            // Advance the fill time only by what was turned into tokens, so no fraction is lost.
            let added = Int64(earned)
            level += added
            filledAt += Int64(Double(added) / perNanosecond)
        }
    }
}
