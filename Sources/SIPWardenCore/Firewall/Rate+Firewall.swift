extension Rate {
    /// The time units firewall rate limits count in.
    public enum FirewallUnit: Int, Sendable, CaseIterable {
        case second = 1
        case minute = 60
        case hour = 3600
        case day = 86400
    }

    /// The rate as a whole count per the shortest unit that makes it whole (at least one per day), as
    /// iptables `limit`/`hashlimit` and nft `limit rate` take it (at most `Rate.maximum` a second).
    public var firewallCount: (count: Int, unit: FirewallUnit) {
        let perSecond = min(perSecond, Self.maximum)
        for unit in FirewallUnit.allCases {
            let count = perSecond * Double(unit.rawValue)
            if count >= 1, count == count.rounded() { return (Int(count), unit) }
        }
        return (max(1, Int((perSecond * 86400).rounded(.up))), .day)
    }

    /// The burst as a whole number of packets, at least one.
    public var firewallBurst: Int { max(1, Int(min(burst, Self.maximum).rounded())) }
}
