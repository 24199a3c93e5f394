/// Recognises scanning tools: by User-Agent (or Server) substrings, and by structural marks that
/// survive a changed User-Agent.
struct ScannerDetector {
    /// Signatures as lower-case bytes.
    let userAgents: [[UInt8]]
    let structuralMarks: Bool
    private(set) var userAgentHits = 0
    private(set) var markHits = 0

    init(_ signatures: RuleSet.Signatures) {
        userAgents = signatures.userAgents.map { Array($0.lowercased().utf8) }
        structuralMarks = signatures.structuralMarks
    }

    /// Which scanner evidence the message carries, if any.
    mutating func inspect(_ message: SIPMessage, _ bytes: UnsafeRawBufferPointer) -> RuleSet.Detector? {
        if !message.userAgent.isEmpty, containsSignature(message.userAgent, bytes) {
            userAgentHits += 1
            return .scannerUserAgent
        }
        if structuralMarks, ScannerMarks.match(message, bytes) {
            markHits += 1
            return .scannerMarks
        }
        return nil
    }

    func containsSignature(_ range: ByteRange, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let start = Int(range.lowerBound)
        let end = Int(range.upperBound)
        for signature in userAgents where signature.count <= end - start {
            var i = start
            while i + signature.count <= end {
                var k = 0
                while k < signature.count, ByteClass.lower(bytes[i + k]) == signature[k] { k += 1 }
                if k == signature.count { return true }
                i += 1
            }
        }
        return false
    }
}
