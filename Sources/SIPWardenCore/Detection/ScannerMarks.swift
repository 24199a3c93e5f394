/// Structural marks of scanning tools, checked byte by byte.
enum ScannerMarks {
    /// Whether the message carries a mark only scanning tools produce.
    static func match(_ message: SIPMessage, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard message.kind == .request else { return false }
        return sipviciousTag(message.from.tag, bytes)
    }

    /// SIPVicious builds its From tag as the hex encoding of some text, a 0x01 byte, then a random
    /// 32-bit number in decimal, so it can match answers to its probes: e.g. hex("100" + "\u{1}" +
    /// "2894731605"). The number must look like one: 8 to 10 digits, no leading zero, below 2^32 (a
    /// number under 10^7, one draw in 430, goes unrecognised; the scan's next probe does not). Shorter
    /// runs of digits are what decimal tags of phones decode to now and then: Yealink's 3549400133 reads
    /// "5I@", 0x01, "3".
    static func sipviciousTag(_ tag: ByteRange, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard tag.count >= 2 * (1 + minimumDigits), tag.count % 2 == 0 else { return false }
        var sawSeparator = false
        var digits = 0
        var number: UInt64 = 0
        var k = Int(tag.lowerBound)
        while k < Int(tag.upperBound) {
            guard let high = hexValue(bytes[k]), let low = hexValue(bytes[k + 1]) else { return false }
            let byte = high << 4 | low
            if byte == 0x01 {
                if sawSeparator { return false }
                sawSeparator = true
            } else if sawSeparator {
                guard ByteClass.isDigit(byte), digits < maximumDigits, digits > 0 || byte != UInt8(ascii: "0") else {
                    return false
                }
                digits += 1
                number = number * 10 + UInt64(byte - UInt8(ascii: "0"))
            } else if byte < 0x20 || byte > 0x7E {
                return false
            }
            k += 2
        }
        return digits >= minimumDigits && number <= UInt64(UInt32.max)
    }

    /// How many digits the random number after the separator has: 2^32 has ten.
    static let minimumDigits = 8
    static let maximumDigits = 10

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
