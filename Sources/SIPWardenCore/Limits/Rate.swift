/// A sustained rate and the burst allowed above it: `"20/s"`, `"300/min"`, `"1000/h"` with a burst count.
public struct Rate: Equatable, Sendable, CustomStringConvertible {
    /// Events per second.
    public var perSecond: Double
    /// Events allowed at once before the rate applies.
    public var burst: Double

    /// The most a rate (events per second) or a burst counts as: beyond it, a rule's "unlimited" or a rate
    /// scaled by `good_source_factor` counts as it. Times 2^16 it fits a token bucket's integers, and no
    /// firewall takes as much (its loader names the rule).
    static let maximum = 1e12

    public init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// Parses `"N/s"`, `"N/min"` or `"N/h"` (N may have a fraction); nil otherwise.
    public static func parse(_ text: String) -> Double? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Double(parts[0].trimmingWhitespace), count >= 0, count.isFinite else {
            return nil
        }
        switch parts[1].trimmingWhitespace {
        case "s", "sec", "second": return count
        case "m", "min", "minute": return count / 60
        case "h", "hour": return count / 3600
        default: return nil
        }
    }

    public var description: String {
        perSecond >= 1 || perSecond == 0
            ? "\(Self.number(perSecond))/s burst \(Self.number(burst))"
            : "\(Self.number(perSecond * 60))/min burst \(Self.number(burst))"
    }

    /// A number without a needless ".0" (and in Double's own notation where it is too large for that).
    public static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// A span of time in rule files: `"30s"`, `"10m"`, `"2h"`, `"1d"`.
public enum RuleDuration {
    /// Parses a duration into nanoseconds; nil for anything else (negative values included).
    public static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingWhitespace
        let units: [(String, Double)] = [("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, seconds) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            // "ms" also ends in "s": only accept digits before the unit.
            guard let value = Double(number), value >= 0, value.isFinite, number.first?.isNumber == true else {
                continue
            }
            // Nanoseconds as Int64 reach 292 years: anything longer is no duration either.
            let nanoseconds = value * seconds * 1e9
            return nanoseconds < Double(Int64.max) ? Int64(nanoseconds) : nil
        }
        return nil
    }

    /// Whole seconds as `text(_:)` writes them; past the nanoseconds' range (292 years), the longest.
    public static func text(seconds: Int) -> String {
        let (nanoseconds, overflow) = Int64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return text(overflow ? (seconds < 0 ? .min : .max) : nanoseconds)
    }

    /// Nanoseconds as the shortest whole unit: "90s", "10m", "1h".
    public static func text(_ nanoseconds: Int64) -> String {
        let seconds = nanoseconds / 1_000_000_000
        for (unit, size) in [("d", Int64(86400)), ("h", 3600), ("m", 60)] where seconds >= size && seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}

extension Substring {
    var trimmingWhitespace: Substring {
        var result = self
        while result.first?.isWhitespace == true { result = result.dropFirst() }
        while result.last?.isWhitespace == true { result = result.dropLast() }
        return result
    }
}

extension String {
    var trimmingWhitespace: Substring { self[...].trimmingWhitespace }
}
