import SIPWardenCore

/// One SIP transaction, written out as request and response text (RFC 3261 syntax).
struct Transaction {
    var method = "REGISTER"
    var user = "100"
    /// The Request-URI user (INVITE: the dialled number); REGISTER uses the domain only.
    var target = "100"
    var fromUser = "100"
    var callID = "call-1"
    var cseq = 1
    var userAgent = "Yealink SIP-T46U 108.86.0.45"
    var fromTag = "f1a2b3"
    /// The To tag, in requests within a dialog (an ACK to a 2xx carries the 2xx's).
    var toTag: String?
    var contactHost = "192.0.2.10"
    /// Digest credentials: (username, nonce, response, nc, cnonce); nc/cnonce nil for RFC 2069 style.
    var credentials: (username: String, nonce: String, response: String, nc: String?, cnonce: String?)?
    /// Further header lines, as written.
    var headers: [String] = []
    var body = ""

    static let domain = "pbx.example.com"

    /// A REGISTER for `user` from `host` by a softphone (a User-Agent no scanner list names).
    static func softphoneRegister(_ user: String, at host: String, callID: String) -> Transaction {
        var t = Transaction(user: user, target: user, fromUser: user, callID: callID, contactHost: host)
        t.userAgent = "Zoiper rv2.10"
        return t
    }

    /// Guess number `attempt` at user 100's password from `host`: a softphone's REGISTER whose credentials
    /// answer the nonce "k0", their nc counting up.
    static func guess(_ attempt: Int, at host: String) -> Transaction {
        var guess = softphoneRegister("100", at: host, callID: "g-\(attempt)")
        let nc = String(attempt + 1, radix: 16)
        guess.credentials = (
            "100", "k0", "guess-\(attempt)", String(repeating: "0", count: 8 - nc.count) + nc, "c\(attempt)"
        )
        return guess
    }

    /// Probe number `n` of a slow extension scan from `host`: a REGISTER for one of the extensions
    /// 100–999, visited out of order (37 apart), as svwar with a shuffled range sends them.
    static func probe(_ n: Int, from host: String) -> Transaction {
        let user = "\(100 + (n * 37) % 900)"
        return Transaction(user: user, target: user, fromUser: user, callID: "svwar-\(n)", contactHost: host)
    }

    /// SIPVicious' svmap probe from `host`: an OPTIONS to `user` with its User-Agent.
    static func svmap(to user: String = "100", from host: String, callID: String) -> Transaction {
        var probe = Transaction(
            method: "OPTIONS", user: user, target: user, fromUser: user, callID: callID, contactHost: host)
        probe.userAgent = "friendly-scanner"
        return probe
    }

    /// An INVITE from `user` at `host` (its Contact and Via) to `target`.
    static func invite(from user: String, at host: String, to target: String, callID: String) -> Transaction {
        Transaction(method: "INVITE", user: user, target: target, fromUser: user, callID: callID, contactHost: host)
    }

    var request: String {
        let uri = method == "REGISTER" ? "sip:\(Self.domain)" : "sip:\(target)@\(Self.domain)"
        let to = method == "REGISTER" ? "<sip:\(user)@\(Self.domain)>" : "<sip:\(target)@\(Self.domain)>"
        var lines = [
            "\(method) \(uri) SIP/2.0",
            "Via: SIP/2.0/UDP \(contactHost):5060;branch=z9hG4bK\(callID)\(cseq);rport",
            "Max-Forwards: 70",
            "From: <sip:\(fromUser)@\(Self.domain)>;tag=\(fromTag)",
            "To: \(to)" + (toTag.map { ";tag=\($0)" } ?? ""),
            "Call-ID: \(callID)",
            "CSeq: \(cseq) \(method)",
            "Contact: <sip:\(user)@\(contactHost):5060>",
            "User-Agent: \(userAgent)",
        ]
        if method == "REGISTER" { lines.append("Expires: 3600") }
        if let c = credentials {
            var value =
                "Digest username=\"\(c.username)\", realm=\"\(Self.domain)\", nonce=\"\(c.nonce)\", uri=\"\(uri)\", response=\"\(c.response)\", algorithm=MD5"
            if let nc = c.nc, let cnonce = c.cnonce { value += ", qop=auth, nc=\(nc), cnonce=\"\(cnonce)\"" }
            lines.append((method == "REGISTER" ? "Authorization: " : "Proxy-Authorization: ") + value)
        }
        lines += headers
        if !body.isEmpty { lines.append("Content-Type: application/sdp") }
        lines.append("Content-Length: \(body.utf8.count)")
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    /// The server's answer to `request`; a 401 or 407 challenges with `nonce`, marked stale when the
    /// request's credentials were right but answered an expired nonce.
    func response(_ status: Int, _ reason: String, nonce: String = "srvnonce", stale: Bool = false) -> String {
        let to = method == "REGISTER" ? "<sip:\(user)@\(Self.domain)>" : "<sip:\(target)@\(Self.domain)>"
        var lines = [
            "SIP/2.0 \(status) \(reason)",
            "Via: SIP/2.0/UDP \(contactHost):5060;branch=z9hG4bK\(callID)\(cseq);rport=5060",
            "From: <sip:\(fromUser)@\(Self.domain)>;tag=\(fromTag)",
            "To: \(to);tag=srv\(cseq)",
            "Call-ID: \(callID)",
            "CSeq: \(cseq) \(method)",
            "Server: TestPBX",
        ]
        // The server's side of a call it answers: its Contact names the number dialled (as chan_sip's).
        if method == "INVITE", (200..<300).contains(status) { lines.append("Contact: <sip:\(target)@\(Self.domain)>") }
        let challenge =
            "Digest realm=\"\(Self.domain)\", nonce=\"\(nonce)\", qop=\"auth\"" + (stale ? ", stale=TRUE" : "")
        if status == 401 { lines.append("WWW-Authenticate: \(challenge)") }
        if status == 407 { lines.append("Proxy-Authenticate: \(challenge)") }
        lines.append("Content-Length: 0")
        return lines.joined(separator: "\r\n") + "\r\n\r\n"
    }
}

/// Runs traffic through a `Replayer` as raw IP packets between clients and one protected server.
struct Harness {
    static let server = "198.51.100.1"
    static let serverV6 = "2001:db8:ffff::1"
    var replayer: Replayer
    var outcomes: [(source: String, outcome: PacketFilter.Outcome)] = []
    /// The next sequence number of each client's TCP connection to the server.
    var tcpSequences: [String: UInt32] = [:]
    var tcpPorts: [String: UInt16] = [:]

    init(rules: RuleSet = RuleSet()) {
        replayer = Replayer(rules: rules, servers: [IPAddress(Self.server)!, IPAddress(Self.serverV6)!])
    }

    static func packet(
        _ text: String, from source: String, to destination: String, sourcePort: UInt16, destinationPort: UInt16
    ) -> [UInt8] {
        let udp = PacketBuilder.udp(sourcePort: sourcePort, destinationPort: destinationPort, payload: [UInt8](text))
        return source.contains(":")
            ? PacketBuilder.ipv6(source: source, destination: destination, payload: udp)
            : PacketBuilder.ipv4(source: source, destination: destination, payload: udp)
    }

    /// A client's message to the server.
    @discardableResult
    mutating func send(_ text: String, from source: String, at seconds: Double) -> PacketFilter.Outcome {
        let server = source.contains(":") ? Self.serverV6 : Self.server
        let frame = Self.packet(text, from: source, to: server, sourcePort: 5060, destinationPort: 5060)
        return replay(frame, from: source, at: seconds)
    }

    /// A client's message to the server over its TCP connection, one segment after the other (IPv4), which
    /// the server's TCP acknowledges. A dropped segment's place takes the next message (as if it were
    /// this one sent again); when the filter has the connection reset, the client connects again from the
    /// next port (the server's SYN-ACK starts it).
    @discardableResult
    mutating func sendOverTCP(_ text: String, from source: String, at seconds: Double) -> PacketFilter.Outcome {
        let sequence = tcpSequences[source, default: 1000]
        let port = tcpPorts[source, default: 40000]
        let segment = PacketBuilder.tcp(sourcePort: port, sequence: sequence, payload: [UInt8](text.utf8))
        let outcome = replay(
            PacketBuilder.ipv4(source: source, destination: Self.server, protocol: 6, payload: segment), from: source,
            at: seconds)
        if outcome.resetsConnection {
            // A new connection, from the next port.
            let next = sequence &+ 1_000_000
            (tcpSequences[source], tcpPorts[source]) = (next, port &+ 1)
            let synAck = PacketBuilder.ipv4(
                source: Self.server, destination: source, protocol: 6,
                payload: PacketBuilder.tcp(
                    sourcePort: 5060, destinationPort: port &+ 1, acknowledgment: next, flags: 0x12, payload: []))
            _ = synAck.withUnsafeBytes { replayer.replay(frame: $0, linkType: .raw, at: Timestamp(seconds: seconds)) }
        } else if !outcome.decision.drops {
            // The server's TCP acknowledges what it got.
            let next = sequence &+ UInt32(text.utf8.count)
            tcpSequences[source] = next
            let ack = PacketBuilder.ipv4(
                source: Self.server, destination: source, protocol: 6,
                payload: PacketBuilder.tcp(
                    sourcePort: 5060, destinationPort: port, acknowledgment: next, flags: 0x10, payload: []))
            _ = ack.withUnsafeBytes { replayer.replay(frame: $0, linkType: .raw, at: Timestamp(seconds: seconds)) }
        }
        return outcome
    }

    mutating func replay(_ frame: [UInt8], from source: String, at seconds: Double) -> PacketFilter.Outcome {
        let outcome = frame.withUnsafeBytes {
            replayer.replay(frame: $0, linkType: .raw, at: Timestamp(seconds: seconds))
        }
        outcomes.append((source, outcome))
        return outcome
    }

    /// The server's message to a client.
    @discardableResult
    mutating func answer(_ text: String, to client: String, at seconds: Double) -> PacketFilter.Outcome {
        let server = client.contains(":") ? Self.serverV6 : Self.server
        let frame = Self.packet(text, from: server, to: client, sourcePort: 5060, destinationPort: 5060)
        return frame.withUnsafeBytes { replayer.replay(frame: $0, linkType: .raw, at: Timestamp(seconds: seconds)) }
    }

    /// The server registering with its upstream `provider` as acct123: its REGISTER, the provider's 401,
    /// its REGISTER with credentials, the provider's 200. Returns the outcomes of the provider's answers.
    @discardableResult
    mutating func registerWithUpstream(_ provider: String, at seconds: Double) -> [PacketFilter.Outcome] {
        var register = Transaction(
            user: "acct123", target: "acct123", fromUser: "acct123", callID: "up-reg", contactHost: Self.server)
        answer(register.request, to: provider, at: seconds)
        let challenge = send(
            register.response(401, "Unauthorized", nonce: "prov-n"), from: provider, at: seconds + 0.05)
        register.cseq += 1
        register.credentials = ("acct123", "prov-n", "r", "00000001", "c")
        answer(register.request, to: provider, at: seconds + 0.1)
        return [challenge, send(register.response(200, "OK"), from: provider, at: seconds + 0.15)]
    }

    /// The server's call out through `provider` from `caller` to `number`, and the provider's 100, 180
    /// and 200 to it; returns the outcomes of the provider's answers.
    mutating func callOut(
        through provider: String, from caller: String = "acct123", to number: String, callID: String,
        at seconds: Double
    ) -> [PacketFilter.Outcome] {
        let call = Transaction(
            method: "INVITE", user: caller, target: number, fromUser: caller, callID: callID, contactHost: Self.server)
        answer(call.request, to: provider, at: seconds)
        return [(100, "Trying"), (180, "Ringing"), (200, "OK")].map { status, reason in
            send(call.response(status, reason), from: provider, at: seconds + 0.02)
        }
    }

    /// A phone registering the usual way: REGISTER, 401, REGISTER with credentials, 200.
    mutating func register(user: String, from address: String, at seconds: Double, tag: String = "r") -> [PacketFilter
        .Outcome]
    {
        var t = Transaction(
            user: user, target: user, fromUser: user, callID: "reg-\(user)-\(address)-\(tag)", contactHost: address)
        let first = send(t.request, from: address, at: seconds)
        answer(t.response(401, "Unauthorized", nonce: "n-\(user)-\(tag)"), to: address, at: seconds + 0.01)
        t.cseq += 1
        t.credentials = (user, "n-\(user)-\(tag)", "resp-\(user)-\(tag)", "00000001", "c-\(user)-\(tag)")
        let second = send(t.request, from: address, at: seconds + 0.02)
        answer(t.response(200, "OK"), to: address, at: seconds + 0.03)
        return [first, second]
    }

    /// A phone with a wrong password trying to register: REGISTER, 401, REGISTER with credentials, 401.
    /// `attempt` names its transaction and nonces.
    mutating func failToRegister(user: String, from address: String, at seconds: Double, attempt: String) {
        var t = Transaction.softphoneRegister(user, at: address, callID: "fail-\(user)-\(attempt)")
        send(t.request, from: address, at: seconds)
        answer(t.response(401, "Unauthorized", nonce: "w-\(user)-\(attempt)"), to: address, at: seconds + 0.01)
        t.cseq += 1
        t.credentials = (user, "w-\(user)-\(attempt)", "wrong", "00000001", "c-\(attempt)")
        send(t.request, from: address, at: seconds + 0.02)
        answer(t.response(401, "Unauthorized", nonce: "x-\(user)-\(attempt)"), to: address, at: seconds + 0.03)
    }

    /// `phones` phones at `address`, extensions `first` on, with a wrong password: each fails to register
    /// (`failToRegister`) every `retry` seconds for `rounds` rounds from `start`, `spacing` apart within a
    /// round; `eachRound` runs after each round with its number.
    mutating func failingPhones(
        _ phones: Int, first: Int, at address: String, rounds: Int, retry: Double, from start: Double, spacing: Double,
        eachRound: (inout Harness, Int) -> Void = { _, _ in }
    ) {
        for round in 0..<rounds {
            for phone in 0..<phones {
                let at = start + Double(round) * retry + Double(phone) * spacing
                failToRegister(user: "\(first + phone)", from: address, at: at, attempt: "\(round)")
            }
            eachRound(&self, round)
        }
    }

    /// A registered phone's call: INVITE, 407, INVITE with credentials, 100/200, ACK, later BYE.
    mutating func call(from user: String, at address: String, to number: String, at seconds: Double, id: String)
        -> [PacketFilter.Outcome]
    {
        var t = Transaction(
            method: "INVITE", user: user, target: number, fromUser: user, callID: "call-\(id)", contactHost: address)
        var results = [send(t.request, from: address, at: seconds)]
        answer(t.response(407, "Proxy Authentication Required", nonce: "p-\(id)"), to: address, at: seconds + 0.01)
        var ack = t
        ack.method = "ACK"
        results.append(send(ack.request, from: address, at: seconds + 0.02))
        t.cseq += 1
        t.credentials = (user, "p-\(id)", "r-\(id)", "00000001", "c-\(id)")
        results.append(send(t.request, from: address, at: seconds + 0.03))
        answer(t.response(200, "OK"), to: address, at: seconds + 0.5)
        var bye = t
        bye.method = "BYE"
        bye.cseq += 1
        bye.credentials = nil
        results.append(send(bye.request, from: address, at: seconds + 30))
        return results
    }

    /// A call the server answers unchallenged (an IVR, an open PBX): INVITE, 200 OK 0.1 s later, and the
    /// caller's ACK with the 200's To tag, which gives its address good history.
    @discardableResult
    mutating func answeredCall(
        from user: String, at address: String, to number: String, callID: String, at seconds: Double
    ) -> Transaction {
        let call = Transaction.invite(from: user, at: address, to: number, callID: callID)
        send(call.request, from: address, at: seconds)
        answer(call.response(200, "OK"), to: address, at: seconds + 0.1)
        acknowledge(call, from: address, at: seconds + 0.15)
        return call
    }

    /// The caller's ACK to the server's 200 OK to `invite`, carrying the 200's To tag: for a call answered
    /// unchallenged (an IVR, an open PBX), what gives the caller's address good history.
    @discardableResult
    mutating func acknowledge(_ invite: Transaction, from address: String, at seconds: Double) -> PacketFilter.Outcome {
        var ack = invite
        ack.method = "ACK"
        ack.toTag = "srv\(invite.cseq)"
        ack.credentials = nil
        return send(ack.request, from: address, at: seconds)
    }

    /// Whether `address` keeps its service: it was never banned, and a call from `user` there at `seconds`
    /// goes through with none of its packets dropped.
    mutating func keepsItsService(_ address: String, user: String, at seconds: Double) -> Bool {
        let banned = bans.contains { $0.target.contains(IPAddress(address)!) }
        let call = call(from: user, at: address, to: "399", at: seconds, id: "service-\(address)-\(seconds)")
        return !banned && !call.contains { $0.decision.drops }
    }

    func drops(from source: String) -> Int {
        outcomes.filter { $0.source == source && $0.outcome.decision.drops }.count
    }

    var engine: Engine { replayer.engine }
    var bans: [BanRecord] { replayer.bans }
}

/// Counts nothing: the tests look at outcomes.
struct NoObserver: PacketObserver {
    mutating func observe(_ message: SIPMessage, in payload: UnsafeRawBufferPointer) {}
    mutating func reassembled() {}
}
