import Foundation
import SIPWardenCore
import SIPWardenQueue

/// The TCP connections this host accepted, as the kernel lists them, judged with its own addresses: `firewall`
/// and `check` warn before a generated firewall cuts an administrator's session or closes a service in use.
enum HostConnections {
    /// Warnings for this host's accepted connections of `families` that `ruleset` would cut or keep from
    /// connecting again.
    static func warnings(_ ruleset: FirewallRuleset, families: [IPAddress.Family]) -> [String] {
        let connections = ["/proc/net/tcp", "/proc/net/tcp6"].flatMap { path in
            (try? String(contentsOfFile: path, encoding: .utf8)).map(InboundConnection.accepted(inProcNetTCP:)) ?? []
        }
        return InboundConnection.warnings(
            for: connections.filter { families.contains($0.client.family) }, in: ruleset,
            local: LocalAddresses.current())
    }
}
