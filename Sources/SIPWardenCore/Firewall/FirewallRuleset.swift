/// A whole host firewall, backend-neutral: the ban sets and three chains of commented sections, built
/// from the rule files for one role (`FirewallRuleset(rules:role:)`). Renderers print it for iptables,
/// ip6tables, nft and ipset.
public struct FirewallRuleset: Equatable, Sendable {
    /// The netfilter hooks the firewall filters at.
    public enum Hook: String, Equatable, Sendable {
        case input, forward, output
    }

    /// What a chain does with a packet no rule decided.
    public enum Policy: String, Equatable, Sendable {
        case accept, drop
    }

    /// Rules under one heading; the heading becomes a comment above them.
    public struct Section: Equatable, Sendable {
        public var title: String
        public var rules: [FirewallRule]
    }

    /// The rules of one hook, in order.
    public struct Chain: Equatable, Sendable {
        public var hook: Hook
        public var policy: Policy
        public var sections: [Section]
    }

    /// Lines that say what this firewall does, printed at the top of every rendering.
    public var summary: [String]
    public var banSets: BanSets
    public var chains: [Chain]

    /// `text` as comment lines of at most `width` characters, each starting with `prefix`.
    public static func comment(_ text: String, prefix: String = "# ", width: Int = 100) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, prefix.count + line.count + 1 + word.count > width {
                lines.append(prefix + line)
                line = ""
            }
            line += line.isEmpty ? String(word) : " \(word)"
        }
        return lines + [prefix + line]
    }

    /// Whether a rule of some chain limits new connections per source for `family` (nft then declares
    /// the dynamic set it needs).
    public func limitsConnections(_ family: IPAddress.Family) -> Bool {
        chains.contains { chain in
            chain.sections.contains { section in
                section.rules.contains { rule in
                    rule.matches.contains {
                        if case .perSourceOver(_, family) = $0 { true } else { false }
                    }
                }
            }
        }
    }
}
