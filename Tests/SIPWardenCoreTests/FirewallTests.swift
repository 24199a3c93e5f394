import Foundation
import Testing

@testable import SIPWardenCore

/// The firewall model, its renderers (one golden text per construct), roles, refusals, and the shipped
/// files in Rules/.
@Suite struct FirewallTests {
    static let banSets = BanSets(RuleSet.Bans())
    static func set(_ name: String) -> BanSets.Set { banSets.sets.first { $0.name == name }! }

    /// One construct: a rule and its text in each backend (nil where the family leaves it out).
    struct Golden: Sendable, CustomTestStringConvertible {
        var name: String
        var rule: FirewallRule
        var hook: FirewallRuleset.Hook = .input
        var iptables: [String]?
        var ip6tables: [String]?
        var nft: String
        var testDescription: String { name }
    }

    static let goldens: [Golden] = [
        Golden(
            name: "ban set, addresses", rule: FirewallRule(.v4, [.sourceInSet(set("sipwarden-v4-c1"))], .drop),
            iptables: ["-A INPUT -m set --match-set sipwarden-v4-c1 src -j DROP"], ip6tables: nil,
            nft: "ip saddr @sipwarden-v4-c1 drop"),
        Golden(
            name: "ban set, IPv6 /64", rule: FirewallRule(.v6, [.sourceInSet(set("sipwarden-v6-p2"))], .drop),
            iptables: nil, ip6tables: ["-A INPUT -m set --match-set sipwarden-v6-p2 src -j DROP"],
            nft: "ip6 saddr & ffff:ffff:ffff:ffff:: @sipwarden-v6-p2 drop"),
        Golden(
            name: "ban mark adds the /24",
            rule: FirewallRule(
                .v4, [.mark(0x5781, mask: BanSets.markMask, negated: false)],
                .addSource(to: set("sipwarden-v4-p1"))),
            iptables: [
                "-A INPUT -m mark --mark 0x5781/0xffff -j SET --add-set sipwarden-v4-p1 src --exist --timeout 600"
            ],
            ip6tables: nil,
            nft:
                "meta nfproto ipv4 meta mark & 0x0000ffff == 0x00005781 add @sipwarden-v4-p1 { ip saddr & 255.255.255.0 timeout 600s }"
        ),
        Golden(
            name: "ban mark adds the IPv6 address",
            rule: FirewallRule(
                .v6, [.mark(0x5704, mask: BanSets.markMask, negated: false)],
                .addSource(to: set("sipwarden-v6-c4"))),
            iptables: nil,
            ip6tables: [
                "-A INPUT -m mark --mark 0x5704/0xffff -j SET --add-set sipwarden-v6-c4 src --exist --timeout 86400"
            ],
            nft:
                "meta nfproto ipv6 meta mark & 0x0000ffff == 0x00005704 add @sipwarden-v6-c4 { ip6 saddr timeout 86400s }"
        ),
        Golden(
            name: "verdict mark dropped",
            rule: FirewallRule([.mark(0x5700, mask: 0xFF00, negated: false)], .drop),
            iptables: ["-A INPUT -m mark --mark 0x5700/0xff00 -j DROP"],
            ip6tables: ["-A INPUT -m mark --mark 0x5700/0xff00 -j DROP"],
            nft: "meta mark & 0x0000ff00 == 0x00005700 drop"),
        Golden(
            name: "queue, balanced, bypass",
            rule: FirewallRule(
                [.ports(.udp, .destination, [5060...5060]), .mark(0x5700, mask: 0xFF00, negated: true)],
                .queue(0...3, bypass: true)),
            iptables: [
                "-A INPUT -p udp --dport 5060 -m mark ! --mark 0x5700/0xff00 -j NFQUEUE --queue-balance 0:3 --queue-bypass"
            ],
            ip6tables: [
                "-A INPUT -p udp --dport 5060 -m mark ! --mark 0x5700/0xff00 -j NFQUEUE --queue-balance 0:3 --queue-bypass"
            ],
            nft: "udp dport 5060 meta mark & 0x0000ff00 != 0x00005700 queue flags bypass to 0-3"),
        Golden(
            name: "queue, one, fail-closed, responses",
            rule: FirewallRule([.ports(.tcp, .source, [5060...5060, 5062...5062])], .queue(2...2, bypass: false)),
            hook: .output,
            iptables: ["-A OUTPUT -p tcp -m multiport --sports 5060,5062 -j NFQUEUE --queue-num 2"],
            ip6tables: ["-A OUTPUT -p tcp -m multiport --sports 5060,5062 -j NFQUEUE --queue-num 2"],
            nft: "tcp sport { 5060, 5062 } queue to 2"),
        Golden(
            name: "multiport overflow",
            rule: FirewallRule([.ports(.udp, .destination, (1...16).map { UInt16($0)...UInt16($0) })], .accept),
            iptables: [
                "-A INPUT -p udp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 -j ACCEPT",
                "-A INPUT -p udp -m multiport --dports 16 -j ACCEPT",
            ],
            ip6tables: [
                "-A INPUT -p udp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 -j ACCEPT",
                "-A INPUT -p udp -m multiport --dports 16 -j ACCEPT",
            ],
            nft: "udp dport { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } accept"),
        Golden(
            name: "sources and a port range",
            rule: FirewallRule(
                .v4,
                [
                    .source([IPPrefix("192.0.2.0/24")!, IPPrefix("198.51.100.7")!]),
                    .ports(.udp, .destination, [10000...20000]),
                ],
                .accept),
            iptables: ["-A INPUT -s 192.0.2.0/24,198.51.100.7 -p udp --dport 10000:20000 -j ACCEPT"], ip6tables: nil,
            nft: "ip saddr { 192.0.2.0/24, 198.51.100.7 } udp dport 10000-20000 accept"),
        Golden(
            name: "destination",
            rule: FirewallRule(
                .v6, [.destination([IPPrefix("2001:db8::/32")!]), .ports(.udp, .source, [5060...5060])], .accept),
            hook: .output, iptables: nil, ip6tables: ["-A OUTPUT -d 2001:db8::/32 -p udp --sport 5060 -j ACCEPT"],
            nft: "ip6 daddr 2001:db8::/32 udp sport 5060 accept"),
        Golden(
            name: "new connections per source",
            rule: FirewallRule(
                .v6,
                [
                    .ports(.tcp, .destination, [5061...5061]), .state([.new]),
                    .perSourceOver(Rate(perSecond: 0.5, burst: 4), family: .v6),
                ],
                .drop),
            iptables: nil,
            ip6tables: [
                "-A INPUT -p tcp --dport 5061 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 30/min --hashlimit-burst 4 --hashlimit-mode srcip --hashlimit-name sipwarden-tcp -j DROP"
            ],
            nft:
                "meta nfproto ipv6 tcp dport 5061 ct state new update @sipwarden-tcp-v6 { ip6 saddr limit rate over 30/minute burst 4 packets } drop"
        ),
        Golden(
            name: "established", rule: FirewallRule([.state([.established, .related])], .accept),
            iptables: ["-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"],
            ip6tables: ["-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"],
            nft: "ct state established,related accept"),
        Golden(
            name: "loopback out", rule: FirewallRule([.loopback], .accept), hook: .output,
            iptables: ["-A OUTPUT -o lo -j ACCEPT"], ip6tables: ["-A OUTPUT -o lo -j ACCEPT"], nft: "oif \"lo\" accept"),
        Golden(
            name: "spoofed own address", rule: FirewallRule([.localSource], .drop),
            iptables: ["-A INPUT -m addrtype --src-type LOCAL -j DROP"],
            ip6tables: ["-A INPUT -m addrtype --src-type LOCAL -j DROP"], nft: "fib saddr type local drop"),
        Golden(
            name: "echo, limited",
            rule: FirewallRule(.v4, [.icmp(.echoRequest), .limit(Rate(perSecond: 5, burst: 10))], .accept),
            iptables: ["-A INPUT -p icmp --icmp-type echo-request -m limit --limit 5/sec --limit-burst 10 -j ACCEPT"],
            ip6tables: nil, nft: "icmp type echo-request limit rate 5/second burst 10 packets accept"),
        Golden(
            name: "neighbour discovery",
            rule: FirewallRule(.v6, [.icmp(.neighbourSolicitation), .hopLimit(255)], .accept),
            iptables: nil,
            ip6tables: ["-A INPUT -p ipv6-icmp --icmpv6-type neighbour-solicitation -m hl --hl-eq 255 -j ACCEPT"],
            nft: "icmpv6 type nd-neighbor-solicit ip6 hoplimit 255 accept"),
        Golden(
            name: "all ICMPv6 out", rule: FirewallRule(.v6, [.proto(.icmpv6)], .accept), hook: .output,
            iptables: nil, ip6tables: ["-A OUTPUT -p ipv6-icmp -j ACCEPT"],
            nft: "meta nfproto ipv6 meta l4proto ipv6-icmp accept"),
        Golden(
            name: "reject TCP", rule: FirewallRule([.proto(.tcp)], .reject),
            iptables: ["-A INPUT -p tcp -j REJECT --reject-with tcp-reset"],
            ip6tables: ["-A INPUT -p tcp -j REJECT --reject-with tcp-reset"],
            nft: "meta l4proto tcp reject with tcp reset"),
        Golden(
            name: "reject the rest", rule: FirewallRule([], .reject),
            iptables: ["-A INPUT -j REJECT --reject-with icmp-port-unreachable"],
            ip6tables: ["-A INPUT -j REJECT --reject-with icmp6-port-unreachable"],
            nft: "reject with icmpx port-unreachable"),
    ]

    @Test(arguments: goldens) func constructRendersAsGolden(_ golden: Golden) {
        for (family, expected) in [(IPAddress.Family.v4, golden.iptables), (.v6, golden.ip6tables)] {
            let renderer = IPTablesRenderer(family: family)
            #expect(golden.rule.applies(to: family) == (expected != nil))
            if let expected { #expect(renderer.lines(golden.rule, in: golden.hook) == expected) }
        }
        #expect(NFTablesRenderer().text(golden.rule, in: golden.hook) == golden.nft)
    }

    @Test func setsRenderAsGolden() throws {
        var rules = RuleSet()
        rules.bans.ttl = [90 * 1_000_000_000]
        let ruleset = try FirewallRuleset(rules: rules)
        #expect(
            IPSetRenderer().render(ruleset).split(separator: "\n").filter { !$0.hasPrefix("#") } == [
                "create sipwarden-v4-c1 hash:ip family inet timeout 90 maxelem 65536",
                "create sipwarden-v4-p1 hash:ip family inet netmask 24 timeout 90 maxelem 65536",
                "create sipwarden-v6-c1 hash:ip family inet6 timeout 90 maxelem 65536",
                "create sipwarden-v6-p1 hash:ip family inet6 netmask 64 timeout 90 maxelem 65536",
            ])
        let nft = NFTablesRenderer().render(ruleset)
        #expect(
            nft.contains(
                "\tset sipwarden-v6-p1 {\n\t\ttype ipv6_addr\n\t\tsize 65536\n\t\tflags dynamic,timeout\n\t\ttimeout 90s\n\t}\n"
            ))
        #expect(nft.contains("\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t}\n"))
        #expect(nft.contains("\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n\t}\n"))
        #expect(nft.contains("}\nflush chain inet sipwarden input\nflush chain inet sipwarden forward\n"))
        let v4 = IPTablesRenderer(family: .v4).render(ruleset)
        #expect(v4.contains("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"))
        #expect(v4.hasSuffix("\nCOMMIT\n"))
    }

    /// The titles of a chain's sections, shortened to their first words.
    func titles(_ ruleset: FirewallRuleset, _ hook: FirewallRuleset.Hook) -> [String] {
        ruleset.chains.first { $0.hook == hook }!.sections.map {
            String($0.title.prefix(while: { $0 != ":" && $0 != "(" && $0 != "," }))
        }
    }

    func chainRules(_ ruleset: FirewallRuleset, _ hook: FirewallRuleset.Hook) -> [FirewallRule] {
        ruleset.chains.first { $0.hook == hook }!.sections.flatMap(\.rules)
    }

    @Test func theInputChainMeetsPacketsInTheDesignedOrder() throws {
        var rules = RuleSet()
        rules.trust.allow = [IPPrefix("192.0.2.0/24")!]
        rules.trust.deny = [IPPrefix("203.0.113.0/24")!]
        let ruleset = try FirewallRuleset(rules: rules)
        #expect(
            titles(ruleset, .input) == [
                "Banned sources ", "Ban marks", "Loopback", "trust.deny", "From outside",
                "Packets that belong to no valid connection.",
                "Trusted peers ", "New SIP connections over TCP", "SIP requests to the filter",
                "SIP over TLS and WebSocket",
                "Replies and related packets ", "ICMP and ICMPv6", "Management ", "Everything else",
            ])
        #expect(
            titles(ruleset, .output) == [
                "Loopback", "SIP to trusted peers ", "The server's SIP ",
            ])
        #expect(ruleset.chains.map(\.policy) == [.drop, .drop, .accept])
    }

    /// After the marks that ban, a TCP segment the daemon marked without a class is answered with a TCP
    /// reset (the client connects again), before every marked packet is dropped.
    @Test func aSegmentMarkedWithoutAClassIsAnsweredWithAReset() throws {
        let ruleset = try FirewallRuleset(rules: RuleSet())
        let marks = chainRules(ruleset, .input).filter {
            if case .mark(_, _, false) = $0.matches.first { return true }
            return false
        }
        let reset = FirewallRule([.mark(0x5700, mask: 0xFFFF, negated: false), .proto(.tcp)], .reject)
        #expect(marks.suffix(2) == [reset, FirewallRule([.mark(0x5700, mask: 0xFF00, negated: false)], .drop)])
        #expect(
            IPTablesRenderer(family: .v4).render(ruleset).contains(
                "-A INPUT -m mark --mark 0x5700/0xffff -p tcp -j REJECT --reject-with tcp-reset"))
        #expect(
            NFTablesRenderer().render(ruleset).contains(
                "meta mark & 0x0000ffff == 0x00005700 meta l4proto tcp reject with tcp reset"))
    }

    @Test func theQueueTakesSIPBothWaysAndNeverAMarkedPacket() throws {
        let ruleset = try FirewallRuleset(rules: RuleSet())
        let queued = [FirewallRuleset.Hook.input, .output].flatMap { hook in
            chainRules(ruleset, hook).filter { $0.action == .queue(0...1, bypass: true) }.map { (hook, $0.matches) }
        }
        let notMarked = FirewallRule.Match.mark(0x5700, mask: 0xFF00, negated: true)
        #expect(queued.count == 4)
        #expect(queued.allSatisfy { $0.1.contains(notMarked) })
        #expect(
            queued.map(\.1.first) == [
                .ports(.udp, .destination, [5060...5060]), .ports(.tcp, .destination, [5060...5060]),
                .ports(.udp, .source, [5060...5060]), .ports(.tcp, .source, [5060...5060]),
            ])
        var closed = RuleSet()
        closed.firewall.failOpen = false
        closed.daemon.queues = 4...4
        let failClosed = try FirewallRuleset(rules: closed)
        #expect(chainRules(failClosed, .input).filter { $0.action == .queue(4...4, bypass: false) }.count == 2)
        #expect(!IPTablesRenderer(family: .v4).render(failClosed).contains("--queue-bypass"))
    }

    @Test func trustedPeersSkipTheQueueUnlessQueueTrusted() throws {
        var rules = RuleSet()
        rules.trust.allow = [IPPrefix("192.0.2.0/24")!, IPPrefix("2001:db8::/32")!]
        let skipping = chainRules(try FirewallRuleset(rules: rules), .input).filter {
            $0.action == .accept && $0.matches.first == .source([IPPrefix("192.0.2.0/24")!])
        }
        let trusted = IPPrefix("192.0.2.0/24")!
        let expected: [[FirewallRule.Match]] = [
            [.source([trusted]), .ports(.udp, .destination, [5060...5060])],
            [.source([trusted]), .ports(.tcp, .destination, [5060...5060, 5061...5061])],
        ]
        #expect(skipping.map(\.matches) == expected)
        rules.firewall.queueTrusted = true
        let queueing = try FirewallRuleset(rules: rules)
        #expect(!titles(queueing, .input).contains("Trusted peers "))
        #expect(!titles(queueing, .output).contains("SIP to trusted peers "))
    }

    @Test func theGatewayTakesSIPAndRTPOnlyFromItsProxies() throws {
        var rules = RuleSet()
        rules.firewall.proxies = [IPPrefix("198.51.100.20")!, IPPrefix("2001:db8::10")!]
        let ruleset = try FirewallRuleset(rules: rules, role: .gateway)
        let sipAndMedia = chainRules(ruleset, .input).filter { rule in
            if case .queue = rule.action { return true }
            return rule.matches.contains {
                [.ports(.tcp, .destination, [5061...5061]), .ports(.udp, .destination, [10000...20000])].contains($0)
            }
        }
        #expect(sipAndMedia.count == 8)
        #expect(
            sipAndMedia.allSatisfy {
                [.source([IPPrefix("198.51.100.20")!]), .source([IPPrefix("2001:db8::10")!])].contains($0.matches.first)
            })
        #expect(throws: FirewallError.gatewayWithoutProxies) { try FirewallRuleset(rules: RuleSet(), role: .gateway) }
    }

    @Test func mediaAndPBXRolesOpenTheRTPRange() throws {
        var rules = RuleSet()
        rules.firewall.role = .media
        let media = try FirewallRuleset(rules: rules)
        #expect(!chainRules(media, .input).contains { if case .queue = $0.action { true } else { false } })
        #expect(
            chainRules(media, .input).contains(FirewallRule([.ports(.udp, .destination, [10000...20000])], .accept)))
        rules.firewall.mediaPeers = [IPPrefix("198.51.100.0/24")!]
        let pbx = try FirewallRuleset(rules: rules, role: .pbx)
        #expect(
            chainRules(pbx, .input).contains(
                FirewallRule(
                    .v4, [.source([IPPrefix("198.51.100.0/24")!]), .ports(.udp, .destination, [10000...20000])], .accept
                )))
        #expect(
            !chainRules(try FirewallRuleset(rules: rules, role: .proxy), .input).contains {
                $0.matches.contains(.ports(.udp, .destination, [10000...20000]))
            })
    }

    /// The host's other services (IAX, provisioning over HTTPS) are opened from anywhere, before the
    /// chain's default; without them nothing else is.
    @Test func otherServicesAreOpenedFromAnywhere() throws {
        var rules = try RuleSet(
            toml: "[firewall]\nopen_tcp_ports = [443, 80, 443]\nopen_udp_ports = [4569]\n", file: "site.toml")
        let input = chainRules(try FirewallRuleset(rules: rules), .input)
        #expect(input.contains(FirewallRule([.ports(.udp, .destination, [4569...4569])], .accept)))
        #expect(input.contains(FirewallRule([.ports(.tcp, .destination, [80...80, 443...443])], .accept)))
        let nft = NFTablesRenderer().render(try FirewallRuleset(rules: rules))
        #expect(nft.contains("udp dport 4569 accept"), "\(nft)")
        // Never a port another key filters or restricts: SSH stays for the admin networks.
        rules.firewall.openTCPPorts = [443, 22]
        #expect(throws: FirewallError.openPortTaken(port: 22, key: "firewall.admin_ports")) {
            try FirewallRuleset(rules: rules)
        }
        rules.firewall.openTCPPorts = []
        rules.firewall.openUDPPorts = [10_500]
        #expect(throws: FirewallError.openPortTaken(port: 10_500, key: "firewall.media_ports")) {
            try FirewallRuleset(rules: rules)
        }
        rules.firewall.openUDPPorts = []
        // Nor an admin port a SIP key opens to every source.
        var shared = rules
        shared.firewall.adminPorts = [22, 5061]
        #expect(throws: FirewallError.adminPortOpen(port: 5061, key: "ports.sip_tls")) {
            try FirewallRuleset(rules: shared)
        }
        shared.firewall.adminPorts = [8443]
        shared.firewall.websocketPorts = [8443]
        #expect(throws: FirewallError.adminPortOpen(port: 8443, key: "firewall.websocket_ports")) {
            try FirewallRuleset(rules: shared)
        }
        #expect(
            !chainRules(try FirewallRuleset(rules: rules), .input).contains {
                $0.matches.contains(.ports(.udp, .destination, [4569...4569]))
            })
    }

    @Test func restrictedOutboundLetsOutOnlyWhatTheHostNeeds() throws {
        var rules = RuleSet()
        rules.firewall.outbound = .restrict
        rules.firewall.defaultAction = .reject
        let ruleset = try FirewallRuleset(rules: rules, role: .pbx)
        #expect(ruleset.chains.map(\.policy) == [.drop, .drop, .drop])
        #expect(
            titles(ruleset, .output) == [
                "Loopback", "The server's SIP ", "Replies and related packets ", "ICMP and ICMPv6 ", "DNS and NTP.",
                "SIP to other servers' SIP ports.", "RTP and RTCP from the media ports.", "Everything else",
            ])
        #expect(
            chainRules(ruleset, .output).suffix(2) == [
                FirewallRule([.proto(.tcp)], .reject), FirewallRule([], .reject),
            ])
    }

    @Test func refusesToLockTheAdminOut() throws {
        var rules = RuleSet()
        rules.firewall.adminNetworks = []
        #expect(throws: FirewallError.noAdminNetworks(ports: [22])) { try FirewallRuleset(rules: rules) }
        rules.firewall.adminNetworks = [IPPrefix("198.51.100.0/28")!]
        rules.firewall.adminPorts = []
        #expect(throws: FirewallError.noAdminPorts) { try FirewallRuleset(rules: rules) }
        rules.firewall.allowNoAdmin = true
        rules.firewall.adminNetworks = []
        let consoleOnly = try FirewallRuleset(rules: rules)
        #expect(!titles(consoleOnly, .input).contains("Management "))
        #expect(
            FirewallError.noAdminNetworks(ports: [22, 2222]).description.hasPrefix(
                "firewall.admin_networks is empty: admin ports 22, 2222 would be"))
    }

    /// trust.deny is dropped before the admin ports are accepted: a deny block covering a whole admin
    /// network shuts the admin out from there. One inside it (a single bad host) is the operator's choice.
    @Test func refusesADenyListThatCoversAnAdminNetwork() throws {
        var rules = RuleSet()
        rules.firewall.adminNetworks = [IPPrefix("198.51.100.0/28")!, IPPrefix("2001:db8:ad::/48")!]
        rules.trust.deny = [IPPrefix("198.51.100.9")!, IPPrefix("2001:db8::/32")!]
        #expect(
            throws: FirewallError.adminNetworkDenied(
                network: rules.firewall.adminNetworks[1], deny: [rules.trust.deny[1]])
        ) {
            try FirewallRuleset(rules: rules)
        }
        rules.trust.deny = [IPPrefix("198.51.100.9")!, IPPrefix("2001:db8:ad:1::/64")!]
        _ = try FirewallRuleset(rules: rules)
        // Blocks that only together cover an admin network shut it out as well.
        let halves = ["198.51.100.0/29", "198.51.100.8/30", "198.51.100.12/31", "198.51.100.14", "198.51.100.15"]
        rules.trust.deny = halves.map { IPPrefix($0)! }
        #expect(
            throws: FirewallError.adminNetworkDenied(network: rules.firewall.adminNetworks[0], deny: rules.trust.deny)
        ) {
            try FirewallRuleset(rules: rules)
        }
        rules.trust.deny.removeLast()
        _ = try FirewallRuleset(rules: rules)
        rules.trust.deny = [IPPrefix("0.0.0.0/0")!]
        rules.firewall.adminNetworks = [IPPrefix("0.0.0.0/0")!]
        #expect(
            throws: FirewallError.adminNetworkDenied(
                network: rules.firewall.adminNetworks[0], deny: rules.trust.deny)
        ) {
            try FirewallRuleset(rules: rules)
        }
        rules.firewall.allowNoAdmin = true
        _ = try FirewallRuleset(rules: rules)
    }

    /// Admin networks of one family only: the other family's file has no admin rule, and every rendering
    /// says so at the top.
    @Test func adminNetworksOfOneFamilyAreNamedInTheSummary() throws {
        var rules = RuleSet()
        let note =
            "Admin ports (firewall.admin_ports) are closed over IPv4: firewall.admin_networks has no network of that family."
        rules.firewall.adminNetworks = [IPPrefix("2001:db8:ad::/48")!]
        let ruleset = try FirewallRuleset(rules: rules)
        #expect(ruleset.summary.contains(note))
        #expect(!IPTablesRenderer(family: .v4).render(ruleset).contains("--dport 22"))
        #expect(IPTablesRenderer(family: .v4).render(ruleset).contains("# \(note)"))
        rules.firewall.adminNetworks = [IPPrefix("198.51.100.0/28")!]
        #expect(
            try FirewallRuleset(rules: rules).summary.contains {
                $0.hasPrefix("Admin ports (firewall.admin_ports) are closed over IPv6:")
            })
        rules.firewall.adminNetworks.append(IPPrefix("::/0")!)
        #expect(!(try FirewallRuleset(rules: rules).summary.contains { $0.hasPrefix("Admin ports") }))
    }

    @Test func adminPortsOpenOnlyToAdminNetworks() throws {
        var rules = RuleSet()
        rules.firewall.adminNetworks = [
            IPPrefix("198.51.100.0/28")!, IPPrefix("198.51.100.5")!, IPPrefix("2001:db8:ad::/48")!,
        ]
        rules.firewall.adminPorts = [22, 2222]
        let admin = chainRules(try FirewallRuleset(rules: rules), .input).filter {
            $0.matches.last == .ports(.tcp, .destination, [22...22, 2222...2222])
        }
        #expect(
            admin == [
                FirewallRule(
                    .v4,
                    [.source([IPPrefix("198.51.100.0/28")!]), .ports(.tcp, .destination, [22...22, 2222...2222])],
                    .accept),
                FirewallRule(
                    .v6,
                    [.source([IPPrefix("2001:db8:ad::/48")!]), .ports(.tcp, .destination, [22...22, 2222...2222])],
                    .accept),
            ])
        let anywhere = chainRules(try FirewallRuleset(rules: RuleSet()), .input).filter {
            $0.matches.last == .ports(.tcp, .destination, [22...22])
        }
        #expect(
            anywhere == [
                FirewallRule(.v4, [.ports(.tcp, .destination, [22...22])], .accept),
                FirewallRule(.v6, [.ports(.tcp, .destination, [22...22])], .accept),
            ])
    }

    @Test func peersDropCoveredBlocksAndMeanEveryoneAtSlashZero() {
        let peers = Peers.only([
            IPPrefix("192.0.2.7")!, IPPrefix("192.0.2.0/24")!, IPPrefix("10.0.0.0/8")!, IPPrefix("10.0.0.0/8")!,
            IPPrefix("::/0")!,
        ])
        #expect(peers.blocks(.v4) == [IPPrefix("192.0.2.0/24")!, IPPrefix("10.0.0.0/8")!])
        #expect(peers.blocks(.v6) == nil)
        #expect(Peers.only([IPPrefix("192.0.2.7")!]).blocks(.v6) == [])
        #expect(Peers.anywhere.blocks(.v4) == nil)
    }

    @Test func marksAndDeletionsNameTheSameSets() {
        let sets = Self.banSets
        #expect(sets.mark(for: Decision.Ban(ttl: 0, prefixLength: 32, offence: 1)) == 0x5701)
        #expect(sets.mark(for: Decision.Ban(ttl: 0, prefixLength: 24, offence: 2)) == 0x5782)
        #expect(sets.mark(for: Decision.Ban(ttl: 0, prefixLength: 128, offence: 9)) == 0x5704)
        #expect(sets.mark(for: Decision.Ban(ttl: 0, prefixLength: 64, offence: 3)) == 0x5783)
        #expect(Self.set("sipwarden-v6-p3").mark == 0x5783)
        let entries = [
            BanSets.Entry(set: "sipwarden-v4-c2", address: IPAddress("192.0.2.9")!),
            BanSets.Entry(set: "sipwarden-v6-p1", address: IPAddress("2001:db8:1:2::")!),
        ]
        #expect(
            BanSets.deletionScript(entries, backend: .ipset)
                == "del sipwarden-v4-c2 192.0.2.9\ndel sipwarden-v6-p1 2001:db8:1:2::\n")
        #expect(
            BanSets.deletionScript(entries, backend: .nft)
                == "add element inet sipwarden sipwarden-v4-c2 { 192.0.2.9 }\n"
                + "delete element inet sipwarden sipwarden-v4-c2 { 192.0.2.9 }\n"
                + "add element inet sipwarden sipwarden-v6-p1 { 2001:db8:1:2:: }\n"
                + "delete element inet sipwarden sipwarden-v6-p1 { 2001:db8:1:2:: }\n")
    }

    /// An unban lifts every entry it overlaps: an address the block banned around it, a block every ban
    /// inside it; nothing of another family, another block, or a set that is not SIPWarden's.
    @Test func anUnbanLiftsEveryEntryItOverlaps() {
        func entry(_ set: String, _ address: String) -> BanSets.Entry {
            BanSets.Entry(set: "sipwarden-\(set)", address: IPAddress(address)!)
        }
        let held = [
            entry("v4-c1", "192.0.2.9"), entry("v4-c3", "192.0.2.10"), entry("v4-p2", "192.0.2.0"),
            entry("v4-c1", "198.51.100.1"), entry("v4-p1", "198.51.100.0"), entry("v6-c1", "2001:db8::9"),
            entry("v6-p4", "2001:db8:0:1::"), BanSets.Entry(set: "other", address: IPAddress("192.0.2.9")!),
            entry("v6-c2", "192.0.2.9"), entry("v4-x1", "192.0.2.9"), entry("v4-c", "192.0.2.9"),
            entry("v4-c12", "192.0.2.11"), entry("v4-c+1", "192.0.2.9"), entry("-v4-c1", "192.0.2.9"),
            entry("v4-c1-", "192.0.2.9"), entry("v4-p12", "192.0.3.0"),
        ]
        func lifted(_ targets: String...) -> [BanSets.Entry] {
            BanSets.entriesLifted(by: targets.map { IPPrefix($0)! }, from: held)
        }
        #expect(lifted("192.0.2.9") == [entry("v4-c1", "192.0.2.9"), entry("v4-p2", "192.0.2.0")])
        #expect(lifted("192.0.2.8/31") == [entry("v4-c1", "192.0.2.9"), entry("v4-p2", "192.0.2.0")])
        #expect(
            lifted("192.0.2.0/24") == [
                entry("v4-c1", "192.0.2.9"), entry("v4-c12", "192.0.2.11"), entry("v4-c3", "192.0.2.10"),
                entry("v4-p2", "192.0.2.0"),
            ])
        #expect(lifted("192.0.2.0/23", "192.0.2.0/24").count == 5)
        #expect(lifted("192.0.3.77") == [entry("v4-p12", "192.0.3.0")])
        #expect(lifted("0.0.0.0/0").count == 7)
        #expect(lifted("2001:db8::/32") == [entry("v6-c1", "2001:db8::9"), entry("v6-p4", "2001:db8:0:1::")])
        #expect(lifted("2001:db8:0:1::5") == [entry("v6-p4", "2001:db8:0:1::")])
        #expect(lifted("203.0.113.1", "::/0").count == 2)
        #expect(lifted().isEmpty)
    }

    @Test func ratesBecomeWholeCountsPerUnit() {
        #expect(Rate(perSecond: 20, burst: 40).firewallCount == (20, .second))
        #expect(Rate(perSecond: 10.0 / 60, burst: 0).firewallCount == (10, .minute))
        #expect(Rate(perSecond: 1.0 / 3600, burst: 1).firewallCount == (1, .hour))
        #expect(Rate(perSecond: 1e-9, burst: 1).firewallCount == (1, .day))
        #expect(Rate(perSecond: 1, burst: 0.2).firewallBurst == 1)
        // A rule's "1e300/s" is written out, not a trap.
        let huge = Rate(perSecond: 1e300, burst: 1e300)
        #expect(huge.firewallCount == (1_000_000_000_000, .second) && huge.firewallBurst == 1_000_000_000_000)
    }

    @Test func commentsWrapAtOneHundredColumns() {
        let lines = FirewallRuleset.comment(String(repeating: "word ", count: 50))
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0.hasPrefix("# ") && $0.count <= 100 })
    }

    static let rulesFolder: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent().appendingPathComponent("Rules")
    }()

    /// Rules/firewall.* are what the shipped rule file generates. After a deliberate change, rewrite them
    /// with `SIPWARDEN_REGENERATE=1 swift test --filter shippedFirewallFiles` and review the diff.
    @Test(arguments: FirewallFormat.allCases) func shippedFirewallFilesHaveNotDrifted(_ format: FirewallFormat) throws {
        let shipped = try String(contentsOf: Self.rulesFolder.appendingPathComponent("sipwarden.toml"), encoding: .utf8)
        let ruleset = try FirewallRuleset(rules: try RuleSet(toml: shipped, file: "Rules/sipwarden.toml"))
        let generated = format.render(ruleset)
        let file = Self.rulesFolder.appendingPathComponent(format.shippedFile)
        if ProcessInfo.processInfo.environment["SIPWARDEN_REGENERATE"] == "1" {
            try Data(generated.utf8).write(to: file)
        }
        #expect(try String(contentsOf: file, encoding: .utf8) == generated, "Rules/\(format.shippedFile) drifted")
    }
}
