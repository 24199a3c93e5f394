import CNetfilterQueue
import Foundation
import Logging
import Synchronization
import Testing

@testable import SIPWardenCore
@testable import SIPWardenQueue

@Suite struct VerdictBatchTests {
    static let accept = Int32(CNFQ_ACCEPT)
    static let drop = Int32(CNFQ_DROP)
    static let repeatVerdict = Int32(CNFQ_REPEAT)

    func batch(_ entries: [(UInt32, Int32, UInt32)]) -> VerdictBatch {
        var batch = VerdictBatch(capacity: entries.count)
        for (id, verdict, mark) in entries { batch.add(id: id, verdict: verdict, mark: mark) }
        return batch
    }

    /// The entries that go as their own message.
    func individual(_ batch: VerdictBatch) -> [UInt32] {
        let coalesced = batch.coalesced
        return (0..<batch.count).map { batch.entries[$0] }.filter { !VerdictBatch.isCovered($0, by: coalesced) }
            .map(\.id)
    }

    @Test func acceptsGoAsOneBatchVerdictForTheHighestID() {
        let b = batch((10...15).map { ($0, Self.accept, 0) })
        #expect(b.coalesced?.id == 15)
        #expect(b.coalesced?.verdict == Self.accept)
        #expect(individual(b).isEmpty)
    }

    @Test func dropsAndBansAreSentOnTheirOwnBeforeTheAcceptBatch() {
        let b = batch([
            (1, Self.accept, 0), (2, Self.drop, 0), (3, Self.accept, 0), (4, Self.repeatVerdict, 0x5701),
            (5, Self.accept, 0),
        ])
        #expect(b.coalesced?.verdict == Self.accept)
        #expect(b.coalesced?.id == 5)
        #expect(individual(b) == [2, 4])
    }

    @Test func underAFloodDropsAreTheBatchAndAcceptsGoAlone() {
        let b = batch([(1, Self.drop, 0), (2, Self.drop, 0), (3, Self.accept, 0), (4, Self.drop, 0)])
        #expect(b.coalesced?.verdict == Self.drop)
        #expect(b.coalesced?.id == 4)
        #expect(individual(b) == [3])
    }

    @Test func aBatchAcrossTheIDWrapEndsAtTheLastIDReceived() {
        // The kernel numbers packets modulo 2^32: 0 and 1 come after 0xFFFFFFFF, and a batch verdict for
        // 0xFFFFFFFF would leave them without one.
        let b = batch([
            (0xFFFF_FFFE, Self.accept, 0), (0xFFFF_FFFF, Self.accept, 0), (0, Self.accept, 0), (1, Self.accept, 0),
        ])
        #expect(b.coalesced?.id == 1)
        #expect(individual(b).isEmpty)
    }

    @Test func aLonePacketGetsItsOwnVerdict() {
        let b = batch([(7, Self.accept, 0)])
        #expect(b.coalesced == nil)
        #expect(individual(b) == [7])
    }

    @Test func resetEmptiesTheBatchWithoutShrinkingIt() {
        var b = batch([(1, Self.accept, 0), (2, Self.accept, 0)])
        b.reset()
        #expect(b.isEmpty)
        #expect(b.entries.count == 2)
    }
}

@Suite struct QueueCountersTests {

    @Test func countsAddUpAcrossQueues() {
        var a = QueueCounters()
        a.count(Decision(.accept, .sip), direction: .inbound)
        a.count(Decision(.ban, .scanner), direction: .inbound)
        var b = QueueCounters()
        b.count(Decision(.accept, .outbound), direction: .outbound)
        let sum = a.adding(b)
        #expect(sum.packets == 3)
        #expect(sum.inbound == 2)
        #expect(sum.outbound == 1)
        #expect(sum.decisions.count(.ban, .scanner) == 1)
        #expect(sum.decisions.nonZero.count == 3)
    }

    @Test func hooksGiveTheDirection() {
        #expect(QueueWorker.direction(hook: UInt16(CNFQ_HOOK_LOCAL_IN)) == .inbound)
        #expect(QueueWorker.direction(hook: UInt16(CNFQ_HOOK_LOCAL_OUT)) == .outbound)
        #expect(QueueWorker.direction(hook: UInt16(CNFQ_HOOK_FORWARD)) == nil)
    }
}

@Suite struct KernelTests {
    @Test func queueStatisticsAreParsedFromProc() {
        let text = """
                0  18736     3 2 65531     7     2       60  1
                1 2736783469     0 2 65531     0     0        0  1
            """
        let parsed = KernelQueueStatistics.parse(text)
        #expect(parsed.count == 2)
        #expect(
            parsed.first
                == KernelQueueStatistics(
                    queue: 0, portID: 18736, waiting: 3, copyRange: 65531, queueDropped: 7, userDropped: 2, lastID: 60))
    }
}

@Suite struct SystemdNotifierTests {
    @Test func messagesReachTheNotifySocket() throws {
        let path = NSTemporaryDirectory() + "swd-notify-\(getpid()).sock"
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer {
            close(fd)
            unlink(path)
        }
        let bound = try SocketDescriptor.withUnixAddress(path) { bind(fd, $0, $1) }
        #expect(bound == 0)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000"])
        #expect(notifier.watchdogInterval == 2)
        notifier.ready(status: "enforce: 2 queues")
        notifier.reloading()
        notifier.watchdog()
        var messages: [String] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        for _ in 0..<3 {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 { messages.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
        }
        #expect(messages.first == "READY=1\nSTATUS=enforce: 2 queues")
        #expect(messages.dropFirst().first?.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") == true)
        #expect(messages.last == "WATCHDOG=1")
    }

    @Test func withoutNotifySocketNothingIsSent() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(notifier.watchdogInterval == nil)
        notifier.ready(status: "x")
    }
}

/// Serialized: a server sets the process-wide umask while it binds its socket, so one made meanwhile by
/// a test beside it could come out 0755 (seen once as a failed mode check).
@Suite(.serialized) struct ControlSocketTests {
    /// Runs `body` with the path of a started control server answering with `handler`, in a folder of
    /// its own named after `name`; then stops the server and removes the folder.
    func serving(
        _ name: String, _ handler: @escaping @Sendable (ControlRequest) -> ControlResponse,
        _ body: (String) throws -> Void
    ) throws {
        let path = NSTemporaryDirectory() + "swd-\(name)-\(getpid())/control.sock"
        let server = try ControlServer(path: path, logger: .init(label: "test"), handler: handler)
        server.start()
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
        }
        try body(path)
    }

    @Test func aRequestIsAnsweredAndTheSocketIsPrivate() throws {
        try serving("control", { $0 == .bans ? .bans([]) : .failed("unexpected") }) { path in
            #expect(try ControlClient(path: path).send(.bans) == .bans([]))
            #expect(try ControlClient(path: path).send(.stats) == .failed("unexpected"))
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(throws: SystemCallError.self) {
                _ = try ControlServer(path: path, logger: .init(label: "test")) { _ in .bans([]) }
            }
        }
    }

    /// Clients that send a byte now and then, never a whole line, hold the control threads (all of
    /// them here) for the request's second at most: a command waiting behind them is answered, not
    /// timed out.
    @Test func slowClientsHoldTheSocketOnlyForTheirRequestTime() throws {
        try serving("slow", { _ in .bans([]) }) { path in
            var slow: [SocketDescriptor] = []
            for _ in 0..<ControlServer.threads {
                let client = try SocketDescriptor.stream(AF_UNIX)
                try #require(try SocketDescriptor.withUnixAddress(path) { connect(client.fd, $0, $1) } == 0)
                slow.append(client)
            }
            let dribbling = Thread { [slow] in
                for _ in 0..<20 {
                    for client in slow { _ = client.write([UInt8(ascii: "{")]) }
                    usleep(250_000)
                }
            }
            dribbling.start()
            usleep(100_000)
            let started = MonotonicClock.now().nanoseconds
            #expect(try ControlClient(path: path).send(.bans, timeout: 4) == .bans([]))
            let waited = Double(MonotonicClock.now().nanoseconds - started) / 1e9
            #expect(waited < AcceptLoop.requestSeconds + 1, "waited \(waited) s")
        }
    }

    /// A long request (an unban waiting for the kernel's tools) does not hold the socket: `stats` and
    /// `bans list` are answered meanwhile, and the long one gets its answer when it is done.
    @Test func aLongRequestDoesNotHoldTheOthers() throws {
        let (started, release) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        let handler: @Sendable (ControlRequest) -> ControlResponse = { request in
            guard case .unban(let target) = request else { return .bans([]) }
            started.signal()
            _ = release.wait(timeout: .now() + 10)
            return .failed("lifted \(target)")
        }
        try serving("busy", handler) { path in
            defer { release.signal() }
            let unban = Mutex<ControlResponse?>(nil)
            let done = DispatchSemaphore(value: 0)
            Thread {
                let answer = try? ControlClient(path: path).send(.unban(target: "192.0.2.9"), timeout: 10)
                unban.withLock { $0 = answer }
                done.signal()
            }.start()
            try #require(started.wait(timeout: .now() + 5) == .success)
            #expect(try ControlClient(path: path).send(.bans, timeout: 2) == .bans([]))
            #expect(try ControlClient(path: path).send(.stats, timeout: 2) == .bans([]))
            #expect(unban.withLock { $0 } == nil)
            release.signal()
            #expect(done.wait(timeout: .now() + 5) == .success)
            #expect(unban.withLock { $0 } == .failed("lifted 192.0.2.9"))
        }
    }

    /// A stale socket file is replaced; a file of another kind at the path (the state file, say) is
    /// refused and kept.
    @Test func onlyASocketFileIsReplaced() throws {
        let folder = NSTemporaryDirectory() + "swd-kept-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/sources"
        try "192.0.2.1 good 0\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: SystemCallError.self) {
            _ = try ControlServer(path: path, logger: .init(label: "test")) { _ in .bans([]) }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "192.0.2.1 good 0\n")
        // A socket left by a daemon that died is no obstacle.
        let stale = folder + "/control.sock"
        let listener = try SocketDescriptor.stream(AF_UNIX)
        try #require(try SocketDescriptor.withUnixAddress(stale) { bind(listener.fd, $0, $1) } == 0)
        let server = try ControlServer(path: stale, logger: .init(label: "test")) { _ in .bans([]) }
        server.start()
        #expect(try ControlClient(path: stale).send(.bans) == .bans([]))
        server.stop()
        #expect(!FileManager.default.fileExists(atPath: stale))
    }

    /// The answer of a daemon from before `kernelFailures` (not restarted since an upgrade) still reads.
    @Test func anUnbanAnswerWithoutKernelFailuresReads() throws {
        let old = #"{"target":"192.0.2.9","bans":1,"engineEntries":2,"kernelSets":["sipwarden-v4-c1"]}"#
        let result = try JSONDecoder().decode(UnbanResult.self, from: Data(old.utf8))
        #expect(
            result
                == UnbanResult(
                    target: "192.0.2.9", bans: 1, engineEntries: 2, kernelSets: ["sipwarden-v4-c1"], kernelFailures: [])
        )
        let now = try JSONEncoder().encode(
            UnbanResult(target: "x", bans: 0, engineEntries: 0, kernelSets: [], kernelFailures: ["nft: refused"]))
        #expect(try JSONDecoder().decode(UnbanResult.self, from: now).kernelFailures == ["nft: refused"])
    }

    @Test func noDaemonIsAClearError() {
        let path = NSTemporaryDirectory() + "swd-none-\(getpid()).sock"
        #expect {
            _ = try ControlClient(path: path).send(.stats)
        } throws: { error in
            (error as? ControlClient.Failure).map { "\($0)".contains("is `sipwarden run` running?") } ?? false
        }
    }
}

@Suite struct OwnAddressesTests {
    /// A reload takes the host's addresses as read, unless none could be read.
    @Test func aReloadThatReadsNoAddressKeepsTheRunningOnes() {
        let running: Set = [IPAddress("203.0.113.5")!]
        let read: Set = [IPAddress("203.0.113.5")!, IPAddress("203.0.113.6")!]
        #expect(Daemon.ownAddresses(read: read, running: running) == read)
        #expect(Daemon.ownAddresses(read: [], running: running) == running)
    }
}

@Suite struct MetricsTests {
    /// What a scraper, curl or a person at a terminal may send; anything else is a 404.
    @Test func theMetricsAnswerTakesTheRequestsClientsSend() {
        func answer(_ request: String) -> String {
            String(decoding: MetricsServer.response(to: request) { Array("up 1\n".utf8) }, as: UTF8.self)
        }
        for request in [
            "GET /metrics HTTP/1.1\r\n", "GET /metrics\n", "GET /?x=1 HTTP/1.0\r\n", "GET /metrics?a=b\r\n",
        ] {
            #expect(answer(request).hasPrefix("HTTP/1.0 200 OK\r\n"), "\(request)")
            #expect(answer(request).hasSuffix("\r\n\r\nup 1\n"), "\(request)")
        }
        #expect(answer("HEAD /metrics HTTP/1.1\r\n").hasSuffix("Content-Length: 5\r\nConnection: close\r\n\r\n"))
        for request in ["POST /metrics HTTP/1.1\r\n", "GET /other HTTP/1.1\r\n", "", "GET", "\u{16}\u{3}\u{1}"] {
            #expect(answer(request).hasPrefix("HTTP/1.0 404 Not Found\r\n"), "\(request)")
        }
    }

    @Test func countersAdvanceByWhatHappenedAndNeverCarryAddresses() {
        let metrics = DaemonMetrics(queues: 0...1)
        var stats = DaemonStats(
            mode: "enforce", servers: ["203.0.113.5"], uptimeSeconds: 1, packets: 10,
            queues: [
                .init(
                    queue: 0, packets: 10, batches: 4, inbound: 7, outbound: 3, waiting: 0, queueDropped: 2,
                    userDropped: 0)
            ],
            verdicts: [
                .init(verdict: "accept", reason: "sip", count: 6), .init(verdict: "ban", reason: "scanner", count: 1),
            ],
            messages: ["INVITE": 7, "response": 3], tables: [.init(name: "sources", entries: 4, capacity: 1024)],
            activeBans: 1, bansIssued: 1, bansUnlisted: 0,
            topSources: [.init(address: "203.0.113.9", score: 120, packets: 3, banned: true, good: false)])
        _ = metrics.render(stats)
        stats.verdicts[0].count = 9
        let text = String(decoding: metrics.render(stats), as: UTF8.self)
        #expect(text.contains("sipwarden_verdicts_total{verdict=\"accept\",reason=\"sip\"} 9"))
        #expect(text.contains("sipwarden_verdicts_total{verdict=\"ban\",reason=\"scanner\"} 1"))
        #expect(text.contains("sipwarden_sip_messages_total{method=\"INVITE\"} 7"))
        #expect(text.contains("sipwarden_queue_dropped_total{queue=\"0\"} 2"))
        #expect(text.contains("sipwarden_queue_batches_total{queue=\"0\"} 4"))
        #expect(text.contains("sipwarden_table_entries{table=\"sources\"} 4"))
        #expect(text.contains("sipwarden_active_bans 1"))
        #expect(!text.contains("203.0.113.9") && !text.contains("203.0.113.5"))
    }
}

@Suite struct BanRegistryTests {
    static func ban(_ n: Int, at time: Timestamp) -> BanRecord {
        BanRecord(
            time: time, target: IPPrefix(address: IPAddress(v4: 0x0A00_0000 | UInt32(n)), length: 32),
            reason: .scanner, ttl: 600_000_000_000, score: 100)
    }

    @Test func theListingIsBoundedAndCountsWhatItLeavesOut() {
        let registry = BanRegistry(logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, capacity: 100)
        let now = MonotonicClock.now()
        for n in 0..<110 { registry.record(Self.ban(n, at: now), queue: 0, mode: .enforce) }
        #expect(registry.issued == 110)
        #expect(registry.unlisted == 10)
        let active = registry.active()
        #expect(active.count == 100)
        #expect(registry.activeCount() == 100)
        #expect(Set(active.map(\.target.address)) == Set((0..<100).map { IPAddress(v4: 0x0A00_0000 | UInt32($0)) }))
        #expect(zip(active, active.dropFirst()).allSatisfy { $0.since.nanoseconds <= $1.since.nanoseconds })
    }
}

@Suite struct StateFileTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func folder() throws -> String {
        let path = NSTemporaryDirectory() + "swd-state-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Written whole (the temporary file renamed away, mode 0600), read back; no file reads as nil.
    @Test func aWrittenFileIsReadBackAndNoFileIsNothing() throws {
        let folder = try folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/state/sources"
        #expect(try StateFile.read(path) == nil)
        try StateFile.write("192.0.2.1 good 100\n", to: path)
        #expect(try StateFile.read(path) == "192.0.2.1 good 100\n")
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(Daemon.readStateFile(folder + "/none", logger: Self.logger) == ProvenSource.Parsed())
    }

    /// A damaged file gives what it can, its times moved from the wall clock onto the monotonic one.
    @Test func aDamagedFileGivesItsReadableLines() throws {
        let folder = try folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let wall = MonotonicClock.wallNow().nanoseconds / 1_000_000_000
        try StateFile.write(
            "\u{1}garbage\n192.0.2.1 good \(wall)\nuser 00000000000000ff 192.0.2.1 \(wall)\nuser 1 192.0.2.1 1\nhalf a li",
            to: folder + "/sources")
        let read = Daemon.readStateFile(folder + "/sources", logger: Self.logger)
        #expect(read.sources.map(\.address) == [IPAddress("192.0.2.1")!])
        #expect(read.bindings.map(\.user) == [0xff])
        #expect(read.badLines == 3)
        for time in [read.sources.first?.lastSeen, read.bindings.first?.boundAt] {
            let age = MonotonicClock.now().nanoseconds - (time?.nanoseconds ?? 0)
            #expect(age >= 0 && age < 5_000_000_000)
        }
        #expect(Daemon.readStateFile(folder, logger: Self.logger) == ProvenSource.Parsed())
    }
}

/// `unban` in the kernel sets, with the real ipset and nft in a private network namespace (each tool
/// reached through a script that runs it there, and counts its runs).
@Suite(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ipset")))
struct KernelBanSetsTests {
    let namespace = "swq-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    let folder: String

    init() throws {
        folder = NSTemporaryDirectory() + namespace
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for tool in ["ipset", "nft"] {
            // A deletion fails once when the test leaves `fail-once`; before it, the entries named in
            // `vanish` (nft commands) go, as entries that expire between the listing and the deletion do.
            let script = """
                #!/bin/sh
                echo >> \(folder)/\(tool).runs
                if [ "$1" != save ] && [ "$1" != -j ] && rm \(folder)/fail-once 2>/dev/null; then echo refused >&2; exit 1; fi
                if [ "$1" = -f ] && [ -e \(folder)/vanish ]; then
                    ip netns exec \(namespace) /usr/sbin/nft -f \(folder)/vanish && rm \(folder)/vanish
                fi
                exec ip netns exec \(namespace) /usr/sbin/\(tool) "$@"

                """
            try script.write(toFile: "\(folder)/\(tool)", atomically: true, encoding: .utf8)
            chmod("\(folder)/\(tool)", 0o755)
        }
    }

    func shell(_ command: String, input: String = "") throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let pipe = Pipe()
        process.standardInput = pipe
        try process.run()
        pipe.fileHandleForWriting.write(Data(input.utf8))
        try pipe.fileHandleForWriting.close()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(command)")
    }

    func runs(_ tool: String) -> Int {
        ((try? String(contentsOfFile: "\(folder)/\(tool).runs", encoding: .utf8)) ?? "").count
    }

    /// An unban of 0.0.0.0/0 with 3,000 bans in force: every entry deleted, in two runs of each tool
    /// (before: two runs per ban and set); and what goes wrong around it.
    @Test func aWideUnbanTakesTwoRunsOfEachTool() throws {
        try shell("ip netns add \(namespace)")
        defer {
            try? shell("ip netns delete \(namespace)")
            try? FileManager.default.removeItem(atPath: folder)
        }
        let rules = RuleSet()
        let sets = BanSets(rules.bans)
        try shell(
            "ip netns exec \(namespace) ipset restore -exist",
            input: IPSetRenderer().render(try FirewallRuleset(rules: rules)))
        let banned = (0..<3000).map { IPAddress(v4: 0x0A00_0000 | UInt32($0)) }
        let adds =
            banned.map { "add sipwarden-v4-c\(Int($0.v4Value % 4) + 1) \($0)\n" }.joined()
            + "add sipwarden-v4-p2 10.9.9.0\nadd sipwarden-v6-c1 2001:db8::7\n"
        try shell("ip netns exec \(namespace) ipset restore", input: adds)
        // The iptables flavour alone (no nft table): its sets are lifted from, and the missing table is
        // no failure.
        let kernel = KernelBanSets(searchPath: [folder])
        #expect(kernel.remove([IPPrefix("10.0.0.5")!]) == .init(sets: ["sipwarden-v4-c2"]))
        let nftSets = sets.sets.map { set in
            "set \(set.name) { type \(set.family == .v4 ? "ipv4_addr" : "ipv6_addr"); flags dynamic,timeout; timeout 600s; }"
        }
        try shell(
            "ip netns exec \(namespace) nft -f -",
            input: "table inet sipwarden {\n\(nftSets.joined(separator: "\n"))\n}\n"
                + "add element inet sipwarden sipwarden-v4-c3 { 10.0.0.9 timeout 600s, 10.0.0.10 timeout 600s }\n"
                + "add element inet sipwarden sipwarden-v6-c1 { 2001:db8::7 }\n")

        let everySet = [
            "sipwarden-v4-c1", "sipwarden-v4-c2", "sipwarden-v4-c3", "sipwarden-v4-c4", "sipwarden-v4-p2",
            "sipwarden-v6-c1",
        ]
        #expect(kernel.remove([IPPrefix("0.0.0.0/0")!, IPPrefix("::/0")!]) == .init(sets: everySet))
        #expect(runs("ipset") == 4)
        #expect(runs("nft") == 3)
        let left = Process()
        left.executableURL = URL(fileURLWithPath: "/bin/sh")
        left.arguments = [
            "-c",
            "ip netns exec \(namespace) ipset save | grep -c '^add' ; ip netns exec \(namespace) nft list table inet sipwarden | grep -c elements",
        ]
        let output = Pipe()
        left.standardOutput = output
        try left.run()
        let counts = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        left.waitUntilExit()
        #expect(counts == "0\n0\n", "entries left in the kernel")
        // Nothing left: one listing each, no deletion.
        #expect(kernel.remove([IPPrefix("0.0.0.0/0")!]) == .init())
        #expect(runs("ipset") == 5)
        // The set of a class a reload took out of bans.ttl is lifted from too.
        try shell("ip netns exec \(namespace) ipset create sipwarden-v4-c9 hash:ip timeout 600")
        try shell("ip netns exec \(namespace) ipset add sipwarden-v4-c9 10.1.1.2")
        #expect(kernel.remove([IPPrefix("10.1.1.0/24")!]) == .init(sets: ["sipwarden-v4-c9"]))
        // An entry gone between the listing and the deletion (it expired) fails nothing.
        try shell("ip netns exec \(namespace) nft add element inet sipwarden sipwarden-v4-c2 { 10.1.1.1 }")
        try "delete element inet sipwarden sipwarden-v4-c2 { 10.1.1.1 }\n".write(
            toFile: folder + "/vanish", atomically: true, encoding: .utf8)
        #expect(kernel.remove([IPPrefix("10.1.1.1")!]) == .init(sets: ["sipwarden-v4-c2"]))
        #expect(!FileManager.default.fileExists(atPath: folder + "/vanish"), "the entry vanished first")
        // A deletion that fails is reported: the source is still banned in the kernel.
        try shell("ip netns exec \(namespace) nft add element inet sipwarden sipwarden-v4-c2 { 10.1.1.1 }")
        _ = FileManager.default.createFile(atPath: folder + "/fail-once", contents: nil)
        #expect(kernel.remove([IPPrefix("10.1.1.1")!]) == .init(failures: ["nft could not delete 1 entry: refused"]))
    }
}

/// What the kernel's tools list: SIPWarden's sets among other software's (fail2ban's hash:net, a set with
/// counters and comments), both shapes of nft elements.
@Test func theKernelSetsListingsAreRead() {
    let save = """
        create f2b-sshd hash:net family inet hashsize 1024 maxelem 65536
        add f2b-sshd 203.0.113.0/24
        create sipwarden-v4-c1 hash:ip family inet hashsize 1024 maxelem 65536 timeout 600
        add sipwarden-v4-c1 192.0.2.9 timeout 590
        add sipwarden-v6-p1 2001:db8:1:2:: timeout 3
        create other hash:ip,port family inet counters comment
        add other 192.0.2.1,tcp:22 packets 0 bytes 0 comment "x y"
        add other 192.0.2.2 packets 0 bytes 0
        """
    #expect(
        KernelBanSets.ipsetEntries(save) == [
            BanSets.Entry(set: "sipwarden-v4-c1", address: IPAddress("192.0.2.9")!): 0,
            BanSets.Entry(set: "sipwarden-v6-p1", address: IPAddress("2001:db8:1:2::")!): 0,
            BanSets.Entry(set: "other", address: IPAddress("192.0.2.2")!): 0,
        ])
    let json = """
        {"nftables": [{"metainfo": {"version": "1.0.6"}}, {"table": {"family": "inet", "name": "sipwarden"}},
        {"set": {"family": "inet", "name": "sipwarden-v4-c2", "table": "sipwarden", "type": "ipv4_addr",
        "elem": [{"elem": {"val": "192.0.2.9", "timeout": 600, "expires": 590}}, "192.0.2.10"]}},
        {"set": {"family": "inet", "name": "sipwarden-v6-c1", "table": "sipwarden", "type": "ipv6_addr"}},
        {"set": {"family": "inet", "name": "ranges", "elem": [{"prefix": {"addr": "10.0.0.0", "len": 8}}]}}]}
        """
    #expect(
        KernelBanSets.nftEntries(json) == [
            BanSets.Entry(set: "sipwarden-v4-c2", address: IPAddress("192.0.2.9")!): 590,
            BanSets.Entry(set: "sipwarden-v4-c2", address: IPAddress("192.0.2.10")!): 0,
        ])
    #expect(KernelBanSets.nftEntries("not json").isEmpty)
}

/// A kernel tool that hangs is killed after the timeout: the unban answers, with the failures.
@Test(.timeLimit(.minutes(1))) func aHungToolIsKilledNotWaitedFor() throws {
    let folder = NSTemporaryDirectory() + "swd-hung-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    for tool in ["ipset", "nft"] {
        try "#!/bin/sh\nexec sleep 90\n".write(toFile: "\(folder)/\(tool)", atomically: true, encoding: .utf8)
        chmod("\(folder)/\(tool)", 0o755)
    }
    let kernel = KernelBanSets(searchPath: [folder], timeout: 0.5)
    #expect(
        kernel.remove([IPPrefix("0.0.0.0/0")!])
            == .init(failures: [
                "ipset did not list its sets: it took longer than 0.5 s and was killed",
                "nft did not list its sets: it took longer than 0.5 s and was killed",
            ]))
}

/// A kernel tool that cannot start (here, a directory where the tool should be: a file written for the
/// test could be busy, held open by a child another test's thread is starting) is reported as such.
@Test func aToolThatCannotStartIsReportedSo() throws {
    let folder = NSTemporaryDirectory() + "swd-broken-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    try FileManager.default.createDirectory(atPath: folder + "/ipset", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    #expect(
        KernelBanSets(searchPath: [folder]).remove([IPPrefix("0.0.0.0/0")!])
            == .init(failures: [
                "ipset did not list its sets: it could not start (start \(folder)/ipset: Permission denied)"
            ]))
}

/// What the daemon refuses to read as its state file, and how it writes one where something waits for it.
@Suite struct StateFileSafetyTests {
    let folder: String

    init() throws {
        folder = NSTemporaryDirectory() + "swd-safe-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    func refusal(_ path: String) -> String? {
        do {
            _ = try StateFile.read(path)
            return nil
        } catch {
            return error.description
        }
    }

    /// A FIFO (read forever), a link (to /dev/zero, say), a file others may write, one too large: each
    /// an error at once, never a hang or a heap of memory.
    @Test func onlyARegularPrivateFileOfAReasonableSizeIsRead() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fifo = folder + "/fifo"
        try #require(mkfifo(fifo, 0o600) == 0)
        #expect(refusal(fifo)?.contains("not a regular file") == true)
        let link = folder + "/link"
        try #require(symlink("/dev/zero", link) == 0)
        #expect(refusal(link) != nil)
        let shared = folder + "/shared"
        try "192.0.2.1 good 1\n".write(toFile: shared, atomically: false, encoding: .utf8)
        try #require(chmod(shared, 0o666) == 0)
        #expect(refusal(shared)?.contains("owned or writable by another user") == true)
        try #require(chmod(shared, 0o600) == 0)
        #expect(refusal(shared) == nil)
        let large = folder + "/large"
        try #require(FileManager.default.createFile(atPath: large, contents: nil))
        try #require(truncate(large, off_t(128 << 20) + 1) == 0)
        try #require(chmod(large, 0o600) == 0)
        #expect(refusal(large)?.contains("larger than 128 MiB") == true)
        // Tables of two million sources may write more, and read it back.
        #expect(StateFile.largest(sources: 2_000_000, users: 65536) > 128 << 20 + 1)
        #expect((try? StateFile.read(large, largest: StateFile.largest(sources: 2_000_000, users: 65536))) != nil)
    }

    /// A file that could not be read is moved aside with what it held, not written over at the next stop.
    @Test func anUnreadableFileIsSetAsideNotOverwritten() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/sources"
        try "192.0.2.1 good 1\n".write(toFile: path, atomically: false, encoding: .utf8)
        try #require(chmod(path, 0o664) == 0)
        #expect(Daemon.readStateFile(path, logger: StateFileTests.logger) == ProvenSource.Parsed())
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try String(contentsOfFile: path + ".unreadable", encoding: .utf8) == "192.0.2.1 good 1\n")
    }

    /// Whatever waits at the temporary path (a link to another file, a file anyone may write) is removed,
    /// never written through or kept: the new file is the daemon's, mode 0600.
    @Test func theTemporaryFileIsAlwaysANewOne() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let victim = folder + "/victim"
        try "precious\n".write(toFile: victim, atomically: false, encoding: .utf8)
        let path = folder + "/sources"
        try #require(symlink(victim, path + ".tmp") == 0)
        try StateFile.write("192.0.2.1 good 1\n", to: path)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        #expect(try StateFile.read(path) == "192.0.2.1 good 1\n")
        try "left over\n".write(toFile: path + ".tmp", atomically: false, encoding: .utf8)
        try #require(chmod(path + ".tmp", 0o666) == 0)
        try StateFile.write("192.0.2.2 good 1\n", to: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try StateFile.read(path) == "192.0.2.2 good 1\n")
    }
}

@Suite struct PacketMessageTests {
    /// A netlink attribute: type, then `payload`, padded to four bytes.
    static func attribute(_ type: Int, _ payload: [UInt8]) -> [UInt8] {
        let length = 4 + payload.count
        var bytes = [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(type & 0xFF), UInt8(type >> 8)] + payload
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }

    // The attribute numbers of <linux/netfilter/nfnetlink_queue.h>.
    static let (packetHeader, mark, payload, capturedLength) = (1, 3, 10, 13)

    /// NFQA_PACKET_HDR: id, hw_protocol (big-endian), hook.
    static func header(id: UInt32, hook: UInt8) -> [UInt8] {
        attribute(packetHeader, bigEndian(id) + [0x08, 0x00, hook])
    }

    /// A netlink message (nlmsghdr, nfgenmsg) of `type` carrying `attributes`.
    static func message(type: UInt16 = 3 << 8 | 0, _ attributes: [UInt8]...) -> [UInt8] {
        let body: [UInt8] = [2, 0, 0, 0] + attributes.flatMap { $0 }
        var bytes: [UInt8] = withUnsafeBytes(of: UInt32(16 + body.count).littleEndian) { Array($0) }
        bytes += withUnsafeBytes(of: type.littleEndian) { Array($0) }
        bytes += [UInt8](repeating: 0, count: 10)  // flags, sequence, port id
        return bytes + body
    }

    /// Parses `bytes` from a buffer of exactly their size (so a read past them is one past the buffer).
    func parse(_ bytes: [UInt8]) -> (Int32, cnfq_packet, [UInt8]) {
        var packet = cnfq_packet()
        var payload: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        defer { buffer.deallocate() }
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        let result = cnfq_parse_packet(buffer.baseAddress, bytes.count, &packet)
        if result == 1, let start = packet.payload {
            payload = Array(UnsafeBufferPointer(start: start, count: Int(packet.payload_length)))
        }
        return (result, packet, payload)
    }

    /// `message` with its nlmsg_len set to `length` (unchanged when too short to hold one).
    static func claiming(_ length: Int, _ message: [UInt8]) -> [UInt8] {
        var bytes = message
        guard bytes.count >= 4 else { return bytes }
        withUnsafeBytes(of: UInt32(length).littleEndian) { bytes.replaceSubrange(0..<4, with: $0) }
        return bytes
    }

    @Test func aQueuedPacketIsReadInWhateverOrderItsAttributesCome() {
        let ip: [UInt8] = [0x45, 0, 0, 20, 1, 2, 3]
        let (result, packet, payload) = parse(
            Self.message(
                Self.attribute(Self.payload, ip), Self.attribute(99, [1, 2, 3, 4, 5]),
                Self.attribute(Self.mark, Self.bigEndian(0x5A00)), Self.header(id: 70_001, hook: 3),
                Self.attribute(Self.capturedLength, Self.bigEndian(1500))))
        #expect(result == 1)
        #expect(packet.id == 70_001)
        #expect(packet.hook == 3)
        #expect(packet.hw_protocol == 0x0800)
        #expect(packet.mark == 0x5A00)
        #expect(payload == ip)
        #expect(packet.original_length == 1500)
    }

    @Test func withoutCapturedLengthTheWholePacketArrivedAndWithoutMarkItIsZero() {
        let (result, packet, _) = parse(
            Self.message(Self.header(id: 1, hook: 1), Self.attribute(Self.payload, [1, 2, 3])))
        #expect(result == 1)
        #expect(packet.original_length == 3)
        #expect(packet.mark == 0)
    }

    @Test func otherMessagesAreNotPacketsAndBrokenOnesAreErrors() {
        let good = Self.message(Self.header(id: 1, hook: 1), Self.attribute(Self.payload, [1, 2, 3]))
        #expect(parse(good).0 == 1)
        #expect(parse(Self.message(type: 2, Self.header(id: 1, hook: 1))).0 == 0)
        #expect(parse(Self.message(Self.attribute(Self.payload, [1, 2, 3]))).0 == -1, "no packet header")
        #expect(parse(Self.message(Self.attribute(Self.packetHeader, [0, 0, 0, 1]))).0 == -1, "a short header")
        var overlong = good
        overlong[20] = 200  // the first attribute claims more bytes than the message has
        #expect(parse(overlong).0 == -1)
        #expect(parse(Self.claiming(good.count + 1, good)).0 == -1, "the message claims more than arrived")
        #expect(parse(Self.claiming(0x8000_0000, good)).0 == -1, "a length that is negative as an Int32")
        for length in 16..<20 {
            #expect(
                parse(Self.claiming(length, Array(good.prefix(length)))).0 == -1, "no room for the netfilter header")
        }
        // Cut anywhere, with its length saying so: an error or a packet read within the bytes, never more.
        for cut in 0..<good.count {
            let (result, packet, payload) = parse(Self.claiming(cut, Array(good.prefix(cut))))
            #expect(result == -1 || (result == 1 && payload.count <= cut && packet.id == 1), "cut at \(cut)")
        }
    }

    @Test(arguments: [0, 1, 3])
    func anAttributeShorterThanItsOwnHeaderIsAnError(length: Int) {
        var attribute = Self.attribute(99, [9, 9, 9, 9])
        attribute[0] = UInt8(length)
        #expect(parse(Self.message(Self.header(id: 1, hook: 1), attribute)).0 == -1)
    }

    @Test func aShortMarkOrCapturedLengthIsIgnored() {
        let (result, packet, _) = parse(
            Self.message(
                Self.header(id: 5, hook: 1), Self.attribute(Self.mark, [1, 2]),
                Self.attribute(Self.capturedLength, [5, 0]), Self.attribute(Self.payload, [1, 2, 3])))
        #expect(result == 1)
        #expect(packet.mark == 0)
        #expect(packet.original_length == 3)
    }
}

/// A child the daemon starts (ipset, nft, the rule files' probe) can be stopped by the signals the
/// daemon blocks for its own signal loop, as systemd's SIGTERM at a stop expects, and holds none of the
/// daemon's descriptors but its standard three.
@Test func aChildStartsWithItsSignalsResetAndOnlyItsStandardDescriptors() throws {
    var handled = SignalWaiter.signalSet()
    var previous = sigset_t()
    pthread_sigmask(SIG_BLOCK, &handled, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    for signal in SignalWaiter.handled {
        let child = try ChildProcess("/bin/sh", ["-c", "kill -\(signal) $$; exit 0"])
        #expect(try child.waitForEnd() == .signalled(signal))
    }
    let pipe = Pipe()
    let descriptor = pipe.fileHandleForReading.fileDescriptor
    let child = try ChildProcess("/bin/sh", ["-c", "test ! -e /proc/self/fd/\(descriptor)"])
    #expect(try child.waitForEnd() == .exited(0), "descriptor \(descriptor) reached the child")
}

/// A reload reads the rule files in a child process first: one the parser stops (a signal), that hangs
/// or cannot start rejects the reload; one that exits, whatever its status, lets the daemon read them.
/// (SIGKILL stands in for the parser's abort: a test runner may ignore SIGABRT, and its children
/// inherit that; abort() does not care.)
@Suite struct RuleFilesProbeTests {
    @Test(
        arguments: [
            (["/bin/sh", "-c", "exit 0"], 5, nil), (["/bin/sh", "-c", "exit 1"], 5, nil),
            (["/bin/sh", "-c", "kill -KILL $$"], 5, .stopped(signal: 9)),
            (["/bin/sleep", "10"], 0.2, .tookLonger(than: 0.2)),
        ] as [([String], Double, RuleFilesProbe.Problem?)])
    func aChildThatExitsLetsTheRulesBeRead(command: [String], timeout: Double, problem: RuleFilesProbe.Problem?) {
        #expect(RuleFilesProbe(command: command, timeout: timeout).problem() == problem)
    }

    @Test func aChildThatCannotStartRejectsTheReload() {
        guard case .failed(let reason)? = RuleFilesProbe(command: ["/nonexistent/sipwarden"]).problem() else {
            Issue.record("a missing binary was not refused")
            return
        }
        #expect(reason.contains("start /nonexistent/sipwarden"), "\(reason)")
        #expect(
            RuleFilesProbe.check(config: "/etc/x.toml").command == [
                "/proc/self/exe", "check", "--config", "/etc/x.toml",
            ])
    }
}
