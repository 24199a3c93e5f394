/// The frames (Ethernet, IPv4, UDP, to or from the server at 203.0.113.5:5060) of the Engine
/// benchmark's scenes (Benchmarks/Benchmarks/Engine), which `scripts/count-instructions` also counts
/// (Benchmarks/instructions/DecideRepeatedly.swift): registered phones refreshing their registrations,
/// and the inline benchmark's unanswered INVITEs.
public enum EngineTraffic {
    public static let server = Endpoint(.v4(0xCB00_7105), 5060)
    public static let serverText = "203.0.113.5"
    /// How many phones register.
    public static let phones = 1000

    /// Phone `n`: 10.n/16 . n%256 . 1, each in a /24 of its own.
    public static func phoneAddress(_ n: Int) -> UInt32 {
        0x0A00_0001 | UInt32(n >> 8) << 16 | UInt32(n & 0xFF) << 8
    }

    /// `message` from `address` to the server, or (not `inbound`) from the server to it.
    static func udp(_ message: [UInt8], from address: UInt32, inbound: Bool = true) -> [UInt8] {
        let client = Endpoint(.v4(address), 5060)
        return inbound
            ? FrameBuilder.udp(from: client, to: server, payload: message)
            : FrameBuilder.udp(from: server, to: client, payload: message)
    }

    /// Phone `n`'s REGISTER with CSeq `cseq` and Digest credentials, to the server.
    public static func register(_ n: Int, cseq: Int) -> [UInt8] {
        let host = NetworkAddress.v4(phoneAddress(n)).text
        let message = SIPText.message([
            "REGISTER sip:pbx.example.com SIP/2.0", "Via: SIP/2.0/UDP \(host):5060;branch=z9hG4bKr\(n)x\(cseq);rport",
            "Max-Forwards: 70", "From: <sip:\(1000 + n)@pbx.example.com>;tag=t\(n)",
            "To: <sip:\(1000 + n)@pbx.example.com>", "Call-ID: reg\(n)@\(host)", "CSeq: \(cseq) REGISTER",
            "Contact: <sip:\(1000 + n)@\(host):5060>", "User-Agent: DeskPhone/4.2.1", "Expires: 3600",
            "Authorization: Digest username=\"\(1000 + n)\", realm=\"pbx.example.com\", nonce=\"n\(n)\", "
                + "uri=\"sip:pbx.example.com\", response=\"0c5e1f8a9b3d27e4a6f0c1d2e3b4a596\", algorithm=MD5, "
                + "cnonce=\"c\(n)\", qop=auth, nc=\(String(cseq, radix: 16))",
        ])
        return udp(message, from: phoneAddress(n))
    }

    /// The server's 200 OK to phone `n`'s REGISTER with CSeq `cseq`.
    public static func ok(_ n: Int, cseq: Int) -> [UInt8] {
        let host = NetworkAddress.v4(phoneAddress(n)).text
        let message = SIPText.message([
            "SIP/2.0 200 OK", "Via: SIP/2.0/UDP \(host):5060;branch=z9hG4bKr\(n)x\(cseq);rport=5060",
            "From: <sip:\(1000 + n)@pbx.example.com>;tag=t\(n)", "To: <sip:\(1000 + n)@pbx.example.com>;tag=s\(n)",
            "Call-ID: reg\(n)@\(host)", "CSeq: \(cseq) REGISTER",
            "Contact: <sip:\(1000 + n)@\(host):5060>;expires=3600",
        ])
        return udp(message, from: phoneAddress(n), inbound: false)
    }

    /// A call from `address` to extension 2087, to the server.
    public static func invite(from address: UInt32, callID: String) -> [UInt8] {
        let host = NetworkAddress.v4(address).text
        let message = SIPText.message([
            "INVITE sip:2087@pbx.example.com SIP/2.0", "Via: SIP/2.0/UDP \(host):5060;branch=z9hG4bK\(callID);rport",
            "Max-Forwards: 70", "From: <sip:1042@pbx.example.com>;tag=f\(callID)", "To: <sip:2087@pbx.example.com>",
            "Call-ID: \(callID)@\(host)", "CSeq: 1 INVITE", "Contact: <sip:1042@\(host):5060>",
            "User-Agent: DeskPhone/4.2.1",
        ])
        return udp(message, from: address)
    }

    /// `frame` with its UDP checksum zeroed: none, allowed over IPv4, so that a frame's CSeq can be
    /// rewritten in place.
    public static func withoutChecksum(_ frame: [UInt8]) -> [UInt8] {
        var frame = frame
        frame[14 + 20 + 6] = 0
        frame[14 + 20 + 7] = 0
        return frame
    }

    /// The rules of the inline benchmark's load: INVITE limits raised so that each is judged in full and
    /// accepted.
    public static let unansweredRules = """
        [limits]
        unknown_sources = "100000000/s"
        unknown_sources_burst = 100000000
        [limits.invite]
        source = "100000000/s"
        source_burst = 100000000
        prefix = "100000000/s"
        prefix_burst = 100000000
        global = "100000000/s"
        global_burst = 100000000
        """

    /// The inline benchmark's load (`scripts/bench-inline`): INVITEs from 200 sources in bursts of 32,
    /// 25,600 distinct ones, more than the lost-request ring holds, so that none comes round while its
    /// copy is still kept.
    public static func unansweredInvites() -> [[UInt8]] {
        let sources = 200
        return (0..<800).flatMap { burst in
            let source = 0x0D00_0000 | UInt32(burst % sources)
            return (0..<32).map { n in invite(from: source, callID: "u\(burst / sources * 32 + n)") }
        }
    }
}
