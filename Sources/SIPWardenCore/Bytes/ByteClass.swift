/// Character classes of RFC 3261, as bit masks over ASCII so a test costs two shifts and no table.
enum ByteClass {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")

    /// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
    @inline(__always)
    static func isToken(_ b: UInt8) -> Bool {
        let mask: UInt64 = b < 64 ? 0x03FF_6CA2_0000_0000 : 0x47FF_FFFF_87FF_FFFE
        return b < 128 && mask >> (b & 63) & 1 != 0
    }

    /// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    @inline(__always)
    static func isSchemeCharacter(_ b: UInt8) -> Bool {
        let mask: UInt64 = b < 64 ? 0x03FF_6800_0000_0000 : 0x07FF_FFFE_07FF_FFFE
        return b < 128 && mask >> (b & 63) & 1 != 0
    }

    /// SP or HTAB, as folds a header line or pads a header name. Tested through one comparison while the
    /// byte is neither, as nearly always: a letter or digit is above both.
    @inline(__always)
    static func isSpaceOrTab(_ b: UInt8) -> Bool { b <= space && (b == space || b == tab) }

    /// Linear white space, folding included: SP, HTAB, CR, LF.
    @inline(__always)
    static func isWhitespace(_ b: UInt8) -> Bool {
        b == space || b == tab || b == cr || b == lf
    }

    @inline(__always)
    static func isAlphanumeric(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 || b &- 0x30 < 10 }

    @inline(__always)
    static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

    /// ASCII lower case for letters; other bytes unchanged.
    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }

    /// `b` with the case bit set: equal to a lower-case letter exactly when `b` is that letter in either
    /// case (other bytes may change, into bytes that are not letters). One instruction where `lower` takes
    /// five, for a byte that is only compared with letters.
    @inline(__always)
    static func caseFolded(_ b: UInt8) -> UInt8 { b | 0x20 }
}
