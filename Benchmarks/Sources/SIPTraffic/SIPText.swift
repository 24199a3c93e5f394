/// Joins header lines with CRLF and appends a Content-Length that matches the body.
public enum SIPText {
    /// A whole message: the lines (start line and headers), a Content-Length header, the empty line, the body.
    /// `contentLength` replaces the computed value, to build messages that lie about it.
    public static func message(_ lines: [String], body: String = "", compact: Bool = false, contentLength: String? = nil)
        -> [UInt8]
    {
        let lengthName = compact ? "l" : "Content-Length"
        let length = contentLength ?? String(body.utf8.count)
        let text = (lines + ["\(lengthName): \(length)", "", ""]).joined(separator: "\r\n") + body
        return Array(text.utf8)
    }

    /// SDP lines joined with CRLF, ending in CRLF.
    public static func sdp(_ lines: [String]) -> String {
        lines.joined(separator: "\r\n") + "\r\n"
    }
}
