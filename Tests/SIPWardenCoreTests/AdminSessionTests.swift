import SIPWardenCore
import Testing

/// What a generated firewall does to the SSH session it was generated in.
@Suite struct AdminSessionTests {
    @Test func readsOpenSSHsConnectionVariable() throws {
        let session = try #require(AdminSession(sshConnection: "198.51.100.7 50122 192.0.2.5 2222"))
        #expect(session == AdminSession(client: IPAddress("198.51.100.7")!, serverPort: 2222))
        // A dual-stack sshd shows an IPv4 client mapped into IPv6; the IPv4 rules see it as IPv4.
        #expect(
            AdminSession(sshConnection: "::ffff:198.51.100.7 50122 ::ffff:192.0.2.5 22")?.client
                == IPAddress("198.51.100.7"))
        #expect(AdminSession(sshConnection: "2001:db8::7 50122 2001:db8::5 22")?.client == IPAddress("2001:db8::7"))
        for text in [
            "", "198.51.100.7 50122 192.0.2.5", "host 50122 192.0.2.5 22", "198.51.100.7 1 192.0.2.5 0",
            "198.51.100.7 1 192.0.2.5 65536", "198.51.100.7 1 192.0.2.5 22 extra",
        ] {
            #expect(AdminSession(sshConnection: text) == nil, "\(text)")
        }
    }

    @Test func followsTheInputChainsOrder() {
        var rules = RuleSet()
        rules.firewall.adminNetworks = [IPPrefix("198.51.100.0/28")!]
        rules.firewall.adminPorts = [22]
        func fate(_ client: String, _ port: UInt16) -> AdminSession.Fate {
            AdminSession(client: IPAddress(client)!, serverPort: port).fate(under: rules)
        }
        #expect(fate("198.51.100.7", 22) == .admitted)
        #expect(fate("198.51.100.77", 22) == .notReadmitted)
        #expect(fate("198.51.100.7", 2222) == .notReadmitted)
        #expect(fate("2001:db8::7", 22) == .notReadmitted)
        rules.firewall.openTCPPorts = [2222]
        #expect(fate("203.0.113.1", 2222) == .admitted)
        // Denied before anything else, even from an admin network; never loopback (a tunnel).
        rules.trust.deny = [IPPrefix("198.51.100.4/30")!, IPPrefix("0.0.0.0/0")!]
        #expect(fate("198.51.100.7", 22) == .denied(by: IPPrefix("198.51.100.4/30")!))
        #expect(fate("127.0.0.1", 22) == .admitted)
        #expect(fate("::1", 4444) == .admitted)
        #expect(AdminSession(client: IPAddress("127.0.0.1")!, serverPort: 22).warning(under: rules) == nil)
        #expect(
            AdminSession(client: IPAddress("198.51.100.7")!, serverPort: 22).warning(under: rules)
                == "this SSH session comes from 198.51.100.7 to port 22, which trust.deny 198.51.100.4/30 drops: "
                + "loading this firewall would cut this session")
    }
}
