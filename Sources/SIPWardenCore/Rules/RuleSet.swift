/// The effective rules: what the filter protects, whom it trusts, and how it runs.
/// Built from the TOML rule files (`RuleSet(toml:file:)`); defaults are the shipped ones.
public struct RuleSet: Equatable, Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Verdicts are applied: drops and bans happen.
        case enforce
        /// Decisions are computed and reported, but every packet is accepted.
        case monitor
    }

    /// What the kernel does with a packet for a queue that is full.
    public enum QueueFull: String, Sendable, CaseIterable {
        /// Accept it unjudged (`NFQA_CFG_F_FAIL_OPEN`): SIP keeps flowing under overload.
        case accept
        /// Drop it: nothing passes unjudged, at the price of dropping legitimate SIP under overload.
        case drop
    }

    /// A loopback address and TCP port to serve on (`"127.0.0.1:9595"`, `"[::1]:9595"`).
    public struct Endpoint: Equatable, Sendable, CustomStringConvertible {
        public var address: IPAddress
        public var port: UInt16

        public init(address: IPAddress, port: UInt16) {
            self.address = address
            self.port = port
        }

        /// Parses `ADDRESS:PORT` or `[IPV6]:PORT`; nil when malformed or the port is 0.
        public init?(_ text: String) {
            guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0
            else { return nil }
            var host = String(text[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard let address = IPAddress(host) else { return nil }
            self.init(address: address, port: port)
        }

        public var isLoopback: Bool {
            address.family == .v4 ? address.v4Value >> 24 == 127 : address.high == 0 && address.low == 1
        }

        public var description: String { address.family == .v4 ? "\(address):\(port)" : "[\(address)]:\(port)" }
    }

    /// `[daemon]`: how `sipwarden run` binds its queues and talks to the operator.
    public struct Daemon: Equatable, Sendable {
        /// NFQUEUE numbers the daemon binds, one thread each.
        public var queues: ClosedRange<UInt16> = 0...1
        public var mode: Mode = .enforce
        /// Bytes of each packet the kernel copies to the daemon (NFQUEUE copy range). A longer packet
        /// cannot be decoded (`undecodable`: a client's dropped in enforce mode), so keep this above the
        /// largest SIP message.
        public var copyRange = 65535
        /// Packets the kernel holds per queue waiting for a verdict.
        public var queueLength = 4096
        public var queueFull: QueueFull = .accept
        /// Packets received (and verdicts sent) per system call.
        public var batch = 64
        /// How long a queue's thread waits under steady traffic, after a batch that did not fill, before it
        /// receives again: the packets that arrive meanwhile are judged together, for one wake-up, one
        /// receive and one verdict send. Adds at most this (plus the kernel's timer slack) to a packet's
        /// time in the queue, and only under steady traffic (see `waitsAfter(batchOf:idle:)`);
        /// 0 receives again at once.
        public var batchWaitMicroseconds = 1000
        /// The netlink socket's receive buffer, in MiB.
        public var receiveBufferMiB = 16
        /// The Unix socket `sipwarden bans|unban|stats` talk to (mode 0600).
        public var controlSocket = "/run/sipwarden/control.sock"
        /// Where Prometheus metrics are served; nil disables them.
        public var metrics: Endpoint? = Endpoint(address: IPAddress(v4: 0x7F00_0001), port: 9595)
        /// Where the proven sources are kept across a restart (written on a graceful stop, read at the
        /// start); nil disables.
        public var stateFile: String? = "/var/lib/sipwarden/sources"

        /// Whether a queue's thread waits `batchWaitMicroseconds` before its next receive, after a batch of
        /// `count` packets that it waited `idle` nanoseconds for (since it was last ready to receive).
        /// Never after a full batch (more are already waiting). After one of more than one packet (they
        /// came faster than the thread wakes for them), or a lone packet it waited less than the pause for
        /// (steady traffic, or a server's answer right after its request): the pause gathers the next
        /// ones into one batch. Not after a lone packet that kept it idle longer (light traffic), where a
        /// pause would gather nothing and cost a timer wake-up per packet.
        public func waitsAfter(batchOf count: Int, idle: Int64) -> Bool {
            batchWaitMicroseconds > 0 && count < batch
                && (count > 1 || idle < Int64(batchWaitMicroseconds) * 1000)
        }
    }

    /// `[ports]`: what the host serves. Only these reach the filter; the firewall opens only these.
    public struct Ports: Equatable, Sendable {
        public var sipUDP: [UInt16] = [5060]
        public var sipTCP: [UInt16] = [5060]
        /// SIP over TLS is opened by the firewall but cannot be inspected.
        public var sipTLS: [UInt16] = [5061]

        /// Whether a packet between these ports would be handed to the filter.
        public func isSIP(_ transport: DecodedPacket.Transport, sourcePort: UInt16, destinationPort: UInt16) -> Bool {
            switch transport {
            case .udp: return sipUDP.contains(destinationPort) || sipUDP.contains(sourcePort)
            case .tcp: return sipTCP.contains(destinationPort) || sipTCP.contains(sourcePort)
            case .other: return false
            }
        }
    }

    /// `[trust]`
    public struct Trust: Equatable, Sendable {
        /// Carriers, trunks and admin networks: never limited or banned.
        public var allow: [IPPrefix] = []
        /// Always dropped.
        public var deny: [IPPrefix] = []

        @inline(__always)
        public func allows(_ address: IPAddress) -> Bool { allow.contains { $0.contains(address) } }
        @inline(__always)
        public func denies(_ address: IPAddress) -> Bool { deny.contains { $0.contains(address) } }
    }

    public var daemon = Daemon()
    public var ports = Ports()
    public var trust = Trust()
    public var limits = Limits()
    public var score = Scoring()
    public var bans = Bans()
    public var enumeration = Enumeration()
    public var guessing = Guessing()
    public var tollFraud = TollFraud()
    public var policy = Policy()
    public var signatures = Signatures()
    public var tables = Tables()
    public var classifierLimits = ClassifierLimits()
    public var firewall = Firewall()

    public init() {}
}

extension RuleSet {
    /// The keys, in rule-file notation, whose values differ in `other` but which a running daemon takes
    /// only at its next start: they are fixed when its queues, sockets and tables are set up. Everything
    /// else, `daemon.mode` included, a reload applies.
    public func startOnlyKeys(changedIn other: RuleSet) -> [String] {
        var keys: [String] = []
        func compare<Value: Equatable>(_ key: String, _ path: KeyPath<RuleSet, Value>) {
            if self[keyPath: path] != other[keyPath: path] { keys.append(key) }
        }
        compare("daemon.queues", \.daemon.queues)
        compare("daemon.copy_range", \.daemon.copyRange)
        compare("daemon.queue_length", \.daemon.queueLength)
        compare("daemon.queue_full", \.daemon.queueFull)
        compare("daemon.batch", \.daemon.batch)
        compare("daemon.batch_wait_us", \.daemon.batchWaitMicroseconds)
        compare("daemon.receive_buffer_mib", \.daemon.receiveBufferMiB)
        compare("daemon.control_socket", \.daemon.controlSocket)
        compare("daemon.metrics", \.daemon.metrics)
        compare("tables.sources", \.tables.sources)
        compare("tables.prefixes", \.tables.prefixes)
        compare("tables.users", \.tables.users)
        compare("tables.nonces", \.tables.nonces)
        return keys
    }
}
