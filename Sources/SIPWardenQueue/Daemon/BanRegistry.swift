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

    /// The listing: bans by target, and when expired ones were last swept out of a full listing.
    struct Listing {
        var entries: [IPPrefix: Entry] = [:]
        var lastSweep = Timestamp(nanoseconds: 0)

        /// Forgets the bans expired at `now`.
        mutating func sweep(at now: Timestamp) {
            entries = entries.filter { $0.value.expires > now }
            lastSweep = now
        }
    }

    /// At most this many bans are listed (by default as many as one kernel set holds); bans beyond are
    /// applied in the kernel all the same and counted in `unlisted`.
    let capacity: Int

    let listing = Mutex(Listing())
    let total = Atomic<Int>(0)
    let unlistedCount = Atomic<Int>(0)
    let logger: Logger

    public init(logger: Logger, capacity: Int = BanSets.capacity) {
        self.logger = logger
        self.capacity = capacity
    }

    /// Bans issued since the daemon started.
    public var issued: Int { total.load(ordering: .relaxed) }

    /// Bans applied while the listing was full of bans still in force.
    public var unlisted: Int { unlistedCount.load(ordering: .relaxed) }

    /// Records a ban an engine issued and logs it.
    func record(_ ban: BanRecord, queue: UInt16, mode: RuleSet.Mode) {
        let since = MonotonicClock.wall(ban.time)
        let entry = Entry(
            target: ban.target, reason: ban.reason, score: ban.score, ttl: ban.ttl, since: since,
            expires: Timestamp(nanoseconds: since.nanoseconds + ban.ttl), queue: queue, monitorOnly: mode == .monitor)
        // Queue threads wait here: a full listing is swept at most once a second, never per ban.
        let listed = listing.withLock { listing in
            if listing.entries.count >= capacity, listing.entries[ban.target] == nil,
                since.nanoseconds - listing.lastSweep.nanoseconds > 1_000_000_000
            {
                listing.sweep(at: since)
            }
            guard listing.entries.count < capacity || listing.entries[ban.target] != nil else { return false }
            listing.entries[ban.target] = entry
            return true
        }
        total.add(1, ordering: .relaxed)
        if !listed { unlistedCount.add(1, ordering: .relaxed) }
        logger.notice(
            "sipwarden ban",
            metadata: [
                "src": "\(ban.target.text)",
                "reason": "\(ban.reason.rawValue)", "ttl": "\(ban.ttl / 1_000_000_000)",
                "score": "\(Int(ban.score.rounded()))", "queue": "\(queue)", "mode": "\(mode.rawValue)",
            ])
    }

    /// The bans still in force at `now` (wall clock), oldest first; expired ones are forgotten.
    /// Sorted after the lock is released, so queue threads recording bans never wait for a sort.
    public func active(at now: Timestamp = MonotonicClock.wallNow()) -> [Entry] {
        let entries = listing.withLock { listing in
            listing.sweep(at: now)
            return Array(listing.entries.values)
        }
        return entries.sorted {
            ($0.since.nanoseconds, $0.target.address, $0.target.length)
                < ($1.since.nanoseconds, $1.target.address, $1.target.length)
        }
    }

    /// How many bans are in force at `now` (for status lines and stats: nothing is copied or sorted).
    public func activeCount(at now: Timestamp = MonotonicClock.wallNow()) -> Int {
        listing.withLock { listing in
            listing.sweep(at: now)
            return listing.entries.count
        }
    }

    /// Forgets the bans overlapping `target` and logs the unban; returns them.
    func remove(overlapping target: IPPrefix, by who: String) -> [Entry] {
        let removed = listing.withLock { listing in
            let matching = listing.entries.values.filter { $0.target.overlaps(target) }
            for entry in matching { listing.entries.removeValue(forKey: entry.target) }
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
