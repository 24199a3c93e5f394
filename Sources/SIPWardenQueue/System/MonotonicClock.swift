import SIPWardenCore

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's clocks: the engine runs on the monotonic clock (immune to wall-clock steps); reports
/// turn those times into wall-clock seconds.
public enum MonotonicClock {
    /// Now, on CLOCK_MONOTONIC.
    @inline(__always)
    public static func now() -> Timestamp { read(CLOCK_MONOTONIC) }

    /// Now, on CLOCK_REALTIME.
    public static func wallNow() -> Timestamp { read(CLOCK_REALTIME) }

    /// The wall-clock time of a monotonic timestamp.
    public static func wall(_ monotonic: Timestamp) -> Timestamp {
        Timestamp(nanoseconds: wallNow().nanoseconds - (now().nanoseconds - monotonic.nanoseconds))
    }

    /// The monotonic time of a wall-clock timestamp (one written before a restart, say).
    public static func monotonic(_ wall: Timestamp) -> Timestamp {
        Timestamp(nanoseconds: now().nanoseconds - (wallNow().nanoseconds - wall.nanoseconds))
    }

    static func read(_ clock: clockid_t) -> Timestamp {
        var value = timespec()
        clock_gettime(clock, &value)
        return Timestamp(nanoseconds: Int64(value.tv_sec) * 1_000_000_000 + Int64(value.tv_nsec))
    }
}
