import ArgumentParser
import Logging
import SIPWardenCore
import SIPWardenQueue

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Filter SIP inline: the NFQUEUE daemon.",
        discussion: """
            Binds the queues in daemon.queues (one thread each), judges every queued SIP packet in both \
            directions and answers accept, drop, or ban (verdict REPEAT with the ban class's mark, so the \
            firewall adds the source to a kernel ban set). Needs CAP_NET_ADMIN and the firewall from \
            `sipwarden firewall` loaded. SIGHUP re-reads the rule files, first in a child process (a \
            bad file, or one that stops the child, keeps the running rules); SIGTERM or SIGINT stop after \
            every queued packet has its verdict. Speaks the systemd notify protocol when NOTIFY_SOCKET is \
            set. Logs go to stderr: one line per ban and unban.
            """
    )

    @OptionGroup var rules: ConfigOption

    @Flag(help: "Decide and report, but accept every packet (overrides daemon.mode, also across reloads).")
    var monitor = false

    func run() throws {
        // First of all: a SIGHUP (or SIGTERM) while the rules are read waits for the daemon to take it,
        // instead of ending the process by its default action.
        SignalWaiter().block()
        let ruleSet = try rules.load()
        try requireMemory(for: ruleSet, queues: ruleSet.daemon.queues.count)
        let files = rules.files
        let logger = Logger(label: "sipwarden")
        let probe = RuleFilesProbe.check(config: files.config)
        let options = Daemon.Options(
            rules: ruleSet, forceMonitor: monitor, servers: LocalAddresses.current,
            loadRules: {
                if let problem = probe.problem() {
                    let main = files.config ?? ConfigOption.defaultPath
                    return .failure(RulesErrors([.unreadable(file: main, reason: problem.description)]))
                }
                return files.load().map(\.rules)
            })
        do {
            try Daemon(options, logger: logger).run()
        } catch {
            throw InputError(description: error.description)
        }
    }
}
