/// Decides per SIP message: accept, drop or ban. One engine per queue thread; time is an argument.
///
/// This engine drops what is malformed or not SIP on a SIP port and accepts everything else;
/// in monitor mode it reports the same reasons but accepts every packet.
public struct Engine: Sendable {
    public private(set) var rules: RuleSet

    public init(rules: RuleSet) {
        self.rules = rules
    }

    public func decide(_ inspected: InspectedPacket, direction: Direction, now: Timestamp) -> Decision {
        let decision = judge(inspected.message)
        return rules.daemon.mode == .monitor ? Decision(.accept, decision.reason) : decision
    }

    func judge(_ message: SIPMessage) -> Decision {
        if message.anomalies.contains(.keepAlive) { return Decision(.accept, .keepAlive) }
        if message.anomalies.contains(.notSIP) { return Decision(.drop, .notSIP) }
        if message.isMalformed { return Decision(.drop, .malformed) }
        return Decision(.accept, .sip)
    }
}
