import ArgumentParser
import SIPTraffic

/// Writes a pcap file of realistic SIP traffic for replay tests and benchmarks.
@main
struct GenerateCapture: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-capture",
        abstract: "Write a pcap file of mixed SIP traffic over UDP/5060 (deterministic for a given seed).",
        discussion: """
            Registrations with Digest challenges, calls, OPTIONS pings and CRLF keep-alives between one \
            server (203.0.113.5, 2001:db8::5) and clients in 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 \
            and 2001:db8::/32. Ethernet link type, microsecond timestamps.
            """)

    @Option(help: "Number of packets to write.")
    var packets = 100_000

    @Option(help: "The pcap file to write.")
    var output: String

    @Option(help: "Seed for the traffic; the same seed gives the same file.")
    var seed: UInt64 = 1

    @Flag(help: "Mix in malformed requests, HTTP and TLS on 5060, and OPTIONS bursts from a scanner.")
    var withAttacks = false

    func validate() throws {
        guard packets > 0 else { throw ValidationError("--packets must be at least 1") }
    }

    func run() throws {
        var generator = TrafficGenerator(seed: seed, withAttacks: withAttacks)
        let writer = try PcapWriter(path: output)
        var bytes = 0
        for _ in 0..<packets {
            let (timestamp, frame) = generator.next()
            try writer.write(frame: frame, timestamp: timestamp)
            bytes += frame.count
        }
        try writer.close()
        print("wrote \(packets) packets (\(bytes) bytes of frames) to \(output)")
    }
}
