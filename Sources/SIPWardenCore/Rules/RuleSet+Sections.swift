/// The engine's sections of the rule files. Every default is the shipped one (Rules/sipwarden.toml).
extension RuleSet {
    /// Which limits a request or response falls under.
    public enum MethodClass: String, Sendable, CaseIterable {
        case invite, register, options
        /// SUBSCRIBE, NOTIFY, MESSAGE, PUBLISH.
        case presence
        /// ACK, BYE, CANCEL, PRACK, UPDATE, INFO, REFER: requests inside a dialog.
        case dialog
        /// Responses arriving from clients and peers.
        case responses
        /// Unknown methods.
        case other

        public init(_ message: SIPMessage) {
            guard message.kind == .request else {
                self = .responses
                return
            }
            switch message.method {
            case .invite: self = .invite
            case .register: self = .register
            case .options: self = .options
            case .subscribe, .notify, .message, .publish: self = .presence
            case .ack, .bye, .cancel, .prack, .update, .info, .refer: self = .dialog
            case .none, .unknown: self = .other
            }
        }
    }

    /// `[limits.CLASS]`: token buckets per source address, per prefix (IPv4 /24, IPv6 /64 and /48), and global.
    public struct ClassLimits: Equatable, Sendable {
        public var source: Rate
        public var prefix: Rate
        public var global: Rate
    }

    /// `[limits]`
    public struct Limits: Equatable, Sendable {
        public var classes = MethodClassTable(
            invite: ClassLimits(
                source: .init(perSecond: 5, burst: 20), prefix: .init(perSecond: 20, burst: 60),
                global: .init(perSecond: 300, burst: 600)),
            register: ClassLimits(
                source: .init(perSecond: 20, burst: 150), prefix: .init(perSecond: 40, burst: 300),
                global: .init(perSecond: 1000, burst: 2000)),
            options: ClassLimits(
                source: .init(perSecond: 5, burst: 30), prefix: .init(perSecond: 20, burst: 100),
                global: .init(perSecond: 500, burst: 1000)),
            presence: ClassLimits(
                source: .init(perSecond: 50, burst: 600), prefix: .init(perSecond: 100, burst: 1200),
                global: .init(perSecond: 2000, burst: 4000)),
            dialog: ClassLimits(
                source: .init(perSecond: 50, burst: 200), prefix: .init(perSecond: 100, burst: 400),
                global: .init(perSecond: 3000, burst: 6000)),
            responses: ClassLimits(
                source: .init(perSecond: 100, burst: 400), prefix: .init(perSecond: 200, burst: 800),
                global: .init(perSecond: 5000, burst: 10000)),
            other: ClassLimits(
                source: .init(perSecond: 2, burst: 10), prefix: .init(perSecond: 5, burst: 20),
                global: .init(perSecond: 50, burst: 100)))
        /// Packets per second, all classes together, from sources with no good history: what contains a
        /// flood from millions of spoofed addresses while known phones and trunks keep their service.
        public var unknownSources = Rate(perSecond: 1000, burst: 2000)
        /// Sources with good history (a NAT office of registered phones) get their per-source rates and
        /// bursts multiplied by this.
        public var goodSourceFactor: Double = 4

        public subscript(_ methodClass: MethodClass) -> ClassLimits { classes[methodClass] }
    }

    /// `[score]`: points decay with a half-life; thresholds turn a source's score into verdicts.
    public struct Scoring: Equatable, Sendable {
        public var halfLife: Int64 = 60 * 1_000_000_000
        /// At or above this score, the source's packets are dropped.
        public var dropAt: Double = 50
        /// At or above this score, the source is banned in the kernel.
        public var banAt: Double = 100
        /// Points per event, by detector.
        public var points: DetectorPoints = [
            .scannerUserAgent: 100, .scannerMarks: 100, .malformed: 10, .notSIP: 20, .rateLimit: 2,
            .enumeration: 50, .passwordGuessing: 8, .distributedGuessing: 20, .tollFraud: 30, .hijack: 15,
            .digestReplay: 40, .cleartextKeys: 0, .sharedUserAgent: 20,
        ]
        public subscript(_ detector: Detector) -> Double { points[detector] }
    }

    /// `[bans]`
    public struct Bans: Equatable, Sendable {
        /// TTL of a source's first, second, … ban; the last one repeats.
        public var ttl: [Int64] = [600, 3600, 6 * 3600, 24 * 3600].map { $0 * 1_000_000_000 }
        /// Banned sources in one IPv4 /24 or IPv6 /64 within `prefixWindow` that ban the whole prefix
        /// (never one holding a trusted address, the server, or a member with good history in IPv4 or
        /// one that authenticated in IPv6). 0 disables.
        public var prefixMembers = 4
        public var prefixWindow: Int64 = 600 * 1_000_000_000
    }

    /// `[enumeration]`: extension scans (svwar and friends).
    public struct Enumeration: Equatable, Sendable {
        public var window: Int64 = 60 * 1_000_000_000
        /// Distinct target users in a window from a source without good history.
        public var distinctUsers = 20
        /// 404 answers (and 403s to requests without credentials) to one source in a window.
        public var notFound = 10
        /// Consecutive numeric target users (100, 101, 102, …).
        public var sequentialUsers = 6
        /// 404 answers (and 403s to requests without credentials) to the unproven members of one IPv4 /24,
        /// IPv6 /64 or IPv6 /48 in a window: a scan from address after address of one prefix, each below
        /// the per-source thresholds.
        public var prefixNotFound = 30
        /// The users a new address's REGISTERs may name in its registration grace, while their thresholds
        /// wait for the server's answers (a new site's lines registering at once). 0: no grace.
        public var graceUsers = 64
    }

    /// `[guessing]`: password guessing.
    public struct Guessing: Equatable, Sendable {
        public var window: Int64 = 300 * 1_000_000_000
        /// Failed authentications against one user, from `distributedSources` or more sources, in a
        /// window: the user is under distributed attack, and only the address it last registered from,
        /// or one that authenticated, may try it.
        public var distributedFailures = 20
        public var distributedSources = 4
        /// Failed authentications an address that authenticated (a NAT office) may have without points:
        /// its phones with wrong passwords retry at a phone's pace (a failure every 30 s or more each); a
        /// guesser that cracked one account tries others many times a second.
        public var officeFailures = Rate(perSecond: 30.0 / 60, burst: 30)
        /// Accounts that may fail for the first time from an address that authenticated in a window and
        /// get its free failures (its rollout's phones with mistyped passwords; each phone then retries
        /// its own account): past them, a new account's failure gets none (a password spray).
        public var officeAccounts = 32
        /// Addresses that hold one account's standing (`SourceState.authenticated`: an office's
        /// allowances) at once: the latest to authenticate as it (`UserState.holdsStanding`); one pushed
        /// out loses it where it next relies on it. (An account gives standing to at most eight new
        /// addresses an hour, `UserState.givesStanding`.)
        public var accountAddresses = 4
        /// Accounts that may fail to authenticate, or be answered 404, within an hour at the addresses
        /// standing on one account (`UserState.countSpray`): past them, a password spray or an extension
        /// scan, and the account's standing is spent for a day.
        public var sprayAccounts = 100
        /// Failed authentications from an address in a window whose credentials carried a nonce the
        /// server sent another address only: past them, its requests carrying such a nonce are refused
        /// (`Engine.refusesForeignNonce`).
        public var foreignNonces = 32
    }

    /// `[toll_fraud]`
    public struct TollFraud: Equatable, Sendable {
        /// Dialled-number prefixes (Request-URI user, leading "+" kept) that are expensive to reach.
        public var highRiskPrefixes: [String] = [
            "+", "00", "011", "9011", "900", "1900", "91900", "0900", "+881", "+882", "+883", "+870", "+979",
        ]
        /// The site's own country in E.164 ("+1", "+44"), for sites whose phones dial domestic numbers
        /// that way: a number is high risk when the longest of these and of `highRiskPrefixes` that it
        /// starts with is a high-risk one ("+1900" outranks "+1", "+1" outranks "+").
        public var domesticPrefixes: [String] = []
        /// The site's own numbers (DIDs) as callers dial them, as prefixes ("+4420794600") or whole
        /// numbers: calls to them come in from carriers and are never high risk, whatever
        /// `highRiskPrefixes` says.
        public var ownNumbers: [String] = []
        /// Calls to high-risk numbers (INVITEs with credentials) one account may start (trusted sources
        /// aside).
        public var callsPerUser = Rate(perSecond: 10.0 / 60, burst: 10)
        /// Calls abroad without credentials an address that never authenticated may have held before
        /// they score: `callsPerUser`'s burst, refilled at a sixtieth of its rate (10 an hour by default).
        /// A PBX that authenticates each call has its first domestic call answered long before.
        public var heldCalls: Rate { Rate(perSecond: callsPerUser.perSecond / 60, burst: callsPerUser.burst) }
        /// The same number (its last digits) dialled behind this many different prefixes from one source.
        public var prefixVariants = 3
        /// How many trailing digits identify "the same number".
        public var numberDigits = 8
    }

    /// `[policy]`
    public struct Policy: Equatable, Sendable {
        public enum Action: String, Sendable, CaseIterable { case ignore, flag, drop }
        /// Malformed messages (RFC 3261/4475 rejects).
        public var malformed: Action = .drop
        /// SDES keys (`a=crypto … inline:`) over plain UDP/TCP, readable by anyone on the path.
        public var cleartextKeys: Action = .flag
    }

    /// `[signatures]`
    public struct Signatures: Equatable, Sendable {
        /// Lower-case substrings of User-Agent (or Server) values that only scanning tools send.
        public var userAgents: [String] = [
            "friendly-scanner", "sipvicious", "sipcli", "vaxsipuseragent", "pplsip", "sundayddr", "iwar",
            "sip-scan", "smap", "sipscan", "siparmyknife", "sipptk", "voipsniff",
        ]
        /// Lower-case substrings of User-Agent values that scanners send and so do real products (a
        /// softphone SDK, an admin's test tool): their requests are dropped, the source not banned.
        public var sharedUserAgents: [String] = ["portsip", "sipsak"]
        /// Structural marks of scanning tools that survive a changed User-Agent.
        public var structuralMarks = true
    }

    /// `[tables]`: fixed capacities; memory stays bounded whatever arrives.
    public struct Tables: Equatable, Sendable {
        public var sources = 262_144
        public var prefixes = 65_536
        public var users = 65_536
        public var nonces = 65_536
        /// Dialogs the server is in (`UserTables.dialogs`): a carrier at 50 calls a second with 30-minute
        /// session timers has 90,000 going.
        public var dialogs = 131_072
    }

    /// `[firewall]`: the host firewall `sipwarden firewall` writes.
    public struct Firewall: Equatable, Sendable {
        public enum Role: String, Sendable, CaseIterable {
            /// Proxy or registrar: SIP from anywhere, through the filter.
            case proxy
            /// PBX: SIP from anywhere through the filter, and RTP.
            case pbx
            /// PSTN gateway: SIP only from the configured proxies, RTP only from media peers.
            case gateway
            /// Media relay: the RTP range only.
            case media
        }
        public enum Default: String, Sendable, CaseIterable { case drop, reject }
        public enum Outbound: String, Sendable, CaseIterable {
            /// The host may open any outbound connection.
            case accept
            /// Only replies, SIP, RTP, DNS and NTP leave the host.
            case restrict
        }

        public var role: Role = .proxy
        /// What happens to everything not listed.
        public var defaultAction: Default = .drop
        /// Queue bypass: when no daemon listens on a queue, the kernel accepts SIP (fail-open) instead of
        /// dropping it (fail-closed).
        public var failOpen = true
        /// Whether `trust.allow` sources go through the filter too (they are never limited or banned
        /// either way; not queueing them saves the round trip).
        public var queueTrusted = false
        /// Networks allowed to reach `adminPorts`; nobody else reaches them. The default, anywhere, never
        /// locks out whoever loads the shipped firewall; sites narrow it to their admin networks.
        public var adminNetworks: [IPPrefix] = [IPPrefix("0.0.0.0/0")!, IPPrefix("::/0")!]
        public var adminPorts: [UInt16] = [22]
        /// Accept a default-drop firewall whose admin ports no network can reach (console access only).
        public var allowNoAdmin = false
        /// Gateway role: the proxies that alone may send SIP.
        public var proxies: [IPPrefix] = []
        /// SIP over WebSocket (TCP), accepted with the TCP connection limit.
        public var websocketPorts: [UInt16] = []
        /// The host's other services (IAX, STUN, provisioning over HTTP, …), accepted from anywhere.
        public var openTCPPorts: [UInt16] = []
        public var openUDPPorts: [UInt16] = []
        /// RTP ports for the pbx, gateway and media roles.
        public var mediaPorts: ClosedRange<UInt16> = 10000...20000
        /// Where RTP may come from; empty means anywhere (gateway: the proxies when empty).
        public var mediaPeers: [IPPrefix] = []
        /// New SIP TCP/TLS/WebSocket connections per source address.
        public var tcpConnections = Rate(perSecond: 20, burst: 40)
        public var outbound: Outbound = .accept
    }

    /// What adds points to a source's score.
    public enum Detector: String, Sendable, CaseIterable {
        case scannerUserAgent = "scanner-user-agent"
        case scannerMarks = "scanner-marks"
        case malformed
        case notSIP = "not-sip"
        case rateLimit = "rate-limit"
        case enumeration
        case passwordGuessing = "password-guessing"
        case distributedGuessing = "distributed-guessing"
        case tollFraud = "toll-fraud"
        case hijack
        case digestReplay = "digest-replay"
        case cleartextKeys = "cleartext-keys"
        case sharedUserAgent = "shared-user-agent"

        /// Whether the detector refuses a request by its points alone, with no drop of the packet of its
        /// own: a scanning tool, an extension scan, a replayed nonce. From an address that authenticated,
        /// which scores no points for it, the packet is dropped instead.
        var refusesByPointsAlone: Bool {
            switch self {
            case .scannerUserAgent, .scannerMarks, .enumeration, .digestReplay: true
            default: false
            }
        }
    }
}
