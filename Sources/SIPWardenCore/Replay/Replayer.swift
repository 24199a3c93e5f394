/// Runs captured frames through what the inline filter does (`PacketFilter`) with the packets' own
/// timestamps as the clock, and counts what happened.
public struct Replayer {
    public internal(set) var filter: PacketFilter
    public private(set) var summary = ReplaySummary()
    /// Every ban the engine issued during the replay, in order.
    public private(set) var bans: [BanRecord] = []

    public var engine: Engine { filter.engine }

    /// A replayer whose engine's tables hash under fixed seeds: replaying a capture twice gives the same
    /// verdicts, even when its sources overflow the tables.
    public init(rules: RuleSet, servers: Set<IPAddress> = []) {
        filter = PacketFilter(engine: Engine(rules: rules, servers: servers, seeding: .fixed(0x5157_A4DE_4E)))
    }

    /// Replays one captured frame.
    public mutating func replay(frame: UnsafeRawBufferPointer, linkType: LinkType, at time: Timestamp)
        -> PacketFilter.Outcome
    {
        summary.packets += 1
        if summary.first == nil { summary.first = time }
        summary.last = time
        let outcome: PacketFilter.Outcome
        switch PacketDecoder.decode(frame: frame, linkType: linkType) {
        case .failure(.notIP):
            outcome = PacketFilter.Outcome(direction: .inbound, decision: Decision(.accept, .notSIPPort), messages: 0)
        case .failure:
            summary.undecodable += 1
            outcome = PacketFilter.Outcome(direction: .inbound, decision: Decision(.accept, .undecodable), messages: 0)
        case .success(let packet):
            outcome = filter.filter(packet, in: frame, direction: nil, at: time, observer: &summary)
        }
        filter.engine.drainBans { bans.append($0) }
        summary.count(outcome.decision, source: outcome.source)
        return outcome
    }
}
