#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The state of one classification: the bytes, the result being filled, and which headers were seen.
struct MessageScanner {
    let p: UnsafePointer<UInt8>
    let count: Int
    let limits: ClassifierLimits
    var message = SIPMessage()
    /// Single-value headers seen so far, to flag duplicates.
    var seen: SeenHeaders = []

    init(p: UnsafePointer<UInt8>, count: Int, limits: ClassifierLimits) {
        self.p = p
        self.count = count
        self.limits = limits
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
    }

    mutating func flag(_ anomaly: SIPAnomalies) {
        message.anomalies.formUnion(anomaly)
    }

    // MARK: - The message

    mutating func scan() {
        if count > limits.messageLength { flag(.oversizeMessage) }
        if isKeepAlive() {
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

    /// A NAT keep-alive: any payload of at most 8 bytes (RFC 5626 CRLF pings, and the NULs, spaces or
    /// "hello" some phones send; no SIP message is that short), or a STUN message (RFC 5389).
    func isKeepAlive() -> Bool {
        if count <= 8 { return true }
        // STUN (RFC 5389): two zero bits, a length that fits, and the magic cookie 0x2112A442.
        guard count >= 20, p[0] & 0xC0 == 0 else { return false }
        let length = Int(p[2]) << 8 | Int(p[3])
        return p[4] == 0x21 && p[5] == 0x12 && p[6] == 0xA4 && p[7] == 0x42 && length + 20 == count
    }

    // MARK: - Lines

    /// Finds the end of the line starting at `start`: returns where its content ends (before CR LF)
    /// and where the next line starts. Flags control bytes on the way, except in a quoted-pair.
    mutating func nextLine(from start: Int) -> (contentEnd: Int, next: Int) {
        var k = start
        while true {
            k = nextControlByte(from: k)
            guard k < count else { return (count, count) }
            switch p[k] {
            case ByteClass.lf:
                return (k > start && p[k - 1] == ByteClass.cr ? k - 1 : k, k + 1)
            case ByteClass.cr:
                if k + 1 < count, p[k + 1] == ByteClass.lf { return (k, k + 2) }
                flag(.controlCharacters)
            case ByteClass.tab:
                break
            default:
                if k == 0 || p[k - 1] != ByteClass.backslash { flag(.controlCharacters) }
            }
            k += 1
        }
    }

    /// The index of the next byte below 0x20 or equal to 0x7F, or `count`; eight bytes at a time.
    @inline(__always)
    func nextControlByte(from start: Int) -> Int {
        var k = start
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while k + 8 <= count {
            let word = UInt64(littleEndian: UnsafeRawPointer(p + k).loadUnaligned(as: UInt64.self))
            let below20 = (word &- ones &* 0x20) & ~word & highs
            let del = word ^ (ones &* 0x7F)
            let isDel = (del &- ones) & ~del & highs
            let hits = below20 | isDel
            if hits != 0 { return k + hits.trailingZeroBitCount / 8 }
            k += 8
        }
        while k < count {
            if p[k] < 0x20 || p[k] == 0x7F { return k }
            k += 1
        }
        return count
    }

    // MARK: - Start line

    mutating func startLine(_ start: Int, _ end: Int) {
        if end - start >= 4, equalsIgnoringCase(start, start + 4, "sip/") {
            statusLine(start, end)
        } else {
            requestLine(start, end)
        }
    }

    mutating func statusLine(_ start: Int, _ end: Int) {
        message.kind = .response
        var k = start
        while k < end, p[k] != ByteClass.space { k += 1 }
        if !equalsIgnoringCase(start, k, "sip/2.0") { flag(.badVersion) }
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
        while k < end, ByteClass.isToken(p[k]) { k += 1 }
        let methodEnd = k
        guard methodEnd > start, k < end, p[k] == ByteClass.space else { return flag(.notSIP) }
        let rest = methodEnd + 1

        // The version is the last word; spaces after it or around the URI are extra.
        var versionEnd = end
        while versionEnd > rest, p[versionEnd - 1] == ByteClass.space || p[versionEnd - 1] == ByteClass.tab {
            versionEnd -= 1
        }
        var versionStart = versionEnd
        while versionStart > rest, p[versionStart - 1] != ByteClass.space, p[versionStart - 1] != ByteClass.tab {
            versionStart -= 1
        }
        var uriStart = rest
        var uriEnd = versionEnd
        if versionStart > rest {
            if versionEnd - versionStart < 4 || !equalsIgnoringCase(versionStart, versionStart + 4, "sip/") {
                return flag(.notSIP)
            }
            if !equalsIgnoringCase(versionStart, versionEnd, "sip/2.0") { flag(.badVersion) }
            if versionEnd < end { flag(.badStartLine) }
            uriEnd = versionStart - 1
        } else {
            // No version at all: SIP only if what follows the method is a URI.
            guard hasScheme(rest, versionEnd) else { return flag(.notSIP) }
            flag(.badStartLine)
        }
        if uriStart < uriEnd, p[uriStart] == ByteClass.space || p[uriEnd - 1] == ByteClass.space {
            flag(.badStartLine)
            uriStart = skipWhitespace(uriStart, uriEnd)
            while uriEnd > uriStart, p[uriEnd - 1] == ByteClass.space { uriEnd -= 1 }
        }

        message.kind = .request
        message.methodToken = ByteRange(start, methodEnd)
        message.method = SIPMethod.recognise(p, start, methodEnd)

        for j in uriStart..<uriEnd where p[j] == ByteClass.space || p[j] == ByteClass.tab {
            flag(.badRequestURI)
            break
        }
        if uriStart < uriEnd, p[uriStart] == UInt8(ascii: "<") || p[uriEnd - 1] == UInt8(ascii: ">") {
            flag(.badRequestURI)
            uriStart += p[uriStart] == UInt8(ascii: "<") ? 1 : 0
            uriEnd -= p[uriEnd - 1] == UInt8(ascii: ">") ? 1 : 0
        }
        let (uri, valid, hasHeaders) = parseURI(uriStart, uriEnd)
        message.requestURI = uri
        if !valid || hasHeaders { flag(.badRequestURI) }
        if uriEnd - uriStart > limits.uriLength { flag(.oversizeField) }
    }

    // MARK: - Headers

    /// Reads header lines up to the empty line; returns where the body starts.
    mutating func headers(from start: Int) -> Int {
        var i = start
        while i < count {
            let (lineEnd, next) = nextLine(from: i)
            if lineEnd == i { return next }
            var valueEnd = lineEnd
            var following = next
            // Folded continuation lines start with white space.
            while following < count, p[following] == ByteClass.space || p[following] == ByteClass.tab {
                (valueEnd, following) = nextLine(from: following)
            }
            if valueEnd - i > limits.headerLength { flag(.oversizeMessage) }
            header(i, valueEnd)
            i = following
        }
        flag(.unterminatedHeaders)
        return count
    }

    mutating func header(_ start: Int, _ end: Int) {
        var k = start
        while k < end, ByteClass.isToken(p[k]) { k += 1 }
        let nameEnd = k
        while k < end, p[k] == ByteClass.space || p[k] == ByteClass.tab { k += 1 }
        guard nameEnd > start, k < end, p[k] == UInt8(ascii: ":") else { return flag(.badHeaderLine) }
        message.headerCount &+= 1
        let value = k + 1
        let first = ByteClass.lower(p[start])
        switch nameEnd - start {
        case 1:
            switch first {
            case UInt8(ascii: "v"): via(value, end)
            case UInt8(ascii: "f"): from(value, end)
            case UInt8(ascii: "t"): to(value, end)
            case UInt8(ascii: "i"): callID(value, end)
            case UInt8(ascii: "m"): contact(value, end)
            case UInt8(ascii: "l"): contentLength(value, end)
            case UInt8(ascii: "c"): contentType(value, end)
            default: break
            }
        case 2 where equalsIgnoringCase(start, nameEnd, "to"): to(value, end)
        case 3 where equalsIgnoringCase(start, nameEnd, "via"): via(value, end)
        case 4 where first == UInt8(ascii: "f") && equalsIgnoringCase(start, nameEnd, "from"): from(value, end)
        case 4 where first == UInt8(ascii: "c") && equalsIgnoringCase(start, nameEnd, "cseq"): cseq(value, end)
        case 4 where first == UInt8(ascii: "d") && equalsIgnoringCase(start, nameEnd, "date"): date(value, end)
        case 6 where equalsIgnoringCase(start, nameEnd, "server"):
            if message.kind == .response { userAgent(value, end) }
        case 7 where first == UInt8(ascii: "c"):
            if equalsIgnoringCase(start, nameEnd, "call-id") {
                callID(value, end)
            } else if equalsIgnoringCase(start, nameEnd, "contact") {
                contact(value, end)
            }
        case 7 where first == UInt8(ascii: "e") && equalsIgnoringCase(start, nameEnd, "expires"): expires(value, end)
        case 10 where equalsIgnoringCase(start, nameEnd, "user-agent"):
            if message.kind == .request { userAgent(value, end) }
        case 12 where first == UInt8(ascii: "m") && equalsIgnoringCase(start, nameEnd, "max-forwards"):
            maxForwards(value, end)
        case 12 where first == UInt8(ascii: "c") && equalsIgnoringCase(start, nameEnd, "content-type"):
            contentType(value, end)
        case 13 where equalsIgnoringCase(start, nameEnd, "authorization"):
            credentials(value, end, isProxy: false)
        case 14 where equalsIgnoringCase(start, nameEnd, "content-length"): contentLength(value, end)
        case 16 where equalsIgnoringCase(start, nameEnd, "www-authenticate"): challenge(value, end, isProxy: false)
        case 18 where equalsIgnoringCase(start, nameEnd, "proxy-authenticate"): challenge(value, end, isProxy: true)
        case 19 where equalsIgnoringCase(start, nameEnd, "proxy-authorization"):
            credentials(value, end, isProxy: true)
        default: break
        }
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
        if end > start, isSDPOrMultipart() { message.sdpHasInlineKey = hasInlineCryptoKey(start, end) }
    }

    func isSDPOrMultipart() -> Bool {
        let type = message.contentType
        guard !type.isEmpty else { return false }
        let start = Int(type.lowerBound)
        let end = Int(type.upperBound)
        return (end - start >= 15 && equalsIgnoringCase(start, start + 15, "application/sdp"))
            || (end - start >= 10 && equalsIgnoringCase(start, start + 10, "multipart/"))
    }

    /// Whether an SDP line `a=crypto:` in the body carries an `inline:` key (RFC 4568 SDES).
    func hasInlineCryptoKey(_ start: Int, _ end: Int) -> Bool {
        var k = start
        while let found = find("a=crypto:", k, end) {
            let lineEnd = find("\n", found, end) ?? end
            if found == start || p[found - 1] == ByteClass.lf, find("inline:", found, lineEnd) != nil { return true }
            k = found + 9
        }
        return false
    }

    mutating func requiredHeaders() {
        if message.via.count == 0 || !message.from.isPresent || !message.to.isPresent || message.callID.isEmpty
            || !seen.contains(.cseq)
        {
            flag(.missingHeader)
        }
        if message.kind == .request, !message.cseq.methodToken.isEmpty,
            !equalBytes(message.methodToken, message.cseq.methodToken)
        {
            flag(.methodMismatch)
        }
    }

    // MARK: - Byte helpers

    /// Whether bytes `start..<end` equal `lowercased` ignoring ASCII case (`lowercased` is lower case).
    @inline(__always)
    func equalsIgnoringCase(_ start: Int, _ end: Int, _ lowercased: StaticString) -> Bool {
        guard end - start == lowercased.utf8CodeUnitCount else { return false }
        let expected = lowercased.utf8Start
        for k in 0..<(end - start) where ByteClass.lower(p[start + k]) != expected[k] { return false }
        return true
    }

    func equalBytes(_ a: ByteRange, _ b: ByteRange) -> Bool {
        a.count == b.count && memcmp(p + Int(a.lowerBound), p + Int(b.lowerBound), a.count) == 0
    }

    /// The offset of `needle` in `start..<end`, or nil (memchr for the first byte, then memcmp).
    func find(_ needle: StaticString, _ start: Int, _ end: Int) -> Int? {
        let length = needle.utf8CodeUnitCount
        var k = start
        while end - k >= length {
            guard let hit = memchr(p + k, Int32(needle.utf8Start[0]), end - k - length + 1) else { return nil }
            let found = p.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(p + found, needle.utf8Start, length) == 0 { return found }
            k = found + 1
        }
        return nil
    }

    @inline(__always)
    func skipWhitespace(_ start: Int, _ end: Int) -> Int {
        var k = start
        while k < end, ByteClass.isWhitespace(p[k]) { k += 1 }
        return k
    }

    /// `start..<end` without leading and trailing white space.
    @inline(__always)
    func trimmed(_ start: Int, _ end: Int) -> ByteRange {
        let first = skipWhitespace(start, end)
        var last = end
        while last > first, ByteClass.isWhitespace(p[last - 1]) { last -= 1 }
        return ByteRange(first, last)
    }
}
