import Foundation
import SIPWardenTestSupport
import Testing

/// `systemd/load-firewall`, the unit's ExecStartPre and ExecReload step, run inside a private namespace.
@Suite(.enabled(if: isRoot, "needs root for network namespaces"))
struct LoadFirewallTests {
    static let script = CLITests.repository.appendingPathComponent("systemd/load-firewall").path

    /// Runs the loader in `namespace` with the rules `text`; returns its result and the iptables rules then.
    func load(_ text: String, in namespace: NetworkNamespace) throws -> (ProcessResult, String) {
        let config = NSTemporaryDirectory() + "swd-load-\(getpid())-\(namespace.name).toml"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        defer { unlink(config) }
        let result = try namespace.run([
            "env", "SIPWARDEN_BINARY=\(CLITests.binary.path)", "SIPWARDEN_CONFIG=\(config)", Self.script,
        ])
        return (result, try namespace.must(["iptables-save"]).stdout)
    }

    @Test func aRuleFileTheGeneratorRefusesLoadsNothingAndFails() throws {
        let namespace = try NetworkNamespace.create()
        defer { namespace.delete() }
        let (result, rules) = try load("[firewall]\nadmin_networks = []\n", in: namespace)
        #expect(result.status != 0)
        #expect(result.stderr.contains("firewall.admin_networks is empty"))
        #expect(!rules.contains("NFQUEUE"), "nothing was loaded: \(rules)")
    }

    @Test func validRulesLoadTheQueueAndTheBanSets() throws {
        let namespace = try NetworkNamespace.create()
        defer { namespace.delete() }
        let (result, rules) = try load("[firewall]\nadmin_networks = [\"192.0.2.0/24\"]\n", in: namespace)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(rules.contains("-j NFQUEUE --queue-balance 0:1 --queue-bypass"))
        #expect(rules.contains("-s 192.0.2.0/24 -p tcp -m tcp --dport 22 -j ACCEPT"))
        #expect(try namespace.must(["ipset", "list", "-n"]).stdout.contains("sipwarden-v4-c1"))
    }
}
