import Benchmark
import SIPTraffic
import SIPWardenCore

/// Link, IP and transport header decoding of single frames, as replay (Ethernet) and NFQUEUE (bare IP)
/// hand them to the core. Each iteration decodes the frame 1,000 times; scaled (`*`) rows are per frame.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000
    )

    let client = Endpoint(.v4(0xC000_022C), 5060)  // 192.0.2.44
    let server = Endpoint(TrafficGenerator.server, 5060)
    let clientV6 = Endpoint(.v6(0x2001_0DB8_004A_0017, 0x9), 5060)  // 2001:db8:4a:17::9
    let serverV6 = Endpoint(TrafficGenerator.serverV6, 5060)
    let invite = SampleMessages.invite.bytes
    let ethernetHeaderLength = 14

    let frames: [(name: String, frame: [UInt8], linkType: LinkType?)] = [
        ("Ethernet+IPv4+UDP", FrameBuilder.udp(from: client, to: server, payload: invite), .ethernet),
        ("Ethernet+IPv6+UDP", FrameBuilder.udp(from: clientV6, to: serverV6, payload: invite), .ethernet),
        (
            "Ethernet+IPv4+TCP",
            FrameBuilder.tcp(
                from: client, to: server, sequence: 0x1A2B_3C4D, acknowledgement: 0x0102_0304, flags: [.ack, .push],
                payload: invite), .ethernet
        ),
        (
            "IPv4+UDP as NFQUEUE delivers it",
            Array(FrameBuilder.udp(from: client, to: server, payload: invite).dropFirst(ethernetHeaderLength)), nil
        ),
    ]

    for (name, frame, linkType) in frames {
        Benchmark("decode \(name)") { benchmark in
            frame.withUnsafeBytes { bytes in
                for _ in benchmark.scaledIterations {
                    if let linkType {
                        blackHole(PacketDecoder.decode(frame: bytes, linkType: linkType))
                    } else {
                        blackHole(PacketDecoder.decode(ipPacket: bytes))
                    }
                }
            }
        } setup: {
            let decoded = frame.withUnsafeBytes { bytes in
                linkType.map { PacketDecoder.decode(frame: bytes, linkType: $0) } ?? PacketDecoder.decode(ipPacket: bytes)
            }
            guard case .success(let packet) = decoded, packet.payload.count == invite.count else {
                preconditionFailure("\(name) does not decode to the INVITE payload: \(decoded)")
            }
        }
    }
}
