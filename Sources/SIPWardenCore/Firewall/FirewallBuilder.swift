extension FirewallRuleset {
    /// The firewall for `role` (default: `firewall.role`) from the effective rules. Throws when it would
    /// lock the admin out or when the role lacks what it needs.
    public init(rules: RuleSet, role: RuleSet.Firewall.Role? = nil) throws(FirewallError) {
        let firewall = rules.firewall
        let role = role ?? firewall.role
        if !firewall.allowNoAdmin {
            if firewall.adminPorts.isEmpty { throw .noAdminPorts }
            if firewall.adminNetworks.isEmpty { throw .noAdminNetworks(ports: firewall.adminPorts) }
            // trust.deny is dropped before the admin ports are accepted.
            for network in firewall.adminNetworks where network.isCovered(by: rules.trust.deny) {
                let blocks = rules.trust.deny.filter { $0.covers(network) || network.covers($0) }
                throw .adminNetworkDenied(network: network, deny: blocks)
            }
        }
        if role == .gateway, firewall.proxies.isEmpty { throw .gatewayWithoutProxies }
        // An open port must not bypass what another key filters or restricts.
        let ranges = FirewallBuilder.ranges
        let taken: [(key: String, tcp: [ClosedRange<UInt16>], udp: [ClosedRange<UInt16>])] = [
            ("firewall.admin_ports", ranges(firewall.adminPorts), []),
            ("ports.sip_tcp", ranges(rules.ports.sipTCP), []), ("ports.sip_udp", [], ranges(rules.ports.sipUDP)),
            ("ports.sip_tls", ranges(rules.ports.sipTLS), []),
            ("firewall.websocket_ports", ranges(firewall.websocketPorts), []),
            ("firewall.media_ports", [], [firewall.mediaPorts]),
        ]
        for (key, tcp, udp) in taken {
            func held(_ port: UInt16, _ by: [ClosedRange<UInt16>]) -> Bool { by.contains { $0.contains(port) } }
            if let port = firewall.openTCPPorts.first(where: { held($0, tcp) })
                ?? firewall.openUDPPorts.first(where: { held($0, udp) })
            {
                throw .openPortTaken(port: port, key: key)
            }
            if key != "firewall.admin_ports", let port = firewall.adminPorts.first(where: { held($0, tcp) }) {
                throw .adminPortOpen(port: port, key: key)
            }
        }
        self = FirewallBuilder(rules: rules, role: role).ruleset
    }
}

/// Lays out the sections of each chain, in the order the packet meets them.
struct FirewallBuilder {
    let rules: RuleSet
    let role: RuleSet.Firewall.Role
    let banSets: BanSets

    init(rules: RuleSet, role: RuleSet.Firewall.Role) {
        self.rules = rules
        self.role = role
        banSets = BanSets(rules.bans)
    }

    typealias Section = FirewallRuleset.Section
    typealias Match = FirewallRule.Match

    var firewall: RuleSet.Firewall { rules.firewall }
    var servesSIP: Bool { role != .media }
    var servesMedia: Bool { role != .proxy }
    /// Who may send SIP.
    var sipPeers: Peers { role == .gateway ? .only(firewall.proxies) : .anywhere }
    /// SIP peers that `trust.allow` covers, accepted without the filter unless `queue_trusted`.
    var trustedSIPPeers: [IPPrefix] {
        guard !firewall.queueTrusted else { return [] }
        guard role == .gateway else { return rules.trust.allow }
        return firewall.proxies.filter { proxy in rules.trust.allow.contains { $0.covers(proxy) } }
    }
    var mediaPeers: Peers {
        if !firewall.mediaPeers.isEmpty { return .only(firewall.mediaPeers) }
        return role == .gateway ? .only(firewall.proxies) : .anywhere
    }
    var udpPorts: [ClosedRange<UInt16>] { Self.ranges(rules.ports.sipUDP) }
    var tcpPorts: [ClosedRange<UInt16>] { Self.ranges(rules.ports.sipTCP) }
    /// TLS and WebSocket: accepted, not queued (the filter cannot read them).
    var opaquePorts: [ClosedRange<UInt16>] { Self.ranges(rules.ports.sipTLS + firewall.websocketPorts) }
    var connectionPorts: [ClosedRange<UInt16>] {
        Self.ranges(rules.ports.sipTCP + rules.ports.sipTLS + firewall.websocketPorts)
    }
    var notMarked: Match { .mark(BanSets.verdictMark, mask: BanSets.verdictMask, negated: true) }
    var queue: FirewallRule.Action { .queue(rules.daemon.queues, bypass: firewall.failOpen) }
    var queueText: String {
        let queues = rules.daemon.queues
        let numbers = queues.count == 1 ? "\(queues.lowerBound)" : "\(queues.lowerBound)-\(queues.upperBound)"
        return "NFQUEUE \(numbers)"
    }

    var ruleset: FirewallRuleset {
        FirewallRuleset(
            summary: summary, banSets: banSets,
            chains: [
                .init(hook: .input, policy: .drop, sections: input),
                .init(hook: .forward, policy: .drop, sections: [forward]),
                .init(hook: .output, policy: firewall.outbound == .accept ? .accept : .drop, sections: output),
            ])
    }

    var summary: [String] {
        let what: String
        switch role {
        case .proxy: what = "proxy or registrar: SIP from anywhere, through the filter; no media"
        case .pbx: what = "PBX: SIP from anywhere, through the filter; RTP"
        case .gateway: what = "PSTN gateway: SIP and RTP only from firewall.proxies, SIP through the filter"
        case .media: what = "media relay: RTP only, no SIP"
        }
        var lines = ["Role \(role.rawValue): \(what)."]
        if servesSIP {
            lines.append(
                firewall.failOpen
                    ? "SIP goes to \(queueText) with bypass (fail-open): while no daemon listens, SIP is accepted unfiltered."
                    : "SIP goes to \(queueText) without bypass (fail-closed): while no daemon listens, SIP is dropped.")
        }
        if let closed = adminClosedFamily {
            lines.append(
                "Admin ports (firewall.admin_ports) are closed over \(closed == .v4 ? "IPv4" : "IPv6"): "
                    + "firewall.admin_networks has no network of that family.")
        }
        lines.append(
            "Everything not listed is \(firewall.defaultAction == .drop ? "dropped" : "rejected"); "
                + "outbound traffic is \(firewall.outbound == .accept ? "accepted" : "restricted").")
        return lines
    }

    // MARK: input

    var input: [Section] {
        var sections = [
            Section(
                title: "Banned sources (the SIPWarden ban sets): dropped before anything else.",
                rules: banSets.sets.map { FirewallRule($0.family, [.sourceInSet($0)], .drop) })
        ]
        if servesSIP { sections.append(banMarks) }
        sections.append(
            Section(title: "Loopback: the host talking to itself.", rules: [FirewallRule([.loopback], .accept)]))
        if !rules.trust.deny.isEmpty {
            sections.append(
                Section(
                    title: "trust.deny: always dropped.",
                    rules: Self.rules(for: .only(rules.trust.deny), [], .drop)))
        }
        sections += [
            Section(
                title: "From outside, yet from one of the host's own addresses: spoofed. The kernel drops these "
                    + "itself for IPv4 (martians), not for IPv6; the filter would trust them as the server's own.",
                rules: [FirewallRule([.localSource], .drop)]),
            Section(
                title: "Packets that belong to no valid connection.",
                rules: [FirewallRule([.state([.invalid])], .drop)]),
        ]
        if servesSIP { sections += sipInput }
        sections += [established, icmp]
        if let admin { sections.append(admin) }
        if let services { sections.append(services) }
        if servesMedia { sections.append(media) }
        sections.append(everythingElse)
        return sections
    }

    /// Rule 3 of the design: a packet the daemon marked (verdict REPEAT) bans its source in the kernel.
    var banMarks: Section {
        Section(
            title: "Ban marks: `sipwarden run` marks a packet to ban and repeats it; its source, or the source's "
                + "/24 or /64, joins the set of the mark's class for the class's TTL. A TCP segment whose message "
                + "it refused (marked without a class) is answered with a TCP reset, so that the client connects "
                + "again instead of waiting behind it. Every packet with a SIPWarden mark is then dropped.",
            rules: banSets.sets.map {
                FirewallRule($0.family, [.mark($0.mark, mask: BanSets.markMask, negated: false)], .addSource(to: $0))
            } + [
                FirewallRule(
                    [.mark(BanSets.resetMark, mask: BanSets.markMask, negated: false), .proto(.tcp)], .reject),
                FirewallRule([.mark(BanSets.verdictMark, mask: BanSets.verdictMask, negated: false)], .drop),
            ])
    }

    var sipInput: [Section] {
        var sections: [Section] = []
        if !trustedSIPPeers.isEmpty {
            sections.append(
                Section(
                    title:
                        "Trusted peers (trust.allow): SIP accepted without the filter (firewall.queue_trusted = false).",
                    rules: Self.portMatches(udpPorts, connectionPorts, .destination).flatMap {
                        Self.rules(for: .only(trustedSIPPeers), [$0], .accept)
                    }))
        }
        if !connectionPorts.isEmpty {
            let rate = firewall.tcpConnections
            sections.append(
                Section(
                    title: "New SIP connections over TCP, TLS and WebSocket: over \(rate) per source "
                        + "(firewall.tcp_connections), dropped.",
                    rules: [IPAddress.Family.v4, .v6].map { family in
                        FirewallRule(
                            family,
                            [
                                .ports(.tcp, .destination, connectionPorts), .state([.new]),
                                .perSourceOver(rate, family: family),
                            ],
                            .drop)
                    }))
        }
        let bypass =
            firewall.failOpen
            ? "with bypass (fail-open: accepted while no daemon listens)"
            : "without bypass (fail-closed: dropped while no daemon listens)"
        let from = role == .gateway ? " from firewall.proxies only" : ""
        sections.append(
            Section(
                title: "SIP requests\(from) to the filter: \(queueText), balanced by address pair, \(bypass). "
                    + "A packet with a SIPWarden mark is never queued again.",
                rules: Self.portMatches(udpPorts, tcpPorts, .destination).flatMap {
                    Self.rules(for: sipPeers, [$0, notMarked], queue)
                }))
        if !opaquePorts.isEmpty {
            sections.append(
                Section(
                    title: "SIP over TLS and WebSocket\(from): accepted (the filter cannot read it).",
                    rules: Self.rules(for: sipPeers, [.ports(.tcp, .destination, opaquePorts)], .accept)))
        }
        return sections
    }

    var established: Section {
        Section(
            title: "Replies and related packets (ICMP errors) of accepted connections.",
            rules: [FirewallRule([.state([.established, .related])], .accept)])
    }

    var icmp: Section {
        let echo = Rate(perSecond: 5, burst: 10)
        let errors: [ICMPType] = [
            .destinationUnreachable, .timeExceeded, .parameterProblem, .v6DestinationUnreachable, .packetTooBig,
            .v6TimeExceeded, .v6ParameterProblem,
        ]
        let neighbours: [ICMPType] = [.routerAdvertisement, .neighbourSolicitation, .neighbourAdvertisement]
        let linkLocal = IPPrefix("fe80::/10")!
        return Section(
            title: "ICMP and ICMPv6: errors (path MTU discovery needs them), echo at most \(echo), neighbour "
                + "discovery and multicast listener queries from the link itself.",
            rules: errors.map { FirewallRule($0.family, [.icmp($0)], .accept) }
                + [ICMPType.echoRequest, .v6EchoRequest].map {
                    FirewallRule($0.family, [.icmp($0), .limit(echo)], .accept)
                }
                + neighbours.map { FirewallRule(.v6, [.icmp($0), .hopLimit(255)], .accept) }
                + [FirewallRule(.v6, [.source([linkLocal]), .icmp(.listenerQuery)], .accept)])
    }

    /// The one family over which the admin ports are reachable from no network, when the other has some.
    var adminClosedFamily: IPAddress.Family? {
        guard !firewall.adminPorts.isEmpty, !firewall.adminNetworks.isEmpty else { return nil }
        let families = Set(firewall.adminNetworks.map(\.address.family))
        return families.count == 1 ? (families.contains(.v4) ? .v6 : .v4) : nil
    }

    var admin: Section? {
        guard !firewall.adminPorts.isEmpty else { return nil }
        let ports = firewall.adminPorts.map(String.init).joined(separator: ", ")
        let everyone = Peers.only(firewall.adminNetworks)
        let from =
            everyone.blocks(.v4) == nil && everyone.blocks(.v6) == nil
            ? "from anywhere (firewall.admin_networks: narrow it to your admin networks)"
            : "from firewall.admin_networks only"
        return Section(
            title: "Management (firewall.admin_ports: TCP \(ports)) \(from).",
            rules: Self.rules(
                for: .only(firewall.adminNetworks), [.ports(.tcp, .destination, Self.ranges(firewall.adminPorts))],
                .accept))
    }

    /// The host's other services, open to anyone.
    var services: Section? {
        let (tcp, udp) = (firewall.openTCPPorts, firewall.openUDPPorts)
        guard !tcp.isEmpty || !udp.isEmpty else { return nil }
        let names = [("TCP", tcp), ("UDP", udp)].filter { !$0.1.isEmpty }
            .map { "\($0.0) \($0.1.map(String.init).joined(separator: ", "))" }
        return Section(
            title: "Other services (firewall.open_tcp_ports, open_udp_ports: \(names.joined(separator: "; "))) "
                + "from anywhere.",
            rules: Self.portMatches(Self.ranges(udp), Self.ranges(tcp), .destination).map {
                FirewallRule([$0], .accept)
            })
    }

    var media: Section {
        let ports = firewall.mediaPorts
        let from: String
        switch mediaPeers {
        case .anywhere: from = "from anywhere"
        case .only: from = firewall.mediaPeers.isEmpty ? "from firewall.proxies" : "from firewall.media_peers"
        }
        return Section(
            title: "RTP and RTCP (firewall.media_ports: UDP \(ports.lowerBound)-\(ports.upperBound)) \(from).",
            rules: Self.rules(for: mediaPeers, [.ports(.udp, .destination, [ports])], .accept))
    }

    var everythingElse: Section {
        switch firewall.defaultAction {
        case .drop:
            return Section(title: "Everything else: dropped (the chain's policy).", rules: [])
        case .reject:
            return Section(
                title: "Everything else: rejected (TCP reset, or ICMP port unreachable).",
                rules: [FirewallRule([.proto(.tcp)], .reject), FirewallRule([], .reject)])
        }
    }

    // MARK: forward and output

    var forward: Section { Section(title: "This host does not route: nothing is forwarded.", rules: []) }

    var output: [Section] {
        var sections = [
            Section(title: "Loopback: the host talking to itself.", rules: [FirewallRule([.loopback], .accept)])
        ]
        if servesSIP {
            if !trustedSIPPeers.isEmpty {
                sections.append(
                    Section(
                        title: "SIP to trusted peers (trust.allow): not queued (firewall.queue_trusted = false).",
                        rules: Self.portMatches(udpPorts, tcpPorts, .source).flatMap {
                            Self.rules(for: .only(trustedSIPPeers), [$0], .accept, side: .destination)
                        }))
            }
            sections.append(
                Section(
                    title: "The server's SIP (its responses tell the filter who fails and who succeeds) to the filter: "
                        + "\(queueText), balanced by address pair, \(firewall.failOpen ? "with" : "without") bypass.",
                    rules: Self.portMatches(udpPorts, tcpPorts, .source).map { FirewallRule([$0, notMarked], queue) }))
        }
        guard firewall.outbound == .restrict else { return sections }
        sections += [
            established,
            Section(
                title: "ICMP and ICMPv6 (errors, echo, neighbour discovery).",
                rules: [FirewallRule(.v4, [.proto(.icmp)], .accept), FirewallRule(.v6, [.proto(.icmpv6)], .accept)]),
            Section(
                title: "DNS and NTP.",
                rules: [
                    FirewallRule([.ports(.udp, .destination, [53...53])], .accept),
                    FirewallRule([.ports(.tcp, .destination, [53...53])], .accept),
                    FirewallRule([.ports(.udp, .destination, [123...123])], .accept),
                ]),
        ]
        if servesSIP {
            sections.append(
                Section(
                    title: "SIP to other servers' SIP ports.",
                    rules: Self.portMatches(
                        udpPorts, Self.ranges(rules.ports.sipTCP + rules.ports.sipTLS), .destination
                    )
                    .map { FirewallRule([$0], .accept) }))
        }
        if servesMedia {
            let ports = firewall.mediaPorts
            sections.append(
                Section(
                    title: "RTP and RTCP from the media ports.",
                    rules: [FirewallRule([.ports(.udp, .source, [ports])], .accept)]))
        }
        sections.append(everythingElse)
        return sections
    }

    // MARK: helpers

    /// The rules giving `peers` (as sources, or destinations) `matches` with `action`: one for both families
    /// when anyone is meant, else one per family that has peers.
    static func rules(
        for peers: Peers, _ matches: [Match], _ action: FirewallRule.Action,
        side: FirewallRule.PortSide = .source
    ) -> [FirewallRule] {
        guard case .only = peers else { return [FirewallRule(matches, action)] }
        return [IPAddress.Family.v4, .v6].compactMap { family in
            guard let blocks = peers.blocks(family) else { return FirewallRule(family, matches, action) }
            guard !blocks.isEmpty else { return nil }
            let address: Match = side == .source ? .source(blocks) : .destination(blocks)
            return FirewallRule(family, [address] + matches, action)
        }
    }

    /// A UDP and a TCP port match, each only when it has ports.
    static func portMatches(
        _ udp: [ClosedRange<UInt16>], _ tcp: [ClosedRange<UInt16>], _ side: FirewallRule.PortSide
    ) -> [Match] {
        (udp.isEmpty ? [] : [.ports(.udp, side, udp)]) + (tcp.isEmpty ? [] : [.ports(.tcp, side, tcp)])
    }

    /// Ports in ascending order, each once.
    static func ranges(_ ports: [UInt16]) -> [ClosedRange<UInt16>] { Set(ports).sorted().map { $0...$0 } }
}
