/// The outputs of `sipwarden firewall`.
public enum FirewallFormat: String, Sendable, CaseIterable {
    /// `iptables-restore` input (IPv4).
    case iptables
    /// `ip6tables-restore` input (IPv6).
    case ip6tables
    /// `nft -f` input: table `inet sipwarden`, sets and rules, IPv4 and IPv6.
    case nft
    /// `ipset restore` input: the ban sets the iptables and ip6tables flavours need, loaded first.
    case ipset

    /// The firewall printed in this format.
    public func render(_ ruleset: FirewallRuleset) -> String {
        switch self {
        case .iptables: return IPTablesRenderer(family: .v4).render(ruleset)
        case .ip6tables: return IPTablesRenderer(family: .v6).render(ruleset)
        case .nft: return NFTablesRenderer().render(ruleset)
        case .ipset: return IPSetRenderer().render(ruleset)
        }
    }

    /// The address families whose traffic a firewall loaded from this format filters.
    public var families: [IPAddress.Family] {
        switch self {
        case .iptables: return [.v4]
        case .ip6tables: return [.v6]
        case .nft: return [.v4, .v6]
        case .ipset: return []
        }
    }

    /// The shipped file in `Rules/` that holds this format for the default configuration.
    public var shippedFile: String { "firewall.\(rawValue)" }
}
