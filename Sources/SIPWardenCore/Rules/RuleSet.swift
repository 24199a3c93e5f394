/// The effective rules: what the filter protects, whom it trusts, and how it runs.
/// Built from the TOML rule files (`RuleSet(toml:file:)`); defaults are the shipped ones.
public struct RuleSet: Equatable, Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Verdicts are applied: drops and bans happen.
        case enforce
        /// Decisions are computed and reported, but every packet is accepted.
        case monitor
    }

    /// `[daemon]`
    public struct Daemon: Equatable, Sendable {
        /// NFQUEUE numbers the daemon binds, one thread each.
        public var queues: ClosedRange<UInt16> = 0...1
        public var mode: Mode = .enforce
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

        public func allows(_ address: IPAddress) -> Bool { allow.contains { $0.contains(address) } }
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
