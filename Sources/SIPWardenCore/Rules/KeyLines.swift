/// The line each key of a rule file is written on, by the key path the schema's errors name it with
/// ("limits.invite.source", "trust.allow[2]", a table's own path for its header), so that `check` says
/// where a bad value or an unknown key is. Read from text the TOML parser accepted, by a scan that
/// follows table headers, dotted and quoted keys, strings, comments, arrays and inline tables; on
/// anything it does not expect it moves on a byte, so it always ends. A key written twice is placed
/// where it is first written; each table of an array of tables (`[[name]]`) where its header is.
struct KeyLines {
    private var lines: [String: Int] = [:]
    private let bytes: ArraySlice<UInt8>
    private var k: Int
    private var line = 1

    init(_ text: String) {
        bytes = RuleText.withoutByteOrderMark(text)
        k = bytes.startIndex
        var table = ""
        // The tables of each array of tables so far.
        var arrays: [String: Int] = [:]
        while skipBlankLines() {
            let start = line
            if next == UInt8(ascii: "[") {
                k += 1
                let isArrayOfTables = consume(UInt8(ascii: "["))
                table = key(under: "", at: start)
                if isArrayOfTables {
                    let index = arrays[table, default: 0]
                    arrays[table] = index + 1
                    table += "[\(index)]"
                    lines[table] = start
                }
                skip(while: { $0 == UInt8(ascii: "]") || Self.isBlank($0) })
            } else {
                let path = key(under: table, at: start)
                skip(while: Self.isBlank)
                guard next == UInt8(ascii: "=") else {
                    k += 1
                    continue
                }
                k += 1
                value(at: path)
            }
        }
    }

    /// The line `key` (a path as the rule reader names it) is written on: its own, else that of the array
    /// or table it is in (an element of an array of tables has no place of its own); nil for a key the
    /// text does not have.
    func line(of key: String) -> Int? {
        var path = Substring(key)
        while !path.isEmpty {
            if let line = lines[String(path)] { return line }
            guard let end = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { return nil }
            path = path[..<end]
        }
        return nil
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == ByteClass.space || byte == ByteClass.tab }

    private var next: UInt8? { k < bytes.endIndex ? bytes[k] : nil }

    private mutating func skip(while matches: (UInt8) -> Bool) {
        while let byte = next, matches(byte) { k += 1 }
    }

    /// Skips blanks, line breaks and comments; returns whether anything is left.
    @discardableResult
    private mutating func skipBlankLines() -> Bool {
        while let byte = next {
            if byte == ByteClass.lf {
                line += 1
                k += 1
            } else if Self.isBlank(byte) || byte == ByteClass.cr {
                k += 1
            } else if byte == UInt8(ascii: "#") {
                skip(while: { $0 != ByteClass.lf })
            } else {
                return true
            }
        }
        return false
    }

    /// Reads a (dotted, perhaps quoted) key starting here, placing it, and each table it opens on the
    /// way, on `line` when not placed before; returns its full path under `table`.
    private mutating func key(under table: String, at line: Int) -> String {
        var path = table
        repeat {
            skip(while: Self.isBlank)
            let part: String
            if let quote = next, quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                let start = k
                k = ParserTraps.endOfString(bytes, quote: quote, from: start + 1, line: &self.line)
                part = Self.quotedKey(bytes[start..<k])
            } else {
                let start = k
                skip(while: ParserTraps.isBareKeyByte)
                part = String(decoding: bytes[start..<k], as: UTF8.self)
            }
            path = path.isEmpty ? part : path + "." + part
            if lines[path] == nil { lines[path] = line }
            skip(while: Self.isBlank)
        } while consume(UInt8(ascii: "."))
        return path
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard next == byte else { return false }
        k += 1
        return true
    }

    /// Reads the value at `path`: arrays place each element as `path[i]`, inline tables each key.
    private mutating func value(at path: String) {
        skip(while: Self.isBlank)
        switch next {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            k = ParserTraps.endOfString(bytes, quote: bytes[k], from: k + 1, line: &line)
        case UInt8(ascii: "["):
            k += 1
            var index = 0
            while skipBlankLines(), !consume(UInt8(ascii: "]")) {
                let element = "\(path)[\(index)]"
                if lines[element] == nil { lines[element] = line }
                value(at: element)
                skipBlankLines()
                if consume(UInt8(ascii: ",")) { index += 1 } else if next != UInt8(ascii: "]") { k += 1 }
            }
        case UInt8(ascii: "{"):
            k += 1
            while skipBlankLines(), !consume(UInt8(ascii: "}")) {
                let key = key(under: path, at: line)
                if consume(UInt8(ascii: "=")) { value(at: key) }
                skip(while: Self.isBlank)
                if !consume(UInt8(ascii: ",")), next != UInt8(ascii: "}") { k += 1 }
            }
        default:
            // A number, boolean or date: it ends where the array, the table or the line does.
            let ends: [UInt8] = [
                UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "#"), ByteClass.lf,
            ]
            skip(while: { !ends.contains($0) })
        }
    }

    /// The escapes of a basic string that stand for one character.
    private static let escapes: [Unicode.Scalar: Unicode.Scalar] = [
        "b": "\u{8}", "t": "\t", "n": "\n", "f": "\u{C}", "r": "\r", "\"": "\"", "\\": "\\",
    ]

    /// A quoted key as the parser reads it: a literal one (`'…'`) as written, a basic one (`"…"`) with
    /// its escapes (`\u00e9`, `\t`, …) decoded, as the rule reader names it.
    static func quotedKey(_ quoted: ArraySlice<UInt8>) -> String {
        let inner = String(decoding: quoted.dropFirst().dropLast(), as: UTF8.self)
        guard quoted.first == ByteClass.quote else { return inner }
        var decoded = String.UnicodeScalarView()
        var rest = inner.unicodeScalars[...]
        while let scalar = rest.popFirst() {
            guard scalar == "\\", let escape = rest.popFirst() else {
                decoded.append(scalar)
                continue
            }
            if let plain = Self.escapes[escape] {
                decoded.append(plain)
            } else if escape == "u" || escape == "U" {
                let digits = escape == "u" ? 4 : 8
                let hex = String(String.UnicodeScalarView(rest.prefix(digits)))
                rest = rest.dropFirst(digits)
                if let value = UInt32(hex, radix: 16), let code = Unicode.Scalar(value) { decoded.append(code) }
            }
        }
        return String(decoded)
    }
}
