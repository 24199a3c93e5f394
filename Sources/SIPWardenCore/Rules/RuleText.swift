/// A rule file's bytes as text: TOML is UTF-8, and bytes that are not (a Latin-1 `é` in a signature)
/// are an error at their place, not characters silently replaced.
enum RuleText {
    /// The text's UTF-8 bytes, without the byte-order mark it may start with.
    static func withoutByteOrderMark(_ text: String) -> ArraySlice<UInt8> {
        let bytes = Array(text.utf8)[...]
        return bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes
    }

    static func decode(_ bytes: [UInt8], file: String) throws(RulesErrors) -> String {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                offset += encoded.count
            case .emptyInput:
                return String(decoding: bytes, as: UTF8.self)
            case .error:
                let message = "not UTF-8 (byte 0x\(String(bytes[offset], radix: 16, uppercase: true)))"
                let (line, column) = place(of: offset, in: bytes[...])
                throw RulesErrors([.syntax(file: file, line: line, column: column, message: message)])
            }
        }
    }

    /// The line and column (from 1, in bytes) of `offset`, the first line starting where `bytes` does.
    static func place(of offset: Int, in bytes: ArraySlice<UInt8>) -> (line: Int, column: Int) {
        let before = bytes[..<offset]
        let lineStart = (before.lastIndex(of: ByteClass.lf) ?? bytes.startIndex - 1) + 1
        return (1 + before.count { $0 == ByteClass.lf }, offset - lineStart + 1)
    }

    /// toml++'s message at `line`:`column` of `text` in an operator's words where it reports a string
    /// left open: the line break (or the end of the file) it meets before the closing quote is called a
    /// forbidden control character (or "encountered end-of-file"). Any other message is kept.
    static func syntaxMessage(_ message: String, line: Int, column: Int, in text: String) -> String {
        guard message.hasPrefix("Error while parsing string") || message.hasPrefix("Error while parsing literal string")
        else { return message }
        if message.hasSuffix("encountered end-of-file") { return "a string is not closed before the end of the file" }
        let lines = text.utf8.split(separator: ByteClass.lf, omittingEmptySubsequences: false)
        guard line >= 1, line <= lines.count, column >= 1 else { return message }
        let rest = lines[line - 1].dropFirst(column - 1)
        guard rest.isEmpty || rest.first == ByteClass.cr else { return message }
        return "a string is not closed before the end of its line"
    }
}
