import Testing

@testable import SIPWardenCore

/// The User-Agent signature search: any case, any position, and only whole signatures.
@Suite struct ScannerDetectorTests {
    static func detects(_ userAgent: String, signatures: [String]? = nil) -> Bool {
        var rules = RuleSet.Signatures()
        if let signatures { rules.userAgents = signatures }
        let detector = ScannerDetector(rules)
        let bytes = Array(userAgent.utf8)
        return bytes.withUnsafeBytes { detector.containsSignature(ByteRange(0, bytes.count), $0) }
    }

    @Test(arguments: [
        ("friendly-scanner", true),
        ("Friendly-Scanner", true),
        ("SIPVicious 0.3.4", true),
        ("my sipcli/v1.8", true),
        ("Asterisk PBX 18 (smap)", true),
        ("xx-iWar", true),
        ("smap", true),
        ("sma", false),
        ("friendly-scanne", false),
        ("PolycomVVX-VVX_411-UA/6.4.3", false),
        ("Yealink SIP-T46S 66.86.0.15", false),
        ("sipsa k", false),
        ("", false),
    ])
    func defaultSignatures(userAgent: String, expected: Bool) {
        #expect(Self.detects(userAgent) == expected)
    }

    @Test func aSignatureEndingTheValueOrOverlappingAFalseStartIsFound() {
        #expect(Self.detects("xxabcabd", signatures: ["abcabd"]))
        #expect(Self.detects("ababd", signatures: ["abd"]))
        #expect(!Self.detects("ababd", signatures: ["abe"]))
    }

    @Test func shortSignaturesStillMatch() {
        #expect(Self.detects("Mozilla/5.0 Q", signatures: ["q"]))
        #expect(!Self.detects("Mozilla/5.0", signatures: ["q"]))
        #expect(Self.detects("anything", signatures: [""]))
    }

    /// A clean User-Agent is searched once and then remembered; a scanner's is found every time, also
    /// when a clean one shares its slot.
    @Test func cleanUserAgentsAreRememberedAndScannersAreNot() {
        var detector = ScannerDetector(RuleSet.Signatures())
        let text = Array("Yealink SIP-T46S 66.86.0.15friendly-scanner".utf8)
        let phone = ByteRange(0, 27)
        let scanner = ByteRange(27, text.count)
        text.withUnsafeBytes { bytes in
            let phoneHash = ByteHash.hash(bytes, phone)
            let scannerHash = ByteHash.hash(bytes, scanner)
            let first = detector.hasSignature(phone, phoneHash, bytes)
            #expect(!first && detector.cleanUserAgents.contains(phoneHash))
            let again = detector.hasSignature(phone, phoneHash, bytes)
            #expect(!again)
            let scannerFound = (0..<2).map { _ in detector.hasSignature(scanner, scannerHash, bytes) }
            #expect(scannerFound == [true, true] && !detector.cleanUserAgents.contains(scannerHash))
            // The phone's hash in the scanner's slot does not let the scanner pass.
            let sharedSlot = scannerHash & ~0xFF | phoneHash & 0xFF
            let stillFound = detector.hasSignature(scanner, sharedSlot, bytes)
            #expect(stillFound)
        }
    }
}
