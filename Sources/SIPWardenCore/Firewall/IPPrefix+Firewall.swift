extension IPPrefix {
    /// The block as firewall rules write it: a bare address for a single host, CIDR otherwise.
    public var firewallText: String {
        length == BanSets.prefixLength(address.family, prefix: false) ? address.description : description
    }
}
