/// Runs captured frames through what the inline filter does (fragment reassembly as the kernel does it,
/// decode, classify, decide) with the packets' own timestamps as the clock, and counts what happened.
public struct Replayer {
    /// What became of one frame.
    public struct Outcome: Sendable {
        public var source: IPAddress?
        public var destination: IPAddress?
        public var direction: Direction
        public var decision: Decision
        /// SIP messages the frame completed (0 for a fragment or partial segment; more on TCP).
        public var messages: Int
    }

    public private(set) var engine: Engine
    public private(set) var summary = ReplaySummary()
    /// The protected host's own addresses: packets from them are outbound.
    public let servers: Set<IPAddress>
    let classifier: SIPClassifier
    var fragments = FragmentReassembler()
    var streams: TCPStreamFramer

    public init(rules: RuleSet, servers: Set<IPAddress> = []) {
        engine = Engine(rules: rules, servers: servers)
        classifier = SIPClassifier(limits: rules.classifierLimits)
        self.servers = servers
        streams = TCPStreamFramer(classifier: classifier)
    }

    /// Replays one captured frame.
    public mutating func replay(frame: UnsafeRawBufferPointer, linkType: LinkType, at time: Timestamp) -> Outcome {
        summary.packets += 1
        if summary.first == nil { summary.first = time }
        summary.last = time
        let outcome: Outcome
        switch PacketDecoder.decode(frame: frame, linkType: linkType) {
        case .failure(.notIP):
            outcome = Outcome(direction: .inbound, decision: Decision(.accept, .notSIPPort), messages: 0)
        case .failure:
            summary.undecodable += 1
            outcome = Outcome(direction: .inbound, decision: Decision(.accept, .undecodable), messages: 0)
        case .success(let packet):
            outcome = replay(packet, in: frame, at: time)
        }
        summary.count(outcome.decision, source: outcome.source)
        return outcome
    }

    mutating func replay(_ packet: DecodedPacket, in bytes: UnsafeRawBufferPointer, at time: Timestamp) -> Outcome {
        guard let fragment = packet.fragment else { return transport(packet, in: bytes, at: time) }
        guard let datagram = fragments.add(fragment, of: packet, bytes: bytes, at: time) else {
            return outcome(packet, Decision(.accept, .partial), messages: 0)
        }
        summary.reassembledDatagrams += 1
        return datagram.withUnsafeBytes { whole in
            switch PacketDecoder.decodeTransport(
                whole, protocol: fragment.payloadProtocol, source: packet.source, destination: packet.destination)
            {
            case .failure: return outcome(packet, Decision(.accept, .undecodable), messages: 0)
            case .success(let reassembled): return transport(reassembled, in: whole, at: time)
            }
        }
    }

    mutating func transport(_ packet: DecodedPacket, in bytes: UnsafeRawBufferPointer, at time: Timestamp) -> Outcome {
        let payload = UnsafeRawBufferPointer(rebasing: bytes[packet.payload])
        switch packet.transport {
        case .udp:
            return judge(classifier.classify(payload), payload, packet, at: time)
        case .tcp:
            let messages = streams.add(packet, payload: payload, at: time)
            let ports = engine.rules.ports
            let onSIPPort = ports.isSIP(.tcp, sourcePort: packet.sourcePort, destinationPort: packet.destinationPort)
            var result = outcome(packet, Decision(.accept, onSIPPort ? .partial : .notSIPPort), messages: 0)
            for message in messages {
                message.withUnsafeBytes { bytes in
                    let judged = judge(classifier.classify(bytes), bytes, packet, at: time)
                    if judged.decision.drops || !result.decision.drops { result.decision = judged.decision }
                    result.direction = judged.direction
                }
            }
            result.messages = messages.count
            return result
        case .other:
            return outcome(packet, Decision(.accept, .notSIPPort), messages: 0)
        }
    }

    /// Counts the message and asks the engine about them when the packet is on a SIP port.
    mutating func judge(
        _ message: SIPMessage, _ payload: UnsafeRawBufferPointer, _ packet: DecodedPacket, at time: Timestamp
    ) -> Outcome {
        switch message.kind {
        case .request: summary.count(request: message.method, token: payload.string(message.methodToken))
        case .response: summary.count(response: message.status)
        case .unknown: break
        }
        let direction = direction(of: packet, message)
        let ports = engine.rules.ports
        guard ports.isSIP(packet.transport, sourcePort: packet.sourcePort, destinationPort: packet.destinationPort)
        else {
            return outcome(
                packet, Decision(.accept, .notSIPPort), messages: message.kind == .unknown ? 0 : 1, direction)
        }
        let inspected = InspectedPacket(packet: packet, message: message, bytes: payload)
        let decision = engine.decide(inspected, direction: direction, now: time)
        return outcome(packet, decision, messages: message.kind == .unknown ? 0 : 1, direction)
    }

    /// Outbound when sent by one of the servers; without `--server`, responses count as outbound.
    func direction(of packet: DecodedPacket, _ message: SIPMessage) -> Direction {
        if servers.isEmpty { return message.isResponse ? .outbound : .inbound }
        return servers.contains(packet.source) ? .outbound : .inbound
    }

    func outcome(
        _ packet: DecodedPacket, _ decision: Decision, messages: Int, _ direction: Direction = .inbound
    ) -> Outcome {
        Outcome(
            source: packet.source, destination: packet.destination, direction: direction, decision: decision,
            messages: messages)
    }
}
