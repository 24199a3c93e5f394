import ArgumentParser
import SIPWardenCore

extension FirewallFormat: ExpressibleByArgument {}
extension RuleSet.Firewall.Role: ExpressibleByArgument {}

struct FirewallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "firewall",
        abstract: "Print the host firewall for this host's role, with the filter's queue and ban sets.",
        discussion: """
            Writes a complete host firewall from the rule files to standard output: the ban sets, the rules \
            that add to them when `sipwarden run` marks a packet, the NFQUEUE rules that hand SIP to the \
            filter (requests on input, the server's responses on output, balanced over daemon.queues), and \
            only the ports the role needs, everything else dropped (or rejected: firewall.default).

            Roles (--role, or firewall.role):
              proxy    proxy or registrar: SIP from anywhere, through the filter
              pbx      the same, plus RTP (firewall.media_ports) from media_peers
              gateway  PSTN gateway: SIP and RTP only from firewall.proxies
              media    media relay: RTP only (from media_peers, or anywhere)

            Formats, and how to load them as root once reviewed:
              ipset      the ban sets (iptables flavour, first):  ipset restore -exist < F
              iptables   IPv4, replaces the filter table:  iptables-restore < F
              ip6tables  IPv6, replaces the filter table:  ip6tables-restore < F
              nft        table inet sipwarden, IPv4 and IPv6, sets included:  nft -f F
            To check without loading: iptables-restore --test, ip6tables-restore \
            --test, nft -c -f.

            Fail-open (firewall.fail_open = true, the default): the queue rules carry bypass, so while no \
            daemon listens SIP is accepted unfiltered; the service keeps running, unprotected. Fail-closed \
            (false): while no daemon listens SIP is dropped; nothing unfiltered gets in, and nothing at all \
            while the daemon is down. Bans in the kernel sets apply either way.

            Refuses (exit 1) a firewall that would lock the admin out: firewall.admin_networks or \
            firewall.admin_ports empty, or an admin network inside trust.deny, unless \
            firewall.allow_no_admin = true; and the gateway role without firewall.proxies. Warns (on \
            stderr) of the TCP connections this host accepted (an SSH session, a client of another \
            service) that loading the output would cut, or whose addresses it would not let in again.
            """
    )

    @OptionGroup var rules: ConfigOption

    @Option(help: "Output format: \(FirewallFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: FirewallFormat

    @Option(
        help:
            "Role of this host (overrides firewall.role): \(RuleSet.Firewall.Role.allCases.map(\.rawValue).joined(separator: ", "))."
    )
    var role: RuleSet.Firewall.Role?

    func run() throws {
        let (ruleSet, files) = try rules.loadFiles()
        let ruleset: FirewallRuleset
        do {
            ruleset = try FirewallRuleset(rules: ruleSet, role: role)
        } catch {
            let origin = files.isEmpty ? "the built-in defaults" : files.joined(separator: ", ")
            throw InputError(description: "\(origin): \(error.description)")
        }
        print(format.render(ruleset), terminator: "")
        // Most likely loaded on this host: say so before it cuts a session or closes a service in use.
        for warning in HostConnections.warnings(ruleset, families: format.families) {
            printError("warning: \(warning)")
        }
    }
}
