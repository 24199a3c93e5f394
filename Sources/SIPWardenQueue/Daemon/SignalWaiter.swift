#if canImport(Glibc)
    import Glibc
#endif

/// SIGTERM, SIGINT and SIGHUP, taken synchronously by the daemon's main thread with `sigtimedwait`.
///
/// `block()` runs before any other thread starts, so every thread inherits the blocked mask and the
/// signals wait for the main thread instead of interrupting a queue mid-batch. No handler runs in
/// signal context; the main thread acts on each signal in order.
public struct SignalWaiter: Sendable {
    public enum Event: Equatable, Sendable {
        case stop(Int32)
        case reload
        /// The wait timed out: time for the watchdog and housekeeping.
        case tick
    }

    static let handled = [SIGTERM, SIGINT, SIGHUP]

    public init() {}

    /// Blocks the handled signals in the calling thread (and in the threads it creates from now on).
    public func block() {
        var set = Self.signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits up to `timeout` seconds for a handled signal.
    public func wait(timeout: Double) -> Event {
        var set = Self.signalSet()
        var limit = timespec(tv_sec: Int(timeout), tv_nsec: Int((timeout - timeout.rounded(.down)) * 1e9))
        let signal = retryingInterrupts { sigtimedwait(&set, nil, &limit) }
        switch signal {
        case SIGHUP: return .reload
        case SIGTERM, SIGINT: return .stop(signal)
        default: return .tick
        }
    }

    static func signalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in handled { sigaddset(&set, signal) }
        return set
    }
}
