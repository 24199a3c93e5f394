import Testing

@testable import SIPWardenCore

@Suite struct ClassifierTests {
    static func message(
        _ headers: String, startLine: String = "INVITE sip:100@pbx.example.com SIP/2.0", body: String = ""
    )
        -> String
    {
        "\(startLine)\r\n\(headers.split(separator: "\n").joined(separator: "\r\n"))\r\n\r\n\(body)"
    }

    static let base = """
        Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1;rport
        From: "Alice" <sip:alice@example.com>;tag=a1
        To: <sip:100@pbx.example.com>
        Call-ID: c1@192.0.2.10
        CSeq: 1 INVITE
        Max-Forwards: 70
        Contact: <sip:alice@192.0.2.10:5062>
        User-Agent: Phone/1.0
        Content-Length: 0
        """

    @Test func fullFormFields() {
        let c = Classified(Self.message(Self.base))
        #expect(c.message.kind == .request)
        #expect(c.message.method == .invite)
        #expect(c.anomalyNames.isEmpty)
        #expect(c.text(c.message.requestURI.user) == "100")
        #expect(c.text(c.message.requestURI.host) == "pbx.example.com")
        #expect(c.text(c.message.via.transport) == "UDP")
        #expect(c.text(c.message.via.sentBy) == "192.0.2.10:5062")
        #expect(c.message.via.port == 5062)
        #expect(c.text(c.message.via.branch) == "z9hG4bK-1")
        #expect(c.message.via.hasRport)
        #expect(c.text(c.message.from.displayName) == "Alice")
        #expect(c.text(c.message.from.uri.user) == "alice")
        #expect(c.text(c.message.from.tag) == "a1")
        #expect(c.text(c.message.to.uri.user) == "100")
        #expect(c.message.to.tag.isEmpty)
        #expect(c.text(c.message.callID) == "c1@192.0.2.10")
        #expect(c.message.cseq.number == 1)
        #expect(c.message.maxForwards == 70)
        #expect(c.text(c.message.contact.uri.host) == "192.0.2.10")
        #expect(c.message.contact.uri.port == 5062)
        #expect(c.text(c.message.userAgent) == "Phone/1.0")
        #expect(c.message.contentLength == 0)
    }

    @Test func compactFormsGiveTheSameFields() {
        let compact = """
            v: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1;rport
            f: "Alice" <sip:alice@example.com>;tag=a1
            t: <sip:100@pbx.example.com>
            i: c1@192.0.2.10
            CSeq: 1 INVITE
            m: <sip:alice@192.0.2.10:5062>
            c: application/sdp
            l: 0
            """
        let c = Classified(Self.message(compact))
        #expect(c.anomalyNames.isEmpty)
        #expect(c.text(c.message.via.branch) == "z9hG4bK-1")
        #expect(c.text(c.message.from.tag) == "a1")
        #expect(c.text(c.message.to.uri.user) == "100")
        #expect(c.text(c.message.callID) == "c1@192.0.2.10")
        #expect(c.text(c.message.contact.uri.user) == "alice")
        #expect(c.text(c.message.contentType) == "application/sdp")
        #expect(c.message.contentLength == 0)
    }

    /// A REFER's transfer target (RFC 3515), long or compact, an attended transfer's `?Replaces=` header
    /// inside the brackets; a second Refer-To is a duplicate.
    @Test(arguments: [
        ("Refer-To: <sip:+881655501234@pbx.example.com>", "+881655501234", false),
        ("r: <sip:2087@pbx.example.com?Replaces=12345%40192.0.2.4%3Bto-tag%3D1>", "2087", false),
        ("REFER-TO: \"Bob\" <sip:bob@example.com>", "bob", false),
        ("Refer-To: <sip:200@pbx.example.com>\nRefer-To: <sip:300@pbx.example.com>", "200", true),
    ])
    func referTo(header: String, user: String, duplicate: Bool) {
        let headers = Self.base.replacingOccurrences(of: "CSeq: 1 INVITE", with: "CSeq: 1 REFER") + "\n" + header
        let c = Classified(Self.message(headers, startLine: "REFER sip:100@pbx.example.com SIP/2.0"))
        #expect(c.message.method == .refer)
        #expect(c.text(c.message.referTo.uri.user) == user)
        #expect(c.message.anomalies.contains(.duplicateHeader) == duplicate)
        #expect(c.message.isMalformed == duplicate)
    }

    /// Case, compact form and white space before the colon (a tab is a control byte: the colon is then
    /// looked for after the line is read, not with it).
    @Test(arguments: ["VIA", "via", "vIa", "V", "Via ", "Via\t", "Via \t "])
    func headerNamesIgnoreCase(name: String) {
        let headers = Self.base.replacingOccurrences(of: "Via:", with: "\(name):")
        let c = Classified(Self.message(headers))
        #expect(c.message.via.count == 1)
        #expect(c.text(c.message.via.branch) == "z9hG4bK-1")
    }

    /// The transport and the sent-by after it, whether the transport is three letters and a space (read
    /// without the token search) or anything else.
    @Test(arguments: [
        ("UDP 192.0.2.10", "UDP"), ("tls  192.0.2.10", "tls"), ("TCP\t192.0.2.10", "TCP"),
        ("SCTP 192.0.2.10", "SCTP"), ("WS 192.0.2.10", "WS"), ("U-P 192.0.2.10", "U-P"), ("UD1 192.0.2.10", "UD1"),
    ])
    func viaTransport(sentProtocol: String, transport: String) {
        let headers = Self.base.replacingOccurrences(of: "UDP 192.0.2.10", with: sentProtocol)
        let c = Classified(Self.message(headers))
        #expect(c.text(c.message.via.transport) == transport)
        #expect(c.text(c.message.via.sentBy) == "192.0.2.10:5062")
        #expect(c.text(c.message.via.branch) == "z9hG4bK-1")
    }

    /// RFC 3261 methods are case-sensitive, so "invite" is no INVITE; yet PJSIP, Kamailio and OpenSIPS
    /// act on it as one. It is read as the method it names (the detectors see the call it places) and
    /// flagged malformed; a name that is no known method in any case stays unknown.
    @Test(arguments: [("invite", SIPMethod.invite, true), ("Register", .register, true), ("INVITEX", .unknown, false)])
    func methodsInAnotherCaseAreReadAndFlagged(token: String, method: SIPMethod, flagged: Bool) {
        let c = Classified(
            Self.message(
                Self.base.replacingOccurrences(of: "1 INVITE", with: "1 \(token)"),
                startLine: "\(token) sip:100@pbx.example.com SIP/2.0"))
        #expect(c.message.method == method)
        #expect(c.message.cseq.method == method)
        #expect(c.method == token)
        #expect(c.message.anomalies.contains(.methodCase) == flagged)
        #expect(c.message.isMalformed == flagged)
    }

    @Test func foldedValuesAreRead() {
        let headers = Self.base
            .replacingOccurrences(of: "CSeq: 1 INVITE", with: "CSeq: 1\n   INVITE")
            .replacingOccurrences(
                of: "To: <sip:100@pbx.example.com>", with: "To:\n\t<sip:100@pbx.example.com>\n ;tag=t9")
        let c = Classified(Self.message(headers))
        #expect(c.anomalyNames.isEmpty)
        #expect(c.message.cseq.method == .invite)
        #expect(c.text(c.message.to.tag) == "t9")
    }

    @Test(arguments: [
        ("From: <sip:bob@example.com>;tag=b2", SIPAnomalies.duplicateHeader),
        ("To: <sip:200@pbx.example.com>", .duplicateHeader),
        ("Call-ID: other", .duplicateHeader),
        ("i: other", .duplicateHeader),
        ("CSeq: 2 INVITE", .duplicateHeader),
        ("Max-Forwards: 10", .duplicateHeader),
        ("Content-Length: 5", .conflictingContentLength),
        ("l: 0", .duplicateHeader),
    ])
    func duplicatedSingleValueHeaders(extra: String, flag: SIPAnomalies) {
        let c = Classified(Self.message(Self.base + "\n" + extra))
        #expect(c.message.anomalies.contains(flag))
        #expect(c.message.isMalformed)
    }

    @Test func repeatedMultiValueHeadersAreFine() {
        let headers =
            Self.base
            + "\nVia: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-2, SIP/2.0/TCP p2;branch=z9hG4bK-3\nContact: <sip:x@y>"
        let c = Classified(Self.message(headers))
        #expect(c.anomalyNames.isEmpty)
        #expect(c.message.via.count == 3)
        #expect(c.text(c.message.via.branch) == "z9hG4bK-1")
    }

    @Test(arguments: [
        ("Content-Length: -1", SIPAnomalies.badContentLength), ("Content-Length: abc", .badContentLength),
        ("Content-Length: 99999999999", .badContentLength), ("Content-Length: 10", .contentLengthExceedsPayload),
    ])
    func contentLengthProblems(header: String, flag: SIPAnomalies) {
        let c = Classified(Self.message(Self.base.replacingOccurrences(of: "Content-Length: 0", with: header)))
        #expect(c.message.anomalies.contains(flag))
        #expect(c.message.isMalformed)
    }

    @Test func bodyIsFramedByContentLength() {
        let body = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\n"
        let c = Classified(
            Self.message(
                Self.base.replacingOccurrences(
                    of: "Content-Length: 0", with: "Content-Type: application/sdp\nContent-Length: \(body.utf8.count)"),
                body: body))
        #expect(c.anomalyNames.isEmpty)
        #expect(c.text(c.message.body) == body)
        #expect(!c.message.sdpHasInlineKey)
    }

    @Test(arguments: [
        ("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n", true),
        ("a=crypto:1 AES_CM_128_HMAC_SHA1_80 dtls-keying\r\na=note inline:x\r\n", false),
        ("a=fingerprint:sha-256 AB:CD\r\n", false),
        ("s=my party\r\na=x-crypto:1 inline:k\r\na=crypto:2 AES_256_CM_HMAC_SHA1_80 inline:abc\r\n", true),
        ("s=my party\r\na=x-crypto:1 AES_CM_128_HMAC_SHA1_80 inline:k\r\n", false),
    ])
    func sdesKeysInClearAreSeen(line: String, expected: Bool) {
        let body = "v=0\r\nm=audio 4000 RTP/SAVP 0\r\n" + line
        let headers = Self.base.replacingOccurrences(
            of: "Content-Length: 0", with: "Content-Type: application/sdp\nContent-Length: \(body.utf8.count)")
        #expect(Classified(Self.message(headers, body: body)).message.sdpHasInlineKey == expected)
    }

    /// One credentials header per realm is allowed; a second naming another username is flagged (not
    /// malformed), and the first one's fields are kept.
    @Test(arguments: [("alice", false), ("bob", true)])
    func credentialsForTwoRealms(secondUsername: String, rival: Bool) {
        let c = Classified(
            Self.message(
                Self.base + "\nAuthorization: Digest username=\"alice\", realm=\"a\", nonce=\"n1\", response=\"r1\""
                    + "\nProxy-Authorization: Digest username=\"\(secondUsername)\", realm=\"b\", nonce=\"n2\", response=\"r2\""
            ))
        #expect(c.text(c.message.authorization.username) == "alice")
        #expect(c.text(c.message.authorization.realm) == "a")
        #expect(c.message.anomalies.contains(.rivalCredentials) == rival)
        #expect(!c.message.isMalformed)
    }

    @Test func digestCredentialsAndChallenges() {
        let request = Classified(
            Self.message(
                Self.base
                    + "\nProxy-Authorization: Digest username=\"alice\", realm=\"pbx\", nonce=\"n0nce\", uri=\"sip:100@pbx.example.com\", response=\"abcdef\", qop=auth, nc=00000001, cnonce=\"c0\", algorithm=MD5"
            ))
        let credentials = request.message.authorization
        #expect(credentials.isProxy)
        #expect(request.text(credentials.username) == "alice")
        #expect(request.text(credentials.realm) == "pbx")
        #expect(request.text(credentials.nonce) == "n0nce")
        #expect(request.text(credentials.uri) == "sip:100@pbx.example.com")
        #expect(request.text(credentials.response) == "abcdef")
        #expect(request.text(credentials.qop) == "auth")
        #expect(request.text(credentials.nc) == "00000001")
        #expect(request.text(credentials.cnonce) == "c0")
        #expect(request.text(credentials.algorithm) == "MD5")

        let response = Classified(
            Self.message(
                Self.base + "\nWWW-Authenticate: Digest realm=\"pbx\", nonce=\"xyz\", qop=\"auth\"\nServer: PBX/2",
                startLine: "SIP/2.0 401 Unauthorized"))
        #expect(response.message.kind == .response)
        #expect(response.message.status == 401)
        #expect(response.text(response.message.reason) == "Unauthorized")
        #expect(!response.message.challenge.isProxy)
        #expect(response.text(response.message.challenge.nonce) == "xyz")
        #expect(response.text(response.message.challenge.qop) == "auth")
        #expect(response.text(response.message.userAgent) == "PBX/2")
    }

    /// `stale` (RFC 7616: the credentials were right, their nonce expired) in any case, quoted or not.
    @Test(arguments: [
        ("stale=TRUE", true), ("stale=true", true), ("Stale=\"true\"", true), ("stale=FALSE", false),
        ("stale=truer", false), ("opaque=\"true\"", false),
    ])
    func aStaleChallengeIsRecognised(parameter: String, isStale: Bool) {
        let response = Classified(
            Self.message(
                Self.base + "\nWWW-Authenticate: Digest realm=\"pbx\", nonce=\"xyz\", \(parameter), qop=\"auth\"",
                startLine: "SIP/2.0 401 Unauthorized"))
        #expect(response.message.challenge.isStale == isStale)
        #expect(response.text(response.message.challenge.qop) == "auth")
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: pbx\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n",
        "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}\u{01}\u{fc}\u{03}\u{03}", "SSH-2.0-OpenSSH_9.2\r\n",
        "hello world, this is not SIP\r\n\r\n",
    ])
    func otherProtocolsAreNotSIP(payload: String) {
        let c = Classified(payload)
        #expect(c.message.kind == .unknown)
        #expect(c.message.anomalies.contains(.notSIP))
        #expect(c.message.isMalformed)
    }

    @Test(arguments: [[UInt8]("\r\n\r\n"), [UInt8]("\r\n"), [0, 0, 0, 0], [UInt8]("hello"), [UInt8]("     ")])
    func keepAlivesAreRecognised(payload: [UInt8]) {
        let c = Classified(payload)
        #expect(c.message.anomalies == .keepAlive)
        #expect(!c.message.isMalformed)
    }

    @Test func stunBindingIsAKeepAlive() {
        let stun: [UInt8] = [0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42] + [UInt8](repeating: 7, count: 12)
        #expect(Classified(stun).message.anomalies == .keepAlive)
    }

    @Test func controlBytesInHeadersAreFlagged() {
        let c = Classified(Self.message(Self.base.replacingOccurrences(of: "Phone/1.0", with: "Phone\u{0}1.0")))
        #expect(c.message.anomalies.contains(.controlCharacters))
    }

    @Test func limitsAreConfigurable() {
        var limits = ClassifierLimits()
        limits.callIDLength = 8
        #expect(Classified([UInt8](Self.message(Self.base)), limits: limits).message.anomalies.contains(.oversizeField))
        #expect(!Classified(Self.message(Self.base)).message.anomalies.contains(.oversizeField))
    }

    @Test func leadingLineBreaksBeforeTheStartLineAreIgnored() {
        #expect(Classified("\r\n\r\n" + Self.message(Self.base)).anomalyNames.isEmpty)
    }

    /// Bad input of every shape is a classification, never a crash.
    @Test(arguments: [
        [UInt8](), [UInt8](repeating: 0, count: 1500), [UInt8](repeating: 0, count: 65535),
        [UInt8](repeating: UInt8(ascii: "A"), count: 65535), Array([UInt8](Self.message(Self.base)).prefix(40)),
        [UInt8]("INVITE sip:a SIP/2.0\r\nVia: \"\r\nFrom: <\r\nTo: \"x\r\nContact: <sip:\r\nCSeq: 99999999999999\r\n"),
    ])
    func badInputIsAValue(bytes: [UInt8]) {
        let c = Classified(bytes)
        #expect(c.message.isMalformed || c.message.anomalies.contains(.keepAlive))
    }

    @Test func sixtyFourKilobyteMessageIsOversize() {
        let padding = "X-Pad: " + String(repeating: "p", count: 65000)
        let c = Classified(Self.message(Self.base + "\n" + padding))
        #expect(c.message.anomalies.contains(.oversizeMessage))
        #expect(c.message.method == .invite)
    }

    /// A control byte inside a word is flagged but does not end the word: only white space, `;` and `,` do.
    @Test func aControlByteInsideAParameterValueStaysInTheValue() {
        let headers = Self.base.replacingOccurrences(of: "branch=z9hG4bK-1;", with: "branch=z9hG4bK\u{01}-1;")
        let c = Classified(Self.message(headers))
        #expect(c.text(c.message.via.branch) == "z9hG4bK\u{01}-1")
        #expect(c.message.via.hasRport)
        #expect(c.message.anomalies.contains(.controlCharacters))
    }

    /// The version is the request line's last word however it is spaced or spelt: the common " SIP/2.0"
    /// ending is found by one comparison, every other shape by the scan back.
    @Test(arguments: [
        ("INVITE sip:100@pbx.example.com SIP/2.0", "sip:100@pbx.example.com", SIPAnomalies()),
        ("INVITE sip:100@pbx.example.com sip/2.0", "sip:100@pbx.example.com", SIPAnomalies()),
        ("INVITE sip:100@pbx.example.com  SIP/2.0", "sip:100@pbx.example.com", .badStartLine),
        ("INVITE sip:100@pbx.example.com\tSIP/2.0", "sip:100@pbx.example.com", SIPAnomalies()),
        ("INVITE sip:100@pbx.example.com SIP/2.0 ", "sip:100@pbx.example.com", .badStartLine),
        ("INVITE sip:100@pbx.example.com SIP/2.1", "sip:100@pbx.example.com", .badVersion),
        ("INVITE sip:100@pbx.example.com XSIP/2.0", "", .notSIP),
        ("INVITE  SIP/2.0", "", .badRequestURI),
    ])
    func requestLineVersionIsTheLastWord(startLine: String, uri: String, anomalies: SIPAnomalies) {
        let c = Classified(Self.message(Self.base, startLine: startLine))
        #expect(c.text(c.message.requestURI.whole) == uri)
        #expect(c.message.anomalies.intersection([.badStartLine, .badVersion, .notSIP, .badRequestURI]) == anomalies)
    }

    /// A URI's scheme decides how the rest is read: "sip:" in any case is found by one comparison, every
    /// other scheme by the scan to its colon; only sip and sips have a user and a host, tel has a number.
    @Test(arguments: [
        ("sip:100@pbx.example.com", "sip", "100", "pbx.example.com", false),
        ("SIP:100@pbx.example.com", "SIP", "100", "pbx.example.com", false),
        ("sips:100@pbx.example.com:5061", "sips", "100", "pbx.example.com", false),
        ("sipx:100@pbx.example.com", "sipx", "", "", false),
        ("tel:+4930123;phone-context=example.com", "tel", "+4930123", "", false),
        ("sip:", "sip", "", "", true),
    ])
    func requestURISchemeDecidesHowTheRestIsRead(
        uri: String, scheme: String, user: String, host: String, isBad: Bool
    ) {
        let c = Classified(Self.message(Self.base, startLine: "INVITE \(uri) SIP/2.0"))
        #expect(c.text(c.message.requestURI.scheme) == scheme)
        #expect(c.text(c.message.requestURI.user) == user)
        #expect(c.text(c.message.requestURI.host) == host)
        #expect(c.message.anomalies.contains(.badRequestURI) == isBad)
    }

    /// White space just inside a name-addr's angle brackets is flagged, and the URI is read without it.
    @Test(arguments: ["<sip:alice@example.com>", "< sip:alice@example.com>", "<sip:alice@example.com\t>"])
    func nameAddressURIIsReadWithoutSurroundingWhiteSpace(value: String) {
        let c = Classified(Self.message(Self.base.replacingOccurrences(of: "<sip:alice@example.com>", with: value)))
        #expect(c.text(c.message.from.uri.whole) == "sip:alice@example.com")
        #expect(c.text(c.message.from.uri.user) == "alice")
        #expect(c.message.anomalies.contains(.badNameAddress) == (value != "<sip:alice@example.com>"))
    }

    /// Via values are counted and their parameters checked in the top value and every later one, with
    /// quoted strings (where a comma or semicolon is text) in either.
    @Test(arguments: [
        ("SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1;rport", 1, SIPAnomalies()),
        ("SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1, SIP/2.0/TCP proxy.example.com;branch=2", 2, SIPAnomalies()),
        ("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1,SIP/2.0/UDP b;branch=2 , SIP/2.0/UDP c;branch=3", 3, SIPAnomalies()),
        ("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1;;rport", 1, .emptyParameter),
        ("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1;", 1, .emptyParameter),
        ("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1; ,SIP/2.0/UDP b", 2, .emptyParameter),
        ("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1, SIP/2.0/UDP b;;x", 2, .emptyParameter),
        ("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1,,SIP/2.0/UDP b", 3, .emptyParameter),
        ("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1,", 2, .emptyParameter),
        ("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1;x=\"a,b;c\";rport", 1, SIPAnomalies()),
        ("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1;x=a\"b,c\";rport", 1, SIPAnomalies()),
        ("SIP/2.0/UDP \"192.0.2.10;branch=1,2\", SIP/2.0/UDP b", 2, SIPAnomalies()),
        ("SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1;x=\"a,b", 1, .unbalancedQuotes),
        ("SIP/2.0/UDP 192.0.2.10;branch=1, SIP/2.0/UDP b;x=\"c", 2, .unbalancedQuotes),
        ("SIP/2.0 UDP 192.0.2.10;;branch=1", 1, .emptyParameter),
        ("SIP/2.0/UDP 192.0.2.10 junk;;branch=1", 1, .emptyParameter),
    ])
    func viaValuesAndParameters(value: String, count: Int, anomalies: SIPAnomalies) {
        let top = "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1;rport"
        let headers = Self.base.replacingOccurrences(of: top, with: value)
        let c = Classified(Self.message(headers))
        #expect(c.message.via.count == count)
        #expect(c.message.anomalies.intersection([.emptyParameter, .unbalancedQuotes]) == anomalies)
    }

    /// A Via header with an unbalanced quote still counts, so the next Via header does not become the top one.
    @Test func viaAfterAnUnbalancedQuoteIsNotTheTopOne() {
        let headers = Self.base.replacingOccurrences(
            of: "branch=z9hG4bK-1;rport", with: "branch=z9hG4bK-1;x=\"c\nVia: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-2"
        )
        let c = Classified(Self.message(headers))
        #expect(c.text(c.message.via.branch) == "z9hG4bK-1")
        #expect(c.text(c.message.via.host) == "192.0.2.10")
        #expect(c.message.via.count == 2)
        #expect(c.message.anomalies.contains(.unbalancedQuotes))
    }

    /// CSeq's method is read for requests and responses alike; a request's must be its own.
    @Test(arguments: [
        ("INVITE sip:100@pbx.example.com SIP/2.0", "1 INVITE", SIPMethod.invite, false),
        ("INVITE sip:100@pbx.example.com SIP/2.0", "1 BYE", .bye, true),
        ("INVITE sip:100@pbx.example.com SIP/2.0", "1 invite", .invite, true),
        ("FOO sip:100@pbx.example.com SIP/2.0", "1 FOO", .unknown, false),
        ("SIP/2.0 200 OK", "1 INVITE", .invite, false),
        ("SIP/2.0 200 OK", "1 BYE", .bye, false),
        ("INVITE sip:100@pbx.example.com SIP/2.0", "1 INVITE ", .invite, false),
        ("INVITE sip:100@pbx.example.com SIP/2.0", "1 INVITEX", .unknown, true),
        ("INVITE sip:100@pbx.example.com SIP/2.0", "1 INVITe", .invite, true),
        ("BYE sip:100@pbx.example.com SIP/2.0", "1 BYE", .bye, false),
        ("REGISTER sip:pbx.example.com SIP/2.0", "1 REGISTER", .register, false),
        ("REGISTER sip:pbx.example.com SIP/2.0", "1 rEGISTER", .register, true),
        ("REGISTER sip:pbx.example.com SIP/2.0", "1 REGISTEr", .register, true),
        ("SUBSCRIBE sip:100@pbx.example.com SIP/2.0", "1 SUBSCRIBE", .subscribe, false),
    ])
    func cseqMethod(startLine: String, cseq: String, method: SIPMethod, mismatch: Bool) {
        let c = Classified(
            Self.message(
                Self.base.replacingOccurrences(of: "CSeq: 1 INVITE", with: "CSeq: " + cseq),
                startLine: startLine))
        #expect(c.message.cseq.method == method)
        #expect(c.message.anomalies.contains(.methodMismatch) == mismatch)
    }

    /// Header names are tokens: letters and digits, and the punctuation RFC 3261 allows in a token.
    @Test(arguments: [
        ("X-Trace.Id!%*_+`'~9", true), ("X-Trace[1]", false), ("X-Trace/1", false), ("X-Trace\"1", false),
        ("Allow-Events", true), ("X@Trace", false),
    ])
    func headerNamesMustBeTokens(name: String, isToken: Bool) {
        let c = Classified(Self.message(Self.base + "\n\(name): 1"))
        #expect(c.message.anomalies.contains(.badHeaderLine) == !isToken)
    }
}
