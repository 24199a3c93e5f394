import Testing

@testable import SIPWardenCore

/// The User-Agent signature search: any case, any position, and only whole signatures.
@Suite struct ScannerDetectorTests {
    static func signature(_ userAgent: String, signatures: [String]? = nil) -> RuleSet.Detector? {
        var rules = RuleSet.Signatures()
        if let signatures { rules.userAgents = signatures }
        let detector = ScannerDetector(rules)
        let bytes = Array(userAgent.utf8)
        return bytes.withUnsafeBytes { detector.signature(in: ByteRange(0, bytes.count), $0) }
    }

    static func detects(_ userAgent: String, signatures: [String]? = nil) -> Bool {
        signature(userAgent, signatures: signatures) != nil
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

    /// Names real products share with scanners are told apart from the tools', and a tool's name wins
    /// wherever a value holds both.
    @Test(arguments: [
        ("PortSIP VoIP SDK 11.2.5", RuleSet.Detector?.some(.sharedUserAgent)),
        ("sipsak 0.9.8", .sharedUserAgent),
        ("PortSIP friendly-scanner", .scannerUserAgent),
        ("friendly-scanner PortSIP", .scannerUserAgent),
        ("Zoiper rv2.10", nil),
    ])
    func sharedSignatures(userAgent: String, expected: RuleSet.Detector?) {
        #expect(Self.signature(userAgent) == expected)
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
            let first = detector.signature(phone, phoneHash, bytes) != nil
            #expect(!first && detector.cleanUserAgents.contains(phoneHash))
            let again = detector.signature(phone, phoneHash, bytes) != nil
            #expect(!again)
            let scannerFound = (0..<2).map { _ in detector.signature(scanner, scannerHash, bytes) != nil }
            #expect(scannerFound == [true, true] && !detector.cleanUserAgents.contains(scannerHash))
            // The phone's hash in the scanner's slot does not let the scanner pass.
            let sharedSlot = scannerHash & ~0xFF | phoneHash & 0xFF
            let stillFound = detector.signature(scanner, sharedSlot, bytes) != nil
            #expect(stillFound)
        }
    }
    static func isSIPViciousTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        return bytes.withUnsafeBytes { ScannerMarks.sipviciousTag(ByteRange(0, bytes.count), $0) }
    }

    /// SIPVicious' From tag as its helper writes it: hex(text + 0x01 + a random 32-bit number).
    static func sipviciousTag(_ text: String, _ number: UInt32) -> String {
        (Array(text.utf8) + [1] + Array(String(number).utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }
            .joined()
    }

    static let tags: [(tag: String, isMark: Bool)] = [
        (sipviciousTag("100", 2_894_731_605), true),
        (sipviciousTag("", 4_294_967_295), true),
        (sipviciousTag("1001:secret", 10_000_000), true),
        (sipviciousTag("100", 2_894_731_605).uppercased(), true),
        // A number under 10^7 is too short to tell from a phone's tag.
        (sipviciousTag("100", 9_999_999), false),
        // What no 32-bit number writes: a leading zero, eleven digits, a value over 2^32 - 1.
        ("3130300130383934373331363035", false),
        ("313030013132333435363738393031", false),
        ("3130300134323934393637323936", false),
        // Yealink's decimal tag 3549400133 reads "5I@", 0x01, "3".
        ("3549400133", false),
        ("3135340133", false),
        // An odd length is no hex encoding.
        ("313030013238393437333136303", false),
    ]

    @Test(arguments: tags)
    func sipviciousTags(tag: String, isMark: Bool) {
        #expect(Self.isSIPViciousTag(tag) == isMark)
    }

    /// Phones' tags, decimal or hex, of the usual lengths: none is taken for SIPVicious' (a
    /// separator followed by a digit or two in a decimal tag made one in about 4,000 of them a mark).
    @Test func phoneTagsAreNotScannerMarks() {
        var generator = SplitMix64(state: 0x5EED)
        var marked: [String] = []
        for round in 0..<300_000 {
            let tag: String
            switch round % 3 {
            case 0: tag = String(generator.next() % 10_000_000_000)
            case 1: tag = String(generator.next() % 10_000_000_000) + String(generator.next() % 10_000_000_000)
            default: tag = String(generator.next(), radix: 16) + String(generator.next(), radix: 16)
            }
            if Self.isSIPViciousTag(tag) { marked.append(tag) }
        }
        #expect(marked.isEmpty, "taken for SIPVicious: \(marked.prefix(5))")
    }
}
