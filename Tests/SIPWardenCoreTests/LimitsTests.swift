import Testing

@testable import SIPWardenCore

@Suite struct LimitsTests {
    @Test(arguments: [
        ("20/s", 20.0), ("300/min", 5.0), ("1800/h", 0.5), ("0.5/s", 0.5), (" 10 / s ", 10.0), ("20/sec", 20.0),
        ("20/second", 20.0), ("300/m", 5.0), ("300/minute", 5.0), ("1800/hour", 0.5),
    ])
    func ratesParse(text: String, perSecond: Double) {
        #expect(Rate.parse(text) == perSecond)
    }

    @Test(arguments: ["10/x", "10", "/s", "-1/s", "abc/min", "10/s/s", ""])
    func badRatesDoNotParse(text: String) {
        #expect(Rate.parse(text) == nil)
    }

    @Test(arguments: [("30s", 30.0), ("10m", 600.0), ("2h", 7200.0), ("1d", 86400.0), ("500ms", 0.5)])
    func durationsParse(text: String, seconds: Double) {
        #expect(RuleDuration.parse(text) == Int64(seconds * 1e9))
    }

    @Test(arguments: ["-5m", "10", "m", "5x", "", "1e300s", "1e9d"])
    func badDurationsDoNotParse(text: String) {
        #expect(RuleDuration.parse(text) == nil)
    }

    /// Seconds from elsewhere (a daemon's answer on the control socket) are written, never trapped on.
    @Test func wholeSecondsAreWrittenWhateverTheirSize() {
        #expect(RuleDuration.text(seconds: 600) == "10m")
        #expect(RuleDuration.text(seconds: 90) == "90s")
        #expect(RuleDuration.text(seconds: 9_223_372_036) == "9223372036s")
        #expect(RuleDuration.text(seconds: 9_223_372_037) == "9223372036s")
        #expect(RuleDuration.text(seconds: Int.max) == "9223372036s")
        #expect(RuleDuration.text(seconds: Int.min) == "-9223372036s")
    }

    @Test func bucketSpendsItsBurstThenRefillsAtTheRate() {
        let rate = Rate(perSecond: 2, burst: 5)
        var bucket = TokenBucket(rate, at: Timestamp(seconds: 100))
        func take(at seconds: Double) -> Bool { bucket.take(rate: rate, at: Timestamp(seconds: seconds)) }
        let burst = (0..<6).map { _ in take(at: 100) }
        #expect(burst == [true, true, true, true, true, false])
        // Half a second refills one token at 2/s.
        let refilled = [take(at: 100.5), take(at: 100.5)]
        #expect(refilled == [true, false])
        // A long pause refills to the burst, not beyond.
        #expect(bucket.tokens(rate: rate, at: Timestamp(seconds: 200)) == 5)
    }

    /// A rule's "unlimited" (100000000/s, or a rate scaled by a huge good_source_factor), on a bucket
    /// last filled at 0 and used at a capture's timestamp (2023, in nanoseconds since 1970): the tokens
    /// earned in those years do not fit in the bucket's integers, and used to stop the process.
    @Test(arguments: [Rate(perSecond: 100_000_000, burst: 100_000_000), Rate(perSecond: 1e300, burst: 1e300)])
    func aHugeRateOverYearsFillsTheBucketWithoutATrap(rate: Rate) {
        var bucket = TokenBucket(rate, at: Timestamp(nanoseconds: 0))
        _ = bucket.take(rate: rate, at: Timestamp(nanoseconds: 0))
        let later = Timestamp(nanoseconds: 1_700_000_000_000_000_000)
        let taken = bucket.take(rate: rate, at: later)
        #expect(taken)
        #expect(bucket.tokens(rate: rate, at: later) >= min(rate.burst, 1e12) - 1)
        // `check` prints it.
        #expect(rate.description.hasPrefix(rate.perSecond > 1e15 ? "1e+300/s" : "100000000/s"))
    }

    @Test func slowRatesStillRefillUnderFastTraffic() {
        let rate = Rate(perSecond: 1.0 / 60, burst: 1)
        var bucket = TokenBucket(rate, at: Timestamp(seconds: 0))
        let first = bucket.take(rate: rate, at: Timestamp(seconds: 0))
        #expect(first)
        // A packet every millisecond must not keep resetting the refill clock.
        var granted = 0
        for ms in 1...61_000 where bucket.take(rate: rate, at: Timestamp(nanoseconds: Int64(ms) * 1_000_000)) {
            granted += 1
        }
        #expect(granted == 1)
    }

    @Test func scoreHalvesEveryHalfLife() {
        var state = SourceState(at: Timestamp(seconds: 0), limits: RuleSet.Limits())
        let halfLife: Int64 = 60_000_000_000
        state.add(80, at: Timestamp(seconds: 0), halfLife: halfLife)
        #expect(abs(state.score(at: Timestamp(seconds: 60), halfLife: halfLife) - 40) < 0.001)
        #expect(abs(state.score(at: Timestamp(seconds: 120), halfLife: halfLife) - 20) < 0.001)
        state.add(10, at: Timestamp(seconds: 120), halfLife: halfLife)
        #expect(abs(state.score(at: Timestamp(seconds: 120), halfLife: halfLife) - 30) < 0.001)
    }

    @Test func tableEvictsIdleEntriesButNeverProtectedOnes() {
        var table = BoundedTable<IPAddress, SourceState>(
            capacity: 8, emptyValue: SourceState(), seed: 1)
        var authenticated = SourceState(at: Timestamp(seconds: 0), limits: RuleSet.Limits())
        (authenticated.good, authenticated.authenticated, authenticated.packets) = (true, true, 1)
        for i in 0..<8 {
            _ = table.findOrInsert(IPAddress(v4: UInt32(i + 1)), authenticated, retention: SourceState.retention)
        }
        #expect(table.count == 8)
        // Every slot is protected: a newcomer is refused, nobody is evicted.
        let stranger = SourceState(at: Timestamp(seconds: 10), limits: RuleSet.Limits())
        let slot = table.findOrInsert(IPAddress(v4: 99), stranger, retention: SourceState.retention)
        #expect(slot == nil)
        #expect(table.refusals == 1)
        for i in 0..<8 { #expect(table.find(IPAddress(v4: UInt32(i + 1))) != nil) }
    }

    /// Linear counting over 64 bits: exact while few bits are set, then above the bit count, and 266 when
    /// every bit is set.
    @Test(arguments: [(0, 0), (1, 1), (5, 5), (10, 11), (32, 44), (63, 266), (64, 266)])
    func distinctUsersAreEstimatedFromTheBitsSet(bits: Int, estimate: Int) {
        var window = EnumerationWindow()
        window.users = bits == 64 ? ~0 : (1 << bits) - 1
        #expect(window.distinctUsers == estimate)
    }

    /// User hashes reach every one of the 64 positions, so 20 distinct users are estimated near 20.
    @Test func distinctUsersAreCountedOverAllSixtyFourPositions() {
        var window = EnumerationWindow()
        func add(_ users: Range<Int>) {
            for n in users {
                let name = Array("user\(n)".utf8)
                window.add(user: name.withUnsafeBytes { ByteHash.hash($0, ByteRange(0, name.count)) })
            }
        }
        add(0..<20)
        #expect((16...24).contains(window.distinctUsers), "\(window.distinctUsers)")
        add(20..<1000)
        #expect(window.users == ~0)
    }

    /// Requests pushed out of their source's entry wait in a ring for their answers: each is found by
    /// its key and answered once, until as many newer ones have come as the ring holds.
    @Test func lostRequestsAreAnsweredOnceUntilTheRingGoesRound() {
        var lost = LostRequests(capacity: 256, seed: 1)
        func memo(_ callID: UInt64) -> RequestMemo {
            var memo = RequestMemo()
            memo.callID = callID
            return memo
        }
        for key in UInt64(1)...200 { lost.keep(memo(key * 10), key: key) }
        #expect(lost.answer(1)?.callID == 10)
        #expect(lost.answer(1) == nil, "answered once")
        #expect(lost.answer(200)?.callID == 2000)
        #expect(lost.answer(999) == nil, "never kept")
        for key in UInt64(1001)...1256 { lost.keep(memo(key), key: key) }
        #expect((2...199).allSatisfy { lost.answer($0) == nil }, "the ring went round: the older ones gave way")
        // A bucket that more of the ring's requests fall into than it holds gives up its oldest: the
        // newest are the last to go.
        #expect((1129...1256).allSatisfy { lost.answer($0)?.callID == $0 }, "the newest 128 are all kept")
    }

    /// A request is found until exactly as many newer ones as the ring holds have come.
    @Test func aLostRequestIsKeptForOneTurnOfTheRing() {
        var lost = LostRequests(capacity: 64, seed: 1)
        let bucket = lost.place(of: 1).bucket
        let others = Array((UInt64(2)...).lazy.filter { lost.place(of: $0).bucket != bucket }.prefix(64))
        lost.keep(RequestMemo(), key: 1)
        for key in others.prefix(63) { lost.keep(RequestMemo(), key: key) }
        var probe = lost
        #expect(probe.answer(1) != nil, "63 newer: still in the ring")
        lost.keep(RequestMemo(), key: others[63])
        #expect(lost.answer(1) == nil, "64 newer: its place taken")
    }

    /// Within its bucket of the index, a request takes the place of one kept under the same key, else
    /// of the oldest.
    @Test func aFullBucketGivesUpItsOldestRequest() {
        var lost = LostRequests(capacity: 1024, seed: 1)
        let bucket = lost.place(of: 1).bucket
        let alike = Array((UInt64(2)...).lazy.filter { lost.place(of: $0).bucket == bucket }.prefix(8))
        var kept = RequestMemo()
        kept.callID = 1
        lost.keep(kept, key: 1)
        kept.callID = 2
        lost.keep(kept, key: 1)
        #expect(lost.answer(1)?.callID == 2, "kept again: the newer one, in the same place")
        for key in alike { lost.keep(RequestMemo(), key: key) }
        #expect(alike.allSatisfy { lost.answer($0) != nil }, "the oldest gave way to the ninth")
    }

    /// A source's last four requests: one without credentials does not push out the oldest while that
    /// carries credentials and is unanswered (a guess whose 401 is still to come); once answered, it does.
    @Test func unansweredCredentialsAreKeptUntilAnswered() {
        func memo(_ callID: UInt64, credentials: Bool = false) -> RequestMemo {
            var memo = RequestMemo()
            memo.callID = callID
            memo.method = .register
            memo.authUser = credentials ? 7 : 0
            return memo
        }
        var recent = RecentRequests()
        recent.remember(memo(1, credentials: true))
        for callID in UInt64(2)...4 { recent.remember(memo(callID)) }
        let declined = recent.admit(memo(5))
        #expect(!declined.remembered)
        #expect(
            recent.answer(callID: 5, cseq: 0, method: .register, final: true) == nil, "pushed out an unanswered guess")
        // A refusal of a request not remembered marks no other.
        recent.drop(refusal: .scanner, as: declined)
        #expect(recent.admit(memo(4)).refused == nil, "request 4 refused for request 5")
        #expect(
            recent.answer(callID: 1, cseq: 0, method: .register, final: false) != nil,
            "a provisional answer is no answer")
        recent.remember(memo(5))
        #expect(recent.answer(callID: 5, cseq: 0, method: .register, final: true) == nil)
        #expect(recent.answer(callID: 1, cseq: 0, method: .register, final: true) != nil)
        recent.remember(memo(5))
        #expect(recent.answer(callID: 5, cseq: 0, method: .register, final: true) != nil)
        #expect(recent.answer(callID: 1, cseq: 0, method: .register, final: true) == nil)
        #expect(recent.remember(memo(6, credentials: true))?.callID == 2, "pushed out unanswered: handed back")
        #expect(
            recent.answer(callID: 6, cseq: 0, method: .register, final: true) != nil, "credentials push out the oldest")
        // Requests pushed out unanswered are handed back, to be kept elsewhere; answered ones are not.
        var crowded = RecentRequests()
        for callID in UInt64(1)...4 { crowded.remember(memo(callID, credentials: true)) }
        #expect(crowded.remember(memo(5, credentials: true))?.callID == 1)
        var plain = RecentRequests()
        for callID in UInt64(1)...4 { plain.remember(memo(callID)) }
        _ = plain.answer(callID: 2, cseq: 0, method: .register, final: true)
        #expect(plain.remember(memo(5))?.callID == 1)
        #expect(plain.remember(memo(6)) == nil, "request 2 was answered")
        // An ACK gets no answer: it is not remembered, and pushes nothing out.
        var ack = memo(6, credentials: true)
        ack.method = .ack
        #expect(crowded.admit(ack).lost == nil)
        #expect(crowded.answer(callID: 2, cseq: 0, method: .register, final: true) != nil)
        // A request with credentials the filter refused gets no answer: it does not hold its slot.
        var refused = RecentRequests()
        for callID in UInt64(1)...4 { refused.remember(memo(callID, credentials: true)) }
        for callID in UInt64(1)...4 {
            _ = refused.answer(callID: callID, cseq: 0, method: .register, final: callID != 1)
        }
        refused.drop(refusal: .tollFraud, as: refused.admit(memo(9, credentials: true)))
        for callID in UInt64(10)...13 { refused.remember(memo(callID)) }
        #expect(refused.answer(callID: 13, cseq: 0, method: .register, final: true) != nil)
        // Nor does one it dropped without refusing it (over a rate limit), whose resends are judged again.
        var limited = RecentRequests()
        for callID in UInt64(1)...4 { limited.remember(memo(callID, credentials: true)) }
        for callID in UInt64(2)...4 { _ = limited.answer(callID: callID, cseq: 0, method: .register, final: true) }
        limited.drop(refusal: nil, as: limited.admit(memo(5, credentials: true)))
        var resent = limited
        #expect(resent.admit(memo(5, credentials: true)).refused == nil)
        for callID in UInt64(10)...13 { limited.remember(memo(callID)) }
        #expect(limited.answer(callID: 13, cseq: 0, method: .register, final: true) != nil)
    }

    /// A resend of a remembered request (its answer lost, or not sent yet) is that request: five resends
    /// of a REGISTER do not push out the INVITE waiting for its 407. A new request is remembered.
    @Test func resendsAreRememberedOnce() {
        var invite = RequestMemo()
        invite.callID = 1
        invite.method = .invite
        var register = RequestMemo()
        register.callID = 2
        register.cseq = 5
        register.method = .register
        var recent = RecentRequests()
        _ = recent.admit(invite)
        for _ in 0..<5 { #expect(recent.admit(register).lost == nil) }
        #expect(recent.answer(callID: 1, cseq: 0, method: .invite, final: false) != nil, "the INVITE was pushed out")
        for cseq in UInt32(6)...7 {
            register.cseq = cseq
            _ = recent.admit(register)
        }
        #expect(recent.admit(register).lost == nil)
        register.cseq = 8
        #expect(recent.admit(register).lost?.callID == 1, "a new request pushes out the oldest")

        // A resend whose credentials do other than the first's (a nonce sent to another address) is
        // remembered, so that its own answer is read with what it proves.
        var forged = register
        forged.answersAnotherAddress = true
        #expect(recent.admit(forged).remembered)
        // A resend alike that the filter drops leaves the first, which went through, waiting for its
        // answer; refused, it has the first's later resends refused too.
        var guess = RequestMemo()
        guess.callID = 9
        guess.method = .register
        guess.authUser = 7
        _ = recent.admit(guess)
        let resent = recent.admit(guess)
        #expect(!resent.remembered && resent.resendOf != nil)
        recent.drop(refusal: nil, as: resent)
        #expect(recent.admit(guess).refused == nil)
        #expect(recent.answer(callID: 9, cseq: 0, method: .register, final: false)?.answered == false)
        recent.drop(refusal: .hijack, as: recent.admit(guess))
        #expect(recent.admit(guess).refused == .hijack)
    }

    /// Seeds separate hashes of values that differ in their first bytes by the seeds' difference (the
    /// digest replay key combines a nonce, nc and cnonce under seeds 0, 1 and 2).
    @Test(arguments: [("x0", 0, "z0", 2), ("a", 1, "b", 2), ("00000001", 1, "00000002", 2)])
    func seedsDoNotCancelDifferencesInTheBytes(first: String, firstSeed: UInt64, second: String, secondSeed: UInt64) {
        func hash(_ text: String, _ seed: UInt64) -> UInt64 {
            let bytes = Array(text.utf8)
            return bytes.withUnsafeBytes { ByteHash.hash($0, ByteRange(0, bytes.count), seed: seed) }
        }
        #expect(hash(first, firstSeed) != hash(second, secondSeed))
    }

    @Test func anyKeyIsStoredEvenOneThatLooksEmpty() {
        var table = BoundedTable<IPAddress, Int>(capacity: 8, emptyValue: 0, seed: 1)
        #expect(table.find(IPAddress(v4: 0)) == nil)
        let slot = table.findOrInsert(IPAddress(v4: 0), 7, retention: { Int64($0) })
        #expect(slot != nil && table.find(IPAddress(v4: 0)) == slot)
        #expect(table.findOrInsert(IPAddress(v4: 0), 9, retention: { Int64($0) }) == slot, "found, not inserted again")
        #expect(table.count == 1)
        #expect(table.storedKeys.map(\.key) == [IPAddress(v4: 0)])
        #expect(table.entries.map(\.value) == [7])
    }

    @Test func tableEvictsTheLeastValuableEntry() {
        var table = BoundedTable<IPAddress, SourceState>(
            capacity: 8, emptyValue: SourceState(), seed: 1)
        for i in 0..<8 {
            var state = SourceState(at: Timestamp(seconds: Double(i)), limits: RuleSet.Limits())
            state.packets = 50
            if i == 3 { state.lastSeen = 0; state.packets = 1 }
            _ = table.findOrInsert(IPAddress(v4: UInt32(i + 1)), state, retention: SourceState.retention)
        }
        _ = table.findOrInsert(
            IPAddress(v4: 99), SourceState(at: Timestamp(seconds: 20), limits: RuleSet.Limits()),
            retention: SourceState.retention)
        #expect(table.find(IPAddress(v4: 4)) == nil)
        #expect(table.find(IPAddress(v4: 99)) != nil)
        #expect(table.evictions == 1)
    }

    /// Good history without authentication (one call an open PBX answered) outlasts newcomers for a
    /// day after its last packet, not for ever.
    @Test func goodHistoryWithoutAuthenticationOutlastsNewcomersForADay() {
        var good = SourceState(at: Timestamp(seconds: 0), limits: RuleSet.Limits())
        good.good = true
        func newcomer(after seconds: Double) -> Int64 {
            SourceState.retention(SourceState(at: Timestamp(seconds: seconds), limits: RuleSet.Limits()))
        }
        #expect(SourceState.retention(good) > newcomer(after: 23 * 3600))
        #expect(SourceState.retention(good) < newcomer(after: 25 * 3600))
        (good.authenticated, good.packets) = (true, 1)
        #expect(SourceState.retention(good) == .max)
    }
}
