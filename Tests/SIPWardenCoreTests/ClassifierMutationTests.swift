import Testing

@testable import SIPWardenCore

/// 100,000 random mutations of corpus messages: every one classifies, and every range stays in bounds.
@Suite struct ClassifierMutationTests {
    static func ranges(of m: SIPMessage) -> [ByteRange] {
        let uris = [m.requestURI, m.from.uri, m.to.uri, m.contact.uri].flatMap {
            [$0.whole, $0.scheme, $0.user, $0.host]
        }
        let digests = [m.authorization, m.challenge].flatMap {
            [
                $0.scheme, $0.username, $0.realm, $0.nonce, $0.uri, $0.response, $0.qop, $0.nc, $0.cnonce, $0.algorithm,
                $0.opaque,
            ]
        }
        return uris + digests + [
            m.methodToken, m.reason, m.via.transport, m.via.sentBy, m.via.host, m.via.branch, m.via.received,
            m.from.displayName, m.from.tag, m.to.displayName, m.to.tag, m.contact.displayName, m.callID,
            m.cseq.methodToken, m.userAgent, m.contentType, m.body,
        ]
    }

    @Test func hundredThousandMutations() throws {
        let files =
            Corpus.files(in: "torture/rfc4475", suffix: ".dat")
            + Corpus.files(in: "rfc-examples/rfc3665", suffix: ".sip")
        let seeds = try files.map { try Corpus.bytes($0) }
        try #require(seeds.count > 200, "the shared corpus (../shared/corpus) is missing")
        var random = SplitMix64(state: 20261123)
        let classifier = SIPClassifier()
        let interesting: [UInt8] = Array(" \t\r\n:;,<>\"\\@=/%0".utf8) + [0, 0x7F, 0xFF]
        var malformed = 0
        for _ in 0..<100_000 {
            var bytes = seeds[random.below(seeds.count)]
            for _ in 0...random.below(4) where !bytes.isEmpty {
                random.mutate(&bytes, interesting: interesting, span: 16) { bytes, at, _ in bytes.removeSubrange(at...)
                }
            }
            let message = bytes.withUnsafeBytes { classifier.classify($0) }
            if message.isMalformed { malformed += 1 }
            for range in Self.ranges(of: message) where !range.isEmpty {
                guard Int(range.upperBound) <= bytes.count, range.lowerBound <= range.upperBound else {
                    Issue.record("range \(range) outside \(bytes.count) bytes: \(bytes)")
                    return
                }
            }
            #expect(Int(message.end) <= bytes.count)
        }
        // Mutations break most messages: the classifier must notice a good share of them.
        #expect(malformed > 30_000)
    }
}
