import ArgumentParser
import SIPWardenCore

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the rule files and print a summary of the effective rules.",
        discussion: """
            Reads the rule file, its includes and conf.d/*.toml, and reports every problem at once: syntax \
            errors as FILE:LINE:COL, others with the key path and the bad value. Exit 0 when all is well, \
            1 on any error.
            """
    )

    @OptionGroup var rules: ConfigOption

    func run() throws {
        switch rules.loadAll() {
        case .failure(let errors):
            for error in errors.errors { printError(error.description) }
            printError("\(errors.errors.count) error\(errors.errors.count == 1 ? "" : "s") in the rules")
            throw ExitCode(1)
        case .success(let loaded):
            let files = loaded.files.isEmpty ? "built-in defaults" : loaded.files.joined(separator: ", ")
            print("rules OK: \(files)")
            print(RulesSummary(rules: loaded.rules).description)
        }
    }
}

/// A short human summary of the effective rules.
struct RulesSummary: CustomStringConvertible {
    let rules: RuleSet

    var description: String {
        let r = rules
        func ports(_ list: [UInt16]) -> String { list.isEmpty ? "-" : list.map(String.init).joined(separator: ",") }
        let mode = "\(r.daemon.mode.rawValue), queues \(r.daemon.queues.lowerBound)-\(r.daemon.queues.upperBound)"
        let portList = "udp \(ports(r.ports.sipUDP)), tcp \(ports(r.ports.sipTCP)), tls \(ports(r.ports.sipTLS))"
        let allowed = r.trust.allow.map(\.description).joined(separator: " ")
        let trust = "\(r.trust.allow.count) allowed (\(allowed)), \(r.trust.deny.count) denied"
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
        let wall = r.firewall
        let admin = wall.adminNetworks.map(\.description).joined(separator: " ")
        rows.append([
            "firewall",
            "\(wall.role.rawValue), \(wall.failOpen ? "fail-open" : "fail-closed"), default \(wall.defaultAction.rawValue), "
                + "admin \(ports(wall.adminPorts)) from \(admin.isEmpty ? "nowhere" : admin)",
        ])
        rows.append([
            "tables",
            "\(r.tables.sources) sources, \(r.tables.prefixes) prefixes, \(r.tables.users) users, "
                + "\(r.tables.nonces) nonces",
        ])
        return table(rows)
    }
}
