/// Rule-file text that stops the TOML parser, toml++ 3.4 (under TOMLKit 0.6), on an assertion that ends
/// the whole process instead of reporting an error: a table header whose `[` or `[[` and blanks are
/// followed by anything but a key or `]` (a comment, the line's end, another `[`, `=`), and a `}` where
/// an array expects a value (`[}`, `[1, }`). Found before the parser sees the text, by a scan that
/// follows strings, comments, arrays and inline tables as the parser does, and reported as a syntax
/// error at its place, so that `check` says where and a reload keeps the running rules. The scan goes
/// on past other errors (the parser stops at the first), so the trap it reports may come after one.
enum ParserTraps {
    enum Container { case array, inlineTable }

    /// The line and column (from 1) of the first trap, and what is wrong there; nil when there is none.
    static func first(in text: String) -> (line: Int, column: Int, message: String)? {
        var bytes = Array(text.utf8)[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        var containers: [Container] = []
        var (line, lineStart) = (1, bytes.startIndex)
        // At a statement's start (a key or a table header may come), and after `=`, `[` or `,` where a
        // value may.
        var (atStatement, expectsValue) = (true, false)
        var k = bytes.startIndex
        while k < bytes.endIndex {
            let byte = bytes[k]
            k += 1
            switch byte {
            case ByteClass.lf:
                (line, lineStart) = (line + 1, k)
                if containers.isEmpty { (atStatement, expectsValue) = (true, false) }
            case ByteClass.space, ByteClass.tab, ByteClass.cr:
                continue
            case UInt8(ascii: "#"):
                k = bytes[k...].firstIndex(of: ByteClass.lf) ?? bytes.endIndex
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                k = endOfString(bytes, quote: byte, from: k, line: &line, lineStart: &lineStart)
                (atStatement, expectsValue) = (false, false)
            case UInt8(ascii: "[") where atStatement:
                if k < bytes.endIndex, bytes[k] == UInt8(ascii: "[") { k += 1 }
                k = bytes[k...].firstIndex { $0 != ByteClass.space && $0 != ByteClass.tab } ?? bytes.endIndex
                guard k < bytes.endIndex, mayStartTableName(bytes[k]) else {
                    return (line, k - lineStart + 1, "expected a table name (a bare or quoted key) after '['")
                }
                atStatement = false
            case UInt8(ascii: "["):
                containers.append(.array)
                expectsValue = true
            case UInt8(ascii: "{"):
                containers.append(.inlineTable)
                expectsValue = false
            case UInt8(ascii: "]"):
                if containers.last == .array { containers.removeLast() }
                expectsValue = false
            case UInt8(ascii: "}"):
                if expectsValue, containers.last == .array {
                    return (line, k - lineStart, "expected a value or ']' in the array, saw '}'")
                }
                if containers.last == .inlineTable { containers.removeLast() }
                expectsValue = false
            case UInt8(ascii: ","):
                expectsValue = containers.last == .array
            case UInt8(ascii: "="):
                expectsValue = true
            default:
                (atStatement, expectsValue) = (false, false)
            }
        }
        return nil
    }

    /// Where a string whose opening `quote` ends just before `k` ends: a basic string (`"`, with
    /// backslash escapes) or a literal one (`'`), on one line, or multi-line when the quote is tripled
    /// (its closing quotes may be followed by up to two more). Lines inside are counted.
    static func endOfString(
        _ bytes: ArraySlice<UInt8>, quote: UInt8, from start: Int, line: inout Int, lineStart: inout Int
    ) -> Int {
        let tripled = bytes[start...].starts(with: [quote, quote])
        // `""` (an empty string) is not the start of a multi-line one unless a third quote follows.
        if !tripled, bytes[start...].first == quote { return start + 1 }
        var k = tripled ? start + 2 : start
        while k < bytes.endIndex {
            let byte = bytes[k]
            k += 1
            if byte == ByteClass.lf {
                guard tripled else { return k - 1 }
                (line, lineStart) = (line + 1, k)
            } else if byte == UInt8(ascii: "\\"), quote == UInt8(ascii: "\""), k < bytes.endIndex,
                bytes[k] != ByteClass.lf
            {
                k += 1
            } else if byte == quote {
                guard tripled else { return k }
                guard bytes[k...].starts(with: [quote, quote]) else { continue }
                k += 2
                for _ in 0..<2 where k < bytes.endIndex && bytes[k] == quote { k += 1 }
                return k
            }
        }
        return k
    }

    /// A bare key's character, a quote starting a quoted key, or the `]` of an empty name (which the
    /// parser reports itself).
    static func mayStartTableName(_ byte: UInt8) -> Bool {
        ByteClass.isAlphanumeric(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "]")
    }
}
