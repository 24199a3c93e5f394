/// Generates realistic SIP traffic to and from one protected server, as Ethernet frames with timestamps.
///
/// Registrations (REGISTER, 401, REGISTER with credentials, 200), calls (INVITE, optionally a 407
/// round, 100, 180, 200, ACK, BYE, 200), OPTIONS pings in both directions and CRLF keep-alives,
/// from clients in the documentation ranges 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and
/// 2001:db8::/32, several scenarios at once. With `withAttacks`, a few malformed requests, HTTP and
/// TLS on the SIP port, and bursts of OPTIONS from a scanner are mixed in.
///
/// The same seed always gives the same packets.
public struct TrafficGenerator {
    /// The protected server's addresses and SIP port.
    public static let server = NetworkAddress.v4(0xCB00_7105)  // 203.0.113.5
    public static let serverV6 = NetworkAddress.v6(0x2001_0DB8_0000_0000, 0x5)  // 2001:db8::5
    public static let sipPort: UInt16 = 5060
    /// The SIP domain the server is registrar and proxy for.
    public static let domain = "pbx.example.com"
    /// The capture's first timestamp: 2026-01-05 09:00:00 UTC, in nanoseconds.
    public static let startTime: Int64 = 1_767_603_600 * 1_000_000_000

    /// How many scenarios run interleaved.
    static let concurrentScenarios = 48

    public let withAttacks: Bool
    var random: SplitMix64
    var active: [Scenario] = []
    /// A scanner's burst, sent back to back while it lasts.
    var burst: Scenario?
    var attacksStarted = 0
    var clock = TrafficGenerator.startTime
    var identification: UInt16 = 0

    public init(seed: UInt64, withAttacks: Bool = false) {
        random = SplitMix64(seed: seed)
        self.withAttacks = withAttacks
        for _ in 0..<Self.concurrentScenarios { active.append(newScenario()) }
    }

    /// The next packet: its timestamp in nanoseconds since the epoch (whole microseconds) and its frame.
    public mutating func next() -> (timestamp: Int64, frame: [UInt8]) {
        let datagram: Datagram
        if burst != nil, random.chance(3, in: 4) {
            clock += Int64(random.next(in: 20...120)) * 1000
            datagram = burst!.next()
            if burst!.isFinished { burst = nil }
        } else {
            clock += Int64(random.next(in: 50...350)) * 1000
            let slot = random.next(below: active.count)
            datagram = active[slot].next()
            if active[slot].isFinished { active[slot] = newScenario() }
        }
        identification &+= 1
        let frame = FrameBuilder.udp(
            from: datagram.source, to: datagram.destination, payload: datagram.payload, identification: identification)
        return (clock, frame)
    }

    /// Picks what starts next in a slot: mostly normal traffic, sometimes an attack.
    mutating func newScenario() -> Scenario {
        if withAttacks, random.chance(1, in: 100) {
            attacksStarted += 1
            // The first attack is a scanner so that even a short capture has one; later ones one in ten.
            if burst == nil, attacksStarted == 1 || random.chance(1, in: 10) {
                burst = scannerBurst()
            } else {
                return singleAttack()
            }
        }
        switch random.next(below: 100) {
        case 0..<30: return registration()
        case 30..<60: return call()
        case 60..<90: return optionsPing()
        default: return keepAlive()
        }
    }

    // MARK: - Participants

    /// A client address: mostly IPv4 from the three documentation /24s, some IPv6 from 2001:db8::/32.
    mutating func clientAddress() -> NetworkAddress {
        if random.chance(15, in: 100) {
            let high = 0x2001_0DB8_0000_0000 | UInt64(random.next(in: 1...0x40)) << 16 | UInt64(random.next(in: 1...0x10))
            return .v6(high, UInt64(random.next(in: 1...0xFF)))
        }
        let networks: [UInt32] = [0xC000_0200, 0xC633_6400, 0xCB00_7100]  // 192.0.2.0, 198.51.100.0, 203.0.113.0
        while true {
            let address = NetworkAddress.v4(random.pick(networks) | UInt32(random.next(in: 1...254)))
            if address != Self.server { return address }
        }
    }

    mutating func clientEndpoint() -> Endpoint {
        let port = random.chance(40, in: 100) ? Self.sipPort : UInt16(random.next(in: 10000...60999))
        return Endpoint(clientAddress(), port)
    }

    /// The server endpoint of the client's address family.
    static func serverEndpoint(for client: Endpoint) -> Endpoint {
        Endpoint(client.address.isV6 ? serverV6 : server, sipPort)
    }

    mutating func extensionNumber() -> String { String(random.next(in: 1000...4999)) }

    mutating func userAgent() -> String {
        random.pick([
            "DeskPhone/4.2.1", "SoftDialer/2.4.0", "HomeATA 1.9.3", "FieldPhone/7.0 (build 2291)",
            "ConfRoom-Station/3.3", "MobileSIP 12.1.4 (Android 14)",
        ])
    }

    mutating func branch() -> String { "z9hG4bK" + random.token(16) }
    mutating func tag() -> String { random.hex(8) }
    mutating func callID(_ host: NetworkAddress) -> String { random.token(20) + "@" + host.text }
}
