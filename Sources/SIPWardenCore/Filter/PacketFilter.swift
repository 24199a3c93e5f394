/// One IP packet's way through the filter: fragment reassembly (as the kernel does it), decoding, TCP
/// framing, classification and the engine's decision. `sipwarden run` and `sipwarden replay` both run
/// every packet through here, so they decide alike.
public struct PacketFilter {
    /// What became of one packet.
    public struct Outcome: Sendable {
        public var source: IPAddress?
        public var destination: IPAddress?
        public var direction: Direction
        public var decision: Decision
        /// SIP messages the packet completed (0 for a fragment or partial segment; more on TCP).
        public var messages: Int
        /// A TCP segment dropped for a message a detector refused (or for its resend): the server's TCP
        /// would hold back every later byte of the connection behind it, so the daemon has the firewall
        /// answer it with a TCP reset, and the client connects again (`BanSets.resetMark`).
        public var resetsConnection = false
    }

    /// The engine; its `servers` (the protected host's own addresses) also tell the direction of a
    /// packet when the caller cannot.
    public var engine: Engine
    var classifier: SIPClassifier
    var fragments = FragmentReassembler()
    var streams: TCPStreamFramer

    /// `framesLateTCPJoins`: whether a client's TCP connection whose handshake the filter did not see
    /// is framed from its first segment seen (replaying a capture that begins in the middle of
    /// connections) or reset (inline, where the server may hold bytes the filter would frame otherwise).
    /// `joinedAt`: when the filter began to see the traffic inline (the daemon's start): the SYN
    /// cookies the server sent before are not known to it.
    public init(engine: Engine, framesLateTCPJoins: Bool = true, joinedAt: Timestamp? = nil) {
        self.engine = engine
        classifier = SIPClassifier(limits: engine.rules.classifierLimits)
        streams = TCPStreamFramer(classifier: classifier)
        streams.framesLateJoins = framesLateTCPJoins
        if let joinedAt { streams.forgetCookies(sentBefore: joinedAt) }
    }

    /// Applies rules reloaded at `time`: the engine keeps its state, the classifier takes the new limits.
    /// Where they guard TCP ports the old rules did not (monitor mode turned to enforce mode, a SIP port
    /// added), the SYN cookies the server sent on them before are not known.
    public mutating func reload(_ rules: RuleSet, at time: Timestamp) {
        let guarded = { (rules: RuleSet) in rules.daemon.mode == .enforce ? Set(rules.ports.sipTCP) : [] }
        if !guarded(rules).isSubset(of: guarded(engine.rules)) { streams.forgetCookies(sentBefore: time) }
        engine.reload(rules)
        classifier = SIPClassifier(limits: rules.classifierLimits)
        streams.classifier = classifier
    }

    /// Runs one bare IP packet (what NFQUEUE delivers). `direction` is the netfilter hook's when known
    /// (nil: by `servers`, or responses outbound without servers). Never throws: a packet that cannot
    /// be decoded is `undecodable`.
    public mutating func filter<Observer: PacketObserver>(
        ipPacket bytes: UnsafeRawBufferPointer, direction: Direction?, at time: Timestamp, observer: inout Observer
    ) -> Outcome {
        var packet = DecodedPacket.unread
        guard PacketDecoder.decode(ipPacket: bytes, into: &packet) == nil else {
            return undecodable(direction ?? .inbound)
        }
        return filter(packet, in: bytes, direction: direction, at: time, observer: &observer)
    }

    /// Runs one decoded packet whose offsets point into `bytes`. Inlined, as `judge` is: a packet's
    /// outcome (193 bytes) was copied once more at each call it came back through.
    @inline(__always)
    public mutating func filter<Observer: PacketObserver>(
        _ packet: DecodedPacket, in bytes: UnsafeRawBufferPointer, direction: Direction?, at time: Timestamp,
        observer: inout Observer
    ) -> Outcome {
        guard let fragment = packet.fragment else {
            return transport(packet, in: bytes, direction, at: time, &observer)
        }
        return reassemble(fragment, of: packet, in: bytes, direction, at: time, &observer)
    }

    /// Adds a fragment to its datagram, and runs the datagram when it is whole (apart from `filter`, so
    /// that inlining that one takes little code).
    mutating func reassemble<Observer: PacketObserver>(
        _ fragment: DecodedPacket.Fragment, of packet: DecodedPacket, in bytes: UnsafeRawBufferPointer,
        _ direction: Direction?, at time: Timestamp, _ observer: inout Observer
    ) -> Outcome {
        guard let datagram = fragments.add(fragment, of: packet, bytes: bytes, at: time) else {
            return outcome(
                packet, Decision(.accept, .partial), messages: 0,
                Self.direction(of: packet, direction, response: false, engine.serverList))
        }
        observer.reassembled()
        return datagram.withUnsafeBytes { whole in
            switch PacketDecoder.decodeTransport(
                whole, protocol: fragment.payloadProtocol, source: packet.source, destination: packet.destination)
            {
            case .failure:
                var failed = undecodable(Self.direction(of: packet, direction, response: false, engine.serverList))
                (failed.source, failed.destination) = (packet.source, packet.destination)
                return failed
            case .success(let reassembled): return transport(reassembled, in: whole, direction, at: time, &observer)
            }
        }
    }

    mutating func transport<Observer: PacketObserver>(
        _ packet: DecodedPacket, in bytes: UnsafeRawBufferPointer, _ direction: Direction?, at time: Timestamp,
        _ observer: inout Observer
    ) -> Outcome {
        let payload = UnsafeRawBufferPointer(rebasing: bytes[packet.payload])
        switch packet.transport {
        case .udp:
            return judge(classifier.classify(payload), payload, packet, direction, at: time, &observer)
        case .tcp:
            let assumed = Self.direction(of: packet, direction, response: false, engine.serverList)
            // A resend of a segment refused in enforce mode is refused again; in monitor mode (a reload
            // may turn it on between the two) every packet passes.
            if engine.rules.daemon.mode == .enforce,
                let reason = streams.refusal(of: packet, payloadCount: payload.count)
            {
                var refused = outcome(packet, Decision(.drop, reason), messages: 0, assumed)
                refused.resetsConnection = true
                return refused
            }
            let onSIPPort = engine.rules.ports.isSIP(
                .tcp, sourcePort: packet.sourcePort, destinationPort: packet.destinationPort)
            var result = outcome(packet, Decision(.accept, onSIPPort ? .partial : .notSIPPort), messages: 0, assumed)
            // Bytes from a client that cannot be placed in a message are dropped without points: its TCP
            // sends them again, in order, and they are judged then (a sender that puts a message's tail
            // before its head has it judged whole, or never delivered). Never the server's own, nor in
            // monitor mode.
            let inbound = assumed == .inbound
            let guarded = onSIPPort && engine.rules.daemon.mode == .enforce
            let dropsUnframed = guarded && inbound
            // The framer is moved out while it runs, so that judging a message (which changes the
            // engine) does not overlap its access to `self`.
            var framer = TCPStreamFramer(classifier: classifier)
            swap(&framer, &streams)
            defer { swap(&framer, &streams) }
            let framing = framer.add(
                packet, payload: payload, at: time, fromServer: !inbound, guarded: guarded
            ) { message, bytes in
                let judged = judge(message, bytes, packet, direction, at: time, &observer)
                if judged.decision.outranks(result.decision) { result.decision = judged.decision }
                result.direction = judged.direction
                return judged.decision.drops
            }
            result.messages = framing.messages
            if framing.unframed, dropsUnframed, !result.decision.drops {
                result.decision = Decision(.drop, .partial)
                // A lost stream never recovers: the client connects again.
                result.resetsConnection = framing.lost
            }
            // A dropped segment's resends are dropped for the same reason, since bytes of a stream cannot
            // be judged twice; unless it held whole messages only and went over a rate limit: its resend
            // is framed and judged afresh, as a resend over UDP is (by then the bucket may have refilled).
            let overBudget = result.decision.reason == .rateLimit || result.decision.reason == .unknownSourceBudget
            let judgedAgain =
                framing.unframed && framing.messages == 0
                || framing.selfContained && result.decision.verdict == .drop && overBudget
            if result.decision.drops, !judgedAgain {
                framer.refuse(packet, payloadCount: payload.count, reason: result.decision.reason, at: time)
                result.resetsConnection = result.decision.verdict == .drop
            }
            return result
        case .other:
            return outcome(
                packet, Decision(.accept, .notSIPPort), messages: 0,
                Self.direction(of: packet, direction, response: false, engine.serverList))
        }
    }

    /// Shows the message to the observer and asks the engine about it when the packet is on a SIP port.
    /// Inlined (into its two callers, UDP and TCP): see `filter`.
    @inline(__always)
    mutating func judge<Observer: PacketObserver>(
        _ message: SIPMessage, _ payload: UnsafeRawBufferPointer, _ packet: DecodedPacket, _ known: Direction?,
        at time: Timestamp, _ observer: inout Observer
    ) -> Outcome {
        observer.observe(message, in: payload)
        // Not a method on self: it would copy the whole filter per packet.
        let direction = Self.direction(of: packet, known, response: message.isResponse, engine.serverList)
        let messages = message.kind == .unknown ? 0 : 1
        guard
            engine.rules.ports.isSIP(
                packet.transport, sourcePort: packet.sourcePort, destinationPort: packet.destinationPort)
        else {
            return outcome(packet, Decision(.accept, .notSIPPort), messages: messages, direction)
        }
        let decision = engine.decide(message, in: payload, of: packet, direction: direction, now: time)
        return outcome(packet, decision, messages: messages, direction)
    }

    /// A packet that cannot be decoded: the kernel has checked its headers, so it is one longer than the
    /// copy the queue hands over (`daemon.copy_range`; TCP segments merged by the network card, over
    /// 64 KiB with BIG TCP). A client's is dropped in enforce mode, since its bytes cannot be judged (a
    /// TCP stream would go on past bytes the filter never framed; its TCP sends them again, in smaller
    /// segments); the server's own, and any in monitor mode, are accepted. Not inlined: built in
    /// `filter(ipPacket:)`, this outcome was merged there with the judged packets', whose fields were
    /// then copied one by one on their way out.
    @inline(never)
    func undecodable(_ direction: Direction) -> Outcome {
        let drops = direction == .inbound && engine.rules.daemon.mode == .enforce
        return Outcome(direction: direction, decision: Decision(drops ? .drop : .accept, .undecodable), messages: 0)
    }

    /// The direction of a packet: the hook's when known, else outbound when one of the servers sent it;
    /// without servers, when it carries a `response`.
    static func direction(
        of packet: DecodedPacket, _ known: Direction?, response: Bool, _ servers: AddressList
    ) -> Direction {
        if let known { return known }
        if servers.isEmpty { return response ? .outbound : .inbound }
        return servers.contains(packet.source) ? .outbound : .inbound
    }

    func outcome(_ packet: DecodedPacket, _ decision: Decision, messages: Int, _ direction: Direction) -> Outcome {
        Outcome(
            source: packet.source, destination: packet.destination, direction: direction, decision: decision,
            messages: messages)
    }
}

/// Sees every SIP message the filter classifies (before the engine decides), for counting.
public protocol PacketObserver {
    mutating func observe(_ message: SIPMessage, in payload: UnsafeRawBufferPointer)
    /// A fragment completed a datagram.
    mutating func reassembled()
}
