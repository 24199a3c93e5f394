/// Recognises scanning tools: by User-Agent (or Server) substrings, and by structural marks that
/// survive a changed User-Agent.
struct ScannerDetector {
    /// Signatures as lower-case bytes.
    let userAgents: [[UInt8]]
    /// One bit per lower-cased byte pair that opens a signature (65,536 bits), so that nearly every
    /// position of a User-Agent is passed over after one bit test.
    let openingPairs: [UInt64]
    let structuralMarks: Bool
    /// Hashes of User-Agents lately found free of signatures, one slot per hash's low bits: most
    /// requests come from a few phone models, whose User-Agents are then searched once, not once per source.
    private(set) var cleanUserAgents = [UInt64](repeating: 0, count: 256)
    private(set) var userAgentHits = 0
    private(set) var markHits = 0

    init(_ signatures: RuleSet.Signatures) {
        userAgents = signatures.userAgents.map { Array($0.lowercased().utf8) }
        var pairs = [UInt64](repeating: 0, count: 1024)
        for signature in userAgents where signature.count >= 2 {
            let pair = Self.pair(signature[0], signature[1])
            pairs[pair >> 6] |= 1 << (pair & 63)
        }
        openingPairs = pairs
        structuralMarks = signatures.structuralMarks
    }

    /// Which scanner evidence the message carries, if any. Its User-Agent (whose `ByteHash` is
    /// `userAgentHash`, 0 when it has none) is searched only when `newUserAgent`: a source's is searched
    /// once. Its marks are looked at always: a tool that probed with a User-Agent may scan with it too.
    mutating func inspect(
        _ message: SIPMessage, _ bytes: UnsafeRawBufferPointer, userAgentHash: UInt64, newUserAgent: Bool
    ) -> RuleSet.Detector? {
        if newUserAgent, !message.userAgent.isEmpty, hasSignature(message.userAgent, userAgentHash, bytes) {
            userAgentHits += 1
            return .scannerUserAgent
        }
        if structuralMarks, ScannerMarks.match(message, bytes) {
            markHits += 1
            return .scannerMarks
        }
        return nil
    }

    /// `containsSignature`, skipped for a User-Agent lately found clean (`hash` is its `ByteHash`).
    mutating func hasSignature(_ range: ByteRange, _ hash: UInt64, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let slot = Int(truncatingIfNeeded: hash) & (cleanUserAgents.count - 1)
        if cleanUserAgents[slot] == hash { return false }
        if containsSignature(range, bytes) { return true }
        cleanUserAgents[slot] = hash
        return false
    }

    func containsSignature(_ range: ByteRange, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let start = Int(range.lowerBound)
        let end = Int(range.upperBound)
        // Signatures of fewer than two bytes have no opening pair; a rule file rarely has one.
        for signature in userAgents where signature.count < 2 && signature.count <= end - start {
            if signature.isEmpty || (start..<end).contains(where: { ByteClass.lower(bytes[$0]) == signature[0] }) {
                return true
            }
        }
        var i = start
        while i + 1 < end {
            let pair = Self.pair(ByteClass.lower(bytes[i]), ByteClass.lower(bytes[i + 1]))
            if openingPairs[pair >> 6] >> (pair & 63) & 1 != 0, signatureStarts(at: i, end, bytes) { return true }
            i += 1
        }
        return false
    }

    /// Whether a signature of two bytes or more starts at `i` and ends by `end`.
    func signatureStarts(at i: Int, _ end: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        for signature in userAgents where signature.count >= 2 && i + signature.count <= end {
            var k = 0
            while k < signature.count, ByteClass.lower(bytes[i + k]) == signature[k] { k += 1 }
            if k == signature.count { return true }
        }
        return false
    }

    @inline(__always)
    static func pair(_ first: UInt8, _ second: UInt8) -> Int { Int(first) << 8 | Int(second) }
}
