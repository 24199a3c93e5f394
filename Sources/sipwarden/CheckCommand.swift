import ArgumentParser
import SIPWardenCore

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the rule files and print a summary of the effective rules.",
        discussion: """
            Reads the rule file, its includes and conf.d/*.toml, and reports every problem at once: syntax \
            errors as FILE:LINE:COL, others with the key path and the bad value, as FILE:LINE where the key \
            is written. Exit 0 when all is well, 1 on any error.
            """
    )

    @OptionGroup var rules: ConfigOption

    func run() throws {
        switch rules.loadAll() {
        case .failure(let errors):
            for line in errors.report { printError(line) }
            throw ExitCode(1)
        case .success(let loaded):
            let files = loaded.files.isEmpty ? "built-in defaults" : loaded.files.joined(separator: ", ")
            print("rules OK: \(files)")
            let summary = RulesSummary(rules: loaded.rules)
            print(summary.description)
            for warning in summary.warnings { printError("warning: \(warning)") }
        }
    }
}

/// A short human summary of the effective rules.
struct RulesSummary: CustomStringConvertible {
    let rules: RuleSet

    var description: String {
        let r = rules
        func ports(_ list: [UInt16]) -> String { list.isEmpty ? "-" : list.map(String.init).joined(separator: ",") }
        let mode =
            "\(r.daemon.mode.rawValue), queues \(r.daemon.queues.lowerBound)-\(r.daemon.queues.upperBound), "
            + "control \(r.daemon.controlSocket), metrics \(r.daemon.metrics.map { "\($0)" } ?? "off"), "
            + "state \(r.daemon.stateFile ?? "none")"
        let portList = "udp \(ports(r.ports.sipUDP)), tcp \(ports(r.ports.sipTCP)), tls \(ports(r.ports.sipTLS))"
        func list(_ items: [String]) -> String { items.isEmpty ? "none" : items.joined(separator: " ") }
        let trust = "allowed \(list(r.trust.allow.map(\.description))), denied \(list(r.trust.deny.map(\.description)))"
        let halfLife = RuleDuration.text(r.score.halfLife)
        let score =
            "drop at \(Rate.number(r.score.dropAt)), ban at \(Rate.number(r.score.banAt)), half-life \(halfLife)"
        let ttls: [String] = r.bans.ttl.map { RuleDuration.text($0) }
        let bans = ttls.joined(separator: " → ") + ", prefix after \(r.bans.prefixMembers) members"
        var rows: [[String]] = [
            ["mode", mode], ["ports", portList], ["trust", trust], ["score", score], ["bans", bans],
            ["unknown sources", r.limits.unknownSources.description],
        ]
        for methodClass in RuleSet.MethodClass.allCases {
            let limits = r.limits[methodClass]
            rows.append([
                "limit \(methodClass.rawValue)",
                "source \(limits.source), prefix \(limits.prefix), global \(limits.global)",
            ])
        }
        let e = r.enumeration
        let window = RuleDuration.text(e.window)
        let grace = e.graceUsers == 0 ? "no registration grace" : "registration grace for \(e.graceUsers) users"
        rows.append([
            "enumeration",
            "per \(window): \(e.distinctUsers) users, \(e.sequentialUsers) sequential, \(e.notFound) 404s; "
                + "\(e.prefixNotFound) 404s per prefix; \(grace)",
        ])
        let g = r.guessing
        rows.append([
            "guessing",
            "\(g.distributedFailures) failures from \(g.distributedSources) sources per \(RuleDuration.text(g.window)); "
                + "an office's free failures \(g.officeFailures) for \(g.officeAccounts) new accounts; "
                + "one account's standing held by its latest \(g.accountAddresses) addresses, spent past "
                + "\(g.sprayAccounts) missed accounts; "
                + "foreign nonces refused past \(g.foreignNonces)",
        ])
        let marks = r.signatures.structuralMarks ? "on" : "off"
        rows.append([
            "policy",
            "malformed \(r.policy.malformed.rawValue), cleartext keys \(r.policy.cleartextKeys.rawValue); "
                + "\(r.signatures.userAgents.count) scanner user agents (\(r.signatures.sharedUserAgents.count) shared), "
                + "structural marks \(marks)",
        ])
        let toll = r.tollFraud
        rows.append([
            "toll fraud",
            "high risk \(list(toll.highRiskPrefixes)), domestic \(list(toll.domesticPrefixes)), "
                + "own numbers \(list(toll.ownNumbers))",
        ])
        let wall = r.firewall
        let admin = wall.adminNetworks.map(\.description).joined(separator: " ")
        rows.append([
            "firewall",
            "\(wall.role.rawValue), \(wall.failOpen ? "fail-open" : "fail-closed"), default \(wall.defaultAction.rawValue), "
                + "admin \(ports(wall.adminPorts)) from \(admin.isEmpty ? "nowhere" : admin), "
                + "open tcp \(ports(wall.openTCPPorts)), udp \(ports(wall.openUDPPorts))",
        ])
        rows.append([
            "tables",
            "\(r.tables.sources) sources, \(r.tables.prefixes) prefixes, \(r.tables.users) users, "
                + "\(r.tables.nonces) nonces, \(r.tables.dialogs) dialogs: \(tableMiB) MiB, and at most \(tcpMiB) MiB of TCP streams (waiting "
                + "messages, bytes the server has not acknowledged), for \(counted(r.daemon.queues.count, "queue"))",
        ])
        return table(rows)
    }

    /// The tables' memory with one engine per queue, in MiB.
    var tableMiB: Int { Engine.tableBytes(rules, queues: rules.daemon.queues.count) >> 20 }

    /// The most the queues' TCP framers hold, in MiB.
    var tcpMiB: Int { (TCPStreamFramer.worstCaseBytes * rules.daemon.queues.count) >> 20 }

    /// What the rules are likely to do that their author may not expect.
    var warnings: [String] {
        var found: [String] = []
        if rules.trust.allow.isEmpty, rules.tollFraud.ownNumbers.isEmpty {
            found.append(
                "trust.allow and toll_fraud.own_numbers are empty: calls from a carrier or trunk to numbers "
                    + "that look international (+44…, 00…) are held as toll fraud until it authenticates. "
                    + "List your carriers in trust.allow, or your own numbers in toll_fraud.own_numbers.")
        }
        for allowed in rules.trust.allow {
            if let deny = rules.trust.deny.first(where: { $0.covers(allowed) }) {
                found.append(
                    "trust.allow has \(allowed), inside trust.deny \(deny): deny is checked first, so it is dropped")
            }
        }
        // The ban sets come first in the firewall, before the admin ports: a ban of a SIP source behind
        // the admins' address or /24 shuts them out too, unless trust.allow keeps it from being banned.
        let exposed = rules.firewall.adminNetworks.filter { network in
            network.length > 0 && !rules.trust.allow.contains { $0.covers(network) }
        }
        if !exposed.isEmpty {
            found.append(
                "firewall.admin_networks \(exposed.map(\.description).joined(separator: ", ")) "
                    + "\(exposed.count == 1 ? "is" : "are") not in trust.allow: banned sources are dropped before the "
                    + "admin ports, so a SIP source banned at the admins' address (a phone behind the same NAT) or "
                    + "in its /24 or /64 locks them out for the ban's time; list the admin networks in trust.allow too")
        }
        do {
            let firewall = try FirewallRuleset(rules: rules)
            found += HostConnections.warnings(firewall, families: [.v4, .v6]).map { "the firewall: \($0)" }
        } catch {
            found.append("`sipwarden firewall` refuses these rules: \(error)")
        }
        if tableMiB + tcpMiB > Self.unitMemoryMiB {
            found.append(
                "the tables take \(tableMiB) MiB and TCP streams up to \(tcpMiB) MiB, more than the "
                    + "\(Self.unitMemoryMiB) MiB the shipped unit "
                    + "allows (MemoryMax in sipwarden.service): the daemon would be stopped, at start or when "
                    + "TCP clients leave messages unfinished. Lower [tables] or raise MemoryMax.")
        }
        return found
    }

    /// `MemoryMax` of systemd/sipwarden.service.
    static let unitMemoryMiB = 512
}
