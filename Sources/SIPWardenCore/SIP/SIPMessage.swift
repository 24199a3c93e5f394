/// What the classifier read from one SIP message: offsets into the message bytes, numbers and flags.
///
/// A fixed-size value with no references, so classifying allocates nothing.
public struct SIPMessage: Sendable {
    public enum Kind: String, Sendable { case request, response, unknown }

    public var kind: Kind = .unknown
    public var method: SIPMethod = .none
    /// The request's method token exactly as sent.
    public var methodToken: ByteRange = .absent
    public var requestURI = SIPURI()
    public var status: UInt16 = 0
    public var reason: ByteRange = .absent
    public var via = Via()
    public var from = NameAddress()
    public var to = NameAddress()
    public var callID: ByteRange = .absent
    public var cseq = CSeq()
    public var maxForwards: UInt32?
    /// The first Contact value.
    public var contact = NameAddress()
    /// Whether the Contact is the `*` wildcard (a REGISTER removing all bindings).
    public var contactIsWildcard = false
    /// A REFER's transfer target (RFC 3515): the number a PBX that honours the transfer dials.
    public var referTo = NameAddress()
    /// User-Agent in requests, Server in responses (the first one present).
    public var userAgent: ByteRange = .absent
    public var contentLength: UInt32?
    public var contentType: ByteRange = .absent
    public var expires: UInt32?
    /// Authorization or Proxy-Authorization credentials (the first present).
    public var authorization = DigestFields()
    /// WWW-Authenticate or Proxy-Authenticate challenge (the first present).
    public var challenge = DigestFields()
    public var body: ByteRange = .absent
    /// Whether an SDP body carries an `a=crypto` line with an `inline:` key (SDES keys in clear).
    public var sdpHasInlineKey = false
    public var headerCount: UInt16 = 0
    /// Where the message ends (after its body); later bytes are trailing data.
    public var end: UInt32 = 0
    public var anomalies: SIPAnomalies = []

    public var isMalformed: Bool { anomalies.isMalformed }
    public var isRequest: Bool { kind == .request }
    public var isResponse: Bool { kind == .response }
    /// The user a request targets: a REGISTER's To user (the Request-URI names the registrar's domain
    /// only), any other request's Request-URI user.
    public var targetUser: ByteRange { method == .register ? to.uri.user : requestURI.user }

    public init() {}
}

/// The parts of a URI the detectors use.
public struct SIPURI: Sendable, Equatable {
    public var whole: ByteRange = .absent
    public var scheme: ByteRange = .absent
    /// The user part (for `tel:`, the number).
    public var user: ByteRange = .absent
    public var host: ByteRange = .absent
    /// The port, or 0 when none is given.
    public var port: UInt16 = 0
    public init() {}
}

/// A From, To or Contact value: display name, URI and tag.
public struct NameAddress: Sendable, Equatable {
    public var displayName: ByteRange = .absent
    public var uri = SIPURI()
    public var tag: ByteRange = .absent
    public var isPresent = false
    public init() {}
}

/// The topmost Via value, and how many Via values the message carries.
public struct Via: Sendable, Equatable {
    public var count: UInt16 = 0
    public var transport: ByteRange = .absent
    /// host[:port] as sent.
    public var sentBy: ByteRange = .absent
    public var host: ByteRange = .absent
    public var port: UInt16 = 0
    public var branch: ByteRange = .absent
    /// Whether `rport` is present (with or without a value).
    public var hasRport = false
    public var received: ByteRange = .absent
    public init() {}
}

/// CSeq: sequence number and method.
public struct CSeq: Sendable, Equatable {
    public var number: UInt32 = 0
    public var method: SIPMethod = .none
    public var methodToken: ByteRange = .absent
    public init() {}
}

/// The parameters of a Digest credential (Authorization) or challenge (WWW-Authenticate), quotes removed.
public struct DigestFields: Sendable, Equatable {
    public var isPresent = false
    /// From Proxy-Authorization or Proxy-Authenticate rather than the WWW forms.
    public var isProxy = false
    public var scheme: ByteRange = .absent
    public var username: ByteRange = .absent
    public var realm: ByteRange = .absent
    public var nonce: ByteRange = .absent
    public var uri: ByteRange = .absent
    public var response: ByteRange = .absent
    public var qop: ByteRange = .absent
    public var nc: ByteRange = .absent
    public var cnonce: ByteRange = .absent
    public var algorithm: ByteRange = .absent
    public var opaque: ByteRange = .absent
    /// A challenge's `stale=true`: the credentials it answers were right, only their nonce had expired.
    public var isStale = false
    /// Credentials only: the username of the first other Authorization or Proxy-Authorization header
    /// that names another user (`SIPAnomalies.rivalCredentials`), absent when none does.
    public var rivalUsername: ByteRange = .absent
    public init() {}
}

/// Size limits above which a field or message is flagged oversize (defaults follow Kamailio's sanity module).
public struct ClassifierLimits: Sendable, Equatable {
    public var uriLength = 256
    public var callIDLength = 256
    public var headerLength = 8 * 1024
    public var messageLength = 16 * 1024
    public init() {}
    public static let standard = ClassifierLimits()
}
