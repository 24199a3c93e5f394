import Foundation
import Logging
import SIPWardenCore
import Synchronization

/// `sipwarden run`: binds the configured queues, runs one worker thread per queue, answers the control
/// socket and the metrics address, and turns signals into a reload or a graceful stop.
///
/// The main thread owns the lifecycle: it blocks SIGTERM, SIGINT and SIGHUP before any other thread
/// exists and takes them with `sigtimedwait`, which also paces the systemd watchdog.
public final class Daemon: Sendable {
    /// How the daemon is started.
    public struct Options: Sendable {
        public var rules: RuleSet
        /// `--monitor`: decide and report, accept everything, whatever `daemon.mode` says (also after a reload).
        public var forceMonitor: Bool
        /// Re-reads and validates the rule files (on SIGHUP).
        public var loadRules: @Sendable () -> Result<RuleSet, RulesErrors>
        /// The protected host's own addresses, never banned: read at start and again at each reload (an
        /// address added since, or renewed by DHCP).
        public var servers: @Sendable () -> Set<IPAddress>

        public init(
            rules: RuleSet, forceMonitor: Bool, servers: @escaping @Sendable () -> Set<IPAddress>,
            loadRules: @escaping @Sendable () -> Result<RuleSet, RulesErrors>
        ) {
            self.rules = rules
            self.forceMonitor = forceMonitor
            self.servers = servers
            self.loadRules = loadRules
        }
    }

    let options: Options
    let logger: Logger
    let rules: Mutex<RuleSet>
    let bans: BanRegistry
    let started = MonotonicClock.now()
    let workers: [QueueWorker]
    /// The users and nonces every queue's engine shares.
    let shared: SharedTables
    let notifier = SystemdNotifier()
    let signals = SignalWaiter()
    /// Held by an unban from start to end: two at once would list and delete the kernel's entries
    /// between each other's steps. A second one meanwhile is refused at once rather than holding a
    /// control thread while it waits.
    let unbanning = Mutex(())

    /// Opens and binds every queue (throws when one cannot be bound: EPERM, EBUSY) and blocks the
    /// signals the main thread will take. Nothing runs until `run()`.
    public init(_ options: Options, logger: Logger) throws(SystemCallError) {
        var rules = options.rules
        if options.forceMonitor { rules.daemon.mode = .monitor }
        self.options = options
        self.logger = logger
        self.rules = Mutex(rules)
        let servers = options.servers()
        bans = BanRegistry(logger: logger)
        // Blocked again for callers that did not block them before reading the rules (`RunCommand` does).
        signals.block()
        let shared = SharedTables(rules)
        self.shared = shared
        let queues = rules.daemon.queues
        let share = 1 / Double(queues.count)
        let queueRules = Engine.rules(rules, forEachOf: queues.count)
        // The kernel's queue balancing hash is seeded at random: any queue may own a source, so every
        // engine takes in every restored one.
        let kept = Self.readStateFile(
            rules.daemon.stateFile,
            largest: StateFile.largest(sources: rules.tables.sources, users: rules.tables.users),
            logger: logger)
        let restored = kept.sources
        let bindings = shared.restore(kept.bindings, now: MonotonicClock.now())
        if bindings > 0 { logger.notice("user bindings restored", metadata: ["bindings": "\(bindings)"]) }
        var workers: [QueueWorker] = []
        for queue in queues {
            // The tables first (a few hundred milliseconds for the shipped sizes), then the queue: once it
            // is bound, packets wait for this queue's thread, and at start under load they would fill it.
            var engine = Engine(
                rules: queueRules, servers: servers, startingAt: MonotonicClock.now(), shared: shared,
                budgetShare: share)
            if !restored.isEmpty { _ = engine.restore(restored, now: MonotonicClock.now()) }
            let filter = PacketFilter(engine: engine, framesLateTCPJoins: false, joinedAt: MonotonicClock.now())
            let socket = try QueueSocket(queue: queue, settings: rules.daemon)
            workers.append(QueueWorker(socket: socket, bans: bans, logger: logger, filter: filter))
        }
        self.workers = workers
    }

    /// Runs until SIGTERM or SIGINT; returns after every queue has been drained and unbound.
    public func run() throws(SystemCallError) {
        let settings = rules.withLock { $0.daemon }
        let control = try ControlServer(path: settings.controlSocket, logger: logger) { [self] in answer($0) }
        var metricsServer: MetricsServer?
        if let endpoint = settings.metrics {
            let metrics = Mutex(DaemonMetrics(queues: settings.queues))
            do {
                metricsServer = try MetricsServer(endpoint: endpoint) { [self] in
                    let stats = statistics(top: 0)
                    return metrics.withLock { $0.render(stats) }
                }
            } catch {
                // A start that fails here leaves no control socket behind for `sipwarden stats` to find.
                _ = ControlServer.removeSocket(at: settings.controlSocket)
                throw error
            }
        }
        for worker in workers { worker.start() }
        control.start()
        metricsServer?.start()
        logger.notice(
            "sipwarden started",
            metadata: [
                "queues": "\(settings.queues.lowerBound)-\(settings.queues.upperBound)", "mode": "\(settings.mode)",
                "control": "\(settings.controlSocket)", "metrics": "\(settings.metrics?.description ?? "off")",
            ])
        notifier.ready(status: status())
        loop()
        notifier.stopping()
        logger.notice("sipwarden stopping")
        control.stop()
        metricsServer?.stop()
        for worker in workers { worker.stop() }
        var allStopped = true
        for worker in workers where !worker.join(timeout: 5) {
            logger.warning("queue thread did not stop in time", metadata: ["queue": "\(worker.queue)"])
            allStopped = false
        }
        // A queue that did not stop has not handed over its sources: the last stop's file is kept.
        if let path = rules.withLock({ $0.daemon.stateFile }) {
            if allStopped {
                saveProvenSources(to: path)
            } else {
                logger.warning("proven sources not saved: a queue did not stop", metadata: ["state.file": "\(path)"])
            }
        }
        logger.notice("sipwarden stopped", metadata: ["packets": "\(workers.reduce(0) { $0 + $1.counters.packets })"])
    }

    /// Reads the proven sources and user bindings kept at the last graceful stop, their times moved onto
    /// the monotonic clock. No file (or none configured): nothing, silently. A damaged file: a warning,
    /// and whatever lines could be read. One refused or unreadable: a warning, and the file set aside
    /// (`PATH.unreadable`), so that the next stop does not write over what it held.
    static func readStateFile(
        _ path: String?, largest: Int = StateFile.largest(sources: 0, users: 0), logger: Logger
    ) -> ProvenSource.Parsed {
        let none = ProvenSource.Parsed()
        guard let path else { return none }
        let text: String?
        do {
            text = try StateFile.read(path, largest: largest)
        } catch {
            let aside = StateFile.setAside(path)
            logger.warning(
                "state file unreadable: starting without it",
                metadata: ["error": "\(error)", "kept.as": "\(aside ?? "-")"])
            return none
        }
        guard let text else { return none }
        var parsed = ProvenSource.parse(text)
        if parsed.badLines > 0 {
            logger.warning(
                "state file damaged: its unreadable lines are skipped",
                metadata: ["state.file": "\(path)", "lines.skipped": "\(parsed.badLines)"])
        }
        for index in parsed.sources.indices {
            parsed.sources[index].lastSeen = MonotonicClock.monotonic(parsed.sources[index].lastSeen)
        }
        for index in parsed.bindings.indices {
            parsed.bindings[index].boundAt = MonotonicClock.monotonic(parsed.bindings[index].boundAt)
        }
        logger.notice(
            "proven sources read",
            metadata: [
                "state.file": "\(path)", "sources": "\(parsed.sources.count)", "bindings": "\(parsed.bindings.count)",
            ])
        return parsed
    }

    /// Writes every queue's proven sources (one entry per address) and the users' bindings, times on the
    /// wall clock, to `path`, after the queue threads finished.
    func saveProvenSources(to path: String) {
        let proven = ProvenSource.merged(workers.flatMap(\.provenSourcesAtStop)).map {
            var source = $0
            source.lastSeen = MonotonicClock.wall(source.lastSeen)
            return source
        }
        let bindings = shared.bindings().map {
            var binding = $0
            binding.boundAt = MonotonicClock.wall(binding.boundAt)
            return binding
        }
        do {
            try StateFile.write(ProvenSource.render(proven, bindings: bindings), to: path)
            logger.notice(
                "proven sources saved",
                metadata: ["state.file": "\(path)", "sources": "\(proven.count)", "bindings": "\(bindings.count)"])
        } catch {
            logger.warning("proven sources not saved", metadata: ["error": "\(error)"])
        }
    }

    /// Takes signals until a stop; sends WATCHDOG=1 every half `WATCHDOG_USEC` while every queue thread
    /// is alive (a stuck queue lets systemd restart the daemon).
    func loop() {
        let tick = min(notifier.watchdogInterval ?? 1, 1)
        var lastStatus = MonotonicClock.now()
        var lastWatchdog = MonotonicClock.now()
        while true {
            switch signals.wait(timeout: tick) {
            case .stop(let signal):
                logger.notice("stop requested", metadata: ["signal": "\(signal == SIGTERM ? "TERM" : "INT")"])
                return
            case .reload:
                reload()
            case .tick:
                break
            }
            let now = MonotonicClock.now()
            if let interval = notifier.watchdogInterval,
                Double(now.nanoseconds - lastWatchdog.nanoseconds) >= interval * 1e9 * 0.95,
                workers.allSatisfy({ $0.isAlive(within: 5) })
            {
                notifier.watchdog()
                lastWatchdog = now
            }
            if now.nanoseconds - lastStatus.nanoseconds > 10_000_000_000 {
                notifier.status(status())
                lastStatus = now
            }
        }
    }

    /// SIGHUP: re-reads the rule files; a valid set replaces the rules in every engine without losing
    /// state, an invalid one is logged and the running rules stay. With a valid set, the host's own
    /// addresses are read again too.
    func reload() {
        notifier.reloading()
        switch options.loadRules() {
        case .failure(let errors):
            for error in errors.errors {
                logger.error("reload rejected: keeping the running rules", metadata: ["error": "\(error)"])
            }
        case .success(var newRules):
            if options.forceMonitor { newRules.daemon.mode = .monitor }
            let running = rules.withLock { $0 }
            let atNextStart = running.startOnlyKeys(changedIn: newRules)
            if !atNextStart.isEmpty {
                logger.warning(
                    "reload: these keys apply at the next start",
                    metadata: ["keys": "\(atNextStart.joined(separator: ","))"])
            }
            let applied = newRules
            let servers = options.servers()
            let answered = workers.map { worker in
                worker.ask { (state: inout QueueState, now: Timestamp) -> Void in
                    state.reload(applied, at: now)
                    state.filter.engine.servers = Self.ownAddresses(read: servers, running: state.filter.engine.servers)
                } != nil
            }
            rules.withLock { $0 = applied }
            logger.notice(
                "rules reloaded",
                metadata: ["mode": "\(applied.daemon.mode)", "queues": "\(answered.filter { $0 }.count)"])
        }
        notifier.ready(status: status())
    }

    /// The host's own addresses after a reload read `read`: none read (the system call failed) keeps the
    /// running ones, which must not lose their protection.
    static func ownAddresses(read: Set<IPAddress>, running: Set<IPAddress>) -> Set<IPAddress> {
        read.isEmpty ? running : read
    }

    func status() -> String {
        let mode = rules.withLock { $0.daemon.mode }
        let packets = workers.reduce(0) { $0 + $1.counters.packets }
        return "\(mode.rawValue): \(workers.count) queues, \(packets) packets, \(bans.activeCount()) bans"
    }

    /// Answers one control request (on one of the control socket's threads, several at once).
    func answer(_ request: ControlRequest) -> ControlResponse {
        switch request {
        case .bans:
            return .bans(bans.active().map(BanEntry.init))
        case .unban(let text):
            // `::ffff:192.0.2.7` is the IPv4 address the bans are of.
            guard let target = IPPrefix(text)?.unmappingIPv4 else {
                return .failed("\(text): not an address or CIDR prefix")
            }
            let answer = unbanning.withLockIfAvailable { _ -> ControlResponse in
                let listed = bans.remove(overlapping: target, by: "control")
                let lifted = workers.compactMap { worker in
                    worker.ask { state, now in state.filter.engine.unban(target, now: now) }
                }.reduce(0, +)
                // Every kernel entry the target overlaps (the block banned around an address, the members
                // of a block), whether listed here or not.
                let kernel = KernelBanSets().remove([target])
                return .unbanned(
                    UnbanResult(
                        target: target.text, bans: listed.count, engineEntries: lifted, kernelSets: kernel.sets,
                        kernelFailures: kernel.failures))
            }
            return answer ?? .failed("another unban is under way: try again when it has finished")
        case .stats:
            return .stats(statistics(top: 10))
        }
    }

    /// Totals over every queue, the kernel's queue counters, table fill and the top sources.
    func statistics(top: Int) -> DaemonStats {
        let kernel = KernelQueueStatistics.read()
        let snapshots = workers.map { worker in
            worker.ask { state, now in
                (state.counters, state.filter.engine.snapshot(at: now, top: top), state.filter.engine.servers)
            }
        }
        var total = QueueCounters()
        var queues: [DaemonStats.Queue] = []
        var tables: [String: DaemonStats.Table] = [:]
        var sources: [DaemonStats.Source] = []
        for (worker, snapshot) in zip(workers, snapshots) {
            let counters = snapshot?.0 ?? worker.counters
            total = total.adding(counters)
            let k = kernel[Int(worker.queue)]
            queues.append(
                DaemonStats.Queue(
                    queue: Int(worker.queue), packets: counters.packets, batches: counters.batches,
                    inbound: counters.inbound,
                    outbound: counters.outbound, waiting: k?.waiting, queueDropped: k?.queueDropped,
                    userDropped: k?.userDropped))
            for table in snapshot?.1.tables ?? [] {
                // Sources and prefixes are per queue (summed); users and nonces are shared (taken once).
                let shared = table.name == "users" || table.name == "nonces"
                var sum = tables[table.name] ?? DaemonStats.Table(name: table.name, entries: 0, capacity: 0)
                sum.entries = shared ? table.entries : sum.entries + table.entries
                sum.capacity = shared ? table.capacity : sum.capacity + table.capacity
                tables[table.name] = sum
            }
            sources += (snapshot?.1.topSources ?? []).map {
                DaemonStats.Source(
                    address: $0.address.description, score: $0.score, packets: $0.packets, banned: $0.banned,
                    good: $0.good)
            }
        }
        sources.sort { ($0.score, $1.address) > ($1.score, $0.address) }
        return DaemonStats(
            mode: rules.withLock { $0.daemon.mode.rawValue },
            servers: Set(snapshots.flatMap { $0?.2 ?? [] }).map(\.description).sorted(),
            uptimeSeconds: Int((MonotonicClock.now().nanoseconds - started.nanoseconds) / 1_000_000_000),
            packets: total.packets, queues: queues,
            verdicts: total.decisions.nonZero.map {
                DaemonStats.Verdict(verdict: $0.verdict.rawValue, reason: $0.reason.rawValue, count: $0.count)
            },
            messages: Dictionary(uniqueKeysWithValues: total.messageCounts.map { ($0.method, $0.count) }),
            tables: ["sources", "prefixes", "users", "nonces"].compactMap { tables[$0] },
            activeBans: bans.activeCount(), bansIssued: bans.issued, bansUnlisted: bans.unlisted,
            topSources: Array(sources.prefix(top)))
    }
}

extension BanEntry {
    init(_ entry: BanRegistry.Entry) {
        self.init(
            target: entry.target.text, reason: entry.reason.rawValue, score: Int(entry.score.rounded()),
            ttl: Int(entry.ttl / 1_000_000_000), since: Int(entry.since.nanoseconds / 1_000_000_000),
            expires: Int(entry.expires.nanoseconds / 1_000_000_000), queue: Int(entry.queue),
            monitorOnly: entry.monitorOnly)
    }
}
