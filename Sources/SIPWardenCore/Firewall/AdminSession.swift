/// The SSH session the firewall is generated in, and what loading that firewall would do to it:
/// `sipwarden firewall` warns before an administrator cuts the connection they are typing in.
public struct AdminSession: Equatable, Sendable {
    /// Where the session comes from.
    public let client: IPAddress
    /// The host's port it reached (sshd's).
    public let serverPort: UInt16

    public init(client: IPAddress, serverPort: UInt16) {
        self.client = client
        self.serverPort = serverPort
    }

    /// OpenSSH's `SSH_CONNECTION`: client address, client port, server address, server port. An IPv4
    /// client of a dual-stack sshd (`::ffff:192.0.2.7`) is read as the IPv4 address it is, as the
    /// kernel's IPv4 rules see it. Nil when the text is not that.
    public init?(sshConnection: String) {
        let fields = sshConnection.split(separator: " ")
        guard fields.count == 4, let address = IPAddress(String(fields[0])),
            let port = UInt16(fields[3]), port > 0
        else { return nil }
        let mapped = IPPrefix("::ffff:0:0/96")!
        client = mapped.contains(address) ? IPAddress(v4: UInt32(truncatingIfNeeded: address.low)) : address
        serverPort = port
    }

    /// What loading the firewall generated from some rules does to a session.
    public enum Fate: Equatable, Sendable {
        /// Kept, and a new session from the same address is let in.
        case admitted
        /// Kept (established connections are accepted), but a new one from there is dropped.
        case notReadmitted
        /// Cut: `trust.deny` drops the client before established connections are accepted.
        case denied(by: IPPrefix)
    }

    /// What the firewall generated from `rules` does to this session, in the order of its input chain.
    public func fate(under rules: RuleSet) -> Fate {
        if Self.loopback.contains(where: { $0.contains(client) }) { return .admitted }
        if let deny = rules.trust.deny.first(where: { $0.contains(client) }) { return .denied(by: deny) }
        let firewall = rules.firewall
        let admitted =
            firewall.adminPorts.contains(serverPort) && firewall.adminNetworks.contains { $0.contains(client) }
            || firewall.openTCPPorts.contains(serverPort)
        return admitted ? .admitted : .notReadmitted
    }

    /// Loopback sources (a tunnelled session): accepted before anything the rules say.
    static let loopback = [IPPrefix("127.0.0.0/8")!, IPPrefix("::1/128")!]

    /// A warning for the administrator when the session is not simply admitted.
    public func warning(under rules: RuleSet) -> String? {
        let session = "this SSH session comes from \(client) to port \(serverPort)"
        switch fate(under: rules) {
        case .admitted:
            return nil
        case .notReadmitted:
            return "\(session), which firewall.admin_networks and firewall.admin_ports do not admit: once this "
                + "firewall is loaded the session goes on, but you could not connect again from there"
        case .denied(let deny):
            return "\(session), which trust.deny \(deny) drops: loading this firewall would cut this session"
        }
    }
}
