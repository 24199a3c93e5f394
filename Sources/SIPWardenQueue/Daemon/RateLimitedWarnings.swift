import Logging
import SIPWardenCore

/// Logs a repeated warning at most once per interval, with how many were held back since.
struct RateLimitedWarnings {
    let logger: Logger
    let interval: Int64 = 10_000_000_000
    var last: [String: Int64] = [:]
    var suppressed: [String: Int] = [:]

    init(logger: Logger) {
        self.logger = logger
    }

    mutating func warn(_ message: String, _ error: SystemCallError, queue: UInt16) {
        let now = MonotonicClock.now().nanoseconds
        if let previous = last[message], now - previous < interval {
            suppressed[message, default: 0] += 1
            return
        }
        last[message] = now
        logger.warning(
            "\(message)",
            metadata: [
                "queue": "\(queue)", "error": "\(error)",
                "suppressed": "\(suppressed.removeValue(forKey: message) ?? 0)",
            ])
    }
}
