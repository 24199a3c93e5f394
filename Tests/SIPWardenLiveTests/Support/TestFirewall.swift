import Foundation
import SIPWardenTestSupport

/// Loads the firewall `sipwarden firewall` generates on the server host, as `load-firewall` does on a
/// real one: the ipset ban sets, then the iptables and ip6tables rules (SIP queued in both directions, ban marks into
/// the sets, banned sources dropped first).
enum TestFirewall {
    static func install(on network: TestNetwork, config: URL) throws {
        let loaders = [
            ("ipset", ["ipset", "restore", "-exist"]), ("iptables", ["iptables-restore"]),
            ("ip6tables", ["ip6tables-restore"]),
        ]
        for (format, loader) in loaders {
            let ruleset = network.directory.appendingPathComponent("firewall.\(format)")
            try Subprocess.check(LiveDaemon.binary, ["firewall", "--config", config.path, "--format", format])
                .write(to: ruleset, atomically: true, encoding: .utf8)
            try network.server(["sh", "-c", "\(loader.joined(separator: " ")) < \(ruleset.path)"])
        }
    }
}
