import ArgumentParser
import Foundation
import SIPWardenCore
import SIPWardenQueue

/// `--control-socket` and `--json`, shared by the commands that talk to the running daemon.
struct ControlOptions: ParsableArguments {
    @OptionGroup var rules: ConfigOption

    @Option(help: "The daemon's control socket (default: daemon.control_socket of the rules).")
    var controlSocket: String?

    @Flag(help: "Print JSON, for scripts.")
    var json = false

    /// The control socket: `--control-socket`, or the rules'. A rule file broken since the daemon read it
    /// must not stand in the way of an emergency unban: the default socket is tried then, with a warning.
    var socketPath: String {
        if let controlSocket { return controlSocket }
        switch rules.loadAll() {
        case .success(let loaded):
            return loaded.rules.daemon.controlSocket
        case .failure(let errors):
            let path = RuleSet().daemon.controlSocket
            printError(
                "warning: the rule files have \(counted(errors.errors.count, "error")) "
                    + "(`sipwarden check` lists them); trying the default control socket \(path) "
                    + "(--control-socket PATH names another)")
            return path
        }
    }

    /// Sends `request` to the daemon; exit 1 with a clear message when none answers. An unban may run
    /// the kernel's tools twice for each flavour (13 s each at most): it is waited for longer.
    func send(_ request: ControlRequest) throws -> ControlResponse {
        let path = socketPath
        let response: ControlResponse
        do {
            let timeout: Double = if case .unban = request { 70 } else { 10 }
            response = try ControlClient(path: path).send(request, timeout: timeout)
        } catch {
            throw InputError(description: error.description)
        }
        if case .failed(let message) = response { throw InputError(description: message) }
        return response
    }

    func printJSON<Value: Encodable>(_ value: Value) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

struct BansCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bans", abstract: "Show the running daemon's bans (`bans` alone lists them).",
        subcommands: [List.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the bans in force: source or prefix, reason, score, since, expires.")

        @OptionGroup var control: ControlOptions

        func run() throws {
            guard case .bans(let bans) = try control.send(.bans) else { throw ExitCode(1) }
            if control.json { return try control.printJSON(bans) }
            var rows = [["SOURCE", "REASON", "SCORE", "SINCE", "EXPIRES", "TTL", "QUEUE"]]
            for ban in bans {
                rows.append([
                    ban.target + (ban.monitorOnly ? " (monitor)" : ""), ban.reason, String(ban.score),
                    WallClock.text(ban.since), WallClock.text(ban.expires),
                    RuleDuration.text(seconds: ban.ttl), String(ban.queue),
                ])
            }
            print(bans.isEmpty ? "no bans in force" : table(rows))
        }
    }
}

struct UnbanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unban",
        abstract: "Lift a ban: in the daemon's engines and in the kernel ban sets.",
        discussion: """
            ADDR lifts that address (and a prefix ban covering it); PREFIX lifts every ban inside it, in the \
            kernel also those the daemon does not know of (after a restart). Exit 1 when the kernel's sets \
            could not be changed: the source is still dropped there.
            """)

    @OptionGroup var control: ControlOptions

    @Argument(help: "An address or CIDR prefix.")
    var target: String

    func validate() throws {
        guard IPPrefix(target) != nil else { throw ValidationError("\(target): not an IP address or CIDR prefix") }
    }

    func run() throws {
        guard case .unbanned(let result) = try control.send(.unban(target: target)) else { throw ExitCode(1) }
        if control.json {
            try control.printJSON(result)
        } else {
            let sets =
                !result.kernelSets.isEmpty
                ? result.kernelSets.joined(separator: ", ")
                : result.kernelFailures.isEmpty ? "no kernel set held it" : "not changed"
            print(
                "unbanned \(result.target): \(counted(result.bans, "ban")), "
                    + "\(counted(result.engineEntries, "engine entry", plural: "engine entries")), kernel: \(sets)")
        }
        // Still dropped in the kernel: the operator must know, and a script must see it.
        for failure in result.kernelFailures { printError("kernel ban sets: \(failure)") }
        if !result.kernelFailures.isEmpty { throw ExitCode(1) }
    }
}

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "The running daemon's counters: packets and receives, verdicts, queue drops, tables, top sources.")

    @OptionGroup var control: ControlOptions

    func run() throws {
        guard case .stats(let stats) = try control.send(.stats) else { throw ExitCode(1) }
        if control.json { return try control.printJSON(stats) }
        var rows = [
            ["mode", stats.mode], ["servers", stats.servers?.joined(separator: " ") ?? "-"],
            ["uptime", RuleDuration.text(seconds: max(stats.uptimeSeconds, 1))],
            ["packets", String(stats.packets)],
            ["bans", "\(stats.activeBans) in force, \(stats.bansIssued) issued, \(stats.bansUnlisted) not listed"],
        ]
        for queue in stats.queues {
            let kernel =
                queue.queueDropped.map {
                    "queue dropped \($0), socket dropped \(queue.userDropped ?? 0), waiting \(queue.waiting ?? 0)"
                }
                ?? "not listed by the kernel"
            let batches = queue.batches.map { " in \($0) batches" } ?? ""
            rows.append([
                "queue \(queue.queue)",
                "\(queue.packets) packets\(batches) (\(queue.inbound) in, \(queue.outbound) out), \(kernel)",
            ])
        }
        for verdict in stats.verdicts.sorted(by: { $0.count > $1.count }) {
            rows.append(["\(verdict.verdict) \(verdict.reason)", String(verdict.count)])
        }
        for table in stats.tables {
            rows.append(["table \(table.name)", "\(table.entries) of \(table.capacity)"])
        }
        for source in stats.topSources {
            let notes = (source.banned ? ", banned" : "") + (source.good ? ", good history" : "")
            rows.append([
                "top \(source.address)", "score \(Int(source.score.rounded())), \(source.packets) packets\(notes)",
            ])
        }
        print(table(rows))
    }
}

/// Unix seconds as UTC text for tables.
enum WallClock {
    static func text(_ seconds: Int) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
