/// The state of one classification: the bytes, the result being filled, and which headers were seen.
///
/// Its readers are `mutating` even where they change only the message (`nameAddress`, `nextParameter`,
/// `recogniseMethod`): a non-mutating method called from a mutating one is handed a copy of the scanner,
/// as the compiler cannot tell that writes through `result` leave the scanner alone.
struct MessageScanner {
    let text: MessageBytes
    let limits: ClassifierLimits
    /// The result being filled, in the caller's storage: no copy of it is made.
    let result: UnsafeMutablePointer<SIPMessage>
    /// Single-value headers seen so far, to flag duplicates.
    var seen: SeenHeaders = []

    init(p: UnsafePointer<UInt8>, count: Int, limits: ClassifierLimits, into result: UnsafeMutablePointer<SIPMessage>) {
        text = MessageBytes(p: p, count: count)
        self.limits = limits
        self.result = result
    }

    /// The message being filled, read and changed where it lies.
    var message: SIPMessage {
        get { result.pointee }
        nonmutating _modify { yield &result.pointee }
    }

    struct SeenHeaders: OptionSet {
        let rawValue: UInt16
        static let from = SeenHeaders(rawValue: 1 << 0)
        static let to = SeenHeaders(rawValue: 1 << 1)
        static let callID = SeenHeaders(rawValue: 1 << 2)
        static let cseq = SeenHeaders(rawValue: 1 << 3)
        static let maxForwards = SeenHeaders(rawValue: 1 << 4)
        static let contentLength = SeenHeaders(rawValue: 1 << 5)
        static let contentType = SeenHeaders(rawValue: 1 << 6)
        static let expires = SeenHeaders(rawValue: 1 << 7)
        static let contact = SeenHeaders(rawValue: 1 << 8)
        static let userAgent = SeenHeaders(rawValue: 1 << 9)
        static let authorization = SeenHeaders(rawValue: 1 << 10)
        static let challenge = SeenHeaders(rawValue: 1 << 11)
        static let referTo = SeenHeaders(rawValue: 1 << 12)
    }

    var p: UnsafePointer<UInt8> { text.p }
    var count: Int { text.count }

    func flag(_ anomaly: SIPAnomalies) {
        message.anomalies.formUnion(anomaly)
    }

    // MARK: - The message

    mutating func scan() {
        if count > limits.messageLength { flag(.oversizeMessage) }
        if text.isKeepAlive() {
            message.anomalies = .keepAlive
            message.end = UInt32(truncatingIfNeeded: count)
            return
        }
        // RFC 3261 §7.5: CRLFs before the start line are ignored.
        var i = 0
        while i < count, p[i] == ByteClass.cr || p[i] == ByteClass.lf { i += 1 }
        let (startLineEnd, headersStart) = nextLine(from: i)
        startLine(i, startLineEnd)
        if message.anomalies.contains(.notSIP) {
            message.kind = .unknown
            return
        }
        let bodyStart = headers(from: headersStart)
        body(from: bodyStart)
        requiredHeaders()
    }

    // MARK: - Lines

    /// Finds the end of the line starting at `start`: returns where its content ends (before CR LF)
    /// and where the next line starts. Flags control bytes on the way, except in a quoted-pair.
    /// Inlined: it runs for every line, and so did the cost of calling it.
    @inline(__always)
    mutating func nextLine(from start: Int) -> (contentEnd: Int, next: Int) {
        var k = start
        while true {
            k = text.nextControlByte(from: k)
            // CR LF ends nearly every line: one two-byte comparison before the byte is told apart.
            if k &+ 1 < count, text.isCRLF(at: k) { return (k, k &+ 2) }
            guard k < count else { return (count, count) }
            switch p[k] {
            case ByteClass.lf:
                return (k > start && p[k - 1] == ByteClass.cr ? k - 1 : k, k + 1)
            case ByteClass.cr:  // without its LF
                flag(.controlCharacters)
            case ByteClass.tab:
                break
            default:
                if k == 0 || p[k - 1] != ByteClass.backslash { flag(.controlCharacters) }
            }
            k += 1
        }
    }

    // MARK: - Start line

    mutating func startLine(_ start: Int, _ end: Int) {
        if end &- start >= 4, text.equalsIgnoringCase(start, start &+ 4, "sip/") {
            statusLine(start, end)
        } else {
            requestLine(start, end)
        }
    }

    mutating func statusLine(_ start: Int, _ end: Int) {
        message.kind = .response
        var k = start
        // Nearly every status line starts "SIP/2.0 ": one comparison finds where the version ends.
        if end &- start > 7, p[start &+ 7] == ByteClass.space, text.equalsIgnoringCase(start, start &+ 7, "sip/2.0") {
            k = start &+ 7
        } else {
            while k < end, p[k] != ByteClass.space { k += 1 }
            if !text.equalsIgnoringCase(start, k, "sip/2.0") { flag(.badVersion) }
        }
        guard k < end else { return flag(.badStartLine) }
        // Extra spaces before the code are tolerated (RFC 3665 itself prints "SIP/2.0  486").
        while k < end, p[k] == ByteClass.space { k += 1 }
        let digitsStart = k
        var code: UInt64 = 0
        while k < end, ByteClass.isDigit(p[k]) {
            if k - digitsStart < 12 { code = code * 10 + UInt64(p[k] &- 0x30) }
            k += 1
        }
        guard k > digitsStart else { return flag(.badStartLine) }
        if k - digitsStart != 3 || code < 100 || code > 699 { flag(.badStatusCode) }
        message.status = code <= 999 ? UInt16(code) : 0
        if k < end {
            if p[k] != ByteClass.space { flag(.badStartLine) }
            message.reason = ByteRange(k + 1, end)
        }
    }

    mutating func requestLine(_ start: Int, _ end: Int) {
        var k = start
        k = text.tokenEnd(from: k, to: end)
        let methodEnd = k
        guard methodEnd > start, k < end, p[k] == ByteClass.space else { return flag(.notSIP) }
        let rest = methodEnd &+ 1

        // The version is the last word; spaces after it or around the URI are extra. Nearly every request
        // line ends in " SIP/2.0": one comparison finds it without the scans back.
        var versionEnd = end
        var versionStart: Int
        if end &- rest >= 8, p[end &- 8] == ByteClass.space, text.equalsIgnoringCase(end &- 7, end, "sip/2.0") {
            versionStart = end &- 7
        } else {
            while versionEnd > rest, p[versionEnd - 1] == ByteClass.space || p[versionEnd - 1] == ByteClass.tab {
                versionEnd -= 1
            }
            versionStart = versionEnd
            while versionStart > rest, p[versionStart - 1] != ByteClass.space, p[versionStart - 1] != ByteClass.tab {
                versionStart -= 1
            }
        }
        var uriStart = rest
        var uriEnd = versionEnd
        if versionStart > rest {
            if versionEnd &- versionStart < 4 || !text.equalsIgnoringCase(versionStart, versionStart &+ 4, "sip/") {
                return flag(.notSIP)
            }
            if !text.equalsIgnoringCase(versionStart, versionEnd, "sip/2.0") { flag(.badVersion) }
            if versionEnd < end { flag(.badStartLine) }
            uriEnd = versionStart &- 1
        } else {
            // No version at all: SIP only if what follows the method is a URI.
            guard text.hasScheme(rest, versionEnd) else { return flag(.notSIP) }
            flag(.badStartLine)
        }
        if uriStart < uriEnd, p[uriStart] == ByteClass.space || p[uriEnd - 1] == ByteClass.space {
            flag(.badStartLine)
            uriStart = text.skipWhitespace(uriStart, uriEnd)
            while uriEnd > uriStart, p[uriEnd - 1] == ByteClass.space { uriEnd -= 1 }
        }

        message.kind = .request
        message.methodToken = ByteRange(start, methodEnd)
        message.method = recogniseMethod(start, methodEnd)

        if text.firstIndex(of: ByteClass.space, ByteClass.tab, ByteClass.tab, from: uriStart, to: uriEnd) < uriEnd {
            flag(.badRequestURI)
        }
        if uriStart < uriEnd, p[uriStart] == UInt8(ascii: "<") || p[uriEnd - 1] == UInt8(ascii: ">") {
            flag(.badRequestURI)
            uriStart += p[uriStart] == UInt8(ascii: "<") ? 1 : 0
            uriEnd -= p[uriEnd - 1] == UInt8(ascii: ">") ? 1 : 0
        }
        let (valid, hostEnd) = text.parseURI(uriStart, uriEnd, into: &message.requestURI)
        if !valid || text.hasHeaders(hostEnd, uriEnd) { flag(.badRequestURI) }
        if uriEnd &- uriStart > limits.uriLength { flag(.oversizeField) }
    }

    /// The method token at `start..<end`; a known name in another case is read as that method and flagged.
    mutating func recogniseMethod(_ start: Int, _ end: Int) -> SIPMethod {
        let method = SIPMethod.recognise(p, start, end)
        guard method == .unknown else { return method }
        let folded = SIPMethod.recognise(p, start, end, ignoringCase: true)
        if folded != .unknown { flag(.methodCase) }
        return folded
    }

    // MARK: - Headers

    /// Reads header lines up to the empty line; returns where the body starts.
    mutating func headers(from start: Int) -> Int {
        var i = start
        while i < count {
            let (colon, lineEnd, next) = headerLine(from: i)
            if lineEnd == i { return next }
            var valueEnd = lineEnd
            var following = next
            // Folded continuation lines start with white space.
            while following < count, ByteClass.isSpaceOrTab(p[following]) {
                (valueEnd, following) = nextLine(from: following)
            }
            if valueEnd &- i > limits.headerLength { flag(.oversizeMessage) }
            header(i, valueEnd, colon: colon)
            i = following
        }
        flag(.unterminatedHeaders)
        return count
    }

    /// Reads a header line as `nextLine` does, and where its colon is when that comes before any control
    /// byte (`Int.max` when it does not): within the line's first sixteen bytes, where nearly every name ends,
    /// one load finds both. Not an optional: testing and passing one cost more than the comparison with the
    /// line's end that tells a found colon.
    @inline(__always)
    mutating func headerLine(from start: Int) -> (colon: Int, contentEnd: Int, next: Int) {
        guard start &+ MessageBytes.Block.scalarCount <= count else {
            let (contentEnd, next) = nextLine(from: start)
            return (Int.max, contentEnd, next)
        }
        let (controlLane, colonLane) = text.firstControlByteAndColon(at: start)
        let (contentEnd, next) = nextLine(from: start &+ controlLane)
        return (colonLane < controlLane ? start &+ colonLane : Int.max, contentEnd, next)
    }

    /// Reads the header line `start..<end`: its name up to the colon (`knownColon` when the line's reading
    /// found it, which puts it before `end`), then its value when the name is one the later stages need.
    /// A call from the header loop: `@inline(__always)` left it one, and forced inline (`@_transparent`)
    /// it cost 144 instructions more per INVITE.
    mutating func header(_ start: Int, _ end: Int, colon knownColon: Int) {
        let colon = knownColon < end ? knownColon : text.firstIndex(of: UInt8(ascii: ":"), from: start, to: end)
        var nameEnd = colon
        while nameEnd > start, ByteClass.isSpaceOrTab(p[nameEnd &- 1]) { nameEnd &-= 1 }
        guard colon < end, nameEnd > start else { return flag(.badHeaderLine) }
        let value = colon + 1
        // A known name is a token by definition; any other name is checked.
        if !knownHeader(start, nameEnd, value, end), text.tokenEnd(from: start, to: nameEnd) < nameEnd {
            return flag(.badHeaderLine)
        }
        message.headerCount &+= 1
    }

    /// Reads the header if its name is one the later stages need; returns false for any other name.
    /// Inlined into `header`: one call less per header line.
    @inline(__always)
    mutating func knownHeader(_ start: Int, _ nameEnd: Int, _ value: Int, _ end: Int) -> Bool {
        let first = ByteClass.caseFolded(p[start])
        switch nameEnd &- start {
        case 1:
            switch first {
            case UInt8(ascii: "v"): via(value, end)
            case UInt8(ascii: "f"): from(value, end)
            case UInt8(ascii: "t"): to(value, end)
            case UInt8(ascii: "i"): callID(value, end)
            case UInt8(ascii: "m"): contact(value, end)
            case UInt8(ascii: "l"): contentLength(value, end)
            case UInt8(ascii: "c"): contentType(value, end)
            case UInt8(ascii: "r"): referTo(value, end)
            default: return false
            }
        case 2 where text.equalsIgnoringCase(start, nameEnd, "to"): to(value, end)
        case 3 where text.equalsIgnoringCase(start, nameEnd, "via"): via(value, end)
        case 4 where first == UInt8(ascii: "f") && text.equalsIgnoringCase(start, nameEnd, "from"): from(value, end)
        case 4 where first == UInt8(ascii: "c") && text.equalsIgnoringCase(start, nameEnd, "cseq"): cseq(value, end)
        case 4 where first == UInt8(ascii: "d") && text.equalsIgnoringCase(start, nameEnd, "date"): date(value, end)
        case 6 where text.equalsIgnoringCase(start, nameEnd, "server"):
            if message.kind == .response { userAgent(value, end) }
        case 7 where first == UInt8(ascii: "c") && text.equalsIgnoringCase(start, nameEnd, "call-id"):
            callID(value, end)
        case 7 where first == UInt8(ascii: "c") && text.equalsIgnoringCase(start, nameEnd, "contact"):
            contact(value, end)
        case 7 where first == UInt8(ascii: "e") && text.equalsIgnoringCase(start, nameEnd, "expires"):
            expires(value, end)
        case 8 where first == UInt8(ascii: "r") && text.equalsIgnoringCase(start, nameEnd, "refer-to"):
            referTo(value, end)
        case 10 where text.equalsIgnoringCase(start, nameEnd, "user-agent"):
            if message.kind == .request { userAgent(value, end) }
        case 12 where first == UInt8(ascii: "m") && text.equalsIgnoringCase(start, nameEnd, "max-forwards"):
            maxForwards(value, end)
        case 12 where first == UInt8(ascii: "c") && text.equalsIgnoringCase(start, nameEnd, "content-type"):
            contentType(value, end)
        case 13 where text.equalsIgnoringCase(start, nameEnd, "authorization"):
            credentials(value, end, isProxy: false)
        case 14 where text.equalsIgnoringCase(start, nameEnd, "content-length"): contentLength(value, end)
        case 16 where text.equalsIgnoringCase(start, nameEnd, "www-authenticate"): challenge(value, end, isProxy: false)
        case 18 where text.equalsIgnoringCase(start, nameEnd, "proxy-authenticate"):
            challenge(value, end, isProxy: true)
        case 19 where text.equalsIgnoringCase(start, nameEnd, "proxy-authorization"):
            credentials(value, end, isProxy: true)
        default: return false
        }
        return true
    }

    /// Marks a single-value header as seen; returns false (and flags it) when it was seen before.
    mutating func firstOccurrence(_ header: SeenHeaders) -> Bool {
        if seen.contains(header) {
            flag(.duplicateHeader)
            return false
        }
        seen.insert(header)
        return true
    }

    // MARK: - Body and completeness

    mutating func body(from start: Int) {
        var end = count
        if let declared = message.contentLength {
            if Int(declared) > count - start {
                flag(.contentLengthExceedsPayload)
            } else {
                end = start + Int(declared)
                var k = end
                while k < count, ByteClass.isWhitespace(p[k]) || p[k] == 0 { k += 1 }
                if k < count { flag(.trailingData) }
            }
        }
        message.body = ByteRange(start, end)
        message.end = UInt32(truncatingIfNeeded: end)
        if end > start, text.isSDPOrMultipart(message.contentType) {
            message.sdpHasInlineKey = text.hasInlineCryptoKey(start, end)
        }
    }

    mutating func requiredHeaders() {
        if message.via.count == 0 || !message.from.isPresent || !message.to.isPresent || message.callID.isEmpty
            || !seen.contains(.cseq)
        {
            flag(.missingHeader)
        }
    }

    // MARK: - Byte helpers

}
