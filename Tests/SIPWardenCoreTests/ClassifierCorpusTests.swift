import Testing

@testable import SIPWardenCore

/// The classifier against messages nobody here wrote: RFC 4475 torture tests and RFC 3261/3665 flows.
@Suite struct ClassifierCorpusTests {
    static let torture = (try? Corpus.csv("torture/rfc4475/MANIFEST.csv")) ?? []

    /// What each RFC 4475 invalid message must be flagged with (the flag a classifier can see).
    static let expectedInvalidFlags: [String: SIPAnomalies] = [
        "badinv01": .emptyParameter, "clerr": .contentLengthExceedsPayload, "ncl": .badContentLength,
        "scalar02": [.badCSeq, .overlargeValue], "scalarlg": .badCSeq, "quotbal": .unbalancedQuotes,
        "ltgtruri": .badRequestURI, "lwsruri": .badRequestURI, "lwsstart": .badStartLine, "trws": .badStartLine,
        "escruri": .badRequestURI, "baddate": .badDate, "regbadct": .badNameAddress, "badaspec": .badNameAddress,
        "baddn": [.badDisplayName, .unterminatedHeaders], "badvers": .badVersion, "mismatch01": .methodMismatch,
        "mismatch02": .methodMismatch, "bigcode": .badStatusCode, "insuf": .missingHeader,
        "multi01": .duplicateHeader, "mcl01": .conflictingContentLength,
        "test": [.badStartLine, .badHeaderLine, .missingHeader],
    ]

    /// Liberal receivers accept these (RFC 4475 says "may"); the flag is still raised.
    static let toleratedInvalid: Set<String> = ["baddate"]

    static func name(_ row: [String: String]) -> String {
        String(row["file"]!.split(separator: "/").last!.dropLast(4))
    }

    @Test func manifestIsThere() {
        #expect(Self.torture.count == 50)
    }

    @Test(arguments: torture.filter { $0["rfc_verdict"] == "valid: must parse" })
    func validTortureMessagesAreWellFormed(row: [String: String]) throws {
        let classified = Classified(try Corpus.bytes("torture/rfc4475/\(row["file"]!)"))
        #expect(!classified.message.isMalformed, "\(row["file"]!): \(classified.anomalyNames)")
        #expect(classified.message.kind != .unknown)
    }

    @Test(arguments: torture.filter { $0["rfc_verdict"] == "invalid" || $0["group"] == "extra" })
    func invalidTortureMessagesAreFlagged(row: [String: String]) throws {
        let name = Self.name(row)
        let classified = Classified(try Corpus.bytes("torture/rfc4475/\(row["file"]!)"))
        let expected = try #require(Self.expectedInvalidFlags[name], "no expectation for \(name)")
        #expect(classified.message.anomalies.isSuperset(of: expected), "\(name): \(classified.anomalyNames)")
        #expect(classified.message.isMalformed != Self.toleratedInvalid.contains(name), "\(name)")
    }

    @Test(arguments: [
        ("3.1.1-valid/wsinv.dat", "INVITE", 0),
        ("3.1.1-valid/intmeth.dat", "!interesting-Method0123456789_*+`.%indeed'~", 0),
        ("3.1.1-valid/esc01.dat", "INVITE", 0), ("3.1.1-valid/escnull.dat", "REGISTER", 0),
        ("3.1.1-valid/esc02.dat", "RE%47IST%45R", 0), ("3.1.1-valid/lwsdisp.dat", "OPTIONS", 0),
        ("3.1.1-valid/longreq.dat", "INVITE", 0), ("3.1.1-valid/dblreq.dat", "REGISTER", 0),
        ("3.1.1-valid/semiuri.dat", "OPTIONS", 0), ("3.1.1-valid/transports.dat", "OPTIONS", 0),
        ("3.1.1-valid/mpart01.dat", "MESSAGE", 0), ("3.1.1-valid/unreason.dat", "", 200),
        ("3.1.1-valid/noreason.dat", "", 100), ("3.4-backward-compat/inv2543.dat", "INVITE", 0),
    ])
    func methodsAndStatuses(file: String, method: String, status: Int) throws {
        let classified = Classified(try Corpus.bytes("torture/rfc4475/\(file)"))
        #expect(classified.method == method)
        #expect(Int(classified.message.status) == status)
    }

    @Test func esc02IsAnUnknownMethodNotRegister() throws {
        let classified = Classified(try Corpus.bytes("torture/rfc4475/3.1.1-valid/esc02.dat"))
        #expect(classified.message.method == .unknown)
        #expect(classified.message.cseq.method == .unknown)
    }

    @Test func dblreqTrailingBytesAreNotASecondRequest() throws {
        let classified = Classified(try Corpus.bytes("torture/rfc4475/3.1.1-valid/dblreq.dat"))
        #expect(classified.message.method == .register)
        #expect(classified.message.body.isEmpty)
        #expect(classified.message.anomalies.contains(.trailingData))
        #expect(Int(classified.message.end) < classified.bytes.count)
    }

    @Test func wsinvFieldsThroughFoldingAndCompactForms() throws {
        let c = Classified(try Corpus.bytes("torture/rfc4475/3.1.1-valid/wsinv.dat"))
        #expect(c.text(c.message.to.uri.user) == "vivekg")
        #expect(c.text(c.message.to.tag) == "1918181833n")
        #expect(c.text(c.message.from.tag) == "98asjd8")
        #expect(c.message.maxForwards == 68)
        #expect(c.message.cseq.number == 9)
        #expect(c.message.cseq.method == .invite)
        #expect(c.message.via.count == 3)
        #expect(c.text(c.message.via.transport) == "UDP")
        #expect(c.text(c.message.via.branch) == "390skdjuw")
        #expect(c.message.contentLength == 150)
        #expect(c.message.body.count == 150)
        #expect(c.text(c.message.contact.uri.user) == "jdrosen")
    }

    @Test func intmethUserInfoAndQuotedPairs() throws {
        let c = Classified(try Corpus.bytes("torture/rfc4475/3.1.1-valid/intmeth.dat"))
        #expect(c.text(c.message.requestURI.user) == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        #expect(c.text(c.message.requestURI.host) == "example.com")
        #expect(!c.message.anomalies.contains(.controlCharacters))
    }

    static let flows =
        Corpus.files(in: "rfc-examples/rfc3665", suffix: ".sip")
        + Corpus.files(in: "rfc-examples/rfc3261", suffix: ".sip")

    @Test func flowCorpusIsThere() {
        #expect(Self.flows.count == 197)
    }

    /// The file name says what the message is: `…_F3_INVITE_…` or `…_F4_180_Ringing_…`.
    @Test(arguments: flows)
    func flowMessagesAreWellFormedWithTheirMethodOrStatus(file: String) throws {
        let c = Classified(try Corpus.bytes(file))
        let name = file.split(separator: "/").last!
        let label = name.split(separator: "_").drop { !$0.hasPrefix("F") || Int($0.dropFirst()) == nil }.dropFirst()
            .first!
        // One RFC 3665 file name gives the reason phrase without the code.
        if let status = Int(label) ?? (label == "Unauthorized" ? 401 : nil) {
            #expect(c.message.kind == .response, "\(name)")
            #expect(Int(c.message.status) == status, "\(name)")
        } else {
            #expect(c.message.kind == .request, "\(name)")
            #expect(c.method == String(label), "\(name)")
        }
        // RFC 3261 §24 prints "(SDP not shown)": Content-Length promises a body the file lacks.
        // RFC 3665 §3.10 F4 folds a Record-Route line without the leading white space folding needs.
        let tolerated: SIPAnomalies =
            file.contains("rfc3261")
            ? .contentLengthExceedsPayload
            : file.hasSuffix("s3.10_F4_INVITE_Proxy_2_Bob.sip") ? .badHeaderLine : []
        #expect(
            c.message.anomalies.subtracting(tolerated).intersection(.malformedSet).isEmpty, "\(name): \(c.anomalyNames)"
        )
        #expect(!c.message.callID.isEmpty)
        #expect(c.message.via.count >= 1)
        #expect(!c.message.from.uri.host.isEmpty || c.text(c.message.from.uri.scheme) == "tel")
        #expect(
            c.text(c.message.cseq.methodToken)
                == (c.message.kind == .request ? c.method : c.text(c.message.cseq.methodToken)))
    }

    @Test func registrationWithDigestFromRFC3665() throws {
        let file = try #require(Self.flows.first { $0.contains("2.1") && $0.contains("_F3_REGISTER") })
        let c = Classified(try Corpus.bytes(file))
        #expect(c.message.authorization.isPresent)
        #expect(c.text(c.message.authorization.scheme) == "Digest")
        #expect(!c.message.authorization.nonce.isEmpty)
        #expect(!c.message.authorization.username.isEmpty)
        #expect(!c.message.authorization.response.isEmpty)
    }
}
