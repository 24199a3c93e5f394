import Foundation
import SIPWardenCore
import SIPWardenTestSupport
import Testing

/// `sipwarden run` inline between real SIP peers: sipp as UAS on the server host, sipp calls, an INVITE
/// flood and SIPVicious from the client host, the ban sets in the kernel. Root only; CI runs them.
@Suite(.serialized, .enabled(if: TestNetwork.isAvailable, "needs root, ip, iptables, ipset and sipp"))
struct LiveTests {
    static let rules = RuleSet()
    static var banSets: BanSets { BanSets(rules.bans) }
    static let flooder = "10.78.0.3"

    /// A server host with the generated firewall, the daemon and sipp's UAS (also over TCP with `tcp`).
    static func serverWithDaemon(
        _ name: String, rules text: String = "", arguments: [String] = [], tcp: Bool = false
    ) throws -> (TestNetwork, LiveDaemon) {
        let network = try TestNetwork(name)
        let daemon = try LiveDaemon(on: network, rules: text, arguments: arguments)
        try network.startServerUAS(tcp: tcp)
        return (network, daemon)
    }

    @Test func legitCallsCompleteWhileAFloodIsBannedInTheKernelThenUnbanned() throws {
        let (network, daemon) = try Self.serverWithDaemon("flood")
        defer { network.tearDown() }
        // A phone calls at a steady rate while the flood runs.
        let phone = try network.startOnClient(
            TestNetwork.callArguments(30, from: TestNetwork.phone, port: 5070, rate: 5), log: "phone.log")
        try network.inviteFlood(from: Self.flooder)
        #expect(phone.wait(timeout: 25) == 0, "every call of the phone completes: \(phone.output.suffix(400))")
        #expect(try network.bannedInKernel(Self.banSets).contains(Self.flooder))
        #expect(try daemon.bans() == [Self.flooder])
        #expect(daemon.log.contains("sipwarden ban src=\(Self.flooder)"))
        #expect(try network.legitimateCalls(10, port: 5072))

        // Later packets of the banned source never reach the daemon.
        let before = try daemon.packets()
        try network.inviteFlood(from: Self.flooder, count: 300, rate: 300, port: 5073)
        #expect(try daemon.packets() == before)

        // Stats and metrics count what happened.
        #expect(try daemon.verdicts("ban", "rate-limit") == 1)
        #expect(try daemon.verdicts("accept", "sip") >= 40)
        #expect(try daemon.verdicts("accept", "outbound") >= 40)
        let metrics = try daemon.metrics()
        #expect(metrics.contains("sipwarden_verdicts_total{verdict=\"ban\",reason=\"rate-limit\"} 1"))
        #expect(metrics.contains("sipwarden_active_bans 1"))
        #expect(!metrics.contains(Self.flooder))

        // Unban lifts it in the engine and in the kernel set.
        let unban = try daemon.cli(["unban", Self.flooder])
        #expect(unban.contains("sipwarden-v4-c1"))
        #expect(try !network.bannedInKernel(Self.banSets).contains(Self.flooder))
        #expect(try daemon.bans().isEmpty)
        #expect(daemon.log.contains("sipwarden unban src=\(Self.flooder)"))
        #expect(try network.legitimateCalls(3, from: Self.flooder, port: 5074))
    }

    /// SIP over TCP as the kernel delivers it: segments of one or several messages, each judged whole.
    @Test func sipOverTCPIsJudgedInlineFloodsAreHeldAndScannersBannedInTheKernel() throws {
        let (network, daemon) = try Self.serverWithDaemon(
            "tcp", rules: "[ports]\nsip_tcp = [5060, \(TestNetwork.tcpFloodPort)]\n", tcp: true)
        defer { network.tearDown() }
        let phone = try network.startOnClient(
            TestNetwork.callArguments(30, from: TestNetwork.phone, port: 5070, rate: 5, tcp: true), log: "phone.log")
        // A flood over one connection gets no more calls through than the source's INVITE limit (a burst
        // of 20, then 5/s for the 6 s it runs; 60 leaves a margin): a segment dropped over it is judged
        // afresh when TCP resends it, and the excess scores until the ban. Its INVITEs sent before the
        // server's first ACK pass up to the limit: the connection is not held back until then.
        let flood = try network.inviteFlood(from: Self.flooder, tcp: true)
        #expect(phone.wait(timeout: 25) == 0, "every TCP call of the phone completes: \(phone.output.suffix(400))")
        let completed = try #require(TestNetwork.successfulCalls(flood.stdout))
        #expect((5...60).contains(completed), "the flood completed \(completed) of 2000 calls")
        #expect(try daemon.verdicts("drop", "rate-limit") > 0)

        // A scanner's OPTIONS over TCP bans it in the kernel: its next connection never reaches the daemon
        // (the server's own packets closing the first one still pass it, outbound).
        let scanner = "10.78.0.4"
        #expect(try network.tcpOptions(from: scanner, userAgent: "friendly-scanner"))
        usleep(300_000)
        #expect(try network.bannedInKernel(Self.banSets).contains(scanner))
        try network.countQueuedPackets(from: scanner)
        try network.countQueuedPackets(from: TestNetwork.phone)
        #expect(try !network.tcpOptions(from: scanner, userAgent: "friendly-scanner"))
        #expect(try network.queuedPackets(from: scanner) == 0)
        #expect(try network.legitimateCalls(10, port: 5072, tcp: true))
        #expect(try network.queuedPackets(from: TestNetwork.phone) > 0, "the count misses queued packets")
        // A call abroad without credentials from an address that never authenticated is held, not banned:
        // its segment is answered with a TCP reset, so the client connects again instead of waiting
        // behind it (the server's TCP would hold back every later byte of the connection).
        #expect(try network.tcpCallIsReset(from: "10.78.0.8", to: "+88216100000"))
        #expect(try daemon.verdicts("drop", "toll-fraud") > 0)
        #expect(try !network.bannedInKernel(Self.banSets).contains("10.78.0.8"))
        #expect(daemon.process.isRunning)
    }

    @Test func anIPv6FloodIsBannedInTheIPv6SetWhileAnIPv6PhoneCalls() throws {
        let (network, daemon) = try Self.serverWithDaemon("ipv6")
        defer { network.tearDown() }
        let flooder = "fd78::3"
        try network.inviteFlood(from: flooder)
        #expect(try network.banSetMembers("sipwarden-v6-c1").contains(flooder))
        #expect(try daemon.bans() == [flooder])
        #expect(try network.legitimateCalls(5, from: "fd78::2", port: 5076))
        #expect(try network.legitimateCalls(5))
    }

    @Test(arguments: [
        ("10.78.0.4", ["sipvicious_svmap", "-b", "10.78.0.4", "-p", "5060", "10.78.0.1"]),
        ("10.78.0.5", ["sipvicious_svwar", "-b", "10.78.0.5", "-e", "100-400", "-m", "INVITE", "10.78.0.1"]),
        ("10.78.0.6", ["sipvicious_svcrack", "-b", "10.78.0.6", "-u", "100", "-r", "1000-1400", "10.78.0.1"]),
    ])
    func sipviciousIsBannedInTheKernel(attacker: String, command: [String]) throws {
        let (network, daemon) = try Self.serverWithDaemon("sipvicious")
        defer { network.tearDown() }
        try network.client(from: attacker, ["timeout", "-k", "2", "6"] + command, timeout: 10)
        #expect(try network.bannedInKernel(Self.banSets).contains(attacker))
        #expect(try daemon.bans().contains(attacker))
        #expect(try network.legitimateCalls(5))
    }

    /// Steady traffic is judged in batches (`daemon.batch_wait_us`): 600 OPTIONS at least 0.3 ms apart
    /// (never two at once), each in time to be received alone, come in a third as many receives when
    /// the thread pauses a millisecond after a packet it waited less than that for, and one by one with
    /// the pause off. Monitor mode, so that nothing is banned.
    @Test(arguments: [(1000, true), (0, false)])
    func steadyTrafficIsJudgedInBatches(waitMicroseconds: Int, gathers: Bool) throws {
        let network = try TestNetwork("batch")
        defer { network.tearDown() }
        let daemon = try LiveDaemon(
            on: network, rules: "batch_wait_us = \(waitMicroseconds)\n", arguments: ["--monitor"])
        let script = """
            import socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("\(TestNetwork.phone)", 5090))
            due = time.perf_counter()
            for n in range(600):
                while time.perf_counter() < due:
                    pass
                s.sendto(("OPTIONS sip:100@\(TestNetwork.server) SIP/2.0\\r\\n"
                    "Via: SIP/2.0/UDP \(TestNetwork.phone):5090;branch=z9hG4bK-steady-%d\\r\\n"
                    "From: <sip:200@\(TestNetwork.phone)>;tag=steady\\r\\nTo: <sip:100@\(TestNetwork.server)>\\r\\n"
                    "Call-ID: steady-%d\\r\\nCSeq: 1 OPTIONS\\r\\nMax-Forwards: 70\\r\\n"
                    "Content-Length: 0\\r\\n\\r\\n" % (n, n)).encode(), ("\(TestNetwork.server)", 5060))
                due = time.perf_counter() + 0.0003
            """
        #expect(try network.client(["python3", "-c", script], timeout: 20).status == 0)
        usleep(200_000)
        let queues = try daemon.stats()["queues"] as? [[String: Any]] ?? []
        let packets = queues.reduce(0) { $0 + ($1["packets"] as? Int ?? 0) }
        let batches = queues.reduce(0) { $0 + ($1["batches"] as? Int ?? 0) }
        #expect(packets == 600)
        let perBatch = Double(packets) / Double(max(batches, 1))
        #expect(gathers ? perBatch >= 2 : perBatch < 1.5, "\(packets) packets in \(batches) batches")
    }

    @Test func monitorModePassesEverythingAndReportsTheBan() throws {
        let (network, daemon) = try Self.serverWithDaemon("monitor", arguments: ["--monitor"])
        defer { network.tearDown() }
        let flood = try network.inviteFlood(from: Self.flooder, count: 500, rate: 500)
        #expect(flood.status == 0, "every flood call completes: \(flood.stderr)")
        #expect(try network.bannedInKernel(Self.banSets).isEmpty)
        #expect(try daemon.bans() == [Self.flooder])
        #expect(try daemon.verdicts("drop", "rate-limit") == 0)
        #expect(try daemon.stats()["mode"] as? String == "monitor")
        #expect(daemon.log.contains("mode=monitor"))
    }

    /// A metrics address another program holds fails the start (exit 1, naming the address), and the
    /// control socket's file made just before is removed: nothing is left for `sipwarden stats` to find.
    @Test func aTakenMetricsAddressFailsTheStartAndLeavesNoControlSocket() throws {
        let network = try TestNetwork("metrics")
        defer { network.tearDown() }
        let config = network.directory.appendingPathComponent("sipwarden.toml")
        try LiveDaemon.write("", to: config, network: network)
        let listening = network.directory.appendingPathComponent("listening")
        let holder = """
            import socket, time
            s = socket.socket()
            s.bind(("127.0.0.1", 9595))
            s.listen()
            open("\(listening.path)", "w").close()
            time.sleep(30)
            """
        try network.startOnServer(["python3", "-c", holder], log: "holder.log")
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: listening.path) { usleep(50_000) }
        let start = try Subprocess.run(
            "ip", ["netns", "exec", network.serverNamespace, LiveDaemon.binary, "run", "--config", config.path],
            timeout: 20)
        #expect(start.status == 1)
        #expect(start.stderr.contains("bind metrics address 127.0.0.1:9595"), "\(start.stderr)")
        let socket = network.directory.appendingPathComponent("control.sock").path
        #expect(!FileManager.default.fileExists(atPath: socket))
    }

    @Test func sipKeepsFlowingAfterTheDaemonIsKilled() throws {
        let (network, daemon) = try Self.serverWithDaemon("kill")
        defer { network.tearDown() }
        // A second daemon cannot take the queues: one clear line, exit 1, and the first goes on.
        let second = try Subprocess.run(
            "ip", ["netns", "exec", network.serverNamespace, LiveDaemon.binary, "run", "--config", daemon.config.path],
            timeout: 10)
        #expect(second.status == 1)
        #expect(second.stderr.contains("bind NFQUEUE 0"))
        #expect(try network.legitimateCalls(3))
        daemon.process.signal(SIGKILL)
        #expect(daemon.process.wait(timeout: 5) != nil)
        #expect(try network.legitimateCalls(10))
    }

    @Test func aBrokenReloadKeepsTheOldRulesAndAValidOneAppliesWithoutLosingBans() throws {
        let (network, daemon) = try Self.serverWithDaemon("reload")
        defer { network.tearDown() }
        #expect(try (daemon.stats()["servers"] as? [String] ?? []).contains(TestNetwork.server))
        #expect(try !(daemon.stats()["servers"] as? [String] ?? []).contains("10.78.0.21"))
        try daemon.reload(with: "[score]\nban_at = \"lots\"\n")
        #expect(daemon.log.contains("reload rejected: keeping the running rules"))
        #expect(daemon.log.contains("score.ban_at"))
        // A table header without a name once stopped the process inside the TOML parser.
        try daemon.reload(with: "[score]\nban_at = 100\n[ # next section\n")
        #expect(daemon.process.isRunning && daemon.log.contains("expected a table name"))
        try network.inviteFlood(from: Self.flooder)
        #expect(try network.bannedInKernel(Self.banSets).contains(Self.flooder))

        // New rules: 10.78.0.4 becomes trusted; the earlier ban stays. An address the host took since
        // the start is read with them: the daemon never bans its own.
        try network.server(["ip", "addr", "add", "10.78.0.21/24", "dev", network.serverLink])
        try daemon.reload(with: "[trust]\nallow = [\"10.78.0.4/32\"]\n")
        #expect(daemon.log.contains("rules reloaded"))
        #expect(try (daemon.stats()["servers"] as? [String] ?? []).contains("10.78.0.21"))
        try network.inviteFlood(from: "10.78.0.4", count: 600, rate: 600, port: 5075)
        #expect(try !network.bannedInKernel(Self.banSets).contains("10.78.0.4"))
        #expect(try daemon.verdicts("accept", "trusted") > 100)
        #expect(try daemon.bans() == [Self.flooder])
    }

    @Test func stopIsGracefulAndLeavesSIPFlowing() throws {
        let (network, daemon) = try Self.serverWithDaemon("stop")
        defer { network.tearDown() }
        #expect(try network.legitimateCalls(5))
        // Garbage on the SIP port is a verdict (drop, not SIP), never a crash.
        let garbage =
            "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('10.78.0.7', 0))\n"
            + "for n in range(50): s.sendto(bytes([n, 255, 0, 13, 10]) * 40, ('10.78.0.1', 5060))"
        try network.client(["python3", "-c", garbage], timeout: 10)
        usleep(300_000)
        #expect(try daemon.verdicts("drop", "not-sip") + daemon.verdicts("ban", "not-sip") >= 1)
        #expect(daemon.process.isRunning)
        daemon.process.signal(SIGTERM)
        #expect(daemon.process.wait(timeout: 10) == 0)
        #expect(daemon.log.contains("sipwarden stopping"))
        let queues = try network.server(["cat", "/proc/net/netfilter/nfnetlink_queue"])
        #expect(queues.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "queues unbound: \(queues)")
        #expect(!FileManager.default.fileExists(atPath: network.directory.appendingPathComponent("control.sock").path))
        #expect(try network.legitimateCalls(5))
    }

    /// A SIGHUP while the daemon still reads its rule files (slow to read here: 2.5 MB of comments in a
    /// conf.d drop-in) waits for the daemon, which then reloads; it never ends the process.
    @Test func aReloadSignalDuringStartWaitsForTheDaemon() throws {
        let (network, daemon) = try Self.serverWithDaemon("early-hup")
        defer { network.tearDown() }
        daemon.process.signal(SIGTERM)
        #expect(daemon.process.wait(timeout: 10) == 0)
        let dropIns = network.directory.appendingPathComponent("conf.d")
        try FileManager.default.createDirectory(at: dropIns, withIntermediateDirectories: true)
        try String(repeating: "# padding\n", count: 250_000).write(
            to: dropIns.appendingPathComponent("padding.toml"), atomically: true, encoding: .utf8)
        let started = Date()
        // Started as systemd starts it: no signal blocked or ignored (the test runner's threads block some,
        // and a child inherits that).
        let asSystemdWould =
            "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); "
            + "signal.signal(signal.SIGHUP, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"
        let early = try network.startOnServer(
            ["python3", "-c", asSystemdWould, LiveDaemon.binary, "run", "--config", daemon.config.path],
            log: "early.log")
        usleep(300_000)
        early.signal(SIGHUP)
        var answered = false
        while !answered, early.isRunning, Date().timeIntervalSince(started) < 20 {
            answered = (try? network.server([LiveDaemon.binary, "stats", "--config", daemon.config.path])) != nil
            if !answered { usleep(100_000) }
        }
        #expect(answered, "\(early.output)")
        early.signal(SIGTERM)
        #expect(early.wait(timeout: 20) == 0, "\(early.output)")
        #expect(early.process.terminationReason == .exit)
    }

    /// A graceful stop writes the sources with good history (the phone's calls were answered) to the
    /// state file; the next start restores them into every queue's engine, and a stop writes them again
    /// though they sent nothing meanwhile.
    @Test func provenSourcesSurviveAGracefulRestart() throws {
        let (network, daemon) = try Self.serverWithDaemon("restart")
        defer { network.tearDown() }
        #expect(try network.legitimateCalls(3))
        #expect(daemon.savedSources.isEmpty)
        daemon.process.signal(SIGTERM)
        #expect(daemon.process.wait(timeout: 10) == 0)
        #expect(daemon.log.contains("proven sources saved"))
        #expect(daemon.savedSources == ["\(TestNetwork.phone) good"])

        try daemon.restart(log: "daemon-restarted.log")
        #expect(daemon.log.contains("proven sources read"))
        #expect(daemon.log.contains("sources=1"))
        daemon.process.signal(SIGTERM)
        #expect(daemon.process.wait(timeout: 10) == 0)
        #expect(daemon.savedSources == ["\(TestNetwork.phone) good"])
    }
}
