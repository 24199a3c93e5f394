extension FirewallRuleset {
    /// What the input chain does with a packet, and the heading of the section whose rule decided.
    public enum Outcome: Equatable, Sendable {
        case accepted(by: String)
        /// Handed to the SIP filter, which lets through what it does not judge an attack.
        case filtered(by: String)
        case dropped(by: String)
    }

    /// The input chain's verdict on a TCP segment from `client` to this host's `port` in connection state
    /// `state`, as the kernel reaches it: the first rule that matches decides, else the chain's policy.
    /// The segment carries no mark, its source is in no ban set (bans are the daemon's to know) and it is
    /// under every rate limit; `local` (with loopback) are the host's own addresses, whose packets
    /// arrive on the loopback interface.
    public func inputOutcome(
        tcpFrom client: IPAddress, toPort port: UInt16, state: FirewallRule.ConnectionState,
        local: Set<IPAddress> = []
    ) -> Outcome {
        let isLocal = local.contains(client) || Self.loopback.contains { $0.contains(client) }
        guard let chain = chains.first(where: { $0.hook == .input }) else { return .dropped(by: "no input chain") }
        for section in chain.sections {
            for rule in section.rules where rule.applies(to: client.family) {
                let matched = rule.matches.allSatisfy { match in
                    switch match {
                    case .loopback, .localSource: return isLocal
                    case .state(let states): return states.contains(state)
                    case .source(let blocks): return blocks.contains { $0.contains(client) }
                    case .destination: return true
                    case .proto(let proto): return proto == .tcp
                    case .ports(let proto, let side, let ranges):
                        return proto == .tcp && side == .destination && ranges.contains { $0.contains(port) }
                    case .mark(let value, let mask, let negated): return (0 & mask == value) != negated
                    case .limit: return true
                    case .icmp, .hopLimit, .sourceInSet, .perSourceOver: return false
                    }
                }
                guard matched else { continue }
                switch rule.action {
                case .accept: return .accepted(by: section.title)
                case .drop, .reject: return .dropped(by: section.title)
                case .queue: return .filtered(by: section.title)
                case .addSource: continue
                }
            }
        }
        let policy = "the input chain's policy"
        return chain.policy == .accept ? .accepted(by: policy) : .dropped(by: policy)
    }

    static let loopback = [IPPrefix("127.0.0.0/8")!, IPPrefix("::1/128")!]
}
