import Benchmark
import COsipPeer
import SIPTraffic
import SIPWardenCore

/// The generated captures, built once per process on first use (generation is not measured).
/// One million packets each, so that with `scalingFactor: .mega` the scaled rows read per packet
/// and the scaled throughput reads in packets per second.
let mixedCapture = CaptureBuffer(packets: 1_000_000, seed: 1)
let attackCapture = CaptureBuffer(packets: 1_000_000, seed: 2, withAttacks: true)

/// SIP over TCP: 10,000 clients on long-lived connections, each sending an OPTIONS every 25 seconds in
/// a segment of its own (the common case), 1M segments in all at 400/s, within the default OPTIONS
/// budget. With `answered`, the server answers each with a 200 OK whose ACK frees the bytes the filter
/// keeps (500,000 segments each way); without, the filter never hears from the server (a capture of
/// one direction), and keeps each connection's last bytes.
func tcpCapture(answered: Bool) -> CaptureBuffer {
    var capture = CaptureBuffer()
    let server = Endpoint(TrafficGenerator.server, 5060)
    var sequences = [UInt32](repeating: 1, count: 10_000)
    let ok = SIPText.message([
        "SIP/2.0 200 OK", "Via: SIP/2.0/TCP 203.0.113.61:5060;branch=z9hG4bK2e7d90c1",
        "From: <sip:monitor@203.0.113.61>;tag=a81f44", "To: <sip:pbx.example.com>;tag=s1",
        "Call-ID: opt-4c1e9a77b2@203.0.113.61", "CSeq: 1 OPTIONS",
    ])
    var index = 0
    while capture.count < 1_000_000 {
        let client = index % sequences.count
        let endpoint = Endpoint(.v4(0x0A00_0001 | UInt32(client) << 8), 40_000)  // a /24 each
        let time = 1_700_000_000_000_000_000 + Int64(index) * 2_500_000
        let frame = FrameBuilder.tcp(
            from: endpoint, to: server, sequence: sequences[client], acknowledgement: 1, flags: [.ack, .push],
            payload: SampleMessages.options.bytes)
        sequences[client] &+= UInt32(SampleMessages.options.bytes.count)
        capture.append(frame: frame, timestamp: time)
        if answered {
            let answer = FrameBuilder.tcp(
                from: server, to: endpoint, sequence: 1 &+ UInt32(index / sequences.count * ok.count),
                acknowledgement: sequences[client], flags: [.ack, .push], payload: ok)
            capture.append(frame: answer, timestamp: time + 1_000_000)
        }
        index += 1
    }
    return capture
}

let tcpOneWay = tcpCapture(answered: false)
let tcpAnswered = tcpCapture(answered: true)

/// The generator's server addresses, so that the replayer sees its responses as outbound.
let servers: Set<IPAddress> = [IPAddress("203.0.113.5")!, IPAddress("2001:db8::5")!]

/// Reads each frame from its first byte to the empty line that ends the SIP header section (or the
/// frame's end), adding up the bytes: the least work that still looks at every header byte.
@inline(never)
func touchHeaderBytes(_ frame: UnsafeRawBufferPointer) -> UInt64 {
    var sum: UInt64 = 0
    var lastFour: UInt32 = 0
    for byte in frame {
        sum &+= UInt64(byte)
        lastFour = lastFour << 8 | UInt32(byte)
        if lastFour == 0x0D0A_0D0A { break }
    }
    return sum
}

/// The UDP or TCP payload of a frame, found by the core's decoder, or nil when there is none.
@inline(__always)
func transportPayload(_ frame: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
    guard case .success(let packet) = PacketDecoder.decode(frame: frame, linkType: .ethernet) else { return nil }
    return UnsafeRawBufferPointer(rebasing: frame[packet.payload])
}

/// Packets per second over one pass of a capture, measured around the loop alone.
let packetsPerSecond = BenchmarkMetric.custom("packets/s", polarity: .prefersLarger, useScalingFactor: false)

/// Runs `body` (one pass over `packets` packets) and records its rate as `packetsPerSecond`.
func measureRate(_ benchmark: Benchmark, packets: Int, _ body: () -> Void) {
    let elapsed = ContinuousClock().measure(body)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    benchmark.measurement(packetsPerSecond, Int((Double(packets) / seconds).rounded()))
}

/// Replays `capture` with the default rules, measured as one pass; returns the replayer, to check.
func replay(_ capture: CaptureBuffer, measuredBy benchmark: Benchmark) -> Replayer {
    var replayer = Replayer(rules: RuleSet(), servers: servers)
    benchmark.startMeasurement()
    measureRate(benchmark, packets: capture.count) {
        capture.forEachFrame { timestamp, frame in
            blackHole(replayer.replay(frame: frame, linkType: .ethernet, at: Timestamp(nanoseconds: timestamp)))
        }
    }
    benchmark.stopMeasurement()
    return replayer
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident, packetsPerSecond],
        timeUnits: .nanoseconds,
        warmupIterations: 1,
        scalingFactor: .mega,
        maxDuration: .seconds(20),
        maxIterations: 10
    )

    for (name, capture) in [("mixed", { mixedCapture }), ("mixed with attacks", { attackCapture })] {
        Benchmark("replay 1M \(name) packets") { benchmark in
            let replayer = replay(capture(), measuredBy: benchmark)
            precondition(replayer.summary.packets == capture().count)
        } setup: {
            precondition(capture().count == 1_000_000)
        }
    }

    for (name, capture) in [("one way", { tcpOneWay }), ("answered", { tcpAnswered })] {
        Benchmark("replay 1M TCP segments, one message each, over 10,000 connections, \(name)") { benchmark in
            let replayer = replay(capture(), measuredBy: benchmark)
            let messages = replayer.summary.requests.reduce(0, +) + replayer.summary.responses.reduce(0, +)
            precondition(messages == capture().count, "every segment is one message")
            precondition(replayer.summary.verdicts[.accept] == capture().count, "every segment is accepted")
        } setup: {
            precondition(capture().count == 1_000_000)
        }
    }

    Benchmark("baseline: touch every header byte of 1M mixed packets") { benchmark in
        var sum: UInt64 = 0
        measureRate(benchmark, packets: mixedCapture.count) {
            mixedCapture.forEachFrame { _, frame in sum &+= touchHeaderBytes(frame) }
        }
        blackHole(sum)
    } setup: {
        precondition(mixedCapture.count == 1_000_000)
    }

    Benchmark("decode+classify 1M mixed packets (no engine, no summary)") { benchmark in
        let classifier = SIPClassifier()
        measureRate(benchmark, packets: mixedCapture.count) {
            mixedCapture.forEachFrame { _, frame in
                if let payload = transportPayload(frame) { blackHole(classifier.classify(payload)) }
            }
        }
    } setup: {
        precondition(mixedCapture.count == 1_000_000)
    }

    Benchmark("libosip2: decode+parse 1M mixed packets") { benchmark in
        var accepted = 0
        measureRate(benchmark, packets: mixedCapture.count) {
            mixedCapture.forEachFrame { _, frame in
                if let payload = transportPayload(frame), cosip_parse(payload.baseAddress, payload.count) == 0 {
                    accepted += 1
                }
            }
        }
        blackHole(accepted)
    } setup: {
        precondition(cosip_setup() == 0, "parser_init failed")
        precondition(mixedCapture.count == 1_000_000)
    }
}
