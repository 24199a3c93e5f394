import Foundation
import SIPWardenTestSupport
import Testing

/// The generated firewall (ipset + iptables-restore + ip6tables-restore) loaded on a test server in a
/// private network namespace, probed from a client namespace over a veth link. No daemon listens on the
/// queues: SIP gets through by bypass (fail-open), or through a minimal consumer (`QueueConsumer`).
@Suite(.serialized, .enabled(if: isRoot)) struct FirewallLiveTests {
    /// Client address 1 is an ordinary source, 2 a proxy (or the one banned), 3 the admin.
    static let config = """
        [firewall]
        admin_networks = ["10.77.0.4", "fd77::4"]
        proxies = ["10.77.0.3", "fd77::3"]

        """

    /// The server under test, seen from the client.
    struct Host {
        let link: TestLink

        /// Whether the server answers on `port` to client address `index`. A probe that cannot run is an
        /// issue of the test, not a closed port.
        func answers(_ kind: String, _ port: Int, from index: Int, v6: Bool) -> Bool {
            let destination = v6 ? TestLink.serverV6 : TestLink.serverV4
            let source = TestLink.client(index, v6: v6)
            do {
                let probe = try link.client.run(
                    ["python3", "-c", SocketPeers.probe, kind, destination, String(port), source], timeout: 10)
                if probe.status > 1 { Issue.record("probe failed: \(probe.stderr)") }
                return probe.status == 0
            } catch {
                Issue.record(error)
                return false
            }
        }

        /// Whether `ipset test SET ENTRY` finds the entry.
        func holds(_ set: String, _ entry: String) throws -> Bool {
            try link.server.run(["ipset", "test", set, entry]).status == 0
        }

        /// Runs a command on the server and throws unless it succeeds.
        @discardableResult
        func must(_ command: [String]) throws -> ProcessResult { try link.server.must(command) }
    }

    /// Sets up the link and a server answering on UDP 5060, 5070 and TCP 22, 5060, 8080, checks every
    /// port answers, loads the firewall generated from `extra` (after `config`), and runs `body`. The nft
    /// flavour is loaded with its queue statements swapped for `accept` (this kernel has no nft queue).
    func withFirewall(
        _ extra: String = "", role: String? = nil, nft: Bool = false, _ body: (Host) throws -> Void
    ) throws {
        let link = try TestLink.create()
        defer { link.delete() }
        let server = try link.server.start(["python3", "-c", SocketPeers.server, "5060,5070", "22,5060,8080"])
        defer { NetworkNamespace.stop(server) }
        let host = Host(link: link)
        // Without a firewall everything answers: a port that is silent later is the firewall's doing.
        var ready = false
        for _ in 0..<50 where !ready {
            ready = host.answers("tcp", 8080, from: 1, v6: false) && host.answers("tcp", 8080, from: 1, v6: true)
            if !ready { usleep(100_000) }
        }
        try #require(ready, "the test server never answered")
        for family in [false, true] { #expect(host.answers("udp", 5070, from: 1, v6: family)) }

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sipwarden-live-\(UUID()).toml")
        try Data((Self.config + extra).utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let loaders =
            nft
            ? [("nft", ["nft", "-f", "-"])]
            : [
                ("ipset", ["ipset", "restore", "-exist"]), ("iptables", ["iptables-restore"]),
                ("ip6tables", ["ip6tables-restore"]),
            ]
        for (format, loader) in loaders {
            let generated = try CLITests.run(
                ["firewall", "--config", file.path, "--format", format] + (role.map { ["--role", $0] } ?? []))
            try #require(generated.status == 0, "\(generated.stderr)")
            try link.server.must(
                loader, input: nft ? FirewallCLITests.withoutQueue(generated.stdout) : generated.stdout)
        }
        try body(host)
    }

    /// Generated on the server, the firewall is checked against the connections the server's kernel
    /// lists: a warning for each one it would cut or whose address it would not let in again, none for
    /// the admin's; loaded, the firewall does what the warnings said.
    @Test func warnsOfTheHeldConnectionsTheFirewallWouldShutOut() throws {
        let link = try TestLink.create()
        defer { link.delete() }
        let server = try link.server.start(["python3", "-c", SocketPeers.server, "", "22,8080", "hold"])
        defer { NetworkNamespace.stop(server) }
        let host = Host(link: link)
        var ready = false
        for _ in 0..<50 where !ready {
            ready = host.answers("tcp", 8080, from: 1, v6: false)
            if !ready { usleep(100_000) }
        }
        try #require(ready, "the test server never answered")
        // Client 1 is anyone, 2 is denied, 3 is the admin.
        let held = [(1, 22, false), (2, 22, false), (3, 22, false), (1, 8080, false), (1, 22, true)]
        var clients: [Process] = []
        defer { clients.forEach(NetworkNamespace.stop) }
        for (index, port, v6) in held {
            clients.append(
                try link.client.start([
                    "python3", "-c", SocketPeers.hold, v6 ? TestLink.serverV6 : TestLink.serverV4, String(port),
                    TestLink.client(index, v6: v6),
                ]))
        }
        var established = 0
        for _ in 0..<50 where established < held.count + 1 {
            let listing = try link.server.must(["ss", "-Htn", "state", "established"]).stdout
            established = listing.split(separator: "\n").count
            if established < held.count + 1 { usleep(100_000) }
        }
        // The probe above left no connection; the server holds the five and nothing else.
        try #require(established == held.count, "the server holds \(established) connections")

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sipwarden-live-\(UUID()).toml")
        try Data((Self.config + "[trust]\ndeny = [\"10.77.0.3\"]\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        func generate(_ format: String) throws -> ProcessResult {
            let run = try link.server.run([CLITests.binary.path, "firewall", "--config", file.path, "--format", format])
            #expect(run.status == 0, "\(run.stderr)")
            return run
        }
        let notLetIn =
            "this firewall drops new connections from there (section \"the input chain's policy\"), and "
            + "may cut it where connection tracking has not followed it yet"
        let v4 = try generate("iptables")
        #expect(
            v4.stderr.split(separator: "\n") == [
                "sipwarden: warning: this host holds a connection to TCP port 22 from 10.77.0.2: \(notLetIn)",
                "sipwarden: warning: this host holds a connection to TCP port 22 from 10.77.0.3: loading this "
                    + "firewall would cut it (section \"trust.deny\" drops it)",
                "sipwarden: warning: this host holds a connection to TCP port 8080 from 10.77.0.2: \(notLetIn)",
            ])
        let v6 = try generate("ip6tables")
        #expect(
            v6.stderr == "sipwarden: warning: this host holds a connection to TCP port 22 from fd77::2: \(notLetIn)\n")

        let ipset = try generate("ipset")
        try link.server.must(["ipset", "restore", "-exist"], input: ipset.stdout)
        try link.server.must(["iptables-restore"], input: v4.stdout)
        try link.server.must(["ip6tables-restore"], input: v6.stdout)
        #expect(!host.answers("tcp", 22, from: 1, v6: false))
        #expect(!host.answers("tcp", 22, from: 2, v6: false))
        #expect(host.answers("tcp", 22, from: 3, v6: false))
        #expect(!host.answers("tcp", 8080, from: 1, v6: false))
        #expect(!host.answers("tcp", 22, from: 1, v6: true))
    }

    @Test func failOpenLetsSIPThroughTheQueueWithNoConsumerAndClosesTheRest() throws {
        try withFirewall { host in
            for v6 in [false, true] {
                #expect(host.answers("udp", 5060, from: 1, v6: v6), "SIP over UDP, bypassed (v6: \(v6))")
                #expect(host.answers("tcp", 5060, from: 1, v6: v6), "SIP over TCP, bypassed (v6: \(v6))")
                #expect(!host.answers("udp", 5070, from: 1, v6: v6), "a UDP port not listed (v6: \(v6))")
                #expect(!host.answers("tcp", 8080, from: 1, v6: v6), "a TCP port not listed (v6: \(v6))")
                #expect(host.answers("tcp", 22, from: 3, v6: v6), "SSH from the admin (v6: \(v6))")
                #expect(!host.answers("tcp", 22, from: 1, v6: v6), "SSH from elsewhere (v6: \(v6))")
            }
        }
    }

    @Test func aDatagramFromOutsideClaimingTheServersOwnAddressIsDropped() throws {
        try withFirewall { host in
            func spoofedDrops() throws -> Int {
                let listing = try host.must(["ip6tables", "-L", "INPUT", "-v", "-x", "-n"]).stdout
                let line = try #require(listing.split(separator: "\n").first { $0.contains("src-type LOCAL") })
                return try #require(Int(line.split(separator: " ")[0]))
            }
            #expect(try spoofedDrops() == 0)
            let spoof = try host.link.client.run(
                ["python3", "-c", SocketPeers.spoof, TestLink.serverV6, "5060"], timeout: 10)
            try #require(spoof.status == 0, "\(spoof.stderr)")
            #expect(try spoofedDrops() == 1, "the spoofed datagram meets the drop before the queue")
            #expect(host.answers("udp", 5060, from: 1, v6: true), "real SIP still gets through")
        }
    }

    @Test func failClosedDropsSIPWhileNoDaemonListens() throws {
        try withFirewall("fail_open = false\n") { host in
            for v6 in [false, true] {
                #expect(!host.answers("udp", 5060, from: 1, v6: v6), "SIP over UDP (v6: \(v6))")
                #expect(!host.answers("tcp", 5060, from: 1, v6: v6), "SIP over TCP (v6: \(v6))")
                #expect(host.answers("tcp", 22, from: 3, v6: v6), "SSH from the admin (v6: \(v6))")
            }
        }
    }

    @Test func theGatewayTakesSIPOnlyFromItsProxies() throws {
        try withFirewall(role: "gateway") { host in
            for v6 in [false, true] {
                #expect(host.answers("udp", 5060, from: 2, v6: v6), "SIP from the proxy (v6: \(v6))")
                #expect(!host.answers("udp", 5060, from: 1, v6: v6), "SIP over UDP from elsewhere (v6: \(v6))")
                #expect(!host.answers("tcp", 5060, from: 1, v6: v6), "SIP over TCP from elsewhere (v6: \(v6))")
                #expect(host.answers("tcp", 22, from: 3, v6: v6), "SSH from the admin (v6: \(v6))")
            }
        }
    }

    @Test func bannedSourcesAreDroppedBeforeTheQueue() throws {
        try withFirewall { host in
            // With bypass and no consumer, SIP that reached the queue would be accepted: a drop is the ban.
            try host.must(["ipset", "add", "sipwarden-v4-c1", "10.77.0.3"])
            try host.must(["ipset", "add", "sipwarden-v6-c2", "fd77::3"])
            for v6 in [false, true] {
                #expect(!host.answers("udp", 5060, from: 2, v6: v6), "the banned address (v6: \(v6))")
                #expect(host.answers("udp", 5060, from: 1, v6: v6), "its neighbour (v6: \(v6))")
            }
            try host.must(["ipset", "add", "sipwarden-v4-p4", "10.77.0.0"])
            try host.must(["ipset", "add", "sipwarden-v6-p1", "fd77::"])
            for v6 in [false, true] {
                #expect(!host.answers("udp", 5060, from: 1, v6: v6), "the banned prefix (v6: \(v6))")
                #expect(!host.answers("tcp", 22, from: 3, v6: v6), "the banned prefix's admin (v6: \(v6))")
            }
            // Unban by hand, entry by entry.
            try host.must(["ipset", "-exist", "del", "sipwarden-v4-p4", "10.77.0.0"])
            try host.must(["ipset", "-exist", "del", "sipwarden-v6-p1", "fd77::"])
            try host.must(["ipset", "-exist", "del", "sipwarden-v6-p2", "fd77::"])
            for v6 in [false, true] { #expect(host.answers("udp", 5060, from: 1, v6: v6), "unbanned (v6: \(v6))") }
        }
    }

    @Test func aConsumerAcceptsAndBansThroughTheQueueAsTheDaemonWill() throws {
        try withFirewall("fail_open = false\n") { host in
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("sipwarden-queue-\(UUID()).log")
            defer { try? FileManager.default.removeItem(at: log) }
            let consumer = try host.link.server.start([
                "python3", "-c", QueueConsumer.script, "0,1", "10.77.0.3,fd77::3", "0x5701", log.path,
            ])
            defer { NetworkNamespace.stop(consumer) }
            // Fail-closed: SIP now gets through only by the consumer's verdicts.
            var bound = false
            for _ in 0..<30 where !bound {
                bound = host.answers("udp", 5060, from: 1, v6: false)
                if !bound { usleep(100_000) }
            }
            #expect(bound, "the consumer accepts SIP")
            #expect(host.answers("udp", 5060, from: 1, v6: true))
            for v6 in [false, true] {
                #expect(!host.answers("udp", 5060, from: 2, v6: v6), "REPEAT with a ban mark (v6: \(v6))")
                #expect(!host.answers("udp", 5060, from: 2, v6: v6), "banned in the kernel (v6: \(v6))")
            }
            let addressBanned = try host.holds("sipwarden-v4-c1", "10.77.0.3")
            let v6Banned = try host.holds("sipwarden-v6-c1", "fd77::3")
            #expect(addressBanned)
            #expect(v6Banned)
            let seen = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
            // The banning packet is the last one of the source to reach the consumer; the server's answers
            // (on OUTPUT) reach it too.
            #expect(seen.filter { $0 == "10.77.0.3" }.count == 1, "\(seen)")
            #expect(seen.filter { $0 == "fd77::3" }.count == 1, "\(seen)")
            #expect(seen.contains("10.77.0.1"))
            #expect(seen.contains("fd77::1"))
        }
    }

    @Test func aBanMarkAddsTheSourceToItsClassSetAndDrops() throws {
        try withFirewall { host in
            // Plays the daemon: marks the packets of one source as `sipwarden run` marks a packet to ban.
            try host.must([
                "iptables", "-t", "mangle", "-A", "PREROUTING", "-s", "10.77.0.3", "-j", "MARK", "--set-mark", "0x5702",
            ])
            try host.must([
                "ip6tables", "-t", "mangle", "-A", "PREROUTING", "-s", "fd77::3", "-j", "MARK", "--set-mark", "0x5781",
            ])
            for v6 in [false, true] { #expect(!host.answers("udp", 5060, from: 2, v6: v6), "marked (v6: \(v6))") }
            let addressBanned = try host.holds("sipwarden-v4-c2", "10.77.0.3")
            let prefixBanned = try host.holds("sipwarden-v6-p1", "fd77::3")
            #expect(addressBanned)
            #expect(prefixBanned)
            let listed = try host.must(["ipset", "list", "sipwarden-v4-c2"]).stdout
            let timeout = listed.firstMatch(of: #/10\.77\.0\.3 timeout (\d+)/#).flatMap { Int($0.1) }
            #expect(timeout.map { (3500...3600).contains($0) } == true, "class 2's TTL is 1h: \(listed)")
            // The v4 ban is of the address, the v6 ban of its /64.
            #expect(host.answers("udp", 5060, from: 1, v6: false))
            #expect(!host.answers("udp", 5060, from: 1, v6: true))
            // The set holds the ban once the marks stop.
            try host.must(["iptables", "-t", "mangle", "-F", "PREROUTING"])
            #expect(!host.answers("udp", 5060, from: 2, v6: false))
        }
    }

    @Test func theNFTFlavourBansByMarkAndDropsBannedSources() throws {
        try withFirewall(nft: true) { host in
            for v6 in [false, true] {
                #expect(host.answers("udp", 5060, from: 1, v6: v6), "SIP (queue swapped for accept, v6: \(v6))")
                #expect(!host.answers("tcp", 8080, from: 1, v6: v6), "a port not listed (v6: \(v6))")
                #expect(host.answers("tcp", 22, from: 3, v6: v6), "SSH from the admin (v6: \(v6))")
                #expect(!host.answers("tcp", 22, from: 1, v6: v6), "SSH from elsewhere (v6: \(v6))")
            }
            try host.must([
                "iptables", "-t", "mangle", "-A", "PREROUTING", "-s", "10.77.0.3", "-j", "MARK", "--set-mark", "0x5781",
            ])
            try host.must([
                "ip6tables", "-t", "mangle", "-A", "PREROUTING", "-s", "fd77::3", "-j", "MARK", "--set-mark", "0x5703",
            ])
            for v6 in [false, true] { #expect(!host.answers("udp", 5060, from: 2, v6: v6), "marked (v6: \(v6))") }
            let prefixes = try host.must(["nft", "list", "set", "inet", "sipwarden", "sipwarden-v4-p1"]).stdout
            let addresses = try host.must(["nft", "list", "set", "inet", "sipwarden", "sipwarden-v6-c3"]).stdout
            #expect(prefixes.contains("elements = { 10.77.0.0 "), "\(prefixes)")
            #expect(addresses.contains("elements = { fd77::3 "), "\(addresses)")
            // The v4 ban is of the /24, the v6 ban of the address alone.
            #expect(!host.answers("udp", 5060, from: 1, v6: false))
            #expect(host.answers("udp", 5060, from: 1, v6: true))
            // Unban by hand, entry by entry.
            try host.must(["iptables", "-t", "mangle", "-F", "PREROUTING"])
            try host.must(["nft", "delete", "element", "inet", "sipwarden", "sipwarden-v4-p1", "{ 10.77.0.0 }"])
            #expect(host.answers("udp", 5060, from: 1, v6: false), "unbanned")
        }
    }
}
