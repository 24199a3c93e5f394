import Testing

@testable import SIPWardenCore

/// What a restart keeps: proven sources exported, written, read back and restored into a new engine.
@Suite struct ProvenSourceTests {
    static let phone = "192.0.2.140"
    static let abroad = Transaction(
        method: "INVITE", user: "140", target: "0097225551234", fromUser: "140", callID: "abroad-140",
        contactHost: phone)

    /// The hash the engine keeps a user's name by.
    static func userHash(_ name: String) -> UInt64 {
        Array(name.utf8).withUnsafeBytes { ByteHash.hash($0, ByteRange(0, $0.count)) }
    }

    /// The state file's entries of an engine in which the phone registered at 0 s.
    static func keptAfterRegistering() -> ProvenSource.Parsed {
        var before = Harness()
        _ = before.register(user: "140", from: phone, at: 0)
        return ProvenSource.parse(
            ProvenSource.render(before.engine.provenSources(), bindings: before.engine.shared.bindings()))
    }

    /// Restores `kept` as the daemon does, the users' bindings first, then the sources (an authenticated
    /// one gets its standing back from a user bound to it); returns how many sources were taken in.
    static func restore(_ kept: ProvenSource.Parsed, into h: inout Harness, now: Timestamp) -> Int {
        _ = h.engine.shared.restore(kept.bindings, now: now)
        return h.replayer.filter.engine.restore(kept.sources, now: now)
    }

    /// A phone registered before the restart calls abroad, without credentials, before it registers
    /// again: the restored engine knows it authenticated; a new engine without the file holds the call.
    @Test func aPhoneRegisteredBeforeARestartCallsAbroadAfterIt() {
        let kept = Self.keptAfterRegistering()
        #expect(kept.badLines == 0)
        #expect(
            kept.sources == [
                ProvenSource(
                    address: IPAddress(Self.phone)!, good: true, authenticated: true, account: Self.userHash("140"),
                    lastSeen: Timestamp(nanoseconds: 0))
            ])

        var restarted = Harness()
        #expect(Self.restore(kept, into: &restarted, now: Timestamp(seconds: 600)) == 1)
        let call = restarted.send(Self.abroad.request, from: Self.phone, at: 601)
        #expect(!call.decision.drops)
        #expect(call.decision.parts[.tollFraud] == 0)

        var forgotten = Harness()
        #expect(forgotten.send(Self.abroad.request, from: Self.phone, at: 601).decision.reason == .tollFraud)
    }

    /// The server's upstream provider keeps its standing across a restart: written `upstream`, read
    /// back, restored, a forged scanner probe in its name does not ban it before the server registers
    /// there again (without the file it does), and an IPv6 one's /64 stays kept from a prefix ban.
    @Test(arguments: ["203.0.113.200", "2001:db8:cafe:1::10"])
    func theUpstreamProviderKeepsItsStandingAcrossARestart(provider: String) {
        var before = Harness()
        before.registerWithUpstream(provider, at: 0)
        let text = ProvenSource.render(before.engine.provenSources())
        #expect(text.contains("\(provider) good upstream 0\n"))
        let kept = ProvenSource.parse(text).sources
        for restoring in [true, false] {
            var restarted = Harness()
            if restoring { #expect(restarted.replayer.filter.engine.restore(kept, now: Timestamp(seconds: 600)) == 1) }
            restarted.send(Transaction.svmap(from: provider, callID: "forged").request, from: provider, at: 601)
            #expect(restarted.bans.isEmpty == restoring)
        }
        guard provider.contains(":") else { return }
        var restarted = Harness()
        _ = restarted.replayer.filter.engine.restore(kept, now: Timestamp(seconds: 600))
        for k in 0..<6 {
            let forged = "2001:db8:cafe:1::\(String(0x100 + k, radix: 16))"
            restarted.send(Transaction.svmap(from: forged, callID: "f\(k)").request, from: forged, at: 601 + Double(k))
        }
        #expect(restarted.bans.allSatisfy { $0.target.length == 128 })
    }

    /// 24 of an office's 40 phones had their passwords changed on the server and 3 new ones have a
    /// mistyped one; all retry every 30 s while the others call. The failures of the 24 are their own
    /// phones' (each user is bound to the office's address), and the 3 new ones' alone stay within
    /// `guessing.office_failures`. After a restart the same holds only with the bindings restored from
    /// the state file: without them the 24 phones' failures score past it, as guesses, and the working
    /// phones' calls are dropped.
    @Test(arguments: [false, true])
    func anOfficeWithWrongPasswordsKeepsItsServiceAcrossARestart(bindingsKept: Bool) {
        let office = "192.0.2.181"
        let users = (0..<40).map { "\(500 + $0)" }
        var before = Harness()
        for (n, user) in users.enumerated() { _ = before.register(user: user, from: office, at: Double(n) * 0.1) }
        let kept = ProvenSource.parse(
            ProvenSource.render(before.engine.provenSources(), bindings: before.engine.shared.bindings()))
        #expect(kept.bindings.count == 40)
        var h = Harness()
        let restored = h.engine.shared.restore(bindingsKept ? kept.bindings : [], now: Timestamp(seconds: 30))
        #expect(restored == (bindingsKept ? 40 : 0))
        #expect(h.replayer.filter.engine.restore(kept.sources, now: Timestamp(seconds: 30)) == 1)
        let failing = Array(users.prefix(24)) + ["new-1", "new-2", "new-3"]
        for attempt in 0..<40 {
            for (n, user) in failing.enumerated() {
                let at = 60 + Double(attempt) * 30 + Double(n) * 30 / 27
                var t = Transaction(
                    user: user, target: user, fromUser: user, callID: "wrong-\(user)-\(attempt)", contactHost: office)
                guard !h.send(t.request, from: office, at: at).decision.drops else { continue }
                h.answer(t.response(401, "Unauthorized", nonce: "w-\(user)-\(attempt)"), to: office, at: at + 0.01)
                t.cseq += 1
                t.credentials = (user, "w-\(user)-\(attempt)", "wrong", "00000001", "c-\(attempt)")
                guard !h.send(t.request, from: office, at: at + 0.02).decision.drops else { continue }
                h.answer(t.response(401, "Unauthorized", nonce: "x-\(user)-\(attempt)"), to: office, at: at + 0.03)
            }
            if attempt % 2 == 0 {
                _ = h.call(
                    from: users[24 + attempt / 2 % 16], at: office, to: "2\(attempt)", at: 75 + Double(attempt) * 30,
                    id: "o-\(attempt)")
            }
        }
        #expect((h.drops(from: office) == 0) == bindingsKept)
        #expect(h.bans.isEmpty)
    }

    /// An entry last seen more than a day before the start is not restored.
    @Test func entriesOlderThanTheMaxAgeAreSkipped() {
        let kept = Self.keptAfterRegistering().sources
        let dayLater = Timestamp(nanoseconds: ProvenSource.maxAge)
        var justInTime = Harness()
        #expect(justInTime.replayer.filter.engine.restore(kept, now: dayLater) == 1)

        var tooLate = Harness()
        let later = Timestamp(nanoseconds: dayLater.nanoseconds + 1_000_000_000)
        #expect(tooLate.replayer.filter.engine.restore(kept, now: later) == 0)
        #expect(tooLate.engine.provenSources().isEmpty)
        #expect(
            tooLate.send(Self.abroad.request, from: Self.phone, at: later.seconds + 1).decision.reason == .tollFraud)
    }

    /// Restoring never takes a proof away from a source the engine knows, nor moves its last packet back.
    @Test func restoringNeverUnprovesAKnownSource() {
        var h = Harness()
        _ = h.register(user: "140", from: Self.phone, at: 100)
        let stale = ProvenSource(
            address: IPAddress(Self.phone)!, good: false, authenticated: false, lastSeen: Timestamp(seconds: 50))
        let onlyGood = ProvenSource(
            address: IPAddress(Self.phone)!, good: true, authenticated: false, lastSeen: Timestamp(seconds: 50))
        #expect(h.replayer.filter.engine.restore([stale, onlyGood], now: Timestamp(seconds: 101)) == 1)
        #expect(
            h.engine.provenSources() == [
                ProvenSource(
                    address: IPAddress(Self.phone)!, good: true, authenticated: true, account: Self.userHash("140"),
                    lastSeen: Timestamp(seconds: 100.02))
            ])
    }

    /// Queues hold the same address after a restore into all of them: the file gets it once, with
    /// every proof and the latest packet.
    @Test func anAddressFromSeveralEnginesIsWrittenOnce() {
        let address = IPAddress("2001:db8::7")!
        let merged = ProvenSource.merged([
            ProvenSource(address: address, good: true, authenticated: false, lastSeen: Timestamp(seconds: 30)),
            ProvenSource(
                address: IPAddress("192.0.2.9")!, good: true, authenticated: false, lastSeen: .init(seconds: 5)),
            ProvenSource(address: address, good: false, authenticated: true, lastSeen: Timestamp(seconds: 20)),
        ])
        #expect(
            ProvenSource.render(merged).split(separator: "\n").dropFirst() == [
                "192.0.2.9 good 5", "2001:db8::7 good authenticated 30",
            ])
    }

    /// A damaged file: each unreadable line is skipped and counted; the rest are read.
    @Test func garbageLinesAreSkippedAndCounted() {
        let text = """
            # a comment

            198.51.100.23 good authenticated 1733212345
            198.51.100.24 good 1733212345
            2001:db8::1 authenticated 1733212346
            198.51.100.300 good 1733212345
            198.51.100.25 1733212345
            198.51.100.26 good good 1733212345
            198.51.100.27 trusted 1733212345
            198.51.100.28 good yesterday
            198.51.100.29 good -5
            198.51.100.30 good authenticated 17 extra
            \u{0}\u{FFFD}binary junk
            198.51.100.31 good authenticated 99999999999999999999
            198.51.100.
            198.51.100.32 upstream 1733212345
            198.51.100.33 good upstream 1733212347
            198.51.100.34 good authenticated account=00000000000000ff 1733212348
            198.51.100.35 good account=00000000000000ff 1733212348
            198.51.100.36 authenticated account=ff 1733212348
            """
        let parsed = ProvenSource.parse(text)
        #expect(parsed.badLines == 13)
        #expect(
            parsed.sources == [
                ProvenSource(
                    address: IPAddress("198.51.100.23")!, good: true, authenticated: true,
                    lastSeen: Timestamp(seconds: 1_733_212_345)),
                ProvenSource(
                    address: IPAddress("198.51.100.24")!, good: true, authenticated: false,
                    lastSeen: Timestamp(seconds: 1_733_212_345)),
                ProvenSource(
                    address: IPAddress("2001:db8::1")!, good: false, authenticated: true,
                    lastSeen: Timestamp(seconds: 1_733_212_346)),
                ProvenSource(
                    address: IPAddress("198.51.100.33")!, good: true, authenticated: false, upstream: true,
                    lastSeen: Timestamp(seconds: 1_733_212_347)),
                ProvenSource(
                    address: IPAddress("198.51.100.34")!, good: true, authenticated: true, account: 0xff,
                    lastSeen: Timestamp(seconds: 1_733_212_348)),
            ])
        #expect(ProvenSource.parse("").sources.isEmpty)
        #expect(
            ProvenSource.render(parsed.sources).hasSuffix(
                "2001:db8::1 authenticated 1733212346\n198.51.100.33 good upstream 1733212347\n"
                    + "198.51.100.34 good authenticated account=00000000000000ff 1733212348\n"))
        // A binding's user hash is written in 16 hex digits, and read back.
        let binding = UserBinding(user: 0xff, address: IPAddress("192.0.2.1")!, boundAt: Timestamp(seconds: 100))
        let rendered = ProvenSource.render([], bindings: [binding])
        #expect(rendered.hasSuffix("\nuser 00000000000000ff 192.0.2.1 100\n"))
        #expect(ProvenSource.parse(rendered) == ProvenSource.Parsed(bindings: [binding]))
    }

    /// A restored source protects its prefix from a prefix ban as before the restart: a good IPv4
    /// source its /24, an authenticated IPv6 one with a user bound to it its /64 (good history alone
    /// does not, in IPv6, nor authentication no user is bound to any more).
    @Test(arguments: [
        ("203.0.113.", true, true, false), ("2001:db8:77:1::", true, true, false),
        ("2001:db8:77:1::", false, false, true), ("2001:db8:77:1::", true, false, true),
    ])
    func aRestoredSourceKeepsItsPrefixFromBeingBannedWhole(
        prefix: String, authenticated: Bool, bound: Bool, bannedWhole: Bool
    ) {
        var h = Harness()
        let office = ProvenSource(
            address: IPAddress(prefix + "200")!, good: true, authenticated: authenticated,
            lastSeen: Timestamp(seconds: 0))
        let binding = UserBinding(user: 0x140, address: office.address, boundAt: Timestamp(seconds: 0))
        _ = h.engine.shared.restore(bound ? [binding] : [], now: Timestamp(seconds: 1))
        #expect(h.replayer.filter.engine.restore([office], now: Timestamp(seconds: 1)) == 1)
        for host in 1...6 {
            var t = Transaction(method: "OPTIONS", callID: "r\(host)", contactHost: prefix + "\(host)")
            t.userAgent = "friendly-scanner"
            h.send(t.request, from: prefix + "\(host)", at: 1 + Double(host))
        }
        let hostLength = prefix.contains(":") ? 128 : 32
        #expect(h.bans.contains { $0.target.length < hostLength } == bannedWhole)
    }

    /// Restored into every queue's engine, an authenticated entry is kept for ever only by the engine
    /// it sends to; elsewhere it is kept like good history, a day past its last packet.
    @Test func aRestoredEntryIsProtectedForEverOnlyOnceItIsSeen() {
        var restored = SourceState(at: Timestamp(seconds: 0), limits: RuleSet.Limits())
        (restored.good, restored.authenticated) = (true, true)
        let newcomer = { (seconds: Double) in
            SourceState.retention(SourceState(at: Timestamp(seconds: seconds), limits: RuleSet.Limits()))
        }
        #expect(SourceState.retention(restored) > newcomer(23 * 3600))
        #expect(SourceState.retention(restored) < newcomer(25 * 3600))
        restored.packets = 1
        #expect(SourceState.retention(restored) == .max)
    }
}
