// A libFuzzer target over the whole filter as the daemon runs it: fragment reassembly, decoding, TCP
// framing, classification and the engine's decisions, packet after packet, with state carried from one
// to the next. It is compiled into the SIPWardenCore module itself (see scripts/fuzz), without the two
// files that read TOML (they need a package dependency): the rules are `RuleSet()`, the shipped defaults,
// with tables small enough that a short input fills them.

/// One input is a conversation between the protected server and sixteen peers. Its first byte sets the
/// scene (`Scene`); records follow, each a packet:
///
/// | byte | meaning |
/// |------|---------|
/// | 0 | bits 0-3 the peer (14 is trusted, 15 a second member of peer 0's prefix); bit 4 the server sends (else the peer); bit 5 IPv6; bit 6 TCP (else UDP); bit 7 sent as two fragments |
/// | 1 | time since the last packet: under 200, that many 10 ms; 200-253, (n - 199) minutes; 254 unbans the peer and takes a snapshot first; 255 reloads the rules, monitor mode turned over |
/// | 2 | TCP flags (the low five bits: FIN, SYN, RST, PSH, ACK); over UDP, bit 0 sends from another port than 5060 and bit 1 to a port that is not SIP's |
/// | 3 | over TCP, how far the sequence number (the peer's) or the acknowledgement (the server's) lies from where the stream is, a signed step of 211 bytes; over UDP with fragments, bit 0 sends the second fragment first |
/// | 4-5 | the payload's length, little-endian, at most what is left and 4,000 |
/// | … | the payload: a SIP message, or anything |
///
/// Traps when the filter traps, or when an outcome breaks a promise the filter makes whatever it is fed:
/// in monitor mode every packet is accepted, and the server's always as the daemon runs it (told the
/// direction by netfilter's hook); a trusted peer is never banned.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFilter(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    var conversation = Conversation(scene: Scene(rawValue: data[0]))
    var at = 1
    while at + 6 <= size, conversation.packets < 64 {
        let header = UnsafeBufferPointer(start: data + at, count: 6)
        let length = min(Int(header[4]) | Int(header[5]) << 8, size - at - 6, 4000)
        conversation.play(header, payload: UnsafeBufferPointer(start: data + at + 6, count: length))
        at += 6 + length
    }
    return 0
}

/// How the filter is set up for one input.
struct Scene: OptionSet {
    let rawValue: UInt8
    /// Monitor mode from the start.
    static let monitor = Scene(rawValue: 1 << 0)
    /// `sipwarden replay`'s way: late TCP joins framed, directions told by the server's addresses.
    static let replay = Scene(rawValue: 1 << 1)
    /// Classifier limits small enough that short inputs cross them.
    static let tightLimits = Scene(rawValue: 1 << 2)
    /// Two queues, as the daemon runs them: two filters sharing users, nonces and lost requests, each
    /// with half of every global budget; a peer's packets go to one (even peers to the first).
    static let twoQueues = Scene(rawValue: 1 << 3)
}

/// The filters and what the peers' TCP streams have sent so far.
struct Conversation {
    static let server = IPAddress(v4: 0xC633_6401)  // 198.51.100.1
    static let serverV6 = IPAddress(v6: 0x2001_0db8_ffff_0000, 1)
    static let trustedPeer = 14

    var filters: [PacketFilter]
    let scene: Scene
    var rules: RuleSet
    var now = Timestamp(seconds: 1)
    var packets = 0
    /// The next sequence number of each peer's stream and of the server's towards it, by peer and family.
    var peerNext = [UInt32](repeating: 1000, count: 32)
    var serverNext = [UInt32](repeating: 500_000, count: 32)

    init(scene: Scene) {
        self.scene = scene
        var rules = RuleSet()
        rules.daemon.mode = scene.contains(.monitor) ? .monitor : .enforce
        rules.trust.allow = [false, true].map { IPPrefix(host: Self.peer(Self.trustedPeer, v6: $0)) }
        rules.tables = .init(sources: 16, prefixes: 8, users: 8, nonces: 8, dialogs: 8)
        if scene.contains(.tightLimits) { rules.classifierLimits = tightLimits }
        self.rules = rules
        let queues = scene.contains(.twoQueues) ? 2 : 1
        let shared = SharedTables(rules, seeding: .fixed(7))
        filters = (0..<queues).map { [now] queue in
            let engine = Engine(
                rules: rules, servers: [Self.server, Self.serverV6], startingAt: now, shared: shared,
                budgetShare: 1 / Double(queues), seeding: .fixed(7 + UInt64(queue)))
            var filter = PacketFilter(engine: engine, framesLateTCPJoins: scene.contains(.replay), joinedAt: now)
            filter.streams.capacity = 4
            filter.streams.bufferLimit = 2048
            filter.streams.judgedLimit = 512
            filter.streams.byteBudget = 8192
            filter.streams.waitingPerSource = 2
            return filter
        }
    }

    /// Peer `index`: 203.0.113.10 on, 15 beside peer 0; in IPv6, 2001:db8:1::10 on.
    static func peer(_ index: Int, v6: Bool) -> IPAddress {
        let host = index == 15 ? 200 : 10 + index
        return v6 ? IPAddress(v6: 0x2001_0db8_0001_0000, UInt64(host)) : IPAddress(v4: 0xCB00_7100 | UInt32(host))
    }

    mutating func play(_ header: UnsafeBufferPointer<UInt8>, payload: UnsafeBufferPointer<UInt8>) {
        let (shape, step, flags, offset) = (header[0], header[1], header[2], Int8(bitPattern: header[3]))
        let index = Int(shape & 0x0F)
        let fromServer = shape & 0x10 != 0
        let v6 = shape & 0x20 != 0
        let overTCP = shape & 0x40 != 0
        let peer = Self.peer(index, v6: v6)
        // The kernel puts each address pair on one queue.
        let queue = index % filters.count
        advance(step, peer: peer, queue: queue)

        let stream = index + (v6 ? 16 : 0)
        let peerPort: UInt16 = overTCP || flags & 1 != 0 ? 40000 + UInt16(index) : 5060
        let serverPort: UInt16 = !overTCP && flags & 2 != 0 ? 5070 : 5060
        let transport: [UInt8]
        if overTCP {
            let tcpFlags = flags & 0x1F
            let moved = UInt32(truncatingIfNeeded: Int(offset) * 211)
            let counted = UInt32(payload.count) + (tcpFlags & 0x03 != 0 ? 1 : 0)
            if fromServer {
                transport = Packets.tcp(
                    from: serverPort, to: peerPort, sequence: serverNext[stream],
                    acknowledgment: peerNext[stream] &+ moved, flags: tcpFlags, payload: payload)
                serverNext[stream] &+= counted
            } else {
                transport = Packets.tcp(
                    from: peerPort, to: serverPort, sequence: peerNext[stream] &+ moved,
                    acknowledgment: serverNext[stream], flags: tcpFlags, payload: payload)
                if offset == 0 { peerNext[stream] &+= counted }
            }
        } else {
            transport =
                fromServer
                ? Packets.udp(from: serverPort, to: peerPort, payload: payload)
                : Packets.udp(from: peerPort, to: serverPort, payload: payload)
        }
        let server = v6 ? Self.serverV6 : Self.server
        let (source, destination) = fromServer ? (server, peer) : (peer, server)
        let ipProtocol: UInt8 = overTCP ? 6 : 17
        var datagrams = Packets.ip(source, destination, ipProtocol, transport, fragmented: shape & 0x80 != 0)
        if datagrams.count == 2, !overTCP, offset & 1 != 0 { datagrams.reverse() }
        for datagram in datagrams { judge(datagram, fromServer: fromServer, peer: index, on: queue) }
    }

    /// Moves the clock on (`step` as the record's second byte says), or has the operator act.
    mutating func advance(_ step: UInt8, peer: IPAddress, queue: Int) {
        switch step {
        case 0..<200:
            now.nanoseconds += Int64(step) * 10_000_000
        case 200..<254:
            now.nanoseconds += Int64(step - 199) * 60_000_000_000
        case 254:
            _ = filters[queue].engine.snapshot(at: now, top: 5)
            _ = filters[queue].engine.unban(IPPrefix(host: peer), now: now)
        default:
            rules.daemon.mode = rules.daemon.mode == .enforce ? .monitor : .enforce
            for queue in filters.indices { filters[queue].reload(rules, at: now) }
        }
    }

    mutating func judge(_ datagram: [UInt8], fromServer: Bool, peer: Int, on queue: Int) {
        packets += 1
        var observer = Ignoring()
        let direction: Direction? = scene.contains(.replay) ? nil : fromServer ? .outbound : .inbound
        let outcome = datagram.withUnsafeBytes {
            filters[queue].filter(ipPacket: $0, direction: direction, at: now, observer: &observer)
        }
        filters[queue].engine.drainBans { _ in }
        let verdict = outcome.decision.verdict
        if rules.daemon.mode == .monitor, verdict != .accept {
            fatalError("fuzz: in monitor mode a packet was not accepted: \(outcome.decision)")
        }
        // Replaying, a packet that cannot be decoded has no known sender, and counts as a client's.
        if fromServer, direction != nil, verdict != .accept {
            fatalError("fuzz: a packet of the server's was not accepted: \(outcome.decision)")
        }
        if peer == Self.trustedPeer, verdict == .ban {
            fatalError("fuzz: a trusted peer was banned: \(outcome.decision)")
        }
        if outcome.messages < 0 { fatalError("fuzz: \(outcome.messages) messages") }
    }
}

/// Headers around a payload, as a host's stack writes them (checksums left zero: the filter reads none).
enum Packets {
    static func udp(from source: UInt16, to destination: UInt16, payload: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        big(source) + big(destination) + big(UInt16(truncatingIfNeeded: 8 + payload.count)) + [0, 0] + Array(payload)
    }

    static func tcp(
        from source: UInt16, to destination: UInt16, sequence: UInt32, acknowledgment: UInt32, flags: UInt8,
        payload: UnsafeBufferPointer<UInt8>
    ) -> [UInt8] {
        big(source) + big(destination) + big(sequence) + big(acknowledgment) + [5 << 4, flags] + big(UInt16(65535))
            + [0, 0, 0, 0] + Array(payload)
    }

    /// The IP packets carrying `transport`: one, or two fragments split at a multiple of 8 bytes.
    static func ip(
        _ source: IPAddress, _ destination: IPAddress, _ ipProtocol: UInt8, _ transport: [UInt8], fragmented: Bool
    ) -> [[UInt8]] {
        let split = transport.count / 16 * 8
        guard fragmented, split > 0 else { return [packet(source, destination, ipProtocol, transport[...], nil)] }
        return [
            packet(source, destination, ipProtocol, transport[..<split], (offset: 0, more: true)),
            packet(source, destination, ipProtocol, transport[split...], (offset: split, more: false)),
        ]
    }

    static func packet(
        _ source: IPAddress, _ destination: IPAddress, _ ipProtocol: UInt8, _ payload: ArraySlice<UInt8>,
        _ fragment: (offset: Int, more: Bool)?
    ) -> [UInt8] {
        let flagsAndOffset = UInt16(fragment.map { $0.offset / 8 | ($0.more ? 0x2000 : 0) } ?? 0x4000)
        if source.family == .v4 {
            let length = UInt16(truncatingIfNeeded: 20 + payload.count)
            return [0x45, 0] + big(length) + big(UInt16(0x5151)) + big(flagsAndOffset) + [64, ipProtocol, 0, 0]
                + big(source.v4Value) + big(destination.v4Value) + payload
        }
        var extensionHeader: [UInt8] = []
        var next = ipProtocol
        if let fragment {
            let field = UInt16(fragment.offset / 8) << 3 | (fragment.more ? 1 : 0)
            extensionHeader = [ipProtocol, 0] + big(field) + big(UInt32(0x5151))
            next = 44
        }
        let length = UInt16(truncatingIfNeeded: extensionHeader.count + payload.count)
        return [0x60, 0, 0, 0] + big(length) + [next, 64] + big(source.high) + big(source.low) + big(destination.high)
            + big(destination.low) + extensionHeader
            + payload
    }

    static func big<Value: FixedWidthInteger>(_ value: Value) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }
}

/// An observer that looks at nothing.
struct Ignoring: PacketObserver {
    mutating func observe(_ message: SIPMessage, in payload: UnsafeRawBufferPointer) {}
    mutating func reassembled() {}
}
