import SIPWardenCore

/// The ban-set rules the daemon works with, installed on the server host with ipset and iptables:
/// what `sipwarden firewall --format iptables` generates, reduced to what the daemon relies on.
/// Set names and marks come from `BanSets`, as the generator's do.
///
/// To test against the generated firewall instead, replace the body of `install` with loading
/// `sipwarden firewall --config FILE --format iptables` (and its ipset part) on the server.
enum TestFirewall {
    static func install(_ rules: RuleSet, on network: TestNetwork) throws {
        let sets = BanSets(rules.bans)
        for set in sets.sets where set.family == .v4 {
            var create = ["ipset", "create", set.name, "hash:ip", "timeout", "\(set.banClass.ttl / 1_000_000_000)"]
            if set.holdsPrefixes { create += ["netmask", "\(set.prefixLength)"] }
            try network.server(create)
        }
        // 1. Banned sources are dropped in the kernel and never reach the daemon.
        for set in sets.sets where set.family == .v4 {
            try network.server(["iptables", "-A", "INPUT", "-m", "set", "--match-set", set.name, "src", "-j", "DROP"])
        }
        // 3. A ban verdict (REPEAT with the class mark) adds the source to its set, then drops.
        for set in sets.sets where set.family == .v4 {
            let mark = "0x" + String(set.mark, radix: 16)
            try network.server([
                "iptables", "-A", "INPUT", "-m", "mark", "--mark", mark, "-j", "SET", "--add-set", set.name, "src",
                "--exist",
            ])
            try network.server(["iptables", "-A", "INPUT", "-m", "mark", "--mark", mark, "-j", "DROP"])
        }
        // 4. SIP in both directions to the queues, unless it already carries a SIPWarden verdict.
        let queues = "\(rules.daemon.queues.lowerBound):\(rules.daemon.queues.upperBound)"
        let verdictMark = "0x\(String(BanSets.verdictMark, radix: 16))/0x\(String(BanSets.verdictMask, radix: 16))"
        for (chain, portMatch) in [("INPUT", "--dport"), ("OUTPUT", "--sport")] {
            for port in rules.ports.sipUDP {
                var rule = [
                    "iptables", "-A", chain, "-p", "udp", portMatch, "\(port)", "-m", "mark", "!", "--mark",
                    verdictMark, "-j", "NFQUEUE", "--queue-balance", queues,
                ]
                if rules.firewall.failOpen { rule.append("--queue-bypass") }
                try network.server(rule)
            }
        }
    }
}
