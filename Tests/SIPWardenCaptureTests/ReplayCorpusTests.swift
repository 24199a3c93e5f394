import Foundation
import SIPWardenCapture
import SIPWardenCore
import Testing

/// Replays the real captures in ../shared/corpus/pcaps and compares SIP counts with tshark 4.0's.
@Suite struct ReplayCorpusTests {
    struct Expectation: Sendable, CustomTestStringConvertible {
        let file: String
        let packets: Int
        let requests: [String: Int]
        let responses: [Int: Int]
        var testDescription: String { file }
    }

    static let pcaps: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/corpus/pcaps")
    }()

    /// `tshark -r FILE -Y sip.Request-Line -T fields -e sip.Method` (and Status-Code), counted per message.
    static let expectations: [Expectation] = [
        .init(
            file: "attacks/initconf_BadUserAgent-sipvicious_svmap-options-scan.pcap", packets: 26,
            requests: ["OPTIONS": 26], responses: [:]),
        .init(
            file: "attacks/initconf_SIP-212.32.250.134_register-invite-tollfraud-scan.pcap", packets: 5159,
            requests: ["ACK": 528, "BYE": 49, "CANCEL": 25, "INVITE": 655, "REGISTER": 892],
            responses: [
                100: 203, 180: 73, 200: 121, 401: 159, 403: 164, 404: 50, 405: 103, 407: 79, 482: 51, 486: 127,
                487: 24, 501: 155, 503: 113, 603: 77,
            ]),
        .init(
            file: "attacks/initconf_SIP-3700-unauthorized-401_sipcli-invite-scan.pcap", packets: 52,
            requests: ["ACK": 17, "INVITE": 17], responses: [100: 1, 401: 6, 403: 1, 482: 5, 503: 5]),
        // tshark's default run decodes frames 1974–1979 (UDP 1293↔5060) as PacketCable and misses
        // 3 REGISTER and 3 401; with udp.try_heuristic_first it reports these totals, as we do.
        .init(
            file: "attacks/initconf_SIP-Bruteforce-Single-IP_register-bruteforce.pcap", packets: 2645,
            requests: ["REGISTER": 1626], responses: [100: 6, 401: 808, 403: 42, 503: 163]),
        .init(
            file: "calls-and-registration/ndpi_sip_hello_register-digest.pcapng", packets: 30,
            requests: ["REGISTER": 4],
            responses: [200: 2, 401: 2]),
        .init(
            file: "calls-and-registration/suricata-verify_public-cloudshark-sip-s0.pcap", packets: 10,
            requests: ["ACK": 1, "INVITE": 2, "REGISTER": 1], responses: [100: 2, 180: 2, 200: 2]),
        .init(
            file: "calls-and-registration/suricata-verify_sip-options-method.pcap", packets: 2,
            requests: ["OPTIONS": 1], responses: [200: 1]),
        .init(
            file: "calls-and-registration/suricata-verify_sip-pattern-matching_register-401.pcap", packets: 2,
            requests: ["REGISTER": 1], responses: [401: 1]),
        .init(
            file: "calls-and-registration/suricata-verify_sip-sdp.pcap", packets: 2, requests: ["INVITE": 1],
            responses: [200: 1]),
        .init(
            file: "calls-and-registration/wireshark-sample_FAX-Call-t38-CA-TDM-SIP-FB-1.pcap", packets: 1552,
            requests: ["ACK": 16, "BYE": 4, "INVITE": 16, "OPTIONS": 8], responses: [100: 16, 180: 4, 200: 24, 488: 4]),
        .init(
            file: "calls-and-registration/wireshark-sample_aaa_sip-call-register-digest-rtp.pcap", packets: 691,
            requests: ["ACK": 7, "CANCEL": 11, "INVITE": 11, "REGISTER": 18],
            responses: [100: 7, 183: 1, 200: 3, 401: 14, 403: 3, 407: 3, 408: 2, 480: 1]),
        .init(file: "edge-cases/ndpi_http_on_sip_port_non-sip-on-5060.pcap", packets: 4, requests: [:], responses: [:]),
        .init(
            file: "edge-cases/suricata-verify_sip-compact-form.pcap", packets: 1, requests: ["INVITE": 1],
            responses: [:]),
        .init(
            file: "edge-cases/suricata-verify_sip-header-multi-value.pcap", packets: 1, requests: ["INVITE": 1],
            responses: [:]),
        .init(
            file: "edge-cases/zeek_invalid-content-length.pcap", packets: 2, requests: ["INVITE": 1],
            responses: [200: 1]),
        .init(
            file: "edge-cases/zeek_sip-junk-before-request.pcap", packets: 2, requests: ["REGISTER": 1], responses: [:]),
        .init(
            file: "edge-cases/zeek_sip-long-request-response-paths.pcap", packets: 2, requests: ["OPTIONS": 1],
            responses: [200: 1]),
        .init(
            file: "transport-tcp-ipv6-tunnel/sngrep_ipip_sip-tcp-in-ipip-tunnel.pcap", packets: 4,
            requests: ["BYE": 1, "INVITE": 1], responses: [183: 1, 200: 1]),
        .init(
            file: "transport-tcp-ipv6-tunnel/sngrep_ipv6frag_sip-over-ipv6-fragmented.pcap", packets: 34,
            requests: ["ACK": 2, "BYE": 2, "INVITE": 2, "PRACK": 4, "UPDATE": 4], responses: [100: 1, 183: 4, 200: 13]),
        .init(
            file: "transport-tcp-ipv6-tunnel/suricata-verify_sip-body-large_invite-over-tcp.pcap", packets: 16,
            requests: ["INVITE": 1], responses: [100: 1]),
        .init(
            file: "transport-tcp-ipv6-tunnel/suricata-verify_sip-tcp-method_register-over-tcp.pcap", packets: 11,
            requests: ["REGISTER": 1], responses: [200: 1]),
        .init(
            file: "transport-tcp-ipv6-tunnel/suricata-verify_sip-tcp-pattern-matching_register-over-tcp.pcap",
            packets: 7,
            requests: ["REGISTER": 1], responses: [401: 1]),
    ]

    static func replay(_ file: String, rules: RuleSet = RuleSet()) throws -> (ReplaySummary, [PacketFilter.Outcome]) {
        let capture = try CaptureFile(path: pcaps.appendingPathComponent(file).path)
        var replayer = Replayer(rules: rules)
        var outcomes: [PacketFilter.Outcome] = []
        try capture.forEachFrame { time, frame in
            outcomes.append(replayer.replay(frame: frame, linkType: capture.linkType, at: time))
        }
        return (replayer.summary, outcomes)
    }

    @Test func everyCaptureHasAnExpectation() throws {
        let files = FileManager.default.enumerator(atPath: Self.pcaps.path)!.compactMap { $0 as? String }
            .filter { $0.contains(".pcap") }
        #expect(Set(files) == Set(Self.expectations.map(\.file)))
    }

    @Test(arguments: expectations)
    func sipCountsMatchTshark(expected: Expectation) throws {
        let (summary, outcomes) = try Self.replay(expected.file)
        #expect(summary.packets == expected.packets)
        #expect(outcomes.count == expected.packets)
        #expect(summary.requestsByMethod == expected.requests)
        #expect(summary.responsesByStatus == expected.responses)
    }

    @Test func ipv6FragmentsAreReassembledBeforeClassification() throws {
        let (summary, outcomes) = try Self.replay(
            "transport-tcp-ipv6-tunnel/sngrep_ipv6frag_sip-over-ipv6-fragmented.pcap")
        #expect(summary.reassembledDatagrams == 2)
        // Frames 1 and 4 are first fragments: nothing to judge until the datagram is whole.
        #expect(outcomes[0].messages == 0 && outcomes[0].decision.reason == .partial)
        #expect(outcomes[1].messages == 1)
        #expect(outcomes[1].source?.family == .v6)
    }

    @Test func tcpMessagesSplitOverSegmentsAreFramed() throws {
        let (_, outcomes) = try Self.replay(
            "transport-tcp-ipv6-tunnel/suricata-verify_sip-body-large_invite-over-tcp.pcap")
        // The 64 KiB INVITE spans frames 5–9 and completes in frame 9.
        #expect(outcomes[4].messages == 0)
        #expect(outcomes[8].messages == 1)
    }

    static let attacks: [(file: String, attacker: String, reason: Decision.Reason)] = [
        ("attacks/initconf_BadUserAgent-sipvicious_svmap-options-scan.pcap", "7.17.254.165", .scanner),
        ("attacks/initconf_SIP-3700-unauthorized-401_sipcli-invite-scan.pcap", "40.129.198.250", .scanner),
        ("attacks/initconf_SIP-Bruteforce-Single-IP_register-bruteforce.pcap", "199.105.226.32", .passwordGuessing),
        ("attacks/initconf_SIP-212.32.250.134_register-invite-tollfraud-scan.pcap", "206.55.185.163", .tollFraud),
    ]

    @Test(arguments: attacks)
    func attackCapturesAreDetected(file: String, attacker: String, reason: Decision.Reason) throws {
        let capture = try CaptureFile(path: Self.pcaps.appendingPathComponent(file).path)
        var replayer = Replayer(rules: RuleSet())
        try capture.forEachFrame { time, frame in
            _ = replayer.replay(frame: frame, linkType: capture.linkType, at: time)
        }
        let bans = replayer.bans.filter { $0.target.contains(try! #require(IPAddress(attacker))) }
        #expect(bans.first?.reason == reason)
        #expect(replayer.summary.count(of: IPAddress(attacker)!)!.drops > 0)
    }

    @Test func svmapScanIsStoppedAtEveryScannerFirstPacket() throws {
        let (summary, _) = try Self.replay("attacks/initconf_BadUserAgent-sipvicious_svmap-options-scan.pcap")
        #expect(summary.verdicts[.accept, default: 0] == 0)
    }

    @Test func cleanCallCapturesDropNothing() throws {
        for file in Self.expectations.map(\.file) where file.hasPrefix("calls-and-registration/") {
            let (summary, _) = try Self.replay(file)
            #expect(summary.verdicts[.drop, default: 0] == 0, "\(file)")
        }
    }

    @Test func nonSIPOnTheSIPPortIsDroppedAndKeepAlivesAccepted() throws {
        let (hello, _) = try Self.replay("calls-and-registration/ndpi_sip_hello_register-digest.pcapng")
        #expect(hello.reasons[.keepAlive] == 22)
        let (junk, outcomes) = try Self.replay("edge-cases/zeek_sip-junk-before-request.pcap")
        #expect(outcomes[0].decision.verdict == .accept && outcomes[0].decision.reason == .keepAlive)
        #expect(outcomes[1].decision.verdict == .drop && outcomes[1].decision.reason == .malformed)
        #expect(junk.verdicts[.drop] == 1)
    }

    @Test func monitorModeAcceptsEverythingButKeepsReasons() throws {
        var rules = RuleSet()
        rules.daemon.mode = .monitor
        let (summary, _) = try Self.replay("edge-cases/zeek_invalid-content-length.pcap", rules: rules)
        #expect(summary.verdicts[.drop, default: 0] == 0)
        #expect(summary.reasons[.malformed] == 1)
    }

    @Test func missingAndCorruptCapturesAreErrorsNamingTheFile() throws {
        #expect(throws: CaptureError.self) { try CaptureFile(path: "/nonexistent/x.pcap") }
        let corrupt = FileManager.default.temporaryDirectory.appendingPathComponent("sipwarden-corrupt.pcap")
        try Data("this is not a capture".utf8).write(to: corrupt)
        do {
            _ = try CaptureFile(path: corrupt.path)
            Issue.record("a text file opened as a capture")
        } catch {
            #expect(error.description.hasPrefix(corrupt.path))
        }
        // A capture cut in the middle of a record.
        let whole = try Data(
            contentsOf: Self.pcaps.appendingPathComponent("calls-and-registration/suricata-verify_sip-sdp.pcap"))
        let cut = FileManager.default.temporaryDirectory.appendingPathComponent("sipwarden-cut.pcap")
        try whole.prefix(whole.count - 100).write(to: cut)
        let capture = try CaptureFile(path: cut.path)
        #expect(throws: CaptureError.self) { try capture.forEachFrame { _, _ in } }
    }

    /// A capture of a link the filter cannot read (802.11 with radiotap headers, or a number libpcap
    /// has no name for) is refused with the name tcpdump and tshark would show.
    @Test func anUnsupportedLinkTypeIsNamed() throws {
        /// A pcap file header, little-endian: magic, version 2.4 (major then minor, 16 bits each), zone,
        /// accuracy, snapshot length, link type.
        func header(_ linkType: UInt32) -> Data {
            [0xA1B2_C3D4, 0x0004_0002, 0, 0, 65535, linkType].reduce(into: Data()) { bytes, word in
                bytes += withUnsafeBytes(of: UInt32(word).littleEndian) { Data($0) }
            }
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sipwarden-radiotap-\(UUID()).pcap")
        defer { try? FileManager.default.removeItem(at: file) }
        for (linkType, expected) in [
            (UInt32(127), "unsupported link type IEEE802_11_RADIO (802.11 plus radiotap header), DLT 127 (supported:"),
            (UInt32(65_000), "unsupported link type DLT 65000 (supported:"),
        ] {
            try header(linkType).write(to: file)
            do {
                _ = try CaptureFile(path: file.path)
                Issue.record("link type \(linkType) opened")
            } catch {
                #expect(error.description.hasPrefix("\(file.path): \(expected)"), "\(error.description)")
            }
        }
    }

    /// A pcapng packet stamped 2^64 − 1 microseconds after 1970: not a time the engine can count in
    /// (nanoseconds in Int64 end in 2262), so the capture is corrupt, not a trap.
    @Test func aTimestampBeyond2262IsACorruptCapture() throws {
        func le32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        let section =
            le32(0x0A0D_0D0A) + le32(28) + le32(0x1A2B_3C4D) + [1, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8)
            + le32(28)
        let interface = le32(1) + le32(20) + [101, 0, 0, 0] + le32(65535) + le32(20)
        let packet = [UInt8](repeating: 0x45, count: 20)
        let enhanced =
            le32(6) + le32(52) + le32(0) + le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF) + le32(20) + le32(20) + packet
            + le32(52)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sipwarden-far-future.pcapng")
        try Data(section + interface + enhanced).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let capture = try CaptureFile(path: file.path)
        do {
            try capture.forEachFrame { _, _ in Issue.record("a frame stamped after 2262 was handed out") }
            Issue.record("no error")
        } catch {
            #expect(error.description.contains("after 2262"))
        }
    }
}
