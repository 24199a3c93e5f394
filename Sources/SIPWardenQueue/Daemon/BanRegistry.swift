import Logging
import SIPWardenCore
import Synchronization

/// The bans in force, as the daemon reports them: fed by the queues' engines, pruned as they expire,
/// and one log line per ban and unban (never per packet).
public final class BanRegistry: Sendable {
    /// One ban in force.
    public struct Entry: Sendable, Equatable {
        public var target: IPPrefix
        public var reason: Decision.Reason
        public var score: Double
        public var ttl: Int64
        /// Wall-clock times.
        public var since: Timestamp
        public var expires: Timestamp
        public var queue: UInt16
        /// Decided in monitor mode: reported, never applied in the kernel.
        public var monitorOnly: Bool
    }

    let entries = Mutex<[IPPrefix: Entry]>([:])
    let total = Atomic<Int>(0)
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Bans issued since the daemon started.
    public var issued: Int { total.load(ordering: .relaxed) }

    /// Records a ban an engine issued and logs it.
    func record(_ ban: BanRecord, queue: UInt16, mode: RuleSet.Mode) {
        let since = MonotonicClock.wall(ban.time)
        let entry = Entry(
            target: ban.target, reason: ban.reason, score: ban.score, ttl: ban.ttl, since: since,
            expires: Timestamp(nanoseconds: since.nanoseconds + ban.ttl), queue: queue, monitorOnly: mode == .monitor)
        entries.withLock { $0[ban.target] = entry }
        total.add(1, ordering: .relaxed)
        logger.notice(
            "sipwarden ban",
            metadata: [
                "src": "\(ban.target.text)",
                "reason": "\(ban.reason.rawValue)", "ttl": "\(ban.ttl / 1_000_000_000)",
                "score": "\(Int(ban.score.rounded()))", "queue": "\(queue)", "mode": "\(mode.rawValue)",
            ])
    }

    /// The bans still in force at `now` (wall clock), soonest to expire last; expired ones are forgotten.
    public func active(at now: Timestamp = MonotonicClock.wallNow()) -> [Entry] {
        entries.withLock { entries in
            entries = entries.filter { $0.value.expires > now }
            return entries.values.sorted { ($0.since, $0.target.description) < ($1.since, $1.target.description) }
        }
    }

    /// Forgets the bans overlapping `target` and logs the unban; returns them.
    func remove(overlapping target: IPPrefix, by who: String) -> [Entry] {
        let removed = entries.withLock { entries in
            let matching = entries.values.filter { $0.target.overlaps(target) }
            for entry in matching { entries.removeValue(forKey: entry.target) }
            return matching
        }
        logger.notice(
            "sipwarden unban", metadata: ["src": "\(target.text)", "bans": "\(removed.count)", "by": "\(who)"])
        return removed
    }
}

extension IPPrefix {
    /// The address alone for a single address, CIDR for a block: how logs and tables show a ban.
    public var text: String { length == (address.family == .v4 ? 32 : 128) ? address.description : description }
}
