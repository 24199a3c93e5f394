/// A rule file's bytes as text: TOML is UTF-8, and bytes that are not (a Latin-1 `é` in a signature)
/// are an error at their place, not characters silently replaced.
enum RuleText {
    static func decode(_ bytes: [UInt8], file: String) throws(RulesErrors) -> String {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var (offset, line, lineStart) = (0, 1, 0)
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1, encoded.first == ByteClass.lf { (line, lineStart) = (line + 1, offset + 1) }
                offset += encoded.count
            case .emptyInput:
                return String(decoding: bytes, as: UTF8.self)
            case .error:
                let message = "not UTF-8 (byte 0x\(String(bytes[offset], radix: 16, uppercase: true)))"
                throw RulesErrors([.syntax(file: file, line: line, column: offset - lineStart + 1, message: message)])
            }
        }
    }
}
