/// What `sipwarden bans|unban|stats` ask the daemon over the control socket: one JSON line each way.
public enum ControlRequest: Codable, Equatable, Sendable {
    case bans
    case unban(target: String)
    case stats
}

/// The daemon's answer to one `ControlRequest`.
public enum ControlResponse: Codable, Equatable, Sendable {
    case bans([BanEntry])
    case unbanned(UnbanResult)
    case stats(DaemonStats)
    case failed(String)
}

/// One ban in force, for `sipwarden bans list`.
public struct BanEntry: Codable, Equatable, Sendable {
    /// Address, or CIDR for a prefix ban.
    public var target: String
    public var reason: String
    public var score: Int
    /// Seconds.
    public var ttl: Int
    /// Unix seconds.
    public var since: Int
    public var expires: Int
    public var queue: Int
    /// Decided in monitor mode: not in the kernel.
    public var monitorOnly: Bool
}

/// What `sipwarden unban` removed.
public struct UnbanResult: Codable, Equatable, Sendable {
    public var target: String
    /// Bans the daemon was reporting that overlap the target.
    public var bans: Int
    /// Source and prefix entries the engines lifted.
    public var engineEntries: Int
    /// Kernel sets an entry was deleted from.
    public var kernelSets: [String]
    /// Why entries could not be deleted from the kernel sets (they still drop their sources there).
    public var kernelFailures: [String]

    public init(target: String, bans: Int, engineEntries: Int, kernelSets: [String], kernelFailures: [String]) {
        (self.target, self.bans, self.engineEntries) = (target, bans, engineEntries)
        (self.kernelSets, self.kernelFailures) = (kernelSets, kernelFailures)
    }

    /// Also the answer of a daemon from before `kernelFailures`, not restarted since an upgrade.
    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        target = try values.decode(String.self, forKey: .target)
        bans = try values.decode(Int.self, forKey: .bans)
        engineEntries = try values.decode(Int.self, forKey: .engineEntries)
        kernelSets = try values.decode([String].self, forKey: .kernelSets)
        kernelFailures = try values.decodeIfPresent([String].self, forKey: .kernelFailures) ?? []
    }
}

/// Everything `sipwarden stats` shows.
public struct DaemonStats: Codable, Equatable, Sendable {
    public struct Queue: Codable, Equatable, Sendable {
        public var queue: Int
        public var packets: Int
        /// Receives that brought packets; nil from a daemon older than this field.
        public var batches: Int?
        public var inbound: Int
        public var outbound: Int
        /// From /proc/net/netfilter/nfnetlink_queue: waiting now, dropped for a full queue, dropped for a
        /// full socket buffer. Nil when the kernel does not list the queue.
        public var waiting: Int?
        public var queueDropped: Int?
        public var userDropped: Int?
    }

    public struct Verdict: Codable, Equatable, Sendable {
        public var verdict: String
        public var reason: String
        public var count: Int
    }

    public struct Table: Codable, Equatable, Sendable {
        public var name: String
        public var entries: Int
        public var capacity: Int
    }

    public struct Source: Codable, Equatable, Sendable {
        public var address: String
        public var score: Double
        public var packets: Int
        public var banned: Bool
        /// A REGISTER or INVITE of it succeeded: limits are relaxed and it is never evicted.
        public var good: Bool
    }

    public var mode: String
    /// The host's own addresses the daemon holds (never banned), as read at start or the last reload;
    /// nil from a daemon too old to say.
    public var servers: [String]?
    public var uptimeSeconds: Int
    public var packets: Int
    public var queues: [Queue]
    public var verdicts: [Verdict]
    /// SIP messages by method ("response" for responses).
    public var messages: [String: Int]
    public var tables: [Table]
    public var activeBans: Int
    public var bansIssued: Int
    /// Bans applied in the kernel but left out of `bans list` while it was full.
    public var bansUnlisted: Int
    public var topSources: [Source]
}
