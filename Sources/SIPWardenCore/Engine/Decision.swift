/// What to do with one packet, and why.
public struct Decision: Equatable, Sendable {
    public enum Verdict: String, Sendable {
        case accept, drop
        /// Drop this packet and have the kernel drop the source for the ban's TTL.
        case ban
    }

    /// Why: a stable name that logs, metrics and `--verdicts` lines carry.
    public enum Reason: String, Sendable, CaseIterable {
        /// A well-formed SIP message within every limit.
        case sip
        /// A CRLF or STUN keep-alive from a NATed client.
        case keepAlive = "keep-alive"
        /// Not on a SIP port: the filter does not judge it (the firewall does).
        case notSIPPort = "not-sip-port"
        /// A non-first IP fragment or a TCP segment that does not complete a message.
        case partial
        /// The packet's headers could not be decoded; accepted, as the kernel already checked them.
        case undecodable
        /// A message RFC 3261/4475 says to reject.
        case malformed
        /// Something other than SIP (HTTP, TLS, binary) on a SIP port.
        case notSIP = "not-sip"
    }

    public var verdict: Verdict
    public var reason: Reason

    public init(_ verdict: Verdict, _ reason: Reason) {
        self.verdict = verdict
        self.reason = reason
    }

    /// Whether the packet is dropped (a ban drops too).
    public var drops: Bool { verdict != .accept }
}
