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

    /// Each of `guessers`, registered as the cracked account 100 at `registeredAt(i)`, sprays passwords
    /// over accounts of its own run (2000 + 1000 × its number on), one try each, 6 a minute for
    /// `minutes` from `start`, all at once, each guess answering the 401 to the one before, and
    /// refreshes its registration every 10 minutes; returns how many guesses reached the server.
    static func spray(
        _ h: inout Harness, from guessers: [String], registeredAt: (Int) -> Double, start: Double, minutes: Int = 20
    ) -> Int {
        var nonces: [String] = []
        for (i, guesser) in guessers.enumerated() {
            _ = h.register(user: "100", from: guesser, at: registeredAt(i), tag: "cracked\(i)")
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
    /// the first 4 standing, until 100 accounts failed there; the others are judged as any address with
    /// good history, whose guesses refused as a scan's no longer save it from the points of the guesses
    /// it is held for (before: 4,800 of 4,800 reached the server; with the standing withheld only,
    /// 3,070).
    @Test(arguments: [true, false])
    func aSprayLendingOneCrackedAccountsStandingToManyAddressesIsContained(v6: Bool) {
        var h = Harness()
        let reached = Self.spray(
            &h, from: Self.addresses(40, v6: v6), registeredAt: { Double($0) * 0.1 }, start: 10)
        // 544 (IPv4), 549 (IPv6); 876 while the 4 kept their standing.
        #expect(reached <= 650, "\(reached) of 4,800 guesses reached the server")
    }

    /// The same account gives standing to 4 new addresses an hour for 10 hours, then all 40 spray: an
    /// address keeps standing only while it is among the last 8 the account gave it to, and loses it at
    /// its next failure (before: 4,800 of 4,800).
    @Test func aCrackedAccountsStandingGatheredOverHoursIsContained() {
        var h = Harness()
        let reached = Self.spray(
            &h, from: Self.addresses(40, v6: true), registeredAt: { Double($0 / 4) * 3660 }, start: 40_000)
        // 541; 1,376 while the 8 addresses the account holds kept their standing.
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
        // 107: the first 100, then banned.
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

    /// One account's phone at home, over IPv6, at the office and on a mobile network within an hour: each
    /// address gets standing. A fifth in the same hour gets good history only (its calls abroad without
    /// credentials are held), and standing once an hour passed since the others last authenticated.
    @Test func oneAccountsPhonesAtAFewAddressesKeepTheirStanding() {
        var h = Harness()
        let places = ["192.0.2.41", "2001:db8:41::41", "198.51.100.41", "203.0.113.41"]
        for (n, place) in places.enumerated() {
            _ = h.register(user: "100", from: place, at: Double(n) * 600, tag: "p\(n)")
        }
        let everyPlaceCalls = places.enumerated().allSatisfy { n, place in
            Self.callsAbroad(&h, from: place, at: 2000 + Double(n), id: "abroad-\(n)")
        }
        #expect(everyPlaceCalls)
        let fifth = "198.18.0.41"
        _ = h.register(user: "100", from: fifth, at: 2100, tag: "fifth")
        #expect(!Self.callsAbroad(&h, from: fifth, at: 2110, id: "fifth-held"))
        _ = h.register(user: "100", from: fifth, at: 5500, tag: "fifth-later")
        #expect(Self.callsAbroad(&h, from: fifth, at: 5510, id: "fifth-calls"))
        #expect(h.bans.isEmpty)
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
