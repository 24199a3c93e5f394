/// What a classified message does wrong or oddly, as named flags.
///
/// The flags in `malformedSet` are those RFC 3261 and RFC 4475 say a receiver rejects; the others are
/// observations a detector may score (an oversize field, bytes after the body, a keep-alive).
public struct SIPAnomalies: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The SIP-Version is not SIP/2.0.
    public static let badVersion = SIPAnomalies(rawValue: 1 << 0)
    /// The request or status line cannot be split into its three parts with single spaces.
    public static let badStartLine = SIPAnomalies(rawValue: 1 << 1)
    /// The status code is not three digits from 100 to 699.
    public static let badStatusCode = SIPAnomalies(rawValue: 1 << 2)
    /// The Request-URI has angle brackets, whitespace, a header part, or no scheme.
    public static let badRequestURI = SIPAnomalies(rawValue: 1 << 3)
    /// The request method differs from the CSeq method.
    public static let methodMismatch = SIPAnomalies(rawValue: 1 << 4)
    /// One of Via, From, To, Call-ID, CSeq is missing.
    public static let missingHeader = SIPAnomalies(rawValue: 1 << 5)
    /// A header that takes one value (From, To, Call-ID, CSeq, Max-Forwards, Content-Type, …) appears twice.
    public static let duplicateHeader = SIPAnomalies(rawValue: 1 << 6)
    /// Content-Length is negative, not a number, or too large to represent.
    public static let badContentLength = SIPAnomalies(rawValue: 1 << 7)
    /// Two Content-Length values disagree.
    public static let conflictingContentLength = SIPAnomalies(rawValue: 1 << 8)
    /// Content-Length promises more body than the datagram carries.
    public static let contentLengthExceedsPayload = SIPAnomalies(rawValue: 1 << 9)
    /// The CSeq number is not a number below 2^32, or the CSeq method is missing.
    public static let badCSeq = SIPAnomalies(rawValue: 1 << 10)
    /// A quoted string never ends.
    public static let unbalancedQuotes = SIPAnomalies(rawValue: 1 << 11)
    /// An empty parameter or value (`;;`, `,,`) in Via, From, To or Contact.
    public static let emptyParameter = SIPAnomalies(rawValue: 1 << 12)
    /// NUL or another control byte in the header section, outside a quoted-pair.
    public static let controlCharacters = SIPAnomalies(rawValue: 1 << 13)
    /// A header line without a colon, or with an empty name.
    public static let badHeaderLine = SIPAnomalies(rawValue: 1 << 14)
    /// A From, To or Contact value whose angle brackets are missing, unclosed or padded with spaces.
    public static let badNameAddress = SIPAnomalies(rawValue: 1 << 15)
    /// An unquoted display name with characters that are not token characters. RFC 4475 §3.1.2.15 calls it
    /// invalid, but phones in the field send it (`From: \"name\" <sip:…>`), so it is tolerated.
    public static let badDisplayName = SIPAnomalies(rawValue: 1 << 30)
    /// The header section does not end with an empty line.
    public static let unterminatedHeaders = SIPAnomalies(rawValue: 1 << 16)
    /// The payload is not SIP: HTTP, TLS, binary or text that is no SIP start line.
    public static let notSIP = SIPAnomalies(rawValue: 1 << 17)
    /// A method (of the request line or CSeq) that names a known one in another case ("invite"): RFC 3261
    /// methods are case-sensitive, yet common servers act on it as the known one (toll fraud as "invite").
    public static let methodCase = SIPAnomalies(rawValue: 1 << 18)

    /// A Request-URI, From/To/Contact URI or Call-ID longer than the configured limit.
    public static let oversizeField = SIPAnomalies(rawValue: 1 << 24)
    /// A header line or the whole message longer than the configured limit.
    public static let oversizeMessage = SIPAnomalies(rawValue: 1 << 25)
    /// Bytes after the Content-Length body: ignored over UDP (RFC 3261 §18.3), or a second message.
    public static let trailingData = SIPAnomalies(rawValue: 1 << 26)
    /// A payload of at most 8 bytes (CRLF ping, NULs, spaces, "hello") or a STUN message, which NATed
    /// phones send to keep their binding open (RFC 5626).
    public static let keepAlive = SIPAnomalies(rawValue: 1 << 27)
    /// Max-Forwards or Expires beyond 2^32-1: tolerated, but a mark of fuzzers.
    public static let overlargeValue = SIPAnomalies(rawValue: 1 << 28)

    /// A Date header not in RFC 1123 form ending in "GMT" (RFC 3261 §20.17): liberal receivers tolerate it.
    public static let badDate = SIPAnomalies(rawValue: 1 << 29)

    /// Another Authorization or Proxy-Authorization header names another username (one per realm is
    /// allowed, RFC 3261 §22.3, and a phone whose outbound proxy and registrar know it by different
    /// names sends two): which one the server checks is its choice, so a guess can hide behind a decoy
    /// naming the sender's own account (`Engine.chargedAccount`).
    public static let rivalCredentials = SIPAnomalies(rawValue: 1 << 19)

    /// The flags that make a message malformed.
    public static let malformedSet = SIPAnomalies(rawValue: (1 << 19) - 1)

    public var isMalformed: Bool { !isDisjoint(with: .malformedSet) }

    /// Every flag with its name, in a stable order.
    public static let named: [(SIPAnomalies, String)] = [
        (.badVersion, "bad-version"), (.badStartLine, "bad-start-line"), (.badStatusCode, "bad-status-code"),
        (.badRequestURI, "bad-request-uri"), (.methodMismatch, "method-mismatch"),
        (.missingHeader, "missing-header"), (.duplicateHeader, "duplicate-header"),
        (.badContentLength, "bad-content-length"), (.conflictingContentLength, "conflicting-content-length"),
        (.contentLengthExceedsPayload, "content-length-exceeds-payload"), (.badCSeq, "bad-cseq"),
        (.unbalancedQuotes, "unbalanced-quotes"), (.emptyParameter, "empty-parameter"),
        (.controlCharacters, "control-characters"), (.badHeaderLine, "bad-header-line"),
        (.badNameAddress, "bad-name-address"), (.badDisplayName, "bad-display-name"),
        (.unterminatedHeaders, "unterminated-headers"), (.notSIP, "not-sip"), (.methodCase, "method-case"),
        (.oversizeField, "oversize-field"), (.oversizeMessage, "oversize-message"),
        (.trailingData, "trailing-data"), (.keepAlive, "keep-alive"), (.overlargeValue, "overlarge-value"),
        (.badDate, "bad-date"), (.rivalCredentials, "rival-credentials"),
    ]

    /// The names of the flags that are set, in a stable order.
    public var names: [String] { Self.named.filter { contains($0.0) }.map(\.1) }

    /// The flag with this name, for rule files and tests.
    public init?(name: String) {
        guard let flag = Self.named.first(where: { $0.1 == name }) else { return nil }
        self = flag.0
    }
}
