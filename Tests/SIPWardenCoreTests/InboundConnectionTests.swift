import SIPWardenCore
import Testing

/// What a generated firewall does to the TCP connections the host holds: read from the kernel's socket
/// list, judged by walking the firewall's input chain as the kernel does.
@Suite struct InboundConnectionTests {
    /// `/proc/net/tcp` and `tcp6` as an x86-64 kernel prints them: addresses as 32-bit words in the host's
    /// (little-endian) byte order.
    static let tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
           1: 0100000A:0016 076433C6:C3CA 01 00000000:00000000 02:00000A2B 00000000     0        0 2 2 0 20 4 30 10 -1
           2: 0100000A:D431 0900710A:01BB 01 00000000:00000000 00:00000000 00000000  1000        0 3 1 0 20 4 30 10 -1
           3: 0100000A:1F90 076433C6:C3CB 06 00000000:00000000 03:00000A2B 00000000     0        0 0 3 0
        """
    static let tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue
           0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000
           1: 00000000000000000000000001000000:0016 B80D012000000000000000000700000:C3CC 01 00000000:00000000
           2: 00000000000000000000000001000000:0016 B80D0120000000000000000007000000:C3CC 01 00000000:00000000
           3: 0000000000000000FFFF00000100000A:0016 0000000000000000FFFF0000097100CB:C3CD 01 00000000:00000000
        """

    @Test func readsTheConnectionsAcceptedOnListeningPorts() {
        // The SSH session from 198.51.100.7; not the host's own connection out to port 443, nor a socket
        // in TIME_WAIT, nor a line cut short.
        #expect(
            InboundConnection.accepted(inProcNetTCP: Self.tcp)
                == [InboundConnection(client: IPAddress("198.51.100.7")!, port: 22)])
        #expect(
            InboundConnection.accepted(inProcNetTCP: Self.tcp6) == [
                InboundConnection(client: IPAddress("2001:db8::7")!, port: 22),
                InboundConnection(client: IPAddress("203.0.113.9")!, port: 22),
            ])
        #expect(InboundConnection.accepted(inProcNetTCP: "").isEmpty)
    }

    @Test func theInputChainIsWalkedAsTheKernelWalksIt() throws {
        var rules = RuleSet()
        rules.trust.deny = [IPPrefix("203.0.113.0/24")!]
        rules.firewall.adminNetworks = [IPPrefix("198.51.100.0/28")!]
        let firewall = try FirewallRuleset(rules: rules)
        func outcome(_ client: String, _ port: UInt16, _ state: FirewallRule.ConnectionState = .new)
            -> FirewallRuleset.Outcome
        {
            firewall.inputOutcome(
                tcpFrom: IPAddress(client)!, toPort: port, state: state, local: [IPAddress("192.0.2.5")!])
        }
        let admin = "Management (firewall.admin_ports: TCP 22) from firewall.admin_networks only."
        let established = "Replies and related packets (ICMP errors) of accepted connections."
        #expect(outcome("198.51.100.7", 22) == .accepted(by: admin))
        #expect(outcome("198.51.100.77", 22) == .dropped(by: "the input chain's policy"))
        #expect(outcome("198.51.100.77", 22, .established) == .accepted(by: established))
        #expect(outcome("2001:db8::7", 22) == .dropped(by: "the input chain's policy"))
        #expect(outcome("203.0.113.9", 22, .established) == .dropped(by: "trust.deny: always dropped."))
        #expect(outcome("127.0.0.1", 8080) == .accepted(by: "Loopback: the host talking to itself."))
        #expect(outcome("192.0.2.5", 8080) == .accepted(by: "Loopback: the host talking to itself."))
        #expect(outcome("203.0.113.9", 5060) == .dropped(by: "trust.deny: always dropped."))
        func filtered(_ outcome: FirewallRuleset.Outcome) -> Bool {
            if case .filtered = outcome { true } else { false }
        }
        #expect(filtered(outcome("192.0.2.99", 5060)))
        #expect(
            outcome("192.0.2.99", 5061)
                == .accepted(by: "SIP over TLS and WebSocket: accepted (the filter cannot read it)."))
        #expect(outcome("192.0.2.99", 5060, .invalid) == .dropped(by: "Packets that belong to no valid connection."))

        // A gateway takes SIP from its proxies only; a reject default decides with its own rule.
        rules.firewall.proxies = [IPPrefix("192.0.2.10")!]
        rules.firewall.defaultAction = .reject
        let gateway = try FirewallRuleset(rules: rules, role: .gateway)
        let rejected = gateway.inputOutcome(tcpFrom: IPAddress("192.0.2.99")!, toPort: 5060, state: .new)
        #expect(rejected == .dropped(by: "Everything else: rejected (TCP reset, or ICMP port unreachable)."))
        #expect(filtered(gateway.inputOutcome(tcpFrom: IPAddress("192.0.2.10")!, toPort: 5060, state: .new)))
    }

    @Test func warnsOncePerPortAndFateNamingTheSection() throws {
        var rules = RuleSet()
        rules.trust.deny = [IPPrefix("203.0.113.0/24")!]
        rules.firewall.adminNetworks = [IPPrefix("198.51.100.0/28")!]
        let firewall = try FirewallRuleset(rules: rules)
        let connections =
            ["198.51.100.7", "203.0.113.9", "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"].map {
                InboundConnection(client: IPAddress($0)!, port: 22)
            } + [InboundConnection(client: IPAddress("192.0.2.1")!, port: 5060)]
        #expect(
            InboundConnection.warnings(for: connections + connections, in: firewall) == [
                "this host holds 4 connections to TCP port 22 from 192.0.2.1, 192.0.2.2, 192.0.2.3 and 1 more: this "
                    + "firewall drops new connections from there (section \"the input chain's policy\"), and may cut "
                    + "them where connection tracking has not followed them yet",
                "this host holds a connection to TCP port 22 from 203.0.113.9: loading this firewall would cut it "
                    + "(section \"trust.deny\" drops it)",
            ])
        #expect(InboundConnection(client: IPAddress("198.51.100.7")!, port: 22).fate(in: firewall) == .kept)
    }
}
