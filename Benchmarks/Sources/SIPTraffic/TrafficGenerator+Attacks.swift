extension TrafficGenerator {
    /// One hostile datagram: a malformed request, or something that is not SIP at all on the SIP port.
    mutating func singleAttack() -> Scenario {
        let client = clientEndpoint()
        let server = Self.serverEndpoint(for: client)
        let payload: [UInt8]
        switch random.next(below: 4) {
        case 0: payload = methodMismatch(from: client)
        case 1: payload = negativeContentLength(from: client)
        case 2: payload = httpGet(to: server)
        default: payload = tlsClientHello()
        }
        return Scenario([Datagram(source: client, destination: server, payload: payload)])
    }

    /// An INVITE whose CSeq names another method (RFC 3261 §8.1.1.5 says they must match).
    mutating func methodMismatch(from client: Endpoint) -> [UInt8] {
        let user = extensionNumber()
        return SIPText.message([
            "INVITE sip:\(extensionNumber())@\(Self.domain) SIP/2.0",
            "Via: SIP/2.0/UDP \(client.hostPort);branch=\(branch())",
            "Max-Forwards: 70",
            "From: <sip:\(user)@\(Self.domain)>;tag=\(tag())",
            "To: <sip:\(extensionNumber())@\(Self.domain)>",
            "Call-ID: \(callID(client.address))",
            "CSeq: 17 ACK",
            "Contact: <sip:\(user)@\(client.hostPort)>",
        ])
    }

    /// A REGISTER declaring a negative Content-Length.
    mutating func negativeContentLength(from client: Endpoint) -> [UInt8] {
        let user = extensionNumber()
        return SIPText.message(
            [
                "REGISTER sip:\(Self.domain) SIP/2.0",
                "Via: SIP/2.0/UDP \(client.hostPort);branch=\(branch())",
                "Max-Forwards: 70",
                "From: <sip:\(user)@\(Self.domain)>;tag=\(tag())",
                "To: <sip:\(user)@\(Self.domain)>",
                "Call-ID: \(callID(client.address))",
                "CSeq: 1 REGISTER",
                "Contact: <sip:\(user)@\(client.hostPort)>",
            ], contentLength: "-\(random.next(in: 1...999))")
    }

    /// A web scanner trying the SIP port.
    func httpGet(to server: Endpoint) -> [UInt8] {
        Array(
            "GET / HTTP/1.1\r\nHost: \(server.hostPort)\r\nUser-Agent: probe/0.9\r\nAccept: */*\r\nConnection: close\r\n\r\n"
                .utf8)
    }

    /// The start of a TLS 1.2/1.3 handshake (RFC 8446 §4.1.2) sent in clear to the plain SIP port.
    mutating func tlsClientHello() -> [UInt8] {
        var hello: [UInt8] = [0x03, 0x03]  // legacy_version TLS 1.2
        for _ in 0..<4 { hello += withUnsafeBytes(of: random.next()) { Array($0) } }  // random
        hello.append(32)  // legacy_session_id
        for _ in 0..<4 { hello += withUnsafeBytes(of: random.next()) { Array($0) } }
        let suites: [UInt16] = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0x009E]
        FrameBuilder.append16(UInt16(suites.count * 2), to: &hello)
        for suite in suites { FrameBuilder.append16(suite, to: &hello) }
        hello += [1, 0]  // compression: null only
        var extensions: [UInt8] = []
        let name = Array(Self.domain.utf8)
        // server_name
        FrameBuilder.append16(0x0000, to: &extensions)
        FrameBuilder.append16(UInt16(name.count + 5), to: &extensions)
        FrameBuilder.append16(UInt16(name.count + 3), to: &extensions)
        extensions.append(0)
        FrameBuilder.append16(UInt16(name.count), to: &extensions)
        extensions += name
        // supported_versions: TLS 1.3, TLS 1.2
        extensions += [0x00, 0x2B, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03]
        // supported_groups: x25519, secp256r1
        extensions += [0x00, 0x0A, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1D, 0x00, 0x17]
        FrameBuilder.append16(UInt16(extensions.count), to: &hello)
        hello += extensions

        var handshake: [UInt8] = [0x01, 0, UInt8(hello.count >> 8), UInt8(hello.count & 0xFF)]
        handshake += hello
        var record: [UInt8] = [0x16, 0x03, 0x01]
        FrameBuilder.append16(UInt16(handshake.count), to: &record)
        return record + handshake
    }

    /// A SIP scanner sweeping the server with OPTIONS, each answered by the server's 200 OK.
    mutating func scannerBurst() -> Scenario {
        let scanner = Endpoint(clientAddress(), UInt16(random.next(in: 10000...60999)))
        let server = Self.serverEndpoint(for: scanner)
        var datagrams: [Datagram] = []
        for _ in 0..<random.next(in: 40...160) {
            let user = String(random.next(in: 100...999))
            let via = "Via: SIP/2.0/UDP \(scanner.hostPort);branch=\(branch());rport"
            let from = "From: <sip:\(user)@\(scanner.address.uriHost)>;tag=\(tag())"
            let to = "To: <sip:\(user)@\(scanner.address.uriHost)>"
            let callID = "Call-ID: \(random.hex(24))"
            let request = SIPText.message([
                "OPTIONS sip:\(user)@\(server.address.uriHost) SIP/2.0", via, "Max-Forwards: 70", from, to, callID,
                "CSeq: 1 OPTIONS", "Contact: <sip:\(user)@\(scanner.hostPort)>", "Accept: application/sdp",
                "User-Agent: friendly-scanner",
            ])
            let response = SIPText.message([
                "SIP/2.0 200 OK", via.replacingRport(with: scanner.port) + ";received=\(scanner.address.text)", from,
                to + ";tag=\(tag())", callID, "CSeq: 1 OPTIONS", Self.allow, Self.serverAgent,
            ])
            datagrams.append(Datagram(source: scanner, destination: server, payload: request))
            datagrams.append(Datagram(source: server, destination: scanner, payload: response))
        }
        return Scenario(datagrams)
    }
}
