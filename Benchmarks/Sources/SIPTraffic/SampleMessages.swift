/// Hand-written SIP messages, one of each kind a SIP server sees most, for per-message benchmarks.
///
/// Every Content-Length is computed from the body, so each message is well formed.
public enum SampleMessages {
    /// A named sample.
    public struct Sample: Sendable {
        public var name: String
        public var bytes: [UInt8]
    }

    /// An INVITE with an SDP offer, about 700 bytes: the message the classifier's 200 ns budget is for.
    public static let invite = Sample(
        name: "INVITE with SDP",
        bytes: SIPText.message(
            [
                "INVITE sip:2087@pbx.example.com SIP/2.0",
                "Via: SIP/2.0/UDP 192.0.2.44:5060;branch=z9hG4bK7c1f0a93e2d4;rport",
                "Max-Forwards: 70",
                "From: \"Ines Ortega\" <sip:1042@pbx.example.com>;tag=8d2e91aa07",
                "To: <sip:2087@pbx.example.com>",
                "Call-ID: 5b0c77e4a19f4d3e8a21@192.0.2.44",
                "CSeq: 314 INVITE",
                "Contact: <sip:1042@192.0.2.44:5060;transport=udp>",
                "User-Agent: DeskPhone/4.2.1",
                "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO, UPDATE",
                "Supported: replaces, timer",
                "Content-Type: application/sdp",
            ],
            body: SIPText.sdp([
                "v=0",
                "o=1042 778143 778143 IN IP4 192.0.2.44",
                "s=call",
                "c=IN IP4 192.0.2.44",
                "t=0 0",
                "m=audio 41000 RTP/AVP 0 8 9 101",
                "a=rtpmap:0 PCMU/8000",
                "a=rtpmap:8 PCMA/8000",
                "a=rtpmap:9 G722/8000",
                "a=rtpmap:101 telephone-event/8000",
                "a=fmtp:101 0-16",
                "a=ptime:20",
                "a=sendrecv",
            ])))

    /// The second REGISTER of a registration, answering a 401 with Digest credentials.
    public static let registerWithAuthorization = Sample(
        name: "REGISTER with Digest Authorization",
        bytes: SIPText.message([
            "REGISTER sip:pbx.example.com SIP/2.0",
            "Via: SIP/2.0/UDP 198.51.100.23:5062;branch=z9hG4bKa4c2d0e5f1b8;rport",
            "Max-Forwards: 70",
            "From: <sip:1042@pbx.example.com>;tag=3fa9c1d7",
            "To: <sip:1042@pbx.example.com>",
            "Call-ID: reg-8e41c7d2b09a6f13@198.51.100.23",
            "CSeq: 2 REGISTER",
            "Contact: <sip:1042@198.51.100.23:5062;line=k2f9>;expires=3600",
            "Authorization: Digest username=\"1042\", realm=\"pbx.example.com\", nonce=\"6a2f0c9e1b7d4e35a0c4\", "
                + "uri=\"sip:pbx.example.com\", response=\"0c5e1f8a9b3d27e4a6f0c1d2e3b4a596\", algorithm=MD5, "
                + "cnonce=\"91b2c3e4\", qop=auth, nc=00000001",
            "User-Agent: SoftDialer/2.4.0",
            "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY",
            "Expires: 3600",
        ]))

    /// A keep-alive style OPTIONS from a trunk monitor.
    public static let options = Sample(
        name: "OPTIONS",
        bytes: SIPText.message([
            "OPTIONS sip:pbx.example.com SIP/2.0",
            "Via: SIP/2.0/UDP 203.0.113.61:5060;branch=z9hG4bK2e7d90c1",
            "Max-Forwards: 70",
            "From: <sip:monitor@203.0.113.61>;tag=a81f44",
            "To: <sip:pbx.example.com>",
            "Call-ID: opt-4c1e9a77b2@203.0.113.61",
            "CSeq: 1 OPTIONS",
            "Accept: application/sdp",
            "User-Agent: TrunkProbe/1.0",
        ]))

    /// The callee's 200 OK to `invite`, with the SDP answer.
    public static let inviteOK = Sample(
        name: "200 OK to INVITE with SDP",
        bytes: SIPText.message(
            [
                "SIP/2.0 200 OK",
                "Via: SIP/2.0/UDP 192.0.2.44:5060;branch=z9hG4bK7c1f0a93e2d4;rport=5060;received=192.0.2.44",
                "From: \"Ines Ortega\" <sip:1042@pbx.example.com>;tag=8d2e91aa07",
                "To: <sip:2087@pbx.example.com>;tag=c4e07b19",
                "Call-ID: 5b0c77e4a19f4d3e8a21@192.0.2.44",
                "CSeq: 314 INVITE",
                "Contact: <sip:2087@203.0.113.5:5060>",
                "Record-Route: <sip:203.0.113.5;lr>",
                "Server: ExamplePBX 7.3",
                "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO",
                "Supported: replaces, timer",
                "Content-Type: application/sdp",
            ],
            body: SIPText.sdp([
                "v=0",
                "o=pbx 2210 2211 IN IP4 203.0.113.5",
                "s=pbx",
                "c=IN IP4 203.0.113.5",
                "t=0 0",
                "m=audio 18422 RTP/AVP 8 101",
                "a=rtpmap:8 PCMA/8000",
                "a=rtpmap:101 telephone-event/8000",
                "a=fmtp:101 0-16",
                "a=ptime:20",
                "a=sendrecv",
            ])))

    /// The registrar's challenge to a REGISTER without credentials.
    public static let unauthorized = Sample(
        name: "401 with WWW-Authenticate",
        bytes: SIPText.message([
            "SIP/2.0 401 Unauthorized",
            "Via: SIP/2.0/UDP 198.51.100.23:5062;branch=z9hG4bKf09e3b1a2c47;rport=5062;received=198.51.100.23",
            "From: <sip:1042@pbx.example.com>;tag=3fa9c1d7",
            "To: <sip:1042@pbx.example.com>;tag=srv91c2",
            "Call-ID: reg-8e41c7d2b09a6f13@198.51.100.23",
            "CSeq: 1 REGISTER",
            "WWW-Authenticate: Digest realm=\"pbx.example.com\", nonce=\"6a2f0c9e1b7d4e35a0c4\", "
                + "opaque=\"5ccc069c403ebaf9\", algorithm=MD5, qop=\"auth\"",
            "Server: ExamplePBX 7.3",
        ]))

    /// The proxy's challenge to an INVITE without credentials.
    public static let proxyAuthenticationRequired = Sample(
        name: "407 with Proxy-Authenticate",
        bytes: SIPText.message([
            "SIP/2.0 407 Proxy Authentication Required",
            "Via: SIP/2.0/UDP 192.0.2.44:5060;branch=z9hG4bK55d0e7a1;rport=5060;received=192.0.2.44",
            "From: \"Ines Ortega\" <sip:1042@pbx.example.com>;tag=8d2e91aa07",
            "To: <sip:+4930555012@pbx.example.com>;tag=px7e2a",
            "Call-ID: 93ad1f0e2c7b48d5@192.0.2.44",
            "CSeq: 101 INVITE",
            "Proxy-Authenticate: Digest realm=\"pbx.example.com\", nonce=\"b81c4e09f37a2d65\", algorithm=MD5, "
                + "qop=\"auth\", stale=FALSE",
            "Server: ExamplePBX 7.3",
        ]))

    /// An INVITE in compact header form over IPv6, as some mobile clients send to fit one datagram.
    public static let compactInvite = Sample(
        name: "compact-form INVITE",
        bytes: SIPText.message(
            [
                "INVITE sip:2087@pbx.example.com SIP/2.0",
                "v: SIP/2.0/UDP [2001:db8:4a:17::9]:5060;branch=z9hG4bKc7f3e19a",
                "f: <sip:1042@pbx.example.com>;tag=77a1b0",
                "t: <sip:2087@pbx.example.com>",
                "i: c7f3e19a2b6d@2001:db8:4a:17::9",
                "CSeq: 8 INVITE",
                "m: <sip:1042@[2001:db8:4a:17::9]:5060>",
                "Max-Forwards: 70",
                "k: replaces",
                "c: application/sdp",
            ],
            body: SIPText.sdp([
                "v=0",
                "o=- 4410 4410 IN IP6 2001:db8:4a:17::9",
                "s=-",
                "c=IN IP6 2001:db8:4a:17::9",
                "t=0 0",
                "m=audio 30500 RTP/AVP 0 101",
                "a=rtpmap:101 telephone-event/8000",
            ]),
            compact: true))

    /// All samples, in the order the benchmarks list them.
    public static let all: [Sample] = [
        invite, registerWithAuthorization, options, inviteOK, unauthorized, proxyAuthenticationRequired, compactInvite,
    ]
}
