/// A point in time in nanoseconds since the Unix epoch. The core never reads a clock: callers pass one
/// (packet timestamps in replay, the monotonic clock in the daemon, hand-stepped values in tests).
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    public init(seconds: Double) {
        nanoseconds = Int64(seconds * 1e9)
    }

    public var seconds: Double { Double(nanoseconds) / 1e9 }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Seconds with microsecond precision, as captures print them.
    public var description: String {
        let whole = nanoseconds / 1_000_000_000
        let micros = (nanoseconds % 1_000_000_000) / 1000
        let padded = String(micros)
        return "\(whole).\(String(repeating: "0", count: 6 - padded.count))\(padded)"
    }
}
