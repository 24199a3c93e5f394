#if arch(x86_64)
    // SSE2's pmovmskb, which Swift's SIMD types do not reach: a mask's lanes read as 16 bits in one instruction.
    import _Builtin_intrinsics.intel
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of one message and the read-only questions the scanner asks of them.
///
/// Kept apart from `MessageScanner` so that calling a helper copies two words, not the message being filled.
///
/// Offsets lie within `0...count` of one buffer, so their sums and differences cannot overflow: the hot
/// paths add and subtract them with `&+` and `&-`, which spares an overflow check (and its branch) each.
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

    /// The index of the next byte below 0x20 or equal to 0x7F, or `count`; sixteen bytes at a time.
    @inline(__always)
    func nextControlByte(from start: Int) -> Int {
        var k = start
        let lastBlockStart = self.lastBlockStart
        while k <= lastBlockStart {
            if let lane = Self.firstLane(Self.controlBytes(in: block(at: k))) { return k &+ lane }
            k &+= Block.scalarCount
        }
        while k < count {
            if p[k] < 0x20 || p[k] == 0x7F { return k }
            k &+= 1
        }
        return count
    }

    /// Whether the two bytes at `k` are CR LF, compared as one word; `k + 2` must not pass `count`.
    @inline(__always)
    func isCRLF(at k: Int) -> Bool {
        let crlf = UInt16(ByteClass.cr) | UInt16(ByteClass.lf) << 8
        return UInt16(littleEndian: UnsafeRawPointer(p + k).loadUnaligned(as: UInt16.self)) == crlf
    }

    /// The lanes of `block` that hold a byte below 0x20 or equal to 0x7F.
    @inline(__always)
    static func controlBytes(in block: Block) -> SIMDMask<SIMD16<Int8>> {
        block .< Block(repeating: 0x20) .| block .== Block(repeating: 0x7F)
    }

    /// In the sixteen bytes at `k` (`k + 16` must not pass `count`): the lane of the first control byte
    /// and of the first colon, 16 where there is none. A bit set past the last lane stops the count there,
    /// where capping it took a comparison and a move.
    @inline(__always)
    func firstControlByteAndColon(at k: Int) -> (control: Int, colon: Int) {
        let block = self.block(at: k)
        let colons = block .== Block(repeating: UInt8(ascii: ":"))
        let pastLastLane: UInt32 = 1 << Block.scalarCount
        return (
            (Self.laneBits(Self.controlBytes(in: block)) | pastLastLane).trailingZeroBitCount,
            (Self.laneBits(colons) | pastLastLane).trailingZeroBitCount
        )
    }

    /// The index of the first byte in `start..<end` equal to `a`, `b` or `c`, or `end`.
    @inline(__always)
    func firstIndex(of a: UInt8, _ b: UInt8, _ c: UInt8, from start: Int, to end: Int) -> Int {
        let (blockA, blockB, blockC) = (Block(repeating: a), Block(repeating: b), Block(repeating: c))
        return firstIndex(from: start, to: end) {
            $0 .== blockA .| $0 .== blockB .| $0 .== blockC
        } byte: {
            $0 == a || $0 == b || $0 == c
        }
    }

    /// Where a word ends: the index of the first white space byte (folding included) or `a`, `b` or `c`
    /// in `start..<end`, or `end`. A block is tested for bytes up to the space, which takes in white
    /// space with the other control bytes; a control byte that is not white space is passed over.
    @inline(__always)
    func wordEnd(at a: UInt8, _ b: UInt8, _ c: UInt8, from start: Int, to end: Int) -> Int {
        let (blockA, blockB, blockC, spaces) = (
            Block(repeating: a), Block(repeating: b), Block(repeating: c), Block(repeating: ByteClass.space)
        )
        var k = start
        while true {
            k = firstIndex(from: k, to: end) {
                $0 .<= spaces .| $0 .== blockA .| $0 .== blockB .| $0 .== blockC
            } byte: {
                $0 <= ByteClass.space || $0 == a || $0 == b || $0 == c
            }
            guard k < end, p[k] < ByteClass.space, !ByteClass.isWhitespace(p[k]) else { return k }
            k += 1
        }
    }

    /// The index of the first byte in `start..<end` that is not a token character, or `end`. Letters and
    /// digits are passed over sixteen at a time, the other token characters one by one.
    @inline(__always)
    func tokenEnd(from start: Int, to end: Int) -> Int {
        let (caseBit, a, letters, zero, digits) = (
            Block(repeating: 0x20), Block(repeating: UInt8(ascii: "a")), Block(repeating: 26),
            Block(repeating: UInt8(ascii: "0")), Block(repeating: 10)
        )
        var k = start
        while true {
            k = firstIndex(from: k, to: end) {
                .!((($0 | caseBit) &- a .< letters) .| ($0 &- zero .< digits))
            } byte: {
                !ByteClass.isAlphanumeric($0)
            }
            guard k < end, ByteClass.isToken(p[k]) else { return k }
            k += 1
        }
    }

    /// The index of the first byte in `start..<end` that `byte` accepts, or `end`. Sixteen bytes at a time
    /// through `lanes` (the same test on a block), reading past `end` (never past the message) and
    /// ignoring what lies there.
    @inline(__always)
    func firstIndex(
        from start: Int, to end: Int, where lanes: (Block) -> SIMDMask<SIMD16<Int8>>, byte: (UInt8) -> Bool
    ) -> Int {
        var k = start
        // One bound for both conditions: the block starts before `end` and lies within the message.
        let blockLimit = min(end, lastBlockStart &+ 1)
        while k < blockLimit {
            if let lane = Self.firstLane(lanes(block(at: k))) { return min(k &+ lane, end) }
            k &+= Block.scalarCount
        }
        while k < end, !byte(p[k]) { k &+= 1 }
        return min(k, end)
    }

    /// The index of the first `byte` in `start..<end`, or `end`.
    @inline(__always)
    func firstIndex(of byte: UInt8, from start: Int, to end: Int) -> Int {
        firstIndex(of: byte, byte, byte, from: start, to: end)
    }

    /// Sixteen message bytes, compared lane by lane in one SSE instruction.
    typealias Block = SIMD16<UInt8>

    /// The sixteen bytes at `k`; `k + 16` must not pass `count`.
    @inline(__always)
    func block(at k: Int) -> Block { UnsafeRawPointer(p + k).loadUnaligned(as: Block.self) }

    /// The last offset a block can be read at (negative when the message is shorter than a block): a loop
    /// over blocks compares with it instead of computing `k + 16 <= count` at every block.
    @inline(__always)
    var lastBlockStart: Int { count &- Block.scalarCount }

    /// The first lane set in `mask`, or nil.
    @inline(__always)
    static func firstLane(_ mask: SIMDMask<SIMD16<Int8>>) -> Int? {
        let lanes = laneBits(mask)
        return lanes == 0 ? nil : lanes.trailingZeroBitCount
    }

    /// One bit per lane of `mask`, lane 0 in bit 0: pmovmskb on x86-64; elsewhere each half's lanes
    /// gathered into a byte by a multiply.
    @inline(__always)
    static func laneBits(_ mask: SIMDMask<SIMD16<Int8>>) -> UInt32 {
        #if arch(x86_64)
            return UInt32(truncatingIfNeeded: _mm_movemask_epi8(unsafeBitCast(mask, to: SIMD2<Int64>.self)))
        #else
            let halves = unsafeBitCast(mask, to: SIMD2<UInt64>.self)
            let gather: UInt64 = 0x0002_0408_1020_4081
            let low = (halves[0] & highs) &* gather &>> 56
            let high = (halves[1] & highs) &* gather &>> 56
            return UInt32(truncatingIfNeeded: low | high &<< 8)
        #endif
    }

    /// Whether a Content-Type is SDP or multipart, whose bodies may carry SDES keys. Inlined into its one
    /// caller, `body`, where the call cost about as much as the two comparisons.
    @inline(__always)
    func isSDPOrMultipart(_ type: ByteRange) -> Bool {
        guard !type.isEmpty else { return false }
        let start = Int(type.lowerBound)
        let end = Int(type.upperBound)
        return (end - start >= 15 && equalsIgnoringCase(start, start + 15, "application/sdp"))
            || (end - start >= 10 && equalsIgnoringCase(start, start + 10, "multipart/"))
    }

    /// Whether an SDP line `a=crypto:` in the body carries an `inline:` key (RFC 4568 SDES). The search
    /// runs on the "y" of "crypto", a rare byte in SDP, with memchr (which the C library runs on the widest
    /// vectors the CPU has), so a body without keys costs a few instructions per 32 bytes.
    func hasInlineCryptoKey(_ start: Int, _ end: Int) -> Bool {
        let y = find(UInt8(ascii: "y"), start + 4, end)
        return y < end && hasInlineCryptoKey(start, end, firstY: y)
    }

    /// `hasInlineCryptoKey(_:_:)` from the body's first "y" on. Out of line: the registers its loop needs are
    /// saved and restored only for a body that has a "y", not for every SDP body (12 instructions an INVITE).
    @inline(never)
    func hasInlineCryptoKey(_ start: Int, _ end: Int, firstY: Int) -> Bool {
        let prefix: StaticString = "a=crypto:"
        var y = firstY
        while y < end {
            let line = y - 4
            if line + prefix.utf8CodeUnitCount <= end, line == start || p[line - 1] == ByteClass.lf,
                memcmp(p + line, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0,
                find("inline:", line, firstIndex(of: ByteClass.lf, from: line, to: end)) != nil
            {
                return true
            }
            y = find(UInt8(ascii: "y"), y + 1, end)
        }
        return false
    }

    /// Whether bytes `start..<end` equal `lowercased` ignoring ASCII case (`lowercased` is lower case).
    /// Compares whole words, as memcmp does: the first and last word of the run cover it, overlapping, so
    /// nothing is read outside either side and no loop runs for names up to 16 bytes.
    @inline(__always)
    func equalsIgnoringCase(_ start: Int, _ end: Int, _ lowercased: StaticString) -> Bool {
        let length = lowercased.utf8CodeUnitCount
        guard end &- start == length else { return false }
        let actual = UnsafeRawPointer(p + start)
        let expected = UnsafeRawPointer(lowercased.utf8Start)
        switch length {
        case 0: return true
        case 1: return ByteClass.lower(actual.load(as: UInt8.self)) == expected.load(as: UInt8.self)
        case 2..<4: return Self.ends(of: actual, expected, length, match: UInt16.self)
        case 4..<8: return Self.ends(of: actual, expected, length, match: UInt32.self)
        case 8...16: return Self.ends(of: actual, expected, length, match: UInt64.self)
        default:
            var k = 0
            while k < length - 16 {
                guard Self.ends(of: actual + k, expected + k, 8, match: UInt64.self) else { return false }
                k += 8
            }
            return Self.ends(of: actual + k, expected + k, length - k, match: UInt64.self)
        }
    }

    /// Whether the first and the last `Word` of two runs of `length` bytes agree, `actual` case-folded;
    /// `length` is between one and two words.
    @inline(__always)
    static func ends<Word: FixedWidthInteger & UnsignedInteger>(
        of actual: UnsafeRawPointer, _ expected: UnsafeRawPointer, _ length: Int, match _: Word.Type
    ) -> Bool {
        let last = length - MemoryLayout<Word>.size
        func word(_ base: UnsafeRawPointer, _ offset: Int) -> UInt64 {
            UInt64(base.loadUnaligned(fromByteOffset: offset, as: Word.self))
        }
        let (first, final) = (word(expected, 0), word(expected, last))
        return word(actual, 0) | caseBits(first) == first && word(actual, last) | caseBits(final) == final
    }

    /// The case bit (0x20) of each lower-case ASCII letter in `word`. OR-ed into a message byte, it makes
    /// that byte equal the letter exactly when the byte is the letter in either case; other bytes must
    /// match as they are. `word` comes from a literal, so this folds into a constant.
    @inline(__always)
    static func caseBits(_ word: UInt64) -> UInt64 {
        let heptets = word & ~highs
        let lower = (heptets &+ ones &* (0x80 - 0x61)) & ~(heptets &+ ones &* (0x80 - 0x7B)) & ~word & highs
        return lower >> 2
    }

    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    func equalBytes(_ a: ByteRange, _ b: ByteRange) -> Bool {
        a.count == b.count && memcmp(p + Int(a.lowerBound), p + Int(b.lowerBound), a.count) == 0
    }

    /// `equalBytes` for ranges that are nearly always 4 to 16 bytes long (method names): their first and
    /// last words compared, overlapping, where the call to memcmp cost about 20 instructions more.
    @inline(__always)
    func equalShortBytes(_ a: ByteRange, _ b: ByteRange) -> Bool {
        let length = a.count
        guard length == b.count else { return false }
        let (x, y) = (UnsafeRawPointer(p + Int(a.lowerBound)), UnsafeRawPointer(p + Int(b.lowerBound)))
        func ends<Word: FixedWidthInteger>(_: Word.Type) -> Bool {
            let last = length &- MemoryLayout<Word>.size
            return x.loadUnaligned(as: Word.self) == y.loadUnaligned(as: Word.self)
                && x.loadUnaligned(fromByteOffset: last, as: Word.self)
                    == y.loadUnaligned(fromByteOffset: last, as: Word.self)
        }
        switch length {
        case 4..<8: return ends(UInt32.self)
        case 8...16: return ends(UInt64.self)
        default: return memcmp(x, y, length) == 0
        }
    }

    /// The offset of the first `byte` in `start..<end`, or `end` (memchr: worth its call on long runs).
    func find(_ byte: UInt8, _ start: Int, _ end: Int) -> Int {
        guard start < end, let hit = memchr(p + start, Int32(byte), end - start) else { return end }
        return p.distance(to: hit.assumingMemoryBound(to: UInt8.self))
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

    /// The number `start..<end` holds: digits only (leading zeros allowed) between optional white space,
    /// saturating above 2^63; nil for anything else. Read in one pass: trimming the value first read its
    /// last bytes twice. Inlined into its three readers: left a call, it had them inlined into the header
    /// dispatch instead, for 14 instructions more per INVITE.
    @inline(__always)
    func wholeNumber(_ start: Int, _ end: Int) -> UInt64? {
        var k = skipWhitespace(start, end)
        let digitsStart = k
        var value: UInt64 = 0
        while k < end, ByteClass.isDigit(p[k]) {
            value = value > UInt64(Int64.max) / 10 ? UInt64(Int64.max) : value * 10 + UInt64(p[k] &- 0x30)
            k &+= 1
        }
        guard k > digitsStart, skipWhitespace(k, end) == end else { return nil }
        return value
    }

    /// `:port` at `k`, or 0 when there is none.
    @inline(__always)
    func port(_ k: inout Int, _ end: Int) -> UInt16 {
        guard k < end, p[k] == UInt8(ascii: ":") else { return 0 }
        k += 1
        var value = 0
        while k < end, ByteClass.isDigit(p[k]) {
            value = min(value &* 10 &+ Int(p[k] &- 0x30), 65536)
            k += 1
        }
        return value <= 65535 ? UInt16(value) : 0
    }

    /// The index of the `"` closing the quoted string that opens at `start`, honouring `\\` escapes.
    @inline(__always)
    func closingQuote(_ start: Int, _ end: Int) -> Int? {
        var k = firstIndex(of: ByteClass.quote, ByteClass.backslash, ByteClass.backslash, from: start + 1, to: end)
        while k < end {
            if p[k] == ByteClass.quote { return k }
            k = firstIndex(of: ByteClass.quote, ByteClass.backslash, ByteClass.backslash, from: k + 2, to: end)
        }
        return nil
    }

    /// Whether `start..<end` begins with `scheme:`.
    func hasScheme(_ start: Int, _ end: Int) -> Bool { schemeEnd(start, end) != nil }

    /// Where the `scheme` of `scheme:…` at `start` ends (the index of its colon), or nil. Inlined: as a call
    /// from `parseURI`, which makes it only for a URI not starting "sip:", it had that reader save two more
    /// registers and move its arguments aside on every URI.
    @inline(__always)
    func schemeEnd(_ start: Int, _ end: Int) -> Int? {
        var k = start
        while k < end, ByteClass.isSchemeCharacter(p[k]) { k += 1 }
        return k > start && k < end && p[k] == UInt8(ascii: ":") ? k : nil
    }

    /// Splits a URI into scheme, user, host and port. `valid` is false without a scheme; `hostEnd` is where a
    /// SIP URI's host and port end (`end` for any other URI): a `?headers` part can only follow from there,
    /// and only callers that care look for one (`hasHeaders`).
    func parseURI(_ start: Int, _ end: Int, into uri: inout SIPURI) -> (valid: Bool, hostEnd: Int) {
        uri.whole = ByteRange(start, end)
        // Nearly every URI starts "sip:": one comparison finds its scheme and says that it is SIP.
        let colon: Int
        let isSIP: Bool
        if end &- start > 4, equalsIgnoringCase(start, start &+ 4, "sip:") {
            (colon, isSIP) = (start &+ 3, true)
        } else {
            guard let found = schemeEnd(start, end) else { return (false, end) }
            colon = found
            isSIP = equalsIgnoringCase(start, colon, "sip") || equalsIgnoringCase(start, colon, "sips")
        }
        uri.scheme = ByteRange(start, colon)
        var k = colon &+ 1
        guard isSIP else {
            if equalsIgnoringCase(start, colon, "tel") {
                let userStart = k
                while k < end, p[k] != UInt8(ascii: ";") { k += 1 }
                uri.user = ByteRange(userStart, k)
            }
            return (true, end)
        }
        // userinfo ends at the first "@" (an "@" inside it must be escaped); the user ends at ":".
        let userEnd = firstIndex(of: UInt8(ascii: "@"), UInt8(ascii: ":"), UInt8(ascii: ":"), from: k, to: end)
        let at =
            userEnd < end && p[userEnd] == UInt8(ascii: ":")
            ? firstIndex(of: UInt8(ascii: "@"), from: userEnd, to: end) : userEnd
        if at < end {
            uri.user = ByteRange(k, userEnd)
            k = at + 1
        }
        let hostStart = k
        if k < end, p[k] == UInt8(ascii: "[") {
            while k < end, p[k] != UInt8(ascii: "]") { k += 1 }
            k = min(k + 1, end)
        } else {
            k = firstIndex(of: UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: "?"), from: k, to: end)
        }
        uri.host = ByteRange(hostStart, k)
        uri.port = port(&k, end)
        return (!uri.host.isEmpty, k)
    }

    /// Whether a `?headers` part follows a URI's host: a `?` in `hostEnd..<end` (see `parseURI`).
    @inline(__always)
    func hasHeaders(_ hostEnd: Int, _ end: Int) -> Bool {
        firstIndex(of: UInt8(ascii: "?"), from: hostEnd, to: end) < end
    }

    /// Stores `value` in the field the Digest parameter named `start..<end` stands for, if any: the name's
    /// length and first letter pick the one candidate to compare. Transparent: `@inline(__always)` left it a
    /// call, after which the Digest loop loaded its vector constants again for every parameter.
    @_transparent
    func assign(_ value: ByteRange, toDigestParameter start: Int, _ end: Int, in fields: inout DigestFields) {
        switch (end &- start, ByteClass.caseFolded(p[start])) {
        case (2, UInt8(ascii: "n")) where equalsIgnoringCase(start, end, "nc"): fields.nc = value
        case (3, UInt8(ascii: "u")) where equalsIgnoringCase(start, end, "uri"): fields.uri = value
        case (3, UInt8(ascii: "q")) where equalsIgnoringCase(start, end, "qop"): fields.qop = value
        case (5, UInt8(ascii: "r")) where equalsIgnoringCase(start, end, "realm"): fields.realm = value
        case (5, UInt8(ascii: "n")) where equalsIgnoringCase(start, end, "nonce"): fields.nonce = value
        case (5, UInt8(ascii: "s")) where equalsIgnoringCase(start, end, "stale"):
            fields.isStale = equalsIgnoringCase(Int(value.lowerBound), Int(value.upperBound), "true")
        case (6, UInt8(ascii: "c")) where equalsIgnoringCase(start, end, "cnonce"): fields.cnonce = value
        case (6, UInt8(ascii: "o")) where equalsIgnoringCase(start, end, "opaque"): fields.opaque = value
        case (8, UInt8(ascii: "u")) where equalsIgnoringCase(start, end, "username"): fields.username = value
        case (8, UInt8(ascii: "r")) where equalsIgnoringCase(start, end, "response"): fields.response = value
        case (9, UInt8(ascii: "a")) where equalsIgnoringCase(start, end, "algorithm"): fields.algorithm = value
        default: break
        }
    }
}
