/// Structural marks of scanning tools, checked byte by byte.
enum ScannerMarks {
    /// Whether the message carries a mark only scanning tools produce.
    static func match(_ message: SIPMessage, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard message.kind == .request else { return false }
        return sipviciousTag(message.from.tag, bytes)
    }

    /// SIPVicious builds its From tag as the hex encoding of some text, a 0x01 byte, then digits,
    /// so it can match answers to its probes: e.g. hex("100" + "\u{1}" + "1234567890").
    static func sipviciousTag(_ tag: ByteRange, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard tag.count >= 8, tag.count % 2 == 0 else { return false }
        var sawSeparator = false
        var digitsAfter = 0
        var k = Int(tag.lowerBound)
        while k < Int(tag.upperBound) {
            guard let high = hexValue(bytes[k]), let low = hexValue(bytes[k + 1]) else { return false }
            let byte = high << 4 | low
            if byte == 0x01 {
                if sawSeparator { return false }
                sawSeparator = true
            } else if sawSeparator {
                guard ByteClass.isDigit(byte) else { return false }
                digitsAfter += 1
            } else if byte < 0x20 || byte > 0x7E {
                return false
            }
            k += 2
        }
        return sawSeparator && digitsAfter > 0
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
