import Benchmark
import SIPTraffic
import SIPWardenCore

/// The engine's budgets: the decision for an accepted packet (decoding and classification included, as
/// the daemon does them per queued packet), and the memory a flood from a million spoofed sources costs.

let serverAddress = IPAddress(EngineTraffic.serverText)!
let phones = EngineTraffic.phones

/// A filter whose engine has seen every phone register (REGISTER answered 200 OK by the server): good history.
func filterWithRegisteredPhones(_ rules: RuleSet) -> PacketFilter {
    var filter = PacketFilter(engine: Engine(rules: rules, servers: [serverAddress]))
    for n in 0..<phones {
        let at = Int64(n) * 1_000_000
        _ = decide(&filter, EngineTraffic.register(n, cseq: 1), .inbound, at: at)
        _ = decide(&filter, EngineTraffic.ok(n, cseq: 1), .outbound, at: at)
    }
    return filter
}

/// The registered phones' engine and their refreshes, built once and carried from iteration to iteration
/// (the clock goes on), so that iterations measure the steady state and not the set-up. A refresh is a
/// phone's next REGISTER (its CSeq one higher, a new transaction) and the server's 200 OK to it: in each
/// iteration half the phones refresh, 1,000 accepted packets, so that each phone refreshes every other
/// iteration.
final class RefreshRun: @unchecked Sendable {
    var filter = filterWithRegisteredPhones(RuleSet())
    var registers: [[UInt8]]
    var answers: [[UInt8]]
    /// Where each frame's CSeq digits are (in the CSeq header and the Via branch).
    let registerDigits: [[Int]]
    let answerDigits: [[Int]]
    var clock = Int64(10_000_000_000)
    var iteration = 0
    /// The CSeq the frames are built with, seven digits wide, rewritten in place for each refresh; the
    /// UDP checksum is left out (zero, allowed over IPv4).
    static let firstCSeq = 1_000_000

    init() {
        registers = (0..<phones).map {
            EngineTraffic.withoutChecksum(EngineTraffic.register($0, cseq: Self.firstCSeq))
        }
        answers = (0..<phones).map {
            EngineTraffic.withoutChecksum(EngineTraffic.ok($0, cseq: Self.firstCSeq))
        }
        registerDigits = registers.map(Self.digitOffsets)
        answerDigits = answers.map(Self.digitOffsets)
    }

    /// The phones that refresh in the next iteration, their frames given the next CSeq.
    func nextRefreshers() -> Range<Int> {
        iteration += 1
        let half = phones / 2
        let refreshers = iteration % 2 * half..<(iteration % 2 + 1) * half
        let digits = Array(String(Self.firstCSeq + (iteration + 1) / 2).utf8)
        for n in refreshers {
            for offset in registerDigits[n] { registers[n].replaceSubrange(offset..<offset + 7, with: digits) }
            for offset in answerDigits[n] { answers[n].replaceSubrange(offset..<offset + 7, with: digits) }
        }
        return refreshers
    }

    /// Where `firstCSeq`'s digits are in `frame`.
    static func digitOffsets(_ frame: [UInt8]) -> [Int] {
        let digits = Array(String(firstCSeq).utf8)
        return (0...(frame.count - digits.count)).filter { frame[$0..<$0 + digits.count].elementsEqual(digits) }
    }
}

let refreshing = RefreshRun()

/// prctl(2), which Swift does not import (it is variadic in C); PR_SET_THP_DISABLE turns transparent
/// huge pages off for this process, madvise included, until it is cleared.
@_silgen_name("prctl") func prctl(_ option: Int32, _ a: UInt, _ b: UInt, _ c: UInt, _ d: UInt) -> Int32
let setTHPDisable: Int32 = 41

/// Light inline load judges each packet with cold caches: between two packets the sender, the kernel
/// and the VM's neighbours ran. Before each decision here, 16,384 lines (1 MiB) of a 64 MiB buffer
/// are written, one per 4 KiB page and each in the next cache set, which evicts the TLB and
/// most of the first- and second-level caches. Two filters with the same registered phones judge the same
/// frames, one with its tables on huge pages (as the filter builds them) and one built while THP was
/// disabled for the process, so that both meet the same neighbours; which goes first alternates, as
/// the second runs with branch predictors the first has just trained.
final class ColdRun: @unchecked Sendable {
    var onHugePages = filterWithRegisteredPhones(RuleSet())
    var onSmallPages: PacketFilter
    /// Each phone's REGISTER refresh and INVITE, alternating.
    let frames: [[UInt8]]
    var clock = Int64(10_000_000_000)
    var next = 0
    var eviction = [UInt8](repeating: 1, count: 64 << 20)

    init() {
        _ = prctl(setTHPDisable, 1, 0, 0, 0)
        onSmallPages = filterWithRegisteredPhones(RuleSet())
        _ = prctl(setTHPDisable, 0, 0, 0, 0)
        frames = (0..<phones).flatMap { n in
            [
                EngineTraffic.register(n, cseq: 2),
                EngineTraffic.invite(from: EngineTraffic.phoneAddress(n), callID: "c\(n)"),
            ]
        }
    }

    /// Writes one line of each page of `eviction`, each line in the next cache set.
    func evictCaches() {
        eviction.withUnsafeMutableBytes { bytes in
            for line in stride(from: (next & 63) * 64, to: bytes.count, by: 4096 + 64) { bytes[line] &+= 1 }
        }
    }

    /// Nanoseconds to decide `frame` on `filter` (which must accept it) after evicting the caches. The
    /// frame itself is read first, as the kernel has just copied it into the daemon's receive buffer.
    func decideCold(_ filter: inout PacketFilter, _ frame: [UInt8]) -> Int {
        evictCaches()
        blackHole(frame.reduce(0, &+))
        let elapsed = ContinuousClock().measure { precondition(!decide(&filter, frame, .inbound, at: clock).drops) }
        return Int(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }

    /// Nanoseconds to decide the next frame on each filter; which goes first alternates.
    func decideNext() -> (huge: Int, small: Int) {
        clock += 1_000_000
        let frame = frames[next % frames.count]
        next += 1
        if next & 1 == 0 {
            let huge = decideCold(&onHugePages, frame)
            return (huge, decideCold(&onSmallPages, frame))
        }
        let small = decideCold(&onSmallPages, frame)
        return (decideCold(&onHugePages, frame), small)
    }
}

/// The inline benchmark's load (`scripts/bench-inline`): INVITEs from 200 sources in bursts of 32,
/// never answered, with limits raised so that each is judged in full and accepted. Each one pushes an
/// older one out of its source's memory (its last four requests) into the shared lost-request ring,
/// where it waits for an answer that a 404 of an extension scan would be. 25,600 distinct INVITEs, more
/// than the ring holds, so that none comes round while its copy is still kept.
final class UnansweredRun: @unchecked Sendable {
    var filter = PacketFilter(engine: Engine(rules: UnansweredRun.rules, servers: [serverAddress]))
    var clock = Int64(10_000_000_000)
    var next = 0

    static let rules = try! RuleSet(toml: EngineTraffic.unansweredRules, file: "unanswered.toml")
    let frames = EngineTraffic.unansweredInvites()

    /// Decides the next `count` INVITEs, 10 µs apart; how many were not accepted.
    func decideNext(_ count: Int) -> Int {
        var refused = 0
        for _ in 0..<count {
            clock += 10_000
            if decide(&filter, frames[next], .inbound, at: clock).drops { refused += 1 }
            next = (next + 1) % frames.count
        }
        return refused
    }
}

let unanswered = UnansweredRun()

let coldOnHugePages = BenchmarkMetric.custom(
    "cold, huge pages (ns)", polarity: .prefersSmaller, useScalingFactor: false)
let coldOnSmallPages = BenchmarkMetric.custom(
    "cold, small pages (ns)", polarity: .prefersSmaller, useScalingFactor: false)
let cold = ColdRun()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident],
        timeUnits: .nanoseconds,
        maxDuration: .seconds(10),
        maxIterations: 1000
    )

    // Half the registered phones refresh their registrations: each REGISTER and the server's 200 OK to
    // it, 1000 packets per iteration.
    Benchmark(
        "decide an accepted REGISTER refresh and its 200 OK, registered phones (decode and classify included)",
        configuration: .init(scalingFactor: .kilo)
    ) { benchmark in
        let refreshers = refreshing.nextRefreshers()
        var drops = 0
        benchmark.startMeasurement()
        for n in refreshers {
            refreshing.clock += 1_000_000
            if decide(&refreshing.filter, refreshing.registers[n], .inbound, at: refreshing.clock).drops {
                drops += 1
            }
            blackHole(decide(&refreshing.filter, refreshing.answers[n], .outbound, at: refreshing.clock))
        }
        benchmark.stopMeasurement()
        precondition(drops == 0, "\(drops) refreshes from registered phones were dropped")
    }

    // 1000 unanswered INVITEs per iteration, carried on from the last.
    Benchmark(
        "decide an accepted, unanswered INVITE, 200 sources in bursts of 32 (the inline benchmark's load)",
        configuration: .init(scalingFactor: .kilo)
    ) { benchmark in
        benchmark.startMeasurement()
        let refused = unanswered.decideNext(1000)
        benchmark.stopMeasurement()
        precondition(refused == 0, "\(refused) INVITEs were not accepted")
    }

    // One accepted packet per iteration on each filter, caches evicted before each.
    Benchmark(
        "decide an accepted REGISTER or INVITE with cold caches (light inline load), huge vs small pages",
        configuration: .init(
            metrics: [coldOnHugePages, coldOnSmallPages], maxDuration: .seconds(20), maxIterations: 10_000)
    ) { benchmark in
        let (huge, small) = cold.decideNext()
        benchmark.measurement(coldOnHugePages, huge)
        benchmark.measurement(coldOnSmallPages, small)
    }

    // A flood of INVITEs from a million distinct addresses at 100,000/s, while the phones keep calling.
    Benchmark(
        "spoofed flood: 1M INVITEs from 1M distinct sources, 1000 registered phones calling",
        configuration: .init(scalingFactor: .mega, maxDuration: .seconds(30), maxIterations: 3)
    ) { benchmark in
        var filter = filterWithRegisteredPhones(RuleSet())
        var flood = EngineTraffic.invite(from: 0x0B00_0000, callID: "spoofed")
        let calls = (0..<phones).map { EngineTraffic.invite(from: EngineTraffic.phoneAddress($0), callID: "c\($0)") }
        let sourceOffset = 14 + 12  // Ethernet header, then the IPv4 source address
        var clock = Int64(10_000_000_000)
        var phoneDrops = 0
        benchmark.startMeasurement()
        for i in 0..<1_000_000 {
            let address = 0x0B00_0000 | UInt32(i)
            for k in 0..<4 { flood[sourceOffset + k] = UInt8(truncatingIfNeeded: address >> (24 - 8 * k)) }
            clock += 10_000
            blackHole(decide(&filter, flood, .inbound, at: clock))
            if i % 1000 == 0, decide(&filter, calls[i / 1000], .inbound, at: clock).drops { phoneDrops += 1 }
        }
        benchmark.stopMeasurement()
        precondition(phoneDrops == 0, "\(phoneDrops) calls from registered phones were dropped during the flood")
    }
}
