import Foundation
import Testing

/// `sipwarden firewall`: output, errors, and every format loading into a real kernel.
@Suite struct FirewallCLITests {
    static let roles = ["proxy", "pbx", "gateway", "media"]

    /// A configuration that uses every construct: two trust lists, reject, fail-closed, restricted
    /// outbound, WebSocket, one queue, proxies and media peers of both families.
    static let rich = """
        [daemon]
        queues = "3"
        [ports]
        sip_udp = [5060, 5080]
        [trust]
        allow = ["192.0.2.0/24", "2001:db8::/32"]
        deny = ["203.0.113.0/24", "2001:db8:dead::/48"]
        [firewall]
        default = "reject"
        fail_open = false
        outbound = "restrict"
        admin_networks = ["198.51.100.0/28", "2001:db8:ad::/48"]
        admin_ports = [22, 8443]
        proxies = ["192.0.2.10", "198.51.100.20", "2001:db8::10"]
        websocket_ports = [8088, 8089]
        media_peers = ["198.51.100.0/24"]

        """

    static func write(_ text: String) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sipwarden-fw-\(UUID()).toml")
        try Data(text.utf8).write(to: file)
        return file
    }

    /// The README's out-of-the-box command; FirewallTests keeps every shipped file from drifting.
    @Test func theShippedRulesGenerateTheShippedNFTFile() throws {
        let run = try CLITests.run(["firewall", "--config", "Rules/sipwarden.toml", "--format", "nft"])
        #expect(run.status == 0, "\(run.stderr)")
        let shipped = CLITests.repository.appendingPathComponent("Rules/firewall.nft")
        #expect(run.stdout == (try String(contentsOf: shipped, encoding: .utf8)))
    }

    @Test func refusalsAreOneLineAndExitOne() throws {
        let lockout = try Self.write("[firewall]\nadmin_networks = []\n")
        defer { try? FileManager.default.removeItem(at: lockout) }
        let refused = try CLITests.run(["firewall", "--config", lockout.path, "--format", "nft"])
        #expect(refused.status == 1)
        #expect(refused.stdout.isEmpty)
        #expect(
            refused.stderr.hasPrefix(
                "sipwarden: \(lockout.path): firewall.admin_networks is empty: admin port 22 would be"))
        #expect(refused.stderr.split(separator: "\n").count == 1)

        let gateway = try CLITests.run([
            "firewall", "--config", "Rules/sipwarden.toml", "--format", "iptables", "--role", "gateway",
        ])
        #expect(gateway.status == 1)
        #expect(
            gateway.stderr
                == "sipwarden: Rules/sipwarden.toml: role gateway accepts SIP only from firewall.proxies, and it is "
                + "empty: list your proxies\n"
        )

        let bad = try Self.write("[firewall]\nrole = \"router\"\n")
        defer { try? FileManager.default.removeItem(at: bad) }
        let badRole = try CLITests.run(["firewall", "--config", bad.path, "--format", "nft"])
        #expect(badRole.status == 1)
        #expect(
            badRole.stderr.contains(
                "firewall.role = \"router\": expected \"proxy\" or \"pbx\" or \"gateway\" or \"media\""))
    }

    @Test func consoleOnlyHostsMaySayNoAdmin() throws {
        let file = try Self.write("[firewall]\nadmin_networks = []\nallow_no_admin = true\n")
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try CLITests.run(["firewall", "--config", file.path, "--format", "iptables"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.contains("--dport 22"))
    }

    @Test func usageAndHelp() throws {
        #expect(try CLITests.run(["firewall"]).status == 2)
        #expect(try CLITests.run(["firewall", "--format", "pf"]).status == 2)
        #expect(try CLITests.run(["firewall", "--format", "nft", "--role", "router"]).status == 2)
        let help = try CLITests.run(["firewall", "--help"])
        #expect(help.status == 0)
        for text in [
            "gateway", "media", "iptables-restore", "nft -f", "ipset restore -exist", "Fail-open", "Fail-closed",
        ] {
            #expect(help.stdout.contains(text), "\(text)")
        }
    }

    /// The nft text with its queue statements swapped for `accept`: this kernel has no nft queue.
    static func withoutQueue(_ nft: String) -> String {
        nft.replacing(#/queue( flags bypass)? to [0-9]+(-[0-9]+)?/#, with: "accept")
    }

    @Test(.enabled(if: isRoot), arguments: [false, true], roles)
    func everyFormatLoads(rich: Bool, role: String) throws {
        let file = try Self.write(rich ? Self.rich : "[firewall]\nproxies = [\"192.0.2.10\"]\n")
        defer { try? FileManager.default.removeItem(at: file) }
        var output: [String: String] = [:]
        for format in ["ipset", "iptables", "ip6tables", "nft"] {
            let run = try CLITests.run(["firewall", "--config", file.path, "--format", format, "--role", role])
            try #require(run.status == 0, "\(run.stderr)")
            output[format] = run.stdout
        }
        let nft = try #require(output["nft"])
        #expect(nft.contains("queue ") == (role != "media"))
        let namespace = try NetworkNamespace.create()
        defer { namespace.delete() }
        try namespace.must(["ipset", "restore", "-exist"], input: output["ipset"])
        try namespace.must(["iptables-restore", "--test"], input: output["iptables"])
        try namespace.must(["ip6tables-restore", "--test"], input: output["ip6tables"])
        try namespace.must(["nft", "-c", "-f", "-"], input: Self.withoutQueue(nft))
        // Loaded for real, twice: loading again keeps the sets and their bans.
        try namespace.must(["iptables-restore"], input: output["iptables"])
        try namespace.must(["ip6tables-restore"], input: output["ip6tables"])
        try namespace.must(["nft", "-f", "-"], input: Self.withoutQueue(nft))
        try namespace.must(["ipset", "add", "sipwarden-v4-c1", "192.0.2.99"])
        try namespace.must(["nft", "add", "element", "inet", "sipwarden", "sipwarden-v6-p2", "{ 2001:db8:1:2:: }"])
        try namespace.must(["ipset", "restore", "-exist"], input: output["ipset"])
        try namespace.must(["nft", "-f", "-"], input: Self.withoutQueue(nft))
        let kept = try namespace.run(["ipset", "test", "sipwarden-v4-c1", "192.0.2.99"])
        #expect(kept.status == 0)
        let listed = try namespace.must(["nft", "list", "set", "inet", "sipwarden", "sipwarden-v6-p2"]).stdout
        #expect(listed.contains("2001:db8:1:2::"))
        let saved = try namespace.must(["iptables-save"]).stdout
        #expect(saved.contains("NFQUEUE") == (role != "media"))
    }
}
