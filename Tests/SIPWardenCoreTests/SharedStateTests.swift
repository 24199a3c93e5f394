import Testing

@testable import SIPWardenCore

/// Two queues' engines as the daemon runs them: per-source state queue-local, users and nonces shared
/// through `SharedTables`, global budgets split in shares.
@Suite struct SharedStateTests {
    static let server = "198.51.100.1"

    /// Two filters sharing one `SharedTables`, each with half of every global budget.
    struct TwoQueues {
        var queues: [PacketFilter]

        init(rules: RuleSet = RuleSet()) {
            let shared = SharedTables(rules)
            queues = (0..<2).map { _ in
                PacketFilter(
                    engine: Engine(
                        rules: rules, servers: [IPAddress(SharedStateTests.server)!], shared: shared, budgetShare: 0.5))
            }
        }

        @discardableResult
        mutating func send(_ text: String, from source: String, on queue: Int, at seconds: Double)
            -> PacketFilter.Outcome
        {
            run(Harness.packet(text, from: source, to: server, sourcePort: 5060, destinationPort: 5060), queue, seconds)
        }

        mutating func answer(_ text: String, to client: String, on queue: Int, at seconds: Double) {
            run(Harness.packet(text, from: server, to: client, sourcePort: 5060, destinationPort: 5060), queue, seconds)
        }

        @discardableResult
        mutating func run(_ packet: [UInt8], _ queue: Int, _ seconds: Double) -> PacketFilter.Outcome {
            var observer = NoObserver()
            return packet.withUnsafeBytes {
                queues[queue].filter(ipPacket: $0, direction: nil, at: Timestamp(seconds: seconds), observer: &observer)
            }
        }

        /// REGISTER, 401, REGISTER with credentials, 200: the user is bound to `address`.
        mutating func register(user: String, from address: String, on queue: Int, at seconds: Double) {
            var t = Transaction(user: user, target: user, fromUser: user, callID: "reg-\(user)", contactHost: address)
            send(t.request, from: address, on: queue, at: seconds)
            answer(t.response(401, "Unauthorized", nonce: "n-\(user)"), to: address, on: queue, at: seconds + 0.01)
            t.cseq += 1
            t.credentials = (user, "n-\(user)", "resp-\(user)", "00000001", "c-\(user)")
            send(t.request, from: address, on: queue, at: seconds + 0.02)
            answer(t.response(200, "OK"), to: address, on: queue, at: seconds + 0.03)
        }
    }

    @Test func aHijackIsSeenOnAnotherQueueThanTheRegistration() {
        var q = TwoQueues()
        q.register(user: "555", from: "192.0.2.55", on: 0, at: 0)
        let t = Transaction(user: "555", target: "555", fromUser: "555", callID: "hijack", contactHost: "203.0.113.55")
        #expect(q.send(t.request, from: "203.0.113.55", on: 1, at: 5).decision.parts[.hijack] == 15)
    }

    @Test func aDigestReplayIsSeenOnAnotherQueue() {
        var q = TwoQueues()
        var t = Transaction(user: "100", target: "100", fromUser: "100", callID: "orig", contactHost: "192.0.2.30")
        t.credentials = ("100", "samenonce", "sameresponse", "00000001", "samecnonce")
        q.send(t.request, from: "192.0.2.30", on: 0, at: 0)
        var stolen = t
        stolen.callID = "other"
        let replay = q.send(stolen.request, from: "203.0.113.31", on: 1, at: 1)
        #expect(replay.decision.parts[.digestReplay] == 40)
    }

    @Test func eachQueueHoldsItsShareOfTheUnknownSourceBudget() {
        var rules = RuleSet()
        rules.limits.unknownSources = Rate(perSecond: 10, burst: 10)
        var q = TwoQueues(rules: rules)
        var accepted = [0, 0]
        for i in 0..<40 {
            let queue = i % 2
            let source = "203.0.113.\(i + 1)"
            let t = Transaction(method: "OPTIONS", callID: "o\(i)", contactHost: source)
            if !q.send(t.request, from: source, on: queue, at: 0).decision.drops { accepted[queue] += 1 }
        }
        // Together the queues accept the configured burst, not twice it.
        #expect(accepted == [5, 5])
    }

    /// A source flooding INVITEs on queue 0 until it is banned.
    static func flooded() -> TwoQueues {
        var q = TwoQueues()
        for i in 0..<200 {
            let t = Transaction(method: "INVITE", callID: "f\(i)", contactHost: "203.0.113.66")
            q.send(t.request, from: "203.0.113.66", on: 0, at: Double(i) * 0.001)
        }
        return q
    }

    @Test func banRecordsAreDrainedOnceAndTheirStorageIsBounded() {
        var q = Self.flooded()
        var drained: [BanRecord] = []
        q.queues[0].engine.drainBans { drained.append($0) }
        #expect(drained.map(\.target) == [IPPrefix("203.0.113.66/32")!])
        #expect(q.queues[0].engine.pendingBans.isEmpty)
        q.queues[0].engine.drainBans { drained.append($0) }
        #expect(drained.count == 1)
        #expect(Engine.pendingBanLimit == 4096)
    }

    @Test func unbanLiftsTheEngineBanAndTheSourceStartsAgain() {
        var q = Self.flooded()
        let t = Transaction(method: "OPTIONS", callID: "after", contactHost: "203.0.113.66")
        #expect(q.send(t.request, from: "203.0.113.66", on: 0, at: 1).decision.reason == .banned)
        #expect(q.queues[1].engine.unban(IPPrefix("203.0.113.0/24")!, now: Timestamp(seconds: 1)) == 0)
        #expect(q.queues[0].engine.unban(IPPrefix("203.0.113.0/24")!, now: Timestamp(seconds: 1)) == 1)
        #expect(q.send(t.request, from: "203.0.113.66", on: 0, at: 1.1).decision.verdict == .accept)
    }

    @Test func aSnapshotListsTheTopScorerAndTableFill() {
        let q = Self.flooded()
        let snapshot = q.queues[0].engine.snapshot(at: Timestamp(seconds: 1), top: 5)
        #expect(snapshot.topSources.first?.address == IPAddress("203.0.113.66"))
        #expect(snapshot.topSources.first?.banned == true)
        #expect(snapshot.tables.first { $0.name == "sources" }?.entries == 1)
        #expect(snapshot.tables.map(\.name) == ["sources", "prefixes", "users", "nonces"])
        #expect(snapshot.counters.bans == 1)
    }

    @Test func aTCPSegmentWhoseFirstMessageBansKeepsTheBanOverTheNextMessagesDrop() {
        var q = TwoQueues()
        let scan = Transaction(method: "OPTIONS", userAgent: "friendly-scanner").request
        let segment = PacketBuilder.ipv4(
            source: "203.0.113.9", destination: SharedStateTests.server, protocol: 6,
            payload: PacketBuilder.tcp(payload: Array((scan + scan).utf8)))
        let outcome = q.run(segment, 0, 1)
        #expect(outcome.messages == 2)
        #expect(outcome.decision.verdict == .ban, "the kernel must get the ban mark: \(outcome.decision)")
        #expect(outcome.decision.reason == .scanner)
    }

    @Test func aDroppedTCPSegmentIsDroppedAgainWhenRetransmitted() {
        var q = TwoQueues()
        // CSeq names another method than the request line: malformed, dropped by policy.
        let malformed = Transaction(method: "INVITE").request.replacingOccurrences(
            of: "CSeq: 1 INVITE", with: "CSeq: 1 BYE")
        let valid = Transaction(method: "OPTIONS", callID: "next").request
        func segment(_ text: String, sequence: UInt32) -> [UInt8] {
            PacketBuilder.ipv4(
                source: "203.0.113.20", destination: SharedStateTests.server, protocol: 6,
                payload: PacketBuilder.tcp(sequence: sequence, payload: Array(text.utf8)))
        }
        let first = q.run(segment(malformed, sequence: 1000), 0, 1)
        #expect(first.decision.verdict == .drop)
        #expect(first.decision.reason == .malformed)
        // The sender retransmits what the kernel dropped: the stream cannot judge those bytes again.
        let retransmission = q.run(segment(malformed, sequence: 1000), 0, 1.2)
        #expect(retransmission.decision.verdict == .drop)
        #expect(retransmission.decision.reason == .malformed)
        // The server's TCP would hold what follows behind the dropped bytes: nothing past them is placed.
        let next = q.run(segment(valid, sequence: 1000 + UInt32(malformed.utf8.count)), 0, 1.4)
        #expect(next.messages == 0)
        #expect(next.decision.verdict == .drop)
    }

    @Test func anyBytesGetAVerdictAndNeverACrash() {
        var q = TwoQueues()
        var random = SystemRandomNumberGenerator()
        let valid = Harness.packet(
            Transaction(method: "OPTIONS").request, from: "203.0.113.7", to: SharedStateTests.server, sourcePort: 5060,
            destinationPort: 5060)
        // Cut short, a client's packet cannot be decoded: dropped (enforce mode), its bytes unjudged.
        for length in [0, 1, 19, 20, 27, 28, valid.count - 1] {
            #expect(q.run(Array(valid.prefix(length)), 0, 1).decision == Decision(.drop, .undecodable))
        }
        for _ in 0..<2000 {
            var bytes = valid
            for _ in 0..<4 {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = .random(in: 0...255, using: &random)
            }
            _ = q.run(bytes, 1, 2)
        }
        #expect(q.run(valid, 0, 3).messages == 1)
    }
}
