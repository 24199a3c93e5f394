/// A TCP connection this host accepted (an SSH session, a client of another service), and what loading
/// a generated firewall would do to it: `sipwarden firewall` and `check` warn before an administrator
/// cuts the session they are typing in, or closes a service in use.
public struct InboundConnection: Hashable, Sendable {
    /// Where the connection comes from.
    public let client: IPAddress
    /// The host's port it reached.
    public let port: UInt16

    public init(client: IPAddress, port: UInt16) {
        self.client = client
        self.port = port
    }

    /// What loading a firewall does to a connection.
    public enum Fate: Equatable, Sendable {
        /// Its packets and new connections from its address get in.
        case kept
        /// Its packets get in as an established connection, but a new one from its address is dropped;
        /// where connection tracking has not followed the connection yet (the host's first stateful
        /// firewall), its next packet counts as new and it is cut too.
        case notReadmitted(by: String)
        /// Its packets are dropped before established connections are accepted.
        case cut(by: String)
    }

    public func fate(in ruleset: FirewallRuleset, local: Set<IPAddress> = []) -> Fate {
        func outcome(_ state: FirewallRule.ConnectionState) -> FirewallRuleset.Outcome {
            ruleset.inputOutcome(tcpFrom: client, toPort: port, state: state, local: local)
        }
        if case .dropped(let section) = outcome(.established) { return .cut(by: section) }
        if case .dropped(let section) = outcome(.new) { return .notReadmitted(by: section) }
        return .kept
    }

    /// The connections accepted from elsewhere in `/proc/net/tcp` or `/proc/net/tcp6` text: established
    /// sockets on a port some socket listens on. An IPv4 client of an IPv6 socket (`::ffff:192.0.2.7`)
    /// is read as the IPv4 address the kernel's IPv4 rules see.
    public static func accepted(inProcNetTCP text: String) -> [InboundConnection] {
        let (listening, established) = (0x0A, 0x01)
        var sockets: [(local: UInt16, remote: IPAddress, state: Int)] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 3, let local = endpoint(fields[1]), let remote = endpoint(fields[2]),
                let state = Int(fields[3], radix: 16)
            else { continue }
            sockets.append((local.port, remote.address, state))
        }
        let ports = Set(sockets.filter { $0.state == listening }.map(\.local))
        return sockets.filter { $0.state == established && ports.contains($0.local) }.map {
            InboundConnection(client: $0.remote, port: $0.local)
        }
    }

    /// `ADDRESS:PORT` as the kernel prints it: the address as 32-bit words in the host's byte order
    /// (one for IPv4, four for IPv6), the port in hexadecimal.
    static func endpoint(_ text: Substring) -> (address: IPAddress, port: UInt16)? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1], radix: 16), parts[0].count == 8 || parts[0].count == 32
        else { return nil }
        var words: [UInt64] = []
        var rest = parts[0]
        while !rest.isEmpty {
            guard let word = UInt32(rest.prefix(8), radix: 16) else { return nil }
            words.append(UInt64(UInt32(bigEndian: word)))
            rest = rest.dropFirst(8)
        }
        guard words.count == 4 else { return (IPAddress(v4: UInt32(words[0])), port) }
        return (IPAddress(v6: words[0] << 32 | words[1], words[2] << 32 | words[3]).unmappingIPv4, port)
    }

    /// Warnings for `connections` that loading `ruleset` would cut or keep from connecting again, one per
    /// port and fate: how many, from where (the first few), and which section of the firewall decides.
    public static func warnings(
        for connections: [InboundConnection], in ruleset: FirewallRuleset, local: Set<IPAddress> = []
    ) -> [String] {
        var groups: [(port: UInt16, fate: Fate, clients: [IPAddress])] = []
        for connection in Set(connections).sorted(by: { ($0.port, $0.client) < ($1.port, $1.client) }) {
            let fate = connection.fate(in: ruleset, local: local)
            guard fate != .kept else { continue }
            if let index = groups.firstIndex(where: { $0.port == connection.port && $0.fate == fate }) {
                groups[index].clients.append(connection.client)
            } else {
                groups.append((connection.port, fate, [connection.client]))
            }
        }
        return groups.compactMap { port, fate, clients in
            let shown = clients.prefix(3).map(\.description).joined(separator: ", ")
            let more = clients.count > 3 ? " and \(clients.count - 3) more" : ""
            let (held, them) = clients.count == 1 ? ("a connection", "it") : ("\(clients.count) connections", "them")
            let holds = "this host holds \(held) to TCP port \(port) from \(shown)\(more)"
            switch fate {
            case .kept:
                return nil
            case .cut(let section):
                return "\(holds): loading this firewall would cut \(them) (section \(name(section)) drops \(them))"
            case .notReadmitted(let section):
                return "\(holds): this firewall drops new connections from there (section \(name(section))), and may "
                    + "cut \(them) where connection tracking has not followed \(them) yet"
            }
        }
    }

    /// A section's heading up to its first colon, quoted: "trust.deny", "Everything else".
    static func name(_ section: String) -> String {
        var name = section.prefix { $0 != ":" }
        while name.last == "." || name.last == " " { name = name.dropLast() }
        return "\"\(name)\""
    }
}
