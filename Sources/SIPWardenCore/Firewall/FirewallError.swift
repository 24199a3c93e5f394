/// A firewall the generator refuses to write.
public enum FirewallError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Default drop with the admin ports open to no network: loading it over SSH locks the admin out.
    case noAdminNetworks(ports: [UInt16])
    /// No admin port at all: the same lock-out.
    case noAdminPorts
    /// The gateway role accepts SIP only from its proxies, and none is configured.
    case gatewayWithoutProxies
    /// A port opened to anyone (`firewall.open_tcp_ports`, `open_udp_ports`) that another key restricts
    /// or filters: opened, it would bypass that.
    case openPortTaken(port: UInt16, key: String)
    /// An admin port that a SIP key opens to every source: the admin networks would not restrict it.
    case adminPortOpen(port: UInt16, key: String)
    /// `trust.deny` blocks covering a whole admin network: it is dropped before the admin ports.
    case adminNetworkDenied(network: IPPrefix, deny: [IPPrefix])

    public var description: String {
        switch self {
        case .noAdminNetworks(let ports):
            let list = ports.map(String.init).joined(separator: ", ")
            return "firewall.admin_networks is empty: admin port\(ports.count == 1 ? "" : "s") \(list) would be "
                + "reachable from nowhere and loading this firewall would lock you out; list your admin networks, "
                + "or set firewall.allow_no_admin = true for console-only hosts"
        case .noAdminPorts:
            return "firewall.admin_ports is empty: no remote management would be reachable and loading this "
                + "firewall would lock you out; list them, or set firewall.allow_no_admin = true for console-only hosts"
        case .gatewayWithoutProxies:
            return "role gateway accepts SIP only from firewall.proxies, and it is empty: list your proxies"
        case .adminPortOpen(let port, let key):
            return "firewall.admin_ports has port \(port), but \(key) opens it to every source: the admin service "
                + "there would not be restricted to firewall.admin_networks; move it to another port"
        case .adminNetworkDenied(let network, let deny):
            let blocks = deny.map(\.description).joined(separator: ", ")
            return "trust.deny has \(blocks), which \(deny.count == 1 ? "covers" : "cover") firewall.admin_networks "
                + "\(network): denied sources are "
                + "dropped before the admin ports, and loading this firewall would lock you out from there; "
                + "narrow trust.deny or remove that admin network, or set firewall.allow_no_admin = true for "
                + "console-only hosts"
        case .openPortTaken(let port, let key):
            return "firewall.open_*_ports opens port \(port) to anyone, but \(key) has it: open only the host's "
                + "other services there"
        }
    }
}
