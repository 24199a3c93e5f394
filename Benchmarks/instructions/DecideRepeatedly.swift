// Decides the Engine benchmark's accepted packets (Benchmarks/Benchmarks/Engine/Engine.swift) through
// `PacketFilter.filter(ipPacket:direction:at:observer:)`, for `scripts/count-instructions`, which compiles
// it with SIPTraffic's frames and the benchmark's `decide` (Benchmarks/Benchmarks/Engine/Decide.swift)
// against the release build's SIPWardenCore (imported, as the benchmark does) and runs it under
// callgrind collecting only inside `decideMeasured` (and `classifyMeasured`), so that building the scene
// and its frames is not counted.

import SIPWardenCore

/// `DecideRepeatedly refresh|invite N [--classify-only]`: builds the scene, warms it up, then decides N
/// packets (rounded up to batches of 1,000) in `decideMeasured`, or with `--classify-only` only
/// classifies their SIP payloads in `classifyMeasured` (the rest of the path's share is the difference).
/// - refresh: 1,000 phones registered (each REGISTER with Digest credentials answered 200 OK), then
///   rounds in which half of them refresh: each phone's next REGISTER and the server's 200 OK to it.
/// - invite: unanswered INVITEs from 200 sources in bursts of 32 under raised limits (the inline
///   benchmark's load), after one pass over all 25,600 of them.
@main struct DecideRepeatedly {
    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count >= 3, let packets = Int(arguments[2]), packets >= 0,
            arguments.count == 3 || arguments[3] == "--classify-only"
        else {
            print("usage: DecideRepeatedly refresh|invite N [--classify-only]")
            return
        }
        let classifyOnly = arguments.count == 4
        switch arguments[1] {
        case "refresh":
            var scene = RefreshScene()
            run(&scene, packets: packets, classifyOnly: classifyOnly)
        case "invite":
            var scene = InviteScene()
            run(&scene, packets: packets, classifyOnly: classifyOnly)
        default:
            print("usage: DecideRepeatedly refresh|invite N [--classify-only]")
        }
    }

    /// Warms `scene` up, then decides (or classifies) its next `packets` packets.
    static func run<S: Scene>(_ scene: inout S, packets: Int, classifyOnly: Bool) {
        scene.warmUp()
        var drops = 0
        var ends: UInt32 = 0
        for _ in stride(from: 0, to: packets, by: 1000) {
            let batch = scene.nextBatch()
            if classifyOnly {
                ends &+= classifyMeasured(batch)
            } else {
                drops += decideMeasured(&scene.filter, batch)
            }
        }
        precondition(drops == 0, "\(drops) packets were not accepted")
        // Reading the result keeps the optimiser from dropping the loop.
        if ends == 1 { print(ends) }
    }
}

/// One packet to decide: its frame (Ethernet, IPv4, UDP), direction and time.
struct Packet {
    var frame: [UInt8]
    var direction: Direction
    var nanoseconds: Int64
}

/// Decides `batch` on `filter`; how many were not accepted. The only code callgrind counts.
@inline(never)
func decideMeasured(_ filter: inout PacketFilter, _ batch: [Packet]) -> Int {
    var drops = 0
    for packet in batch where decide(&filter, packet.frame, packet.direction, at: packet.nanoseconds).drops {
        drops += 1
    }
    return drops
}

/// Classifies the SIP payload of each of `batch`'s frames, as the filter does.
@inline(never)
func classifyMeasured(_ batch: [Packet]) -> UInt32 {
    let classifier = SIPClassifier()
    var ends: UInt32 = 0
    for packet in batch {
        packet.frame.withUnsafeBytes { bytes in
            // Ethernet, IPv4 (20 bytes, no options) and UDP headers.
            ends &+= classifier.classify(UnsafeRawBufferPointer(rebasing: bytes[(14 + 20 + 8)...])).end
        }
    }
    return ends
}

protocol Scene {
    var filter: PacketFilter { get set }
    /// Runs the scene until its tables are in their steady state.
    mutating func warmUp()
    /// The next 1,000 packets.
    mutating func nextBatch() -> [Packet]
}

let serverAddress = IPAddress(EngineTraffic.serverText)!

/// The Engine benchmark's first scene: registered phones, half of which refresh in each round.
struct RefreshScene: Scene {
    var filter = PacketFilter(engine: Engine(rules: RuleSet(), servers: [serverAddress]))
    var round = 0
    var clock = Int64(10_000_000_000)
    let phones = EngineTraffic.phones

    init() {
        for n in 0..<phones {
            let at = Int64(n) * 1_000_000
            _ = decide(&filter, EngineTraffic.register(n, cseq: 1), .inbound, at: at)
            _ = decide(&filter, EngineTraffic.ok(n, cseq: 1), .outbound, at: at)
        }
    }

    mutating func warmUp() {
        for _ in 0..<4 {
            for packet in nextBatch() {
                _ = decide(&filter, packet.frame, packet.direction, at: packet.nanoseconds)
            }
        }
    }

    /// The next round: half the phones' REGISTERs with their next CSeq, each followed by its 200 OK.
    mutating func nextBatch() -> [Packet] {
        round += 1
        let half = phones / 2
        let cseq = 1_000_000 + (round + 1) / 2
        return (round % 2 * half..<(round % 2 + 1) * half).flatMap { n in
            clock += 1_000_000
            return [
                Packet(
                    frame: EngineTraffic.withoutChecksum(EngineTraffic.register(n, cseq: cseq)), direction: .inbound,
                    nanoseconds: clock),
                Packet(
                    frame: EngineTraffic.withoutChecksum(EngineTraffic.ok(n, cseq: cseq)), direction: .outbound,
                    nanoseconds: clock),
            ]
        }
    }
}

/// The Engine benchmark's second scene: unanswered INVITEs, 10 µs apart, from 200 sources in bursts of 32.
struct InviteScene: Scene {
    var filter = PacketFilter(engine: Engine(rules: InviteScene.rules, servers: [serverAddress]))
    var next = 0
    var clock = Int64(10_000_000_000)

    static let rules = try! RuleSet(toml: EngineTraffic.unansweredRules, file: "unanswered.toml")
    let frames = EngineTraffic.unansweredInvites()

    /// One pass over all the frames: from then on each INVITE pushes an older one out.
    mutating func warmUp() {
        for _ in 0..<frames.count / 1000 + 1 {
            for packet in nextBatch() {
                _ = decide(&filter, packet.frame, packet.direction, at: packet.nanoseconds)
            }
        }
    }

    /// The next 1,000 INVITEs, 10 µs apart.
    mutating func nextBatch() -> [Packet] {
        (0..<1000).map { _ in
            clock += 10_000
            defer { next = (next + 1) % frames.count }
            return Packet(frame: frames[next], direction: .inbound, nanoseconds: clock)
        }
    }
}
