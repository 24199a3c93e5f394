import CNetfilterQueue
import Dispatch
import Foundation
import Logging
import SIPWardenCore
import Synchronization

/// What a queue's thread owns: its filter (engine, classifier, reassembly), counters and ban marks.
/// Jobs from other threads (`QueueWorker.ask`) run on the queue's thread, between two batches.
public struct QueueState {
    public var filter: PacketFilter
    public var counters = QueueCounters()
    var banSets: BanSets

    init(filter: PacketFilter) {
        self.filter = filter
        banSets = BanSets(filter.engine.rules.bans)
    }

    /// Applies rules reloaded at `time` without losing what the engine knows.
    public mutating func reload(_ rules: RuleSet, at time: Timestamp) {
        filter.reload(rules, at: time)
        banSets = BanSets(rules.bans)
    }
}

/// One queue's thread: receives batches, runs every packet through its own `PacketFilter` and sends
/// the batch's verdicts coalesced. Nothing on this path locks, throws or allocates per packet.
public final class QueueWorker: Sendable {
    /// Ages of the published counters and of the heartbeat.
    static let publishInterval: Int64 = 1_000_000_000

    public let queue: UInt16
    let socket: QueueSocket
    let bans: BanRegistry
    let logger: Logger
    let stopping = Atomic<Bool>(false)
    let jobsWaiting = Atomic<Bool>(false)
    let jobs = Mutex<[QueueJob]>([])
    /// Monotonic nanoseconds of the loop's last turn: the watchdog's proof of life.
    let heartbeat = Atomic<Int64>(0)
    let finished = DispatchSemaphore(value: 0)
    /// The counters as of the last publication (at most a second old).
    let published = Mutex(QueueCounters())
    /// The engine's proven sources as the thread finished (on the engine's clock), for the state file.
    let provenAtStop = Mutex<[ProvenSource]>([])
    /// The filter, built before the queue was bound, until the thread takes it.
    let handover: Mutex<PacketFilter?>

    /// A worker for the bound `socket`, judging with `filter` from its own thread.
    public init(socket: QueueSocket, bans: BanRegistry, logger: Logger, filter: sending PacketFilter) {
        self.socket = socket
        queue = socket.queue
        self.bans = bans
        self.logger = logger
        handover = Mutex(filter)
        heartbeat.store(MonotonicClock.now().nanoseconds, ordering: .relaxed)
    }

    /// Starts the worker's thread.
    public func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "sipwarden-queue-\(queue)"
        thread.start()
    }

    /// Asks the thread to finish: it judges what is still queued, unbinds the queue, and returns.
    public func stop() { stopping.store(true, ordering: .relaxed) }

    /// Waits for the thread to have finished; false after `timeout` seconds.
    public func join(timeout: Double) -> Bool { finished.wait(timeout: .now() + timeout) == .success }

    /// Whether the loop turned within the last `seconds`.
    public func isAlive(within seconds: Double) -> Bool {
        MonotonicClock.now().nanoseconds - heartbeat.load(ordering: .relaxed) < Int64(seconds * 1e9)
    }

    public var counters: QueueCounters { published.withLock { $0 } }

    /// Runs `body` on the queue's thread between two batches and returns its answer; nil when the
    /// thread did not get to it within `timeout` seconds (stopped, or stuck).
    public func ask<Answer: Sendable>(
        timeout: Double = 2, _ body: @escaping @Sendable (inout QueueState, Timestamp) -> Answer
    ) -> Answer? {
        let answer = Mutex<Answer?>(nil)
        let job = QueueJob { state, now in
            let result = body(&state, now)
            answer.withLock { $0 = result }
        }
        jobs.withLock { $0.append(job) }
        jobsWaiting.store(true, ordering: .releasing)
        guard job.done.wait(timeout: .now() + timeout) == .success else { return nil }
        return answer.withLock { $0 }
    }

    func run() {
        var state = QueueState(filter: handover.withLock { $0.take()! })
        var verdicts = VerdictBatch(capacity: socket.settings.batch)
        var warnings = RateLimitedWarnings(logger: logger)
        var lastPublished = MonotonicClock.now()
        // When the thread last went back to receive, after a batch and its pause.
        var ready = Timestamp(nanoseconds: 0)
        while !stopping.load(ordering: .relaxed) {
            let now = MonotonicClock.now()
            heartbeat.store(now.nanoseconds, ordering: .relaxed)
            if jobsWaiting.load(ordering: .acquiring) { runJobs(&state, now) }
            if now.nanoseconds - lastPublished.nanoseconds >= Self.publishInterval {
                published.withLock { $0 = state.counters }
                lastPublished = now
            }
            switch socket.receive(wait: true) {
            case .success(0):
                continue
            case .success(let count):
                let received = MonotonicClock.now()
                handle(count, at: received, &state, &verdicts, &warnings)
                // Under steady traffic a short pause lets the next packets arrive together, for one wake-up,
                // one receive and one verdict send (daemon.batch_wait_us).
                if socket.settings.waitsAfter(batchOf: count, idle: received.nanoseconds - ready.nanoseconds) {
                    usleep(UInt32(socket.settings.batchWaitMicroseconds))
                    ready = MonotonicClock.now()
                } else {
                    ready = received
                }
            case .failure(let error):
                warnings.warn("receive failed", error, queue: queue)
                usleep(10_000)
            }
        }
        // Pending packets still get verdicts before the queue goes, for at most 200 ms: under a flood the
        // queue never empties, and a stop must finish well within systemd's TimeoutStopSec.
        let drainDeadline = MonotonicClock.now().nanoseconds + 200_000_000
        while MonotonicClock.now().nanoseconds < drainDeadline, case .success(let count) = socket.receive(wait: false),
            count > 0
        {
            handle(count, at: MonotonicClock.now(), &state, &verdicts, &warnings)
        }
        socket.unbind()
        runJobs(&state, MonotonicClock.now())
        published.withLock { $0 = state.counters }
        let proven = state.filter.engine.provenSources()
        provenAtStop.withLock { $0 = proven }
    }

    /// The engine's proven sources as its thread finished (empty before, or if it never finished).
    public var provenSourcesAtStop: [ProvenSource] { provenAtStop.withLock { $0 } }

    /// Judges one received batch and sends its verdicts.
    @inline(__always)
    func handle(
        _ count: Int, at now: Timestamp, _ state: inout QueueState, _ verdicts: inout VerdictBatch,
        _ warnings: inout RateLimitedWarnings
    ) {
        verdicts.reset()
        state.counters.batches &+= 1
        for index in 0..<count {
            guard let packet = socket.packet(at: index) else {
                state.counters.malformedMessages &+= 1
                continue
            }
            let bytes = UnsafeRawBufferPointer(start: packet.payload, count: Int(packet.payload_length))
            let outcome = state.filter.filter(
                ipPacket: bytes, direction: Self.direction(hook: packet.hook), at: now, observer: &state.counters)
            state.counters.count(outcome.decision, direction: outcome.direction)
            switch outcome.decision.verdict {
            case .accept:
                verdicts.add(id: packet.id, verdict: Int32(CNFQ_ACCEPT))
            case .drop where outcome.resetsConnection:
                // REPEAT with the reset mark: the firewall answers the segment with a TCP reset.
                verdicts.add(id: packet.id, verdict: Int32(CNFQ_REPEAT), mark: BanSets.resetMark)
            case .drop:
                verdicts.add(id: packet.id, verdict: Int32(CNFQ_DROP))
            case .ban:
                // REPEAT with the class mark: the firewall adds the source to the ban set and drops.
                let mark = outcome.decision.ban.map { state.banSets.mark(for: $0) } ?? 0
                verdicts.add(id: packet.id, verdict: Int32(mark == 0 ? CNFQ_DROP : CNFQ_REPEAT), mark: mark)
            }
        }
        if case .failure(let error) = socket.send(verdicts) {
            warnings.warn("sending verdicts failed", error, queue: queue)
        }
        let mode = state.filter.engine.rules.daemon.mode
        state.filter.engine.drainBans { bans.record($0, queue: queue, mode: mode) }
    }

    func runJobs(_ state: inout QueueState, _ now: Timestamp) {
        jobsWaiting.store(false, ordering: .relaxed)
        let waiting = jobs.withLock { jobs in
            defer { jobs.removeAll() }
            return jobs
        }
        for job in waiting {
            job.body(&state, now)
            job.done.signal()
        }
    }

    /// The direction the netfilter hook implies: OUTPUT/POSTROUTING carry the server's own packets.
    @inline(__always)
    static func direction(hook: UInt16) -> Direction? {
        switch Int(hook) {
        case Int(CNFQ_HOOK_LOCAL_OUT), Int(CNFQ_HOOK_POST_ROUTING): return .outbound
        case Int(CNFQ_HOOK_LOCAL_IN), Int(CNFQ_HOOK_PRE_ROUTING): return .inbound
        default: return nil
        }
    }
}

/// Work another thread hands to a queue's thread.
final class QueueJob: Sendable {
    let body: @Sendable (inout QueueState, Timestamp) -> Void
    let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable (inout QueueState, Timestamp) -> Void) {
        self.body = body
    }
}
