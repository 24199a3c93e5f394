extension TrafficGenerator {
    static let serverAgent = "Server: ExamplePBX 7.3"
    static let allow = "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO, UPDATE"

    /// REGISTER without credentials, the registrar's 401, REGISTER with Digest credentials, 200 OK.
    mutating func registration() -> Scenario {
        let client = clientEndpoint()
        let server = Self.serverEndpoint(for: client)
        let user = extensionNumber()
        let domain = Self.domain
        let fromTag = tag()
        let callID = callID(client.address)
        let agent = "User-Agent: " + userAgent()
        let nonce = random.hex(32)
        let expires = random.pick([300, 600, 1800, 3600])
        let serverTag = tag()
        let contact = "Contact: <sip:\(user)@\(client.hostPort)>;expires=\(expires)"

        func request(_ cseq: Int, _ via: String, authorization: String?) -> [UInt8] {
            SIPText.message(
                [
                    "REGISTER sip:\(domain) SIP/2.0",
                    via,
                    "Max-Forwards: 70",
                    "From: <sip:\(user)@\(domain)>;tag=\(fromTag)",
                    "To: <sip:\(user)@\(domain)>",
                    "Call-ID: \(callID)",
                    "CSeq: \(cseq) REGISTER",
                    contact,
                ] + (authorization.map { [$0] } ?? []) + [agent, "Expires: \(expires)"])
        }
        func response(_ status: String, _ cseq: Int, _ via: String, _ extra: [String]) -> [UInt8] {
            SIPText.message(
                [
                    "SIP/2.0 \(status)",
                    via + ";received=\(client.address.text)",
                    "From: <sip:\(user)@\(domain)>;tag=\(fromTag)",
                    "To: <sip:\(user)@\(domain)>;tag=\(serverTag)",
                    "Call-ID: \(callID)",
                    "CSeq: \(cseq) REGISTER",
                ] + extra + [Self.serverAgent])
        }

        let firstVia = "Via: SIP/2.0/UDP \(client.hostPort);branch=\(branch());rport"
        let secondVia = "Via: SIP/2.0/UDP \(client.hostPort);branch=\(branch());rport"
        let answeredFirst = firstVia.replacingRport(with: client.port)
        let answeredSecond = secondVia.replacingRport(with: client.port)
        let authorization =
            "Authorization: Digest username=\"\(user)\", realm=\"\(domain)\", nonce=\"\(nonce)\", "
            + "uri=\"sip:\(domain)\", response=\"\(random.hex(32))\", algorithm=MD5, cnonce=\"\(random.hex(8))\", "
            + "qop=auth, nc=00000001"
        return Scenario([
            Datagram(source: client, destination: server, payload: request(1, firstVia, authorization: nil)),
            Datagram(
                source: server, destination: client,
                payload: response(
                    "401 Unauthorized", 1, answeredFirst,
                    ["WWW-Authenticate: Digest realm=\"\(domain)\", nonce=\"\(nonce)\", algorithm=MD5, qop=\"auth\""])),
            Datagram(source: client, destination: server, payload: request(2, secondVia, authorization: authorization)),
            Datagram(
                source: server, destination: client,
                payload: response("200 OK", 2, answeredSecond, [contact, "Date: Mon, 05 Jan 2026 09:00:00 GMT"])),
        ])
    }

    /// A call through the server: INVITE (sometimes challenged with 407 first), 100, 180, 200 with SDP,
    /// ACK, BYE, 200.
    mutating func call() -> Scenario {
        let client = clientEndpoint()
        let server = Self.serverEndpoint(for: client)
        let caller = extensionNumber()
        let callee =
            random.chance(1, in: 4) ? "+49\(random.next(in: 30...89))\(random.next(in: 1_000_000...9_999_999))" : extensionNumber()
        let domain = Self.domain
        let fromTag = tag()
        let toTag = tag()
        let callID = callID(client.address)
        let agent = "User-Agent: " + userAgent()
        let from = "From: <sip:\(caller)@\(domain)>;tag=\(fromTag)"
        let to = "To: <sip:\(callee)@\(domain)>"
        let answeredTo = to + ";tag=\(toTag)"
        let contact = "Contact: <sip:\(caller)@\(client.hostPort)>"
        let serverContact = "Contact: <sip:\(callee)@\(server.hostPort)>"
        var cseq = random.next(in: 1...900)
        var datagrams: [Datagram] = []

        func send(_ payload: [UInt8]) { datagrams.append(Datagram(source: client, destination: server, payload: payload)) }
        func answer(_ payload: [UInt8]) { datagrams.append(Datagram(source: server, destination: client, payload: payload)) }
        func requestLines(_ method: String, _ uri: String, _ via: String, _ to: String, _ cseq: Int) -> [String] {
            [
                "\(method) \(uri) SIP/2.0", via, "Max-Forwards: 70", from, to, "Call-ID: \(callID)",
                "CSeq: \(cseq) \(method)",
            ]
        }
        func responseLines(_ status: String, _ via: String, _ to: String, _ cseq: Int, _ method: String) -> [String] {
            ["SIP/2.0 \(status)", via.replacingRport(with: client.port), from, to, "Call-ID: \(callID)", "CSeq: \(cseq) \(method)"]
        }

        func answerInvite(_ via: String, _ cseq: Int) {
            answer(SIPText.message(responseLines("100 Trying", via, to, cseq, "INVITE") + [Self.serverAgent]))
            answer(
                SIPText.message(
                    responseLines("180 Ringing", via, answeredTo, cseq, "INVITE") + [serverContact, Self.serverAgent]))
            answer(
                SIPText.message(
                    responseLines("200 OK", via, answeredTo, cseq, "INVITE")
                        + [serverContact, Self.serverAgent, Self.allow, "Content-Type: application/sdp"],
                    body: sdpAnswer(address: server.address)))
        }

        let offer = sdpOffer(user: caller, address: client.address)
        let requestURI = "sip:\(callee)@\(domain)"
        if random.chance(3, in: 10) {
            // The proxy challenges the first INVITE; the phone acknowledges and retries with credentials.
            let via = "Via: SIP/2.0/UDP \(client.hostPort);branch=\(branch());rport"
            let nonce = random.hex(24)
            send(
                SIPText.message(
                    requestLines("INVITE", requestURI, via, to, cseq)
                        + [contact, agent, Self.allow, "Content-Type: application/sdp"], body: offer))
            answer(
                SIPText.message(
                    responseLines("407 Proxy Authentication Required", via, to + ";tag=\(tag())", cseq, "INVITE")
                        + [
                            "Proxy-Authenticate: Digest realm=\"\(domain)\", nonce=\"\(nonce)\", algorithm=MD5, qop=\"auth\"",
                            Self.serverAgent,
                        ]))
            send(SIPText.message(requestLines("ACK", requestURI, via, to, cseq) + [agent]))
            cseq += 1
            let credentials =
                "Proxy-Authorization: Digest username=\"\(caller)\", realm=\"\(domain)\", nonce=\"\(nonce)\", "
                + "uri=\"\(requestURI)\", response=\"\(random.hex(32))\", algorithm=MD5, cnonce=\"\(random.hex(8))\", "
                + "qop=auth, nc=00000001"
            let retryVia = "Via: SIP/2.0/UDP \(client.hostPort);branch=\(branch());rport"
            send(
                SIPText.message(
                    requestLines("INVITE", requestURI, retryVia, to, cseq)
                        + [contact, credentials, agent, Self.allow, "Content-Type: application/sdp"], body: offer))
            answerInvite(retryVia, cseq)
        } else {
            let via = "Via: SIP/2.0/UDP \(client.hostPort);branch=\(branch());rport"
            send(
                SIPText.message(
                    requestLines("INVITE", requestURI, via, to, cseq)
                        + [contact, agent, Self.allow, "Supported: replaces, timer", "Content-Type: application/sdp"],
                    body: offer))
            answerInvite(via, cseq)
        }

        let ackURI = "sip:\(callee)@\(server.hostPort)"
        send(
            SIPText.message(
                requestLines("ACK", ackURI, "Via: SIP/2.0/UDP \(client.hostPort);branch=\(branch());rport", answeredTo, cseq)
                    + [agent]))
        let byeVia = "Via: SIP/2.0/UDP \(client.hostPort);branch=\(branch());rport"
        send(SIPText.message(requestLines("BYE", ackURI, byeVia, answeredTo, cseq + 1) + [agent]))
        answer(SIPText.message(responseLines("200 OK", byeVia, answeredTo, cseq + 1, "BYE") + [Self.serverAgent]))
        return Scenario(datagrams)
    }

    /// OPTIONS and its 200 OK: a phone or trunk checking the server, or the server qualifying a phone.
    mutating func optionsPing() -> Scenario {
        let client = clientEndpoint()
        let server = Self.serverEndpoint(for: client)
        let fromServer = random.chance(1, in: 2)
        let (asker, answerer) = fromServer ? (server, client) : (client, server)
        let user = extensionNumber()
        let fromTag = tag()
        let callID = callID(asker.address)
        let via = "Via: SIP/2.0/UDP \(asker.hostPort);branch=\(branch())"
        let uri = fromServer ? "sip:\(user)@\(client.hostPort)" : "sip:\(Self.domain)"
        let from = fromServer ? "From: <sip:qualify@\(Self.domain)>;tag=\(fromTag)" : "From: <sip:\(user)@\(Self.domain)>;tag=\(fromTag)"
        let to = "To: <\(uri)>"
        let agent = fromServer ? "User-Agent: ExamplePBX 7.3" : "User-Agent: " + userAgent()
        let request = SIPText.message([
            "OPTIONS \(uri) SIP/2.0", via, "Max-Forwards: 70", from, to, "Call-ID: \(callID)", "CSeq: 1 OPTIONS",
            "Accept: application/sdp", agent,
        ])
        let response = SIPText.message([
            "SIP/2.0 200 OK", via, from, to + ";tag=\(tag())", "Call-ID: \(callID)", "CSeq: 1 OPTIONS", Self.allow,
            "Accept: application/sdp", fromServer ? "Server: " + userAgent() : Self.serverAgent,
        ])
        return Scenario([
            Datagram(source: asker, destination: answerer, payload: request),
            Datagram(source: answerer, destination: asker, payload: response),
        ])
    }

    /// A NATed phone's CRLF keep-alive (RFC 5626 §3.5.1).
    mutating func keepAlive() -> Scenario {
        let client = clientEndpoint()
        return Scenario([Datagram(source: client, destination: Self.serverEndpoint(for: client), payload: Array("\r\n\r\n".utf8))])
    }

    // MARK: - SDP

    mutating func sdpOffer(user: String, address: NetworkAddress) -> String {
        let session = random.next(in: 1000...999_999)
        var formats = ["0", "8"]
        var attributes = ["a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000"]
        if random.chance(1, in: 2) {
            formats.insert("9", at: 0)
            attributes.insert("a=rtpmap:9 G722/8000", at: 0)
        }
        if random.chance(1, in: 3) {
            formats.insert("111", at: 0)
            attributes.insert("a=rtpmap:111 opus/48000/2", at: 0)
        }
        formats.append("101")
        attributes += ["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=ptime:20", "a=sendrecv"]
        return SIPText.sdp(
            [
                "v=0", "o=\(user) \(session) \(session) IN \(address.sdpAddress)", "s=call", "c=IN \(address.sdpAddress)",
                "t=0 0", "m=audio \(random.next(in: 8000...32767) & ~1) RTP/AVP \(formats.joined(separator: " "))",
            ] + attributes)
    }

    mutating func sdpAnswer(address: NetworkAddress) -> String {
        let session = random.next(in: 1000...999_999)
        return SIPText.sdp([
            "v=0", "o=pbx \(session) \(session + 1) IN \(address.sdpAddress)", "s=pbx", "c=IN \(address.sdpAddress)",
            "t=0 0", "m=audio \(random.next(in: 10000...20000) & ~1) RTP/AVP 8 101", "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=ptime:20", "a=sendrecv",
        ])
    }
}

extension String {
    /// A Via line as the server echoes it: `rport` filled in with the port the request came from.
    func replacingRport(with port: UInt16) -> String {
        guard hasSuffix(";rport") else { return self }
        return self + "=\(port)"
    }
}
