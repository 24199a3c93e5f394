/// Rule-file text the TOML parser, toml++ 3.4 (under TOMLKit 0.6), does not report but stops the whole
/// process on, an assertion of its own, or reads only in part:
/// - a table header whose `[` or `[[` and blanks are followed by anything but a key or `]` (a comment,
///   the line's end, another `[`, `=`);
/// - a `}` where an array expects a value (`[}`, `[1, }`);
/// - a Unicode line break (U+0085, U+2028, U+2029) outside strings and comments: the parser ends a
///   value there, but an array does not skip it;
/// - a date read on as a time that is not one: a space and a lone digit (`2000-01-01 1`), or `T` and
///   no digit (`2000-01-01T:`);
/// - a NUL byte: the parser is handed the text up to the first one, and silently reads no further;
///   and a NUL escape in a basic string (`"\u0000"`), which TOMLKit cannot take back as a key;
/// - a key of more than `mostKeyParts` dotted parts (`a.a.a…`, or a table header of them): the parser
///   recurses once per part, and tens of thousands overflow the stack.
/// Found before the parser sees the text, by a scan that follows strings, comments, arrays and inline
/// tables as the parser does, and reported as a syntax error at its place, so that `check` says where
/// and a reload keeps the running rules. None of them is valid TOML. The scan goes on past other errors
/// (the parser stops at the first), so the trap it reports may come after one. (Every assertion of the
/// parser was read for what input can make it fail: these are all the classes found, and fuzzing the
/// parser found no other.)
enum ParserTraps {
    private enum Container { case array, inlineTable }
    /// Far more than any rule's key has (three), far fewer than overflow the parser's stack.
    static let mostKeyParts = 100

    /// The line and column (from 1, in bytes) of the first trap, and what is wrong there; nil when
    /// there is none.
    static func first(in text: String) -> (line: Int, column: Int, message: String)? {
        let bytes = RuleText.withoutByteOrderMark(text)
        var containers: [Container] = []
        var (line, lineStart) = (1, bytes.startIndex)
        // At a statement's start (a key or a table header may come), and after `=`, `[` or `,` where a
        // value may.
        var (atStatement, expectsValue) = (true, false)
        var k = bytes.startIndex
        func trap(at place: Int, _ message: String) -> (line: Int, column: Int, message: String) {
            (line, place - lineStart + 1, message)
        }
        /// A trap at `offset`, counting its line from the start.
        func trap(atOffset offset: Int, _ message: String) -> (line: Int, column: Int, message: String) {
            let (line, column) = RuleText.place(of: offset, in: bytes)
            return (line, column, message)
        }
        if let nul = bytes.firstIndex(of: 0) {
            return trap(atOffset: nul, "a NUL byte (the TOML parser would read no further)")
        }
        // The dots of the key being read: a run of dotted parts, ended by what ends a key.
        var dots = 0
        while k < bytes.endIndex {
            let byte = bytes[k]
            let at = k
            k += 1
            switch byte {
            case ByteClass.lf:
                (line, lineStart, dots) = (line + 1, k, 0)
                if containers.isEmpty { (atStatement, expectsValue) = (true, false) }
            case ByteClass.space, ByteClass.tab, ByteClass.cr:
                continue
            case 0xC2 where bytes[k...].starts(with: [0x85]),
                0xE2 where bytes[k...].starts(with: [0x80, 0xA8]) || bytes[k...].starts(with: [0x80, 0xA9]):
                return trap(at: at, "a Unicode line break (U+0085, U+2028 or U+2029) outside a string or comment")
            case _ where expectsValue && ByteClass.isDigit(byte) && isDateBeforeNoTime(bytes, at):
                return trap(at: at, "a date followed by what is not a time (HH:MM:SS)")
            case UInt8(ascii: "#"):
                k = bytes[k...].firstIndex(of: ByteClass.lf) ?? bytes.endIndex
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                var nulEscape: Int?
                k = endOfString(bytes, quote: byte, from: k, line: &line, lineStart: &lineStart, nulEscape: &nulEscape)
                if let nulEscape { return trap(atOffset: nulEscape, "a NUL escape (\\u0000) in a string") }
                (atStatement, expectsValue) = (false, false)
            case UInt8(ascii: "."):
                (atStatement, expectsValue, dots) = (false, false, dots + 1)
                if dots >= Self.mostKeyParts {
                    return trap(at: at, "a key of more than \(Self.mostKeyParts) dotted parts")
                }
            case UInt8(ascii: "[") where atStatement:
                dots = 0
                if k < bytes.endIndex, bytes[k] == UInt8(ascii: "[") { k += 1 }
                k = bytes[k...].firstIndex { $0 != ByteClass.space && $0 != ByteClass.tab } ?? bytes.endIndex
                guard k < bytes.endIndex, mayStartTableName(bytes[k]) else {
                    return trap(at: k, "expected a table name (a bare or quoted key) after '['")
                }
                atStatement = false
            case UInt8(ascii: "["):
                containers.append(.array)
                (expectsValue, dots) = (true, 0)
            case UInt8(ascii: "{"):
                containers.append(.inlineTable)
                (expectsValue, dots) = (false, 0)
            case UInt8(ascii: "]"):
                if containers.last == .array { containers.removeLast() }
                (expectsValue, dots) = (false, 0)
            case UInt8(ascii: "}"):
                if expectsValue, containers.last == .array {
                    return trap(at: at, "expected a value or ']' in the array, saw '}'")
                }
                if containers.last == .inlineTable { containers.removeLast() }
                (expectsValue, dots) = (false, 0)
            case UInt8(ascii: ","):
                (expectsValue, dots) = (containers.last == .array, 0)
            case UInt8(ascii: "="):
                (expectsValue, dots) = (true, 0)
            default:
                (atStatement, expectsValue) = (false, false)
            }
        }
        return nil
    }

    /// Where a string whose opening `quote` ends just before `k` ends: a basic string (`"`, with
    /// backslash escapes) or a literal one (`'`), on one line, or multi-line when the quote is tripled
    /// (its closing quotes may be followed by up to two more). Lines inside are counted; the place of a
    /// NUL escape (`\u0000`, `\U00000000`), if any, is noted.
    static func endOfString(
        _ bytes: ArraySlice<UInt8>, quote: UInt8, from start: Int, line: inout Int, lineStart: inout Int,
        nulEscape: inout Int?
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
                let rest = bytes[k...]
                if nulEscape == nil,
                    rest.starts(with: Array("u0000".utf8)) || rest.starts(with: Array("U00000000".utf8))
                {
                    nulEscape = k - 1
                }
                k += 1
            } else if byte == quote {
                guard tripled else { return k }
                guard bytes[k...].starts(with: [quote, quote]) else { continue }
                k += 2
                let end = min(k + 2, bytes.endIndex)
                while k < end, bytes[k] == quote { k += 1 }
                return k
            }
        }
        return k
    }

    /// Whether the value at `start` is a date as the parser sees one (ten digits and dashes, the fifth
    /// and eighth of them dashes, underscores not counted) followed by what it reads on as a time and
    /// then asserts on: a space and a lone digit, or `T` and no digit.
    static func isDateBeforeNoTime(_ bytes: ArraySlice<UInt8>, _ start: Int) -> Bool {
        let dash = UInt8(ascii: "-")
        var (k, shape) = (start, [UInt8]())
        while k < bytes.endIndex, ByteClass.isDigit(bytes[k]) || bytes[k] == dash || bytes[k] == UInt8(ascii: "_") {
            if bytes[k] != UInt8(ascii: "_") { shape.append(bytes[k]) }
            k += 1
        }
        guard shape.count == 10, shape[4] == dash, shape[7] == dash, k < bytes.endIndex else { return false }
        let digit = { (at: Int) in at < bytes.endIndex && ByteClass.isDigit(bytes[at]) }
        switch bytes[k] {
        case ByteClass.space: return digit(k + 1) && !digit(k + 2)
        case UInt8(ascii: "T"), UInt8(ascii: "t"): return !digit(k + 1)
        default: return false
        }
    }

    /// A bare key's character, a quote starting a quoted key, or the `]` of an empty name (which the
    /// parser reports itself).
    static func mayStartTableName(_ byte: UInt8) -> Bool {
        isBareKeyByte(byte) || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "]")
    }

    /// A character of a bare key: a letter, a digit, `_` or `-`.
    static func isBareKeyByte(_ byte: UInt8) -> Bool {
        ByteClass.isAlphanumeric(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    /// `endOfString` counting only the lines the string spans.
    static func endOfString(_ bytes: ArraySlice<UInt8>, quote: UInt8, from start: Int, line: inout Int) -> Int {
        var lineStart = start
        var nulEscape: Int?
        return endOfString(bytes, quote: quote, from: start, line: &line, lineStart: &lineStart, nulEscape: &nulEscape)
    }
}
