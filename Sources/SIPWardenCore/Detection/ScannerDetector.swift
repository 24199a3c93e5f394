/// Recognises scanning tools: by User-Agent (or Server) substrings, and by structural marks that
/// survive a changed User-Agent.
struct ScannerDetector {
    /// Signatures as lower-case bytes: the tools' (`Signatures.userAgents`), then from `toolSignatures`
    /// on those real products share with scanners (`Signatures.sharedUserAgents`).
    let signatures: [[UInt8]]
    let toolSignatures: Int
    /// One bit per lower-cased byte pair that opens a signature (65,536 bits), so that nearly every
    /// position of a User-Agent is passed over after one bit test.
    let openingPairs: [UInt64]
    let structuralMarks: Bool
    /// Hashes of User-Agents lately found free of signatures, one slot per hash's low bits: most
    /// requests come from a few phone models, whose User-Agents are then searched once, not once per source.
    private(set) var cleanUserAgents = [UInt64](repeating: 0, count: 256)

    init(_ rules: RuleSet.Signatures) {
        signatures = (rules.userAgents + rules.sharedUserAgents).map { Array($0.lowercased().utf8) }
        toolSignatures = rules.userAgents.count
        var pairs = [UInt64](repeating: 0, count: 1024)
        for signature in signatures where signature.count >= 2 {
            let pair = Self.pair(signature[0], signature[1])
            pairs[pair >> 6] |= 1 << (pair & 63)
        }
        openingPairs = pairs
        structuralMarks = rules.structuralMarks
    }

    /// Which scanner evidence the message carries, if any: `.scannerUserAgent`, `.sharedUserAgent` or
    /// `.scannerMarks`. Its User-Agent (whose `ByteHash` is `userAgentHash`, 0 when it has none) is
    /// searched only when `newUserAgent`: a source's is searched once. Its marks are looked at always: a
    /// tool that probed with a User-Agent may scan with it too.
    mutating func inspect(
        _ message: SIPMessage, _ bytes: UnsafeRawBufferPointer, userAgentHash: UInt64, newUserAgent: Bool
    ) -> RuleSet.Detector? {
        if newUserAgent, !message.userAgent.isEmpty,
            let found = signature(message.userAgent, userAgentHash, bytes)
        {
            return found
        }
        if structuralMarks, ScannerMarks.match(message, bytes) { return .scannerMarks }
        return nil
    }

    /// `signature(in:_:)`, skipped for a User-Agent lately found clean (`hash` is its `ByteHash`).
    mutating func signature(_ range: ByteRange, _ hash: UInt64, _ bytes: UnsafeRawBufferPointer) -> RuleSet.Detector? {
        let slot = Int(truncatingIfNeeded: hash) & (cleanUserAgents.count - 1)
        if cleanUserAgents[slot] == hash { return nil }
        if let found = signature(in: range, bytes) { return found }
        cleanUserAgents[slot] = hash
        return nil
    }

    /// Which signature the value in `range` holds: `.scannerUserAgent` for a tool's (wherever it holds a
    /// shared one too, so that a tool cannot hide behind a product's name), `.sharedUserAgent`, or nil.
    func signature(in range: ByteRange, _ bytes: UnsafeRawBufferPointer) -> RuleSet.Detector? {
        let start = Int(range.lowerBound)
        let end = Int(range.upperBound)
        var found: RuleSet.Detector?
        // Signatures of fewer than two bytes have no opening pair; a rule file rarely has one.
        for (index, signature) in signatures.enumerated() where signature.count < 2 && signature.count <= end - start {
            if signature.isEmpty || (start..<end).contains(where: { ByteClass.lower(bytes[$0]) == signature[0] }) {
                if index < toolSignatures { return .scannerUserAgent }
                found = .sharedUserAgent
            }
        }
        var i = start
        while i + 1 < end {
            let pair = Self.pair(ByteClass.lower(bytes[i]), ByteClass.lower(bytes[i + 1]))
            if openingPairs[pair >> 6] >> (pair & 63) & 1 != 0, let kind = signature(startingAt: i, end, bytes) {
                if kind == .scannerUserAgent { return kind }
                found = kind
            }
            i += 1
        }
        return found
    }

    /// Which signature of two bytes or more starts at `i` and ends by `end`: a tool's first.
    func signature(startingAt i: Int, _ end: Int, _ bytes: UnsafeRawBufferPointer) -> RuleSet.Detector? {
        for (index, signature) in signatures.enumerated() where signature.count >= 2 && i + signature.count <= end {
            var k = 0
            while k < signature.count, ByteClass.lower(bytes[i + k]) == signature[k] { k += 1 }
            if k == signature.count { return index < toolSignatures ? .scannerUserAgent : .sharedUserAgent }
        }
        return nil
    }

    @inline(__always)
    static func pair(_ first: UInt8, _ second: UInt8) -> Int { Int(first) << 8 | Int(second) }
}
