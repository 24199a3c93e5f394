#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of one message and the read-only questions the scanner asks of them.
///
/// Kept apart from `MessageScanner` so that calling a helper copies two words, not the message being filled.
struct MessageBytes {
    let p: UnsafePointer<UInt8>
    let count: Int
}

extension MessageBytes {
    /// A NAT keep-alive: any payload of at most 8 bytes (RFC 5626 CRLF pings, and the NULs, spaces or
    /// "hello" some phones send; no SIP message is that short), or a STUN message (RFC 5389).
    func isKeepAlive() -> Bool {
        if count <= 8 { return true }
        // STUN (RFC 5389): two zero bits, a length that fits, and the magic cookie 0x2112A442.
        guard count >= 20, p[0] & 0xC0 == 0 else { return false }
        let length = Int(p[2]) << 8 | Int(p[3])
        return p[4] == 0x21 && p[5] == 0x12 && p[6] == 0xA4 && p[7] == 0x42 && length + 20 == count
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

    func isSDPOrMultipart(_ type: ByteRange) -> Bool {
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

    /// Digits only (leading zeros allowed), saturating above 2^63; nil for anything else.
    func wholeNumber(_ range: ByteRange) -> UInt64? {
        guard !range.isEmpty else { return nil }
        var value: UInt64 = 0
        for k in range.range {
            guard ByteClass.isDigit(p[k]) else { return nil }
            value = value > UInt64(Int64.max) / 10 ? UInt64(Int64.max) : value * 10 + UInt64(p[k] &- 0x30)
        }
        return value
    }

    /// `:port` at `k`, or 0 when there is none.
    func port(_ k: inout Int, _ end: Int) -> UInt16 {
        guard k < end, p[k] == UInt8(ascii: ":") else { return 0 }
        k += 1
        var value = 0
        while k < end, ByteClass.isDigit(p[k]) {
            value = min(value * 10 + Int(p[k] &- 0x30), 65536)
            k += 1
        }
        return value <= 65535 ? UInt16(value) : 0
    }

    /// The index of the `"` closing the quoted string that opens at `start`, honouring `\` escapes.
    func closingQuote(_ start: Int, _ end: Int) -> Int? {
        var k = start + 1
        while k < end {
            if p[k] == ByteClass.backslash {
                k += 2
                continue
            }
            if p[k] == ByteClass.quote { return k }
            k += 1
        }
        return nil
    }

    /// Whether `start..<end` begins with `scheme:`.
    func hasScheme(_ start: Int, _ end: Int) -> Bool {
        var k = start
        while k < end, ByteClass.isSchemeCharacter(p[k]) { k += 1 }
        return k > start && k < end && p[k] == UInt8(ascii: ":")
    }

    /// Splits a URI into scheme, user, host and port. `valid` is false without a scheme;
    /// `hasHeaders` is true when a `?headers` part follows the host.
    func parseURI(_ start: Int, _ end: Int) -> (uri: SIPURI, valid: Bool, hasHeaders: Bool) {
        var uri = SIPURI()
        uri.whole = ByteRange(start, end)
        guard hasScheme(start, end) else { return (uri, false, false) }
        var k = start
        while p[k] != UInt8(ascii: ":") { k += 1 }
        uri.scheme = ByteRange(start, k)
        k += 1
        let isSIP =
            equalsIgnoringCase(start, Int(uri.scheme.upperBound), "sip")
            || equalsIgnoringCase(start, Int(uri.scheme.upperBound), "sips")
        guard isSIP else {
            if equalsIgnoringCase(start, Int(uri.scheme.upperBound), "tel") {
                let userStart = k
                while k < end, p[k] != UInt8(ascii: ";") { k += 1 }
                uri.user = ByteRange(userStart, k)
            }
            return (uri, true, false)
        }
        // userinfo ends at the first "@" (an "@" inside it must be escaped); the user ends at ":".
        let userStart = k
        var at = k
        while at < end, p[at] != UInt8(ascii: "@") { at += 1 }
        if at < end {
            var userEnd = userStart
            while userEnd < at, p[userEnd] != UInt8(ascii: ":") { userEnd += 1 }
            uri.user = ByteRange(userStart, userEnd)
            k = at + 1
        }
        let hostStart = k
        if k < end, p[k] == UInt8(ascii: "[") {
            while k < end, p[k] != UInt8(ascii: "]") { k += 1 }
            k = min(k + 1, end)
        } else {
            while k < end, p[k] != UInt8(ascii: ":"), p[k] != UInt8(ascii: ";"), p[k] != UInt8(ascii: "?") { k += 1 }
        }
        uri.host = ByteRange(hostStart, k)
        uri.port = port(&k, end)
        var hasHeaders = false
        while k < end {
            if p[k] == UInt8(ascii: "?") { hasHeaders = true }
            k += 1
        }
        return (uri, !uri.host.isEmpty, hasHeaders)
    }

    func assign(_ value: ByteRange, toDigestParameter start: Int, _ end: Int, in fields: inout DigestFields) {
        switch end - start {
        case 2:
            if equalsIgnoringCase(start, end, "nc") { fields.nc = value }
        case 3:
            if equalsIgnoringCase(start, end, "uri") { fields.uri = value }
            if equalsIgnoringCase(start, end, "qop") { fields.qop = value }
        case 5:
            if equalsIgnoringCase(start, end, "realm") { fields.realm = value }
            if equalsIgnoringCase(start, end, "nonce") { fields.nonce = value }
        case 6:
            if equalsIgnoringCase(start, end, "cnonce") { fields.cnonce = value }
            if equalsIgnoringCase(start, end, "opaque") { fields.opaque = value }
        case 8:
            if equalsIgnoringCase(start, end, "username") { fields.username = value }
            if equalsIgnoringCase(start, end, "response") { fields.response = value }
        case 9:
            if equalsIgnoringCase(start, end, "algorithm") { fields.algorithm = value }
        default: break
        }
    }
}
