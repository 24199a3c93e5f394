import Testing

@testable import SIPWardenCore

/// One account lends an address standing (`SourceState.authenticated`: an office's allowances) at a
/// few addresses at a time (`guessing.account_addresses`, `UserState.givesStanding`): a guesser who
/// cracked one password cannot give it to every address of its /64 or botnet, and a phone, an office
/// or a PBX cluster keeps it.
@Suite struct AccountStandingTests {
    /// `count` addresses, of one IPv6 /64 or each in its own IPv4 /24.
    static func addresses(_ count: Int, v6: Bool) -> [String] {
        (0..<count).map { v6 ? "2001:db8:77::\(String($0 + 1, radix: 16))" : "203.0.\($0 + 1).9" }
    }

    /// Each of `guessers`, registered as the cracked account 100 at `registeredAt(i)` (nil: before), sprays passwords
    /// over accounts of its own run (2000 + 1000 × its number on), one try each, 6 a minute for
    /// `minutes` from `start`, all at once, each guess answering the 401 to the one before, and
    /// refreshes its registration every 10 minutes; returns how many guesses reached the server.
    static func spray(
        _ h: inout Harness, from guessers: [String], registeredAt: ((Int) -> Double)?, start: Double,
        minutes: Int = 20
    ) -> Int {
        var nonces: [String] = []
        for (i, guesser) in guessers.enumerated() {
            if let registeredAt { _ = h.register(user: "100", from: guesser, at: registeredAt(i), tag: "cracked\(i)") }
            let fetch = Transaction.softphoneRegister("fetch\(i)", at: guesser, callID: "fetch-\(i)")
            h.send(fetch.request, from: guesser, at: start - 5 + Double(i) * 0.01)
            h.answer(
                fetch.response(401, "Unauthorized", nonce: "f\(i)"), to: guesser, at: start - 4.99 + Double(i) * 0.01)
            nonces.append("f\(i)")
        }
        var reached = 0
        for round in 0..<minutes * 6 {
            for (i, guesser) in guessers.enumerated() {
                let at = start + Double(round) * 10 + Double(i) * 0.05
                if round % 60 == 59 { _ = h.register(user: "100", from: guesser, at: at - 5, tag: "again\(round)") }
                let account = "\(2000 + i * 1000 + round)"
                var t = Transaction.softphoneRegister(account, at: guesser, callID: "spray-\(i)-\(round)")
                t.credentials = (account, nonces[i], "guess", "00000001", "c\(round)")
                guard !h.send(t.request, from: guesser, at: at).decision.drops else { continue }
                reached += 1
                nonces[i] = "n\(i)-\(round)"
                h.answer(t.response(401, "Unauthorized", nonce: nonces[i]), to: guesser, at: at + 0.01)
            }
        }
        return reached
    }

    /// 40 addresses (of one /64, or a botnet's) register with one cracked account, then each sprays 6
    /// accounts a minute, 30 in each 5-minute window, within an office's allowance. The account gives
    /// the first 8 standing and holds it for the latest 4, until 100 accounts failed there; the others
    /// are judged as any address with good history, whose guesses refused as a scan's no longer save it
    /// from the points of the guesses it is held for (before: 4,800 of 4,800 reached the server; with
    /// the standing withheld only, 3,070).
    @Test(arguments: [true, false])
    func aSprayLendingOneCrackedAccountsStandingToManyAddressesIsContained(v6: Bool) {
        var h = Harness()
        let reached = Self.spray(
            &h, from: Self.addresses(40, v6: v6), registeredAt: { Double($0) * 0.1 }, start: 10)
        // 552 (IPv4), 557 (IPv6); 876 while 4 kept their standing whatever they sprayed.
        #expect(reached <= 650, "\(reached) of 4,800 guesses reached the server")
    }

    /// The same account gives standing to 4 new addresses an hour for 10 hours, then all 40 spray: an
    /// address keeps standing only while it is among the latest 4 to authenticate as the account, and
    /// loses it at its next failure (before: 4,800 of 4,800).
    @Test func aCrackedAccountsStandingGatheredOverHoursIsContained() {
        var h = Harness()
        let reached = Self.spray(
            &h, from: Self.addresses(40, v6: true), registeredAt: { Double($0 / 4) * 3660 }, start: 40_000)
        // 582; 1,376 while the last 8 kept their standing whatever they sprayed.
        #expect(reached <= 650, "\(reached) of 4,800 guesses reached the server")
    }

    /// `user` registers from eight addresses of `network` (a /24's first three octets), four at about
    /// 3,700 s and four at about 7,400 s (the account's hour apart): it then holds standing for those.
    static func moveOn(_ user: String, to network: String, _ h: inout Harness) {
        for n in 0..<8 {
            let at = 3700 * Double(1 + n / 4) + Double(n % 4) * 10
            _ = h.register(user: user, from: network + "\(n + 1)", at: at, tag: "moved\(n)")
        }
    }

    /// An IPv6 address standing for its /64 (never banned whole while it holds a member that
    /// authenticated) on a cracked account's credit loses it with its standing: once the account moved
    /// on to eight other addresses, the address's next failure withdraws it, and scanners rotating
    /// through the /64 get it banned whole.
    @Test func aPrefixNoLongerStandsOnAStandingWithdrawn() {
        var h = Harness()
        let member = "2001:db8:66:1::200"
        _ = h.register(user: "100", from: member, at: 0)
        Self.moveOn("100", to: "198.18.2.", &h)
        h.failToRegister(user: "555", from: member, at: 7500, attempt: "lapse")
        for host in 1...6 {
            let t = Transaction.svmap(from: "2001:db8:66:1::\(host)", callID: "q\(host)")
            h.send(t.request, from: "2001:db8:66:1::\(host)", at: 7500 + Double(host))
        }
        #expect(h.bans.contains { $0.target.length == 64 })
    }

    /// One address registered with a cracked account sprays 6 accounts a minute for two hours, within
    /// an office's allowance in every window: past `guessing.spray_accounts` (100) accounts failing
    /// there in an hour, the account's standing is spent for a day (its registration every 10 minutes
    /// does not give it back), and the address is judged as any other (before: 720 of 720 guesses
    /// reached the server).
    @Test func aSlowSprayFromOneAddressSpendsTheAccountsStanding() {
        var h = Harness()
        let reached = Self.spray(&h, from: ["203.0.113.50"], registeredAt: { _ in 0 }, start: 10, minutes: 120)
        // 118: about the first 100, then banned.
        #expect(reached <= 150, "\(reached) of 720 guesses reached the server")
    }

    /// A forger sends 150 REGISTERs in an office's name over UDP, each for another account, with
    /// made-up nonces, and the server refuses each: failures that prove nothing of the office do not
    /// count as its spray, and its account keeps its standing (its calls abroad without credentials
    /// pass).
    @Test func forgedFailuresDoNotSpendAnOfficesStanding() {
        var h = Harness()
        let office = "192.0.2.96"
        _ = h.register(user: "100", from: office, at: 0)
        for n in 0..<150 {
            var t = Transaction.softphoneRegister("\(4000 + n)", at: office, callID: "forged-\(n)")
            t.credentials = ("\(4000 + n)", "made-up-\(n)", "x", "00000001", "c\(n)")
            h.send(t.request, from: office, at: 1 + Double(n) * 2)
            h.answer(t.response(401, "Unauthorized", nonce: "o\(n)"), to: office, at: 1.01 + Double(n) * 2)
        }
        #expect(Self.callsAbroad(&h, from: office, at: 400, id: "after"))
        #expect(h.bans.isEmpty)
    }

    /// Whether a call abroad from `address` without credentials (a PBX that does not challenge its
    /// registered phones) passes: toll fraud holds one from an address without standing.
    static func callsAbroad(_ h: inout Harness, from address: String, at seconds: Double, id: String) -> Bool {
        let call = Transaction.invite(from: "100", at: address, to: "+88216\(5_550_000 + Int(seconds))", callID: id)
        return !h.send(call.request, from: address, at: seconds).decision.drops
    }

    /// One account's phone at home, over IPv6, at the office, on a mobile network and at a hotel within
    /// an hour: each new address gets standing (its call abroad without credentials passes), and the
    /// account holds it for the 4 that authenticated last (`guessing.account_addresses`): home, pushed
    /// out, loses it when it next relies on it (its call abroad is held), and has it back at its next
    /// registration. With `account_addresses = 8` every place keeps it.
    @Test(arguments: [4, 8])
    func oneAccountHoldsStandingForItsLatestAddresses(accountAddresses: Int) {
        var rules = RuleSet()
        rules.guessing.accountAddresses = accountAddresses
        var h = Harness(rules: rules)
        let places = ["192.0.2.41", "2001:db8:41::41", "198.51.100.41", "203.0.113.41", "198.18.0.41"]
        for (n, place) in places.enumerated() {
            _ = h.register(user: "100", from: place, at: Double(n) * 600, tag: "p\(n)")
            #expect(Self.callsAbroad(&h, from: place, at: Double(n) * 600 + 10, id: "abroad-\(n)"))
        }
        #expect(Self.callsAbroad(&h, from: places[0], at: 2500, id: "home-again") == (accountAddresses > 4))
        _ = h.register(user: "100", from: places[0], at: 2600, tag: "refresh")
        #expect(Self.callsAbroad(&h, from: places[0], at: 2610, id: "home-registered"))
        #expect(h.bans.isEmpty)
    }

    /// An account gives standing to at most eight new addresses an hour: a ninth within the hour gets
    /// good history only (its call abroad without credentials is held), and standing once an hour has
    /// passed since the first of them last authenticated. A source table of 1,024 entries, which one
    /// account's 3,000 addresses would otherwise fill with entries never evicted (one with standing),
    /// keeps room for a guesser, whose guesses at that account's password are then judged with memory:
    /// fewer than 30 of 200 reach the server.
    @Test func anAccountGivesStandingToEightNewAddressesAnHour() {
        var h = Harness()
        for n in 0..<8 { _ = h.register(user: "100", from: "198.51.100.\(n + 11)", at: Double(n), tag: "a\(n)") }
        let ninth = "198.51.100.19"
        _ = h.register(user: "100", from: ninth, at: 100, tag: "ninth")
        #expect(!Self.callsAbroad(&h, from: ninth, at: 110, id: "ninth-held"))
        _ = h.register(user: "100", from: ninth, at: 3700, tag: "ninth-later")
        #expect(Self.callsAbroad(&h, from: ninth, at: 3710, id: "ninth-calls"))

        var rules = RuleSet()
        rules.tables.sources = 1024
        var pinned = Harness(rules: rules)
        for n in 0..<3000 {
            let address = "2001:db8:99::\(String(n + 1, radix: 16))"
            _ = pinned.register(user: "100", from: address, at: Double(n) * 0.01, tag: "p\(n)")
        }
        let guesser = "203.0.113.200"
        var reached = 0
        var nonce = "k0"
        for n in 0..<200 {
            var guess = Transaction.softphoneRegister("100", at: guesser, callID: "g-\(n)")
            guess.credentials = ("100", nonce, "guess-\(n)", "00000001", "c\(n)")
            let at = 100 + Double(n) * 0.5
            guard !pinned.send(guess.request, from: guesser, at: at).decision.drops else { continue }
            reached += 1
            nonce = "k\(n + 1)"
            pinned.answer(guess.response(401, "Unauthorized", nonce: nonce), to: guesser, at: at + 0.01)
        }
        #expect(reached < 30, "\(reached) of 200 guesses reached the server")
    }

    /// An office of 10 phones, each with its own account, on a line that gets a new address at each
    /// reconnect: five addresses in 50 minutes. On the fifth, 3 new handsets with a mistyped password
    /// retry every 30 s for 10 minutes: the office has its standing there, and loses nothing.
    @Test func anOfficeWhoseAddressChangesKeepsItsStanding() {
        var h = Harness()
        let addresses = (1...5).map { "100.70.\($0).5" }
        for (n, address) in addresses.enumerated() {
            for phone in 0..<10 {
                _ = h.register(
                    user: "\(600 + phone)", from: address, at: Double(n) * 750 + Double(phone) * 0.1, tag: "w\(n)")
            }
        }
        h.failingPhones(3, first: 500, at: addresses[4], rounds: 20, retry: 30, from: 3010, spacing: 0.2)
        #expect(h.drops(from: addresses[4]) == 0)
        #expect(h.bans.isEmpty)
    }

    /// Someone who cracked an account keeps 4 addresses registered with it, every minute for two hours;
    /// its owner's phone, moved to a new address, still gets standing there (the latest address).
    @Test func aCrackedAccountsHolderCannotKeepStandingFromItsOwner() {
        var h = Harness()
        _ = h.register(user: "100", from: "192.0.2.50", at: 0, tag: "home")
        let squatters = (1...4).map { "203.0.113.\($0)" }
        for minute in 0..<120 {
            for (n, squatter) in squatters.enumerated() {
                _ = h.register(user: "100", from: squatter, at: 10 + Double(minute) * 60 + Double(n), tag: "s\(minute)")
            }
        }
        let moved = "198.51.100.50"
        _ = h.register(user: "100", from: moved, at: 7300, tag: "moved")
        #expect(Self.callsAbroad(&h, from: moved, at: 7310, id: "owner"))
    }

    /// One cracked account registered from 4 new addresses an hour for 10 hours (a botnet); none fails
    /// a password. Each then scans 30 extensions (404s) and calls abroad 5 times without credentials: an
    /// address the account no longer holds standing for loses it at its first such request, and a scan's
    /// 404s at those it holds count as the account's misses (before: 1,200 of 1,200 probes and 200 of
    /// 200 calls through).
    @Test func standingGatheredOverHoursEndsWhereItIsReliedOn() {
        var h = Harness()
        let bots = (0..<40).map { "203.0.\($0 + 1).9" }
        for (i, bot) in bots.enumerated() {
            _ = h.register(user: "100", from: bot, at: Double(i / 4) * 3660 + Double(i % 4), tag: "c\(i)")
        }
        var probes = 0
        var calls = 0
        for (i, bot) in bots.enumerated() {
            let start = 40_000 + Double(i) * 2
            for n in 0..<30 {
                let probe = Transaction.probe(n + i * 30, from: bot)
                let at = start + Double(n) * 0.05
                guard !h.send(probe.request, from: bot, at: at).decision.drops else { continue }
                probes += 1
                h.answer(probe.response(404, "Not Found"), to: bot, at: at + 0.01)
            }
            for n in 0..<5 {
                let call = Transaction.invite(
                    from: "100", at: bot, to: "+88216\(5_550_000 + i * 10 + n)", callID: "abroad-\(i)-\(n)")
                if !h.send(call.request, from: bot, at: start + 1.6 + Double(n) * 0.05).decision.drops { calls += 1 }
            }
        }
        // 480 probes (the 36 others are judged as any address: about 10 each), 20 calls (the latest 4's).
        #expect(probes <= 650, "\(probes) of 1,200 probes reached the server")
        #expect(calls <= 25, "\(calls) of 200 calls abroad got through")
    }

    /// The same 40 addresses' standing across a restart: the state file names the account each stood
    /// on, and the restarted engine gives it back as that account's, to eight addresses at most in the
    /// hour (from a file that names no account, only where a user is bound: the account's last
    /// registration); the others have good history only, and their spray meets the same limits (before:
    /// 4,800 of 4,800 reached the server).
    @Test(arguments: [true, false])
    func aRestartRestoresAnAccountsStandingToAFewAddresses(accountsKept: Bool) {
        var h = Harness()
        let bots = (0..<40).map { "203.0.\($0 + 1).9" }
        for (i, bot) in bots.enumerated() {
            _ = h.register(user: "100", from: bot, at: Double(i / 4) * 3660 + Double(i % 4), tag: "c\(i)")
        }
        let proven = h.engine.provenSources().map { source in
            var source = source
            if !accountsKept { source.account = 0 }
            return source
        }
        let kept = ProvenSource.parse(ProvenSource.render(proven, bindings: h.engine.shared.bindings()))
        var restarted = Harness()
        #expect(ProvenSourceTests.restore(kept, into: &restarted, now: Timestamp(seconds: 40_000)) == 40)
        let reached = Self.spray(&restarted, from: bots, registeredAt: nil, start: 40_010)
        // 676 with the accounts kept, 720 from bindings only.
        #expect(reached <= 800, "\(reached) of 4,800 guesses reached the server")
    }

    /// A PBX that authenticates each of its calls (it never registers, so no user is bound to it) keeps
    /// its standing across a restart: the state file names the account it stood on, and its first
    /// INVITE abroad, bare (it waits for the server's challenge), is not held.
    @Test func aPBXAuthenticatingItsCallsKeepsItsStandingAcrossARestart() {
        let h = Self.pbxAuthenticatingItsCalls(users: RuleSet().tables.users)
        let pbx = Self.pbx
        let kept = ProvenSource.parse(
            ProvenSource.render(h.engine.provenSources(), bindings: h.engine.shared.bindings()))
        #expect(kept.bindings.isEmpty)
        var restarted = Harness()
        #expect(ProvenSourceTests.restore(kept, into: &restarted, now: Timestamp(seconds: 600)) == 1)
        let call = Transaction.invite(from: "trunk7", at: pbx, to: "+4930\(1_000_000)", callID: "abroad")
        #expect(!restarted.send(call.request, from: pbx, at: 601).decision.drops)
    }

    /// A forger sends 150 REGISTERs without credentials in an office's name over UDP, each for a user
    /// the server does not know and answers 404: probes that prove nothing of the office do not count as
    /// its account's misses, and it keeps its standing (its calls abroad without credentials pass).
    @Test func forgedProbesDoNotSpendAnOfficesStanding() {
        var h = Harness()
        let office = "192.0.2.96"
        _ = h.register(user: "100", from: office, at: 0)
        for n in 0..<150 {
            let probe = Transaction.probe(n + 1, from: office)
            h.send(probe.request, from: office, at: 1 + Double(n) * 2)
            h.answer(probe.response(404, "Not Found"), to: office, at: 1.01 + Double(n) * 2)
        }
        #expect(Self.callsAbroad(&h, from: office, at: 400, id: "after"))
        #expect(h.bans.isEmpty)
    }

    static let pbx = "192.0.2.77"

    /// A harness with a users table of `users` entries, where the PBX at `pbx` placed a call whose
    /// credentials answered the server's challenge, as trunk7: a PBX that authenticates each of its
    /// calls (it never registers, so no user is bound to it).
    static func pbxAuthenticatingItsCalls(users: Int) -> Harness {
        var rules = RuleSet()
        rules.tables.users = users
        var h = Harness(rules: rules)
        _ = h.call(from: "trunk7", at: pbx, to: "0301234567", at: 1, id: "first")
        return h
    }

    /// A REGISTER forged in `address`'s name with a made-up nonce, and the server's 401 to it.
    static func forgeFailure(_ h: inout Harness, from address: String, at seconds: Double) {
        var forged = Transaction.softphoneRegister("555", at: address, callID: "forged-fail-\(seconds)")
        forged.credentials = ("555", "made-up", "x", "00000001", "c")
        h.send(forged.request, from: address, at: seconds)
        h.answer(forged.response(401, "Unauthorized", nonce: "zz"), to: address, at: seconds + 0.01)
    }

    /// A PBX that authenticates each of its calls (it never registers): a forger, who never sees the
    /// server's answers, pushes 20,000 new users through a 4,096-entry users table with REGISTERs from
    /// spoofed addresses, then forges a failed REGISTER and 400 OPTIONS in the PBX's name. The account
    /// the PBX stands on is kept as a bound user is, and the PBX keeps its standing: it is not banned,
    /// and its calls abroad pass.
    @Test func aForgerCannotPushOutTheAccountAPBXStandsOn() {
        var h = Self.pbxAuthenticatingItsCalls(users: 4096)
        let pbx = Self.pbx
        for n in 0..<20_000 {
            let source = "10.\(n / 65536 % 256).\(n / 256 % 256).\(n % 256)"
            var t = Transaction.softphoneRegister("u\(n)", at: source, callID: "churn-\(n)")
            t.credentials = ("u\(n)", "made-up", "x", "00000001", "c")
            let at = 100 + Double(n) * 0.002
            h.send(t.request, from: source, at: at)
            h.answer(t.response(401, "Unauthorized", nonce: "k\(n)"), to: source, at: at + 0.001)
        }
        Self.forgeFailure(&h, from: pbx, at: 150)
        for n in 0..<400 {
            var options = Transaction.svmap(to: "100", from: pbx, callID: "flood-\(n)")
            options.userAgent = "Yealink"
            h.send(options.request, from: pbx, at: 151 + Double(n) * 0.005)
        }
        #expect(h.bans.isEmpty)
        let call = Transaction.invite(from: "trunk7", at: pbx, to: "+4930\(1_000_000)", callID: "abroad")
        #expect(!h.send(call.request, from: pbx, at: 900).decision.drops)
    }

    /// Eight addresses that authenticated as one account in the same second: exactly
    /// `account_addresses` of them hold its standing, whatever the tie.
    @Test(arguments: [1, 4, 8])
    func addressesAuthenticatingInOneSecondHoldStandingNoMoreThanTheLimit(limit: Int) {
        var user = UserState()
        let now = Timestamp(seconds: 50)
        for key in 1...8 {
            let given = user.givesStanding(to: UInt32(key * 2 + 1), at: now)
            #expect(given)
        }
        let holding = (1...8).filter { user.holdsStanding(of: UInt32($0 * 2 + 1), at: now, limit: limit) }
        #expect(holding.count == limit)
    }

    /// An account that gave an address standing is kept as long as a bound user: a day past its last
    /// use, where an unbound user that gave none is kept no longer than its last use.
    @Test func anAccountThatGaveStandingIsKeptADay() {
        var user = UserState()
        user.lastSeen = 1_000
        #expect(UserState.retention(user) == 1_000)
        _ = user.givesStanding(to: 7, at: Timestamp(nanoseconds: 1_000))
        #expect(UserState.retention(user) == 1_000 + 86_400 * 1_000_000_000)
    }

    /// When the users table has forgotten the account a PBX stands on (100 phones registering through
    /// a table of 16), nothing says its standing lapsed: a failure forged in its name leaves it, and
    /// its calls abroad pass.
    @Test func anAddressKeepsItsStandingWhenItsAccountIsForgotten() {
        var h = Self.pbxAuthenticatingItsCalls(users: 16)
        for n in 0..<100 { _ = h.register(user: "\(400 + n)", from: "198.18.3.\(n + 1)", at: 100 + Double(n)) }
        Self.forgeFailure(&h, from: Self.pbx, at: 300)
        #expect(Self.callsAbroad(&h, from: Self.pbx, at: 400, id: "after"))
    }

    /// How the users table holds an address (in an account's slots, and as the key of its calls abroad
    /// without an account) depends on its seed (random in the daemon): nobody outside can choose
    /// addresses of its /64 whose keys are one, which an account would take for one address it gave
    /// standing to, nor one whose calls abroad would spend a victim account's.
    @Test func addressKeysDependOnTheTablesSeed() {
        let address = IPAddress("2001:db8:77::1")!
        let tables = (1...4).map { SharedTables(RuleSet(), seeding: .fixed(UInt64($0))) }
        #expect(Set(tables.map { shared in shared.withLock { $0.addressKey(address) } }).count == 4)
        #expect(Set(tables.map { $0.callsAbroad(of: address) }).count == 4)
    }

    /// An office's address got its standing from phone 300, whose account then registers from eight
    /// other places over two hours (a softphone on a travelling laptop), which it then holds standing
    /// for instead: the office keeps its standing through its other phones' registrations, and its 20
    /// new phones with a mistyped password, retrying every 30 s for 10 minutes, cost it nothing.
    @Test func anOfficeKeepsItsStandingWhenOnePhonesAccountRoams() {
        var h = Harness()
        let office = "192.0.2.95"
        _ = h.register(user: "300", from: office, at: 0)
        Self.moveOn("300", to: "198.18.1.", &h)
        for n in 1..<10 { _ = h.register(user: "\(300 + n)", from: office, at: 7460 + Double(n) * 0.05) }
        h.failingPhones(20, first: 500, at: office, rounds: 20, retry: 30, from: 7480, spacing: 0.2)
        #expect(h.drops(from: office) == 0)
        #expect(h.bans.isEmpty)
        let keepsItsService = h.keepsItsService(office, user: "301", at: 8100)
        #expect(keepsItsService)
    }
}
