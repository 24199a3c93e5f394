/// One firewall rule, backend-neutral: what a packet must match (all of it) and what then happens.
/// A renderer turns it into iptables, ip6tables or nft syntax.
public struct FirewallRule: Equatable, Sendable {
    /// The transport protocols rules name.
    public enum IPProtocol: String, Equatable, Sendable {
        case udp, tcp, icmp
        case icmpv6 = "ipv6-icmp"
    }

    /// Which port of the packet a port match looks at.
    public enum PortSide: Equatable, Sendable {
        case destination, source
    }

    /// Connection-tracking states.
    public enum ConnectionState: String, Equatable, Sendable {
        case invalid, new, established, related
    }

    /// One condition on a packet.
    public enum Match: Equatable, Sendable {
        /// Arriving on (input) or leaving by (output) the loopback interface.
        case loopback
        /// Source address is one of the host's own (on any interface).
        case localSource
        case state([ConnectionState])
        /// Source address inside one of these blocks (all of one family).
        case source([IPPrefix])
        /// Destination address inside one of these blocks (all of one family).
        case destination([IPPrefix])
        /// The protocol alone.
        case proto(IPProtocol)
        /// The protocol with a destination or source port among these ranges.
        case ports(IPProtocol, PortSide, [ClosedRange<UInt16>])
        case icmp(ICMPType)
        /// IPv6 hop limit equal to this (255: neighbour discovery from the link itself).
        case hopLimit(UInt8)
        /// `packet mark & mask == value`, or `!=` when `negated`.
        case mark(UInt32, mask: UInt32, negated: Bool)
        /// Source (masked to the set's prefix length) in a ban set.
        case sourceInSet(BanSets.Set)
        /// Under this rate, for all packets together (a token bucket).
        case limit(Rate)
        /// Over this rate from one source address of `family` (a token bucket per source): iptables
        /// hashlimit, an nft dynamic set per family.
        case perSourceOver(Rate, family: IPAddress.Family)
    }

    /// What happens to a matching packet.
    public enum Action: Equatable, Sendable {
        case accept, drop
        /// TCP reset for TCP, ICMP port-unreachable otherwise.
        case reject
        /// Adds the source (or its prefix) to the set with the class's timeout, and goes on to the next rule.
        case addSource(to: BanSets.Set)
        /// Hands the packet to NFQUEUE, balanced over the queues by address pair; `bypass` accepts it when
        /// no program listens on the queue.
        case queue(ClosedRange<UInt16>, bypass: Bool)
    }

    /// The address family the rule applies to; nil for both.
    public var family: IPAddress.Family?
    public var matches: [Match]
    public var action: Action

    public init(_ family: IPAddress.Family?, _ matches: [Match], _ action: Action) {
        self.family = family
        self.matches = matches
        self.action = action
    }

    /// A rule for both families.
    public init(_ matches: [Match], _ action: Action) { self.init(nil, matches, action) }

    /// Whether the rule matches TCP only (a reject then answers with a TCP reset).
    public var matchesTCP: Bool {
        matches.contains { match in
            switch match {
            case .proto(.tcp), .ports(.tcp, _, _): return true
            default: return false
            }
        }
    }

    /// Whether the rule belongs in a ruleset for `family`.
    public func applies(to family: IPAddress.Family) -> Bool { self.family == nil || self.family == family }
}

/// The ICMP and ICMPv6 messages a host firewall lets in.
public enum ICMPType: Equatable, Sendable {
    case destinationUnreachable, timeExceeded, parameterProblem, echoRequest
    case v6DestinationUnreachable, packetTooBig, v6TimeExceeded, v6ParameterProblem, v6EchoRequest
    case routerAdvertisement, neighbourSolicitation, neighbourAdvertisement, listenerQuery

    public var family: IPAddress.Family {
        switch self {
        case .destinationUnreachable, .timeExceeded, .parameterProblem, .echoRequest: return .v4
        default: return .v6
        }
    }

    /// The name iptables and ip6tables take (`--icmp-type`, `--icmpv6-type`).
    public var iptablesName: String {
        switch self {
        case .destinationUnreachable, .v6DestinationUnreachable: return "destination-unreachable"
        case .timeExceeded, .v6TimeExceeded: return "time-exceeded"
        case .parameterProblem, .v6ParameterProblem: return "parameter-problem"
        case .echoRequest, .v6EchoRequest: return "echo-request"
        case .packetTooBig: return "packet-too-big"
        case .routerAdvertisement: return "router-advertisement"
        case .neighbourSolicitation: return "neighbour-solicitation"
        case .neighbourAdvertisement: return "neighbour-advertisement"
        // ip6tables has no name for MLD.
        case .listenerQuery: return "130"
        }
    }

    /// The name nft takes (`icmp type`, `icmpv6 type`).
    public var nftName: String {
        switch self {
        case .routerAdvertisement: return "nd-router-advert"
        case .neighbourSolicitation: return "nd-neighbor-solicit"
        case .neighbourAdvertisement: return "nd-neighbor-advert"
        case .listenerQuery: return "mld-listener-query"
        default: return iptablesName
        }
    }
}
