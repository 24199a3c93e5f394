import Testing

@testable import SIPWardenCore

/// Legitimate sites busier than one phone keep their service: a NAT office whose phones boot at once,
/// IPv6 phones beside a neighbour rotating its addresses, a PBX registered as one account.
@Suite struct BusySiteTests {
    static let office = "192.0.2.70"

    /// 60 phones behind one address, registered; then each subscribes to `subscriptions` busy lamps
    /// within 10 s (a boot after a power cut), each SUBSCRIBE challenged and sent again with credentials.
    static func bootedOffice(subscriptions: Int) -> Harness {
        var h = Harness()
        for phone in 0..<60 { _ = h.register(user: "\(400 + phone)", from: office, at: Double(phone) * 0.05) }
        let packets = 60 * subscriptions * 2
        var sent = 0
        for lamp in 0..<subscriptions {
            for phone in 0..<60 {
                let user = "\(400 + phone)"
                var subscribe = Transaction(
                    method: "SUBSCRIBE", user: user, target: "\(400 + lamp % 60)", fromUser: user,
                    callID: "blf-\(phone)-\(lamp)", contactHost: office)
                let at = 10 + 10 * Double(sent) / Double(packets)
                h.send(subscribe.request, from: office, at: at)
                h.answer(
                    subscribe.response(401, "Unauthorized", nonce: "b\(phone)-\(lamp)"), to: office, at: at + 0.001)
                subscribe.cseq += 1
                subscribe.credentials = (user, "b\(phone)-\(lamp)", "r\(phone)-\(lamp)", "00000001", "c\(phone)")
                h.send(subscribe.request, from: office, at: at + 0.002)
                sent += 2
            }
        }
        return h
    }

    /// 3,600 SUBSCRIBEs in 10 s fit the office's own presence bucket (50/s burst 600, times 4 for good
    /// history): its /24's bucket (100/s burst 1200, 2,200 in 10 s) is for the addresses around it.
    @Test func natOfficeWhosePhonesBootAtOnceLosesNothing() {
        var h = Self.bootedOffice(subscriptions: 30)
        #expect(h.drops(from: Self.office) == 0)
        let keepsItsService = h.keepsItsService(Self.office, user: "400", at: 21)
        #expect(keepsItsService)
    }

    /// 7,200 in 10 s are more than its own bucket holds (2,400 + 2,000): the excess is dropped packet by
    /// packet (the phones resend), but scores the office 2 points per 2,400 over (its burst), under 3
    /// in all, and its calls go through.
    @Test func natOfficeOverItsOwnLimitLosesOnlyTheExcess() {
        var h = Self.bootedOffice(subscriptions: 60)
        let drops = h.outcomes.filter { $0.source == Self.office && $0.outcome.decision.drops }
        #expect((2700...2900).contains(drops.count))
        #expect(drops.allSatisfy { $0.outcome.decision.reason == .rateLimit && $0.outcome.decision.score < 3 })
        let keepsItsService = h.keepsItsService(Self.office, user: "400", at: 21)
        #expect(keepsItsService)
    }

    /// An address that authenticated and then floods over TCP (no forged source there) is banned all
    /// the same: its excess scores rate_limit per burst of its own (20,000 OPTIONS in 2 s: 2 points per
    /// 120 over). The same flood over UDP, which anyone can send in its name, costs it its excess only:
    /// the office is not banned and its calls go through.
    @Test(arguments: [false, true])
    func anAuthenticatedAddressThatFloods(overTCP: Bool) {
        var h = Harness()
        let flooder = "203.0.113.96"
        _ = h.register(user: "470", from: flooder, at: 0)
        for i in 0..<20_000 {
            let options = Transaction(
                method: "OPTIONS", user: "470", target: "100", fromUser: "470", callID: "o-\(i)", contactHost: flooder)
            let at = 1 + Double(i) / 10_000
            let outcome =
                overTCP
                ? h.sendOverTCP(options.request, from: flooder, at: at) : h.send(options.request, from: flooder, at: at)
            if outcome.decision.verdict == .ban { break }
        }
        let ban = h.bans.first { $0.target.address == IPAddress(flooder) }
        if overTCP {
            #expect(ban?.reason == .rateLimit)
            #expect(ban.map { $0.time.seconds < 2 } == true)
        } else {
            let keepsItsService = h.keepsItsService(flooder, user: "470", at: 10)
            #expect(keepsItsService)
        }
    }

    /// Addresses whose anonymous calls an IVR answered have good history, not authentication: 50 of
    /// one /64, each within its own good-source bucket, still share the /64's.
    @Test func neighboursWithGoodHistoryOnlyShareTheirPrefixBucket() {
        var h = Harness()
        let addresses = (1...50).map { "2001:db8:6:1::\(String($0, radix: 16))" }
        for (n, address) in addresses.enumerated() {
            let call = Transaction.invite(from: "anon", at: address, to: "800", callID: "ivr-\(n)")
            h.send(call.request, from: address, at: Double(n) * 0.01)
            h.answer(call.response(200, "OK"), to: address, at: Double(n) * 0.01 + 0.005)
            h.acknowledge(call, from: address, at: Double(n) * 0.01 + 0.005 + 0.05)
        }
        let before = h.outcomes.count
        for round in 0..<60 {
            for (n, address) in addresses.enumerated() {
                let flood = Transaction.invite(from: "anon", at: address, to: "801", callID: "f-\(n)-\(round)")
                h.send(flood.request, from: address, at: 2 + Double(round) * 0.05 + Double(n) * 0.0005)
            }
        }
        let accepted = h.outcomes[before...].filter { !$0.outcome.decision.drops }.count
        #expect(accepted < 300, "\(accepted) of 3,000 accepted")
    }

    /// Ten registered IPv6 phones call every 2 s while a neighbour in their /64 floods INVITEs from a
    /// new privacy address each time, emptying the /64's and /48's buckets: the phones lose nothing.
    @Test func ipv6PhonesKeepCallingBesideANeighbourRotatingItsAddresses() {
        var h = Harness()
        let phones = (1...10).map { "2001:db8:5:1::\($0)" }
        for (n, phone) in phones.enumerated() { _ = h.register(user: "\(600 + n)", from: phone, at: Double(n) * 0.1) }
        for i in 0..<4000 {
            let neighbour = "2001:db8:5:1::\(String(0x1000 + i, radix: 16))"
            let flood = Transaction.invite(from: "x", at: neighbour, to: "700", callID: "n-\(i)")
            h.send(flood.request, from: neighbour, at: 5 + Double(i) * 0.005)
            if i % 40 == 0 {
                let n = i / 40 % phones.count
                _ = h.call(from: "\(600 + n)", at: phones[n], to: "701", at: 5 + Double(i) * 0.005, id: "v6-\(i)")
            }
        }
        for phone in phones { #expect(h.drops(from: phone) == 0, "\(phone)") }
        let flooded = h.outcomes.filter { !phones.contains($0.source) && $0.outcome.decision.drops }.count
        #expect(flooded > 3000)
    }

    /// A PBX registered as one account places 18 calls a minute for 5 minutes, 8 of them abroad, with a
    /// new From user each time: calls_per_user (10/min, burst 10) counts its calls abroad only, 8 a
    /// minute, and none is dropped.
    @Test func aPBXRegisteredAsOneAccountKeepsCalling() {
        var h = Harness()
        let pbx = "192.0.2.80"
        _ = h.register(user: "pbx", from: pbx, at: 0)
        for call in 0..<(5 * 18) {
            let at = 1 + Double(call) * 60 / 18
            let number = call % 18 < 8 ? "+4420\(7946_0000 + call)" : "2\(100 + call)"
            var invite = Transaction.invite(from: "pbx", at: pbx, to: number, callID: "pbx-\(call)")
            invite.fromUser = "caller\(call % 7)"
            h.send(invite.request, from: pbx, at: at)
            h.answer(invite.response(407, "Proxy Authentication Required", nonce: "q\(call)"), to: pbx, at: at + 0.01)
            invite.cseq += 1
            invite.credentials = ("pbx", "q\(call)", "r\(call)", "00000001", "c\(call)")
            h.send(invite.request, from: pbx, at: at + 0.02)
            h.answer(invite.response(200, "OK"), to: pbx, at: at + 0.6)
            var bye = invite
            bye.method = "BYE"
            bye.cseq += 1
            bye.credentials = nil
            h.send(bye.request, from: pbx, at: at + 20)
        }
        #expect(h.drops(from: pbx) == 0)
        // A busier minute: 20 calls abroad 1 s apart. Those over the account's limit are dropped, one
        // by one; its other calls and in-dialog requests are not, and it is never banned.
        let before = h.outcomes.count
        for call in 0..<20 {
            let at = 400 + Double(call)
            _ = h.call(from: "pbx", at: pbx, to: "+3120\(5550_000 + call)", at: at, id: "busy-\(call)")
            _ = h.call(from: "pbx", at: pbx, to: "3\(100 + call)", at: at + 0.5, id: "local-\(call)")
        }
        let dropped = h.outcomes[before...].filter { $0.outcome.decision.drops }
        #expect((5...8).contains(dropped.count))
        #expect(dropped.allSatisfy { $0.outcome.decision.reason == .tollFraud && $0.outcome.decision.score == 0 })
        #expect(h.bans.isEmpty)
    }

    /// An attacker with one cracked account, at an address that never registered: a call to a local
    /// number draws the server's challenge, whose answer with the account's credentials licenses a call
    /// abroad (the server checks them, and they are right); so before each call abroad it draws one
    /// that way, with a new From user each time, every half second. Counted per account, it places the
    /// burst of 10 and the 1 to 2 the rate refills in 15 s, not 30; also when its calls are all answered
    /// after the last (its address never authenticates meanwhile: the credentials answering the
    /// challenge count the call).
    @Test(arguments: [false, true])
    func aCrackedAccountDiallingAbroadIsHeldWhateverItsFromUser(answeredAtTheEnd: Bool) {
        var h = Harness()
        let attacker = "203.0.113.90"
        var placed: [Transaction] = []
        for call in 0..<30 {
            let at = 1 + Double(call) * 0.5
            let probe = Transaction.invite(from: "u\(call)", at: attacker, to: "100", callID: "tf-probe-\(call)")
            h.send(probe.request, from: attacker, at: at)
            h.answer(
                probe.response(407, "Proxy Authentication Required", nonce: "t\(call)"), to: attacker, at: at + 0.01)
            var invite = Transaction.invite(
                from: "u\(call)", at: attacker, to: "+88216\(1000 + call)", callID: "tf-\(call)")
            invite.credentials = ("105", "t\(call)", "r\(call)", "00000001", "c\(call)")
            if !h.send(invite.request, from: attacker, at: at + 0.02).decision.drops {
                placed.append(invite)
                if !answeredAtTheEnd { h.answer(invite.response(200, "OK"), to: attacker, at: at + 0.3) }
            }
        }
        for invite in placed where answeredAtTheEnd { h.answer(invite.response(200, "OK"), to: attacker, at: 20) }
        #expect((10...13).contains(placed.count), "placed \(placed.count) calls")
        #expect(h.drops(from: attacker) >= 15)
    }

    /// An attacker with a cracked account registers it and dials abroad through blind transfers: a call
    /// to a local number, answered, then a REFER in that dialog to a satellite number, which the PBX
    /// dials for it, every half second. Transfers abroad from an address count as its calls do: 10 to 13
    /// go through in 15 s, not 30.
    @Test func transfersAbroadCountLikeCalls() {
        var h = Harness()
        let attacker = "203.0.113.91"
        _ = h.register(user: "105", from: attacker, at: 0)
        var transferred = 0
        for n in 0..<30 {
            let at = 1 + Double(n) * 0.5
            var call = Transaction.invite(from: "105", at: attacker, to: "2\(100 + n)", callID: "leg-\(n)")
            h.send(call.request, from: attacker, at: at)
            h.answer(call.response(407, "Proxy Authentication Required", nonce: "L\(n)"), to: attacker, at: at + 0.01)
            call.cseq = 2
            call.credentials = ("105", "L\(n)", "r\(n)", "00000001", "c\(n)")
            h.send(call.request, from: attacker, at: at + 0.02)
            h.answer(call.response(200, "OK"), to: attacker, at: at + 0.1)
            var refer = call
            refer.method = "REFER"
            refer.cseq = 3
            refer.credentials = nil
            refer.headers = ["Refer-To: <sip:+88216\(7_000_000 + n)@\(Transaction.domain)>"]
            if !h.send(refer.request, from: attacker, at: at + 0.2).decision.drops { transferred += 1 }
        }
        #expect((10...13).contains(transferred), "\(transferred) transfers abroad in 15 s")
    }

    /// Anyone can send UDP in a registered office's name: a scanner's OPTIONS, garbage, malformed
    /// SIP, and digest credentials the forger first used from its own address (a "replay"). Each such
    /// packet is dropped; the office scores nothing for them and its phones keep their service.
    @Test func packetsForgedInAnOfficesNameCostItNothing() {
        var h = Harness()
        let forger = "203.0.113.95"
        _ = h.register(user: "450", from: Self.office, at: 0)
        var forged: [PacketFilter.Outcome] = []
        for n in 0..<5 {
            let options = Transaction.svmap(to: "1\(n)", from: Self.office, callID: "svmap-\(n)")
            forged.append(h.send(options.request, from: Self.office, at: 1 + Double(n)))
            forged.append(h.send("GET / HTTP/1.1\r\nHost: pbx\r\n\r\n", from: Self.office, at: 1.1 + Double(n)))
            var noCallID = Transaction(
                user: "450", target: "450", fromUser: "450", callID: "", contactHost: Self.office)
            noCallID.cseq = 10 + n
            forged.append(h.send(noCallID.request, from: Self.office, at: 1.2 + Double(n)))
            var own = Transaction.softphoneRegister("46\(n)", at: forger, callID: "own-\(n)")
            own.credentials = ("46\(n)", "f\(n)", "fr\(n)", "00000001", "fc\(n)")
            h.send(own.request, from: forger, at: 1.3 + Double(n))
            own.callID = "forged-\(n)"
            forged.append(h.send(own.request, from: Self.office, at: 1.4 + Double(n)))
        }
        let each: [Decision.Reason] = [.scanner, .notSIP, .malformed, .digestReplay]
        #expect(forged.map(\.decision.reason) == (0..<5).flatMap { _ in each })
        #expect(forged.allSatisfy { $0.decision.verdict == .drop && $0.decision.score == 0 })
        let keepsItsService = h.keepsItsService(Self.office, user: "450", at: 7)
        #expect(keepsItsService)
    }

    /// A forger sends REGISTERs with made-up credentials in the name of an address with good history,
    /// which the server answers with 401s to that address, 200 of them in 20 s: over UDP none is a failure
    /// of the address's (none answers a challenge sent there), so the office (authenticated) or the trunk
    /// (a call answered) keeps its service. Over TCP, which proves the sender's address, the same guesses
    /// are the address's own: banned for password guessing.
    @Test(arguments: [false, true], [false, true])
    func failedLoginsForgedInAGoodAddresssNameCostItNothing(authenticated: Bool, overTCP: Bool) {
        var h = Harness()
        if authenticated {
            _ = h.register(user: "451", from: Self.office, at: 0)
        } else {
            // A trunk's call answered unchallenged: good history, no authentication.
            let call = Transaction(
                method: "INVITE", user: "451", target: "399", fromUser: "451", callID: "answered",
                contactHost: Self.office)
            h.send(call.request, from: Self.office, at: 0)
            h.answer(call.response(200, "OK"), to: Self.office, at: 0.5)
            h.acknowledge(call, from: Self.office, at: 0.5 + 0.05)
        }
        for n in 0..<200 {
            var guess = Transaction.softphoneRegister("\(200 + n % 20)", at: Self.office, callID: "forged-\(n)")
            guess.credentials = ("\(200 + n % 20)", "made-up-\(n)", "guess\(n)", "00000001", "g\(n)")
            let at = 1 + Double(n) * 0.1
            let sent =
                overTCP
                ? h.sendOverTCP(guess.request, from: Self.office, at: at)
                : h.send(guess.request, from: Self.office, at: at)
            if !sent.decision.drops {
                h.answer(guess.response(401, "Unauthorized", nonce: "fresh-\(n)"), to: Self.office, at: at + 0.01)
            }
        }
        let ban = h.bans.first { $0.target.contains(IPAddress(Self.office)!) }
        if overTCP {
            #expect(ban?.reason == .passwordGuessing)
        } else {
            #expect(ban == nil)
            let keepsItsService = h.keepsItsService(Self.office, user: "451", at: 22)
            #expect(keepsItsService)
        }
    }

    /// A PBX registered as one account places 8 calls abroad a minute, within calls_per_user (10 a
    /// minute). Someone forges 20 INVITEs a minute to a satellite number with credentials naming the
    /// PBX's account and a made-up nonce, each from a new spoofed address (held as toll fraud) or all in
    /// the PBX's own name: none spends the account's calls (before, the PBX lost all 24 of its calls
    /// abroad, or 19 of them).
    @Test(arguments: [false, true])
    func forgedCredentialsDoNotSpendAnAccountsCallsAbroad(inThePBXsName: Bool) {
        var h = Harness()
        let pbx = "192.0.2.80"
        _ = h.register(user: "pbx", from: pbx, at: 0)
        var forgedAt = 1.0
        func forge(until seconds: Double) {
            while forgedAt < seconds {
                let n = Int(forgedAt)
                let source = inThePBXsName ? pbx : "198.18.0.\(n + 1)"
                var forged = Transaction.invite(
                    from: "pbx", at: source, to: "+88216\(5_550_000 + n)", callID: "fx-\(n)")
                forged.credentials = ("pbx", "made-up-\(n)", "junk", "00000001", "x\(n)")
                let outcome = h.send(forged.request, from: source, at: forgedAt)
                if !inThePBXsName { #expect(outcome.decision.reason == .tollFraud) }
                if !outcome.decision.drops {
                    h.answer(
                        forged.response(407, "Proxy Authentication Required", nonce: "fxn\(n)"), to: source,
                        at: forgedAt + 0.01)
                }
                forgedAt += 3
            }
        }
        var lost = 0
        for call in 0..<24 {
            let at = 2 + Double(call) * 7.5
            forge(until: at)
            let outcomes = h.call(from: "pbx", at: pbx, to: "+4420\(79_460_000 + call)", at: at, id: "pbx-\(call)")
            if outcomes.contains(where: { $0.decision.drops }) { lost += 1 }
        }
        #expect(lost == 0, "the PBX lost \(lost) of 24 calls abroad")
    }

    /// A registrar whose nonces depend on the time only sends every client challenged in one second the
    /// same nonce. An office of 60 phones refreshes one phone a second, each refresh challenged; a forger
    /// fetches the nonce of the second at its own address and forges 3 REGISTERs a second in the
    /// office's name with it, for users that are not the office's, each answered with a plain 401 to the
    /// office. The nonce went to the office too, and to the forger: it proves neither, so the forged
    /// failures score nothing and the office keeps its service (before, it was banned 15 s in).
    @Test(arguments: [false, true])
    func aNonceTheServerSentToSeveralAddressesProvesNone(sharedNonces: Bool) {
        var h = Harness()
        let forger = "203.0.113.66"
        func refresh(_ phone: Int, at seconds: Double, tag: String) {
            let user = "\(500 + phone)"
            var t = Transaction(
                user: user, target: user, fromUser: user, callID: "reg-\(user)", contactHost: Self.office)
            t.cseq = Int(seconds) * 2 + 1
            let nonce = "ts\(Int(seconds))"
            h.send(t.request, from: Self.office, at: seconds)
            h.answer(t.response(401, "Unauthorized", nonce: nonce), to: Self.office, at: seconds + 0.01)
            t.cseq += 1
            t.credentials = (user, nonce, "ok-\(user)-\(tag)", "00000001", "c\(user)\(tag)")
            if !h.send(t.request, from: Self.office, at: seconds + 0.02).decision.drops {
                h.answer(t.response(200, "OK"), to: Self.office, at: seconds + 0.03)
            }
        }
        for phone in 0..<60 { refresh(phone, at: Double(phone) * 0.05, tag: "boot") }
        var forged = 0
        for second in 60..<120 {
            refresh(second % 60, at: Double(second), tag: "\(second)")
            let nonce = sharedNonces ? "ts\(second)" : "fs\(second)"
            let fetch = Transaction.softphoneRegister("100", at: forger, callID: "f-\(second)")
            h.send(fetch.request, from: forger, at: Double(second) + 0.3)
            h.answer(fetch.response(401, "Unauthorized", nonce: nonce), to: forger, at: Double(second) + 0.31)
            for k in 0..<3 {
                var guess = Transaction.softphoneRegister("9\(forged % 50)", at: Self.office, callID: "g-\(forged)")
                guess.credentials = ("9\(forged % 50)", nonce, "bad\(forged)", "00000001", "gc\(forged)")
                let at = Double(second) + 0.4 + Double(k) * 0.1
                if !h.send(guess.request, from: Self.office, at: at).decision.drops {
                    let challenge = sharedNonces ? nonce : "re\(forged)"
                    h.answer(guess.response(401, "Unauthorized", nonce: challenge), to: Self.office, at: at + 0.01)
                }
                forged += 1
            }
        }
        #expect(!h.bans.contains { $0.target.contains(IPAddress(Self.office)!) })
        let keepsItsService = h.keepsItsService(Self.office, user: "500", at: 125)
        #expect(keepsItsService)
    }

    /// An attacker with an account of its own, against a registrar whose nonces are not bound to an
    /// address: it fetches a nonce at its own address and forges right REGISTERs for its account from
    /// 100 spoofed addresses, each answered 200. A nonce the server sent another address proves none of
    /// them: they get neither authentication nor good history, and their flood of 3,000 INVITEs in a
    /// second meets the budgets for unknown sources (before, all 3,000 went through).
    @Test func registrationsForgedWithANonceFetchedElsewhereProveNothing() {
        var h = Harness()
        let attacker = "203.0.113.77"
        let spoofed = (0..<100).map { "198.19.\($0).9" }
        for (n, address) in spoofed.enumerated() {
            let at = Double(n) * 0.25
            let nonce = "kn\(Int(at))"
            var fetch = Transaction.softphoneRegister("7001", at: attacker, callID: "fetch-\(n)")
            h.send(fetch.request, from: attacker, at: at)
            h.answer(fetch.response(401, "Unauthorized", nonce: nonce), to: attacker, at: at + 0.01)
            fetch.callID = "forged-\(n)"
            fetch.contactHost = address
            fetch.credentials = ("7001", nonce, "right-\(n)", "00000001", "cn\(n)")
            h.send(fetch.request, from: address, at: at + 0.02)
            h.answer(fetch.response(200, "OK"), to: address, at: at + 0.03)
        }
        var accepted = 0
        for round in 0..<30 {
            for (n, address) in spoofed.enumerated() {
                let invite = Transaction.invite(from: "7001", at: address, to: "8000", callID: "fl-\(n)-\(round)")
                if !h.send(invite.request, from: address, at: 30 + Double(round) / 30 + Double(n) * 0.0001).decision
                    .drops
                {
                    accepted += 1
                }
            }
        }
        #expect(accepted <= 1000, "\(accepted) of 3000 INVITEs from forged sources accepted in 1 s")
    }

    /// The same forger sends five right REGISTERs per spoofed address back to back (new Call-IDs, nc
    /// counting up), before any answer: the fifth pushes the first out of the address's remembered
    /// requests. The 200 to it then matches none, and is not read as a registration of the address
    /// (before, all 100 spoofed addresses became authenticated and their 3,000 INVITEs went through).
    @Test func registrationsForgedInBurstsProveNothingEither() {
        var h = Harness()
        let attacker = "203.0.113.77"
        let spoofed = (0..<100).map { "198.19.\($0).9" }
        for (n, address) in spoofed.enumerated() {
            let at = Double(n) * 0.25
            let fetch = Transaction.softphoneRegister("7001", at: attacker, callID: "fetch-\(n)")
            h.send(fetch.request, from: attacker, at: at)
            h.answer(fetch.response(401, "Unauthorized", nonce: "kn\(n)"), to: attacker, at: at + 0.01)
            let forged = (0..<5).map { k in
                var t = fetch
                t.callID = "forged-\(n)-\(k)"
                t.contactHost = address
                t.credentials = ("7001", "kn\(n)", "right-\(n)-\(k)", "0000000\(k + 1)", "cn\(n)-\(k)")
                return t
            }
            for (k, t) in forged.enumerated() { h.send(t.request, from: address, at: at + 0.02 + Double(k) * 0.00001) }
            for (k, t) in forged.enumerated() {
                h.answer(t.response(200, "OK"), to: address, at: at + 0.03 + Double(k) * 0.001)
            }
        }
        let authenticated = spoofed.filter { address in
            h.engine.sources.find(IPAddress(address)!).map { h.engine.sources.values[$0].authenticated } ?? false
        }
        #expect(authenticated.isEmpty, "\(authenticated.count) of 100 spoofed addresses authenticated")
        // A phone at one of those addresses that registers the usual way proves it, and 2xx matching no
        // remembered request read as registrations there again.
        let lostForeignRequest = { (h: Harness) in
            h.engine.sources.find(IPAddress(spoofed[0])!).map { h.engine.sources.values[$0].recent.lostForeignRequest }
        }
        #expect(lostForeignRequest(h) == true)
        _ = h.register(user: "300", from: spoofed[0], at: 40)
        #expect(lostForeignRequest(h) == false)
    }

    /// Each of `callers` (address, user), registered, dials abroad every half second for 15 s, each
    /// call carrying a nonce a helper host fetched for its user (a registrar whose nonces are not bound
    /// to an address accepts it), so that no call answers a challenge sent to its address; returns how
    /// many calls each placed.
    static func callsAbroadWithNoncesFetchedElsewhere(from callers: [(address: String, user: String)]) -> [Int] {
        var h = Harness()
        let helper = "203.0.113.190"
        for caller in callers { _ = h.register(user: caller.user, from: caller.address, at: 0) }
        var placed = callers.map { _ in 0 }
        for call in 0..<30 {
            for (n, caller) in callers.enumerated() {
                let at = 1 + Double(call) * 0.5 + Double(n) * 0.1
                let fetch = Transaction.softphoneRegister(caller.user, at: helper, callID: "nf-\(n)-\(call)")
                h.send(fetch.request, from: helper, at: at)
                h.answer(fetch.response(401, "Unauthorized", nonce: "h\(n)-\(call)"), to: helper, at: at + 0.01)
                var invite = Transaction.invite(
                    from: caller.user, at: caller.address, to: "+88216\(1000 + call)", callID: "tf-\(n)-\(call)")
                invite.credentials = (caller.user, "h\(n)-\(call)", "r\(call)", "00000001", "c\(call)")
                if !h.send(invite.request, from: caller.address, at: at + 0.02).decision.drops {
                    placed[n] += 1
                    h.answer(invite.response(200, "OK"), to: caller.address, at: at + 0.3)
                }
            }
        }
        return placed
    }

    /// A cracked account registered at its attacker's address dials abroad with nonces fetched elsewhere
    /// (`callsAbroadWithNoncesFetchedElsewhere`): such calls count against the address, and 10 to 13 go
    /// through in 15 s, not all 30.
    @Test func callsAbroadWithNoncesFetchedElsewhereCountAgainstTheAddress() {
        let placed = Self.callsAbroadWithNoncesFetchedElsewhere(from: [("203.0.113.90", "105")])
        #expect((10...13).contains(placed[0]), "placed \(placed[0]) calls abroad in 15 s")
    }

    /// Two such addresses at once, each its own account: the calls counted against an address are its
    /// own (a key of its own under the users table's seed), and each places 10 to 13, as alone.
    @Test func callsAbroadCountedAgainstAnAddressAreItsOwn() {
        let placed = Self.callsAbroadWithNoncesFetchedElsewhere(from: [
            ("203.0.113.91", "106"), ("203.0.113.92", "107"),
        ])
        #expect(placed.allSatisfy { (10...13).contains($0) }, "placed \(placed) calls abroad in 15 s")
    }

    /// A softphone's refresh on the office Wi-Fi: its 200 OK is lost as the phone leaves, and its timers
    /// resend the very same REGISTER (0.5, 1, 2, 4 s …) from its 4G address. The first resend is a
    /// replay of the Wi-Fi's credentials from another address and is dropped for its points; the later
    /// ones are refused without points again, so the phone's timers do not get its 4G address banned
    /// (before: banned 3.5 s after the move), and its new registration from there goes through.
    @Test func aSoftphoneRoamingMidTransactionIsNotBannedForItsResends() {
        var h = Harness()
        let wifi = "192.0.2.150"
        let lte = "198.51.100.77"
        _ = h.register(user: "dana", from: wifi, at: 0)
        var refresh = Transaction.softphoneRegister("dana", at: wifi, callID: "dana-reg")
        refresh.cseq = 5
        h.send(refresh.request, from: wifi, at: 300)
        h.answer(refresh.response(401, "Unauthorized", nonce: "z300"), to: wifi, at: 300.01)
        refresh.cseq = 6
        refresh.credentials = ("dana", "z300", "resp-z300", "00000001", "cn-dana-6")
        h.send(refresh.request, from: wifi, at: 300.02)
        var interval = 0.5
        var at = 300.02
        for _ in 0..<10 {
            at += interval
            interval = min(interval * 2, 4)
            if !h.send(refresh.request, from: lte, at: at).decision.drops {
                h.answer(refresh.response(200, "OK"), to: lte, at: at + 0.01)
                break
            }
        }
        #expect(h.bans.isEmpty)
        let fresh = h.register(user: "dana", from: lte, at: 340, tag: "lte")
        #expect(!fresh.contains { $0.decision.drops })
    }

    /// A registered account dials abroad every second with the very same request each time (Call-ID,
    /// CSeq, branch, number; only its From tag changes, so the server sees new calls), reusing the nonce
    /// of one challenge, and between refused calls has one to its voicemail answered (a 200 forgives
    /// refusals): every one counts.
    @Test func callsDisguisedAsResendsCountAgainstTheAccount() {
        var h = Harness()
        let attacker = "203.0.113.97"
        _ = h.register(user: "480", from: attacker, at: 0)
        let probe = Transaction.invite(from: "480", at: attacker, to: "8000", callID: "probe")
        h.send(probe.request, from: attacker, at: 0.5)
        h.answer(probe.response(407, "Proxy Authentication Required", nonce: "n"), to: attacker, at: 0.51)
        var placed = 0
        for call in 0..<60 {
            let at = 1 + Double(call)
            var invite = Transaction.invite(from: "480", at: attacker, to: "+88216555000", callID: "same")
            invite.fromTag = "t\(call)"
            invite.cseq = 2
            let nc = String(call + 1, radix: 16)
            invite.credentials = ("480", "n", "r\(call)", String(repeating: "0", count: 8 - nc.count) + nc, "c")
            if !h.send(invite.request, from: attacker, at: at).decision.drops {
                placed += 1
                h.answer(invite.response(200, "OK"), to: attacker, at: at + 0.1)
            } else {
                _ = h.call(from: "480", at: attacker, to: "8000", at: at + 0.2, id: "vm-\(call)")
            }
        }
        #expect(placed <= 20, "placed \(placed) calls in a minute")
    }
    /// An office's 40 phones authenticate with IDs that are not their extensions (extension 300 as
    /// a300). The registrar restarts and answers their refreshes' old nonces with a plain 401, not a
    /// stale one: 40 failures in a few seconds, each of them a phone's own account registered from
    /// there, none a guess. The office loses nothing.
    @Test func anOfficeWhoseRegistrarRestartedKeepsItsService() {
        var h = Harness()
        let office = "192.0.2.90"
        var phones = (0..<40).map { n in
            let user = "\(300 + n)"
            var t = Transaction(user: user, target: user, fromUser: user, callID: "r-\(n)", contactHost: office)
            t.credentials = ("a\(user)", "first-\(n)", "resp-\(n)", "00000001", "c\(n)")
            return t
        }
        for n in phones.indices {
            h.send(phones[n].request, from: office, at: Double(n) * 0.1)
            h.answer(phones[n].response(200, "OK"), to: office, at: Double(n) * 0.1 + 0.01)
        }
        var outcomes: [PacketFilter.Outcome] = []
        for n in phones.indices {
            let at = 600 + Double(n) * 0.05
            phones[n].cseq += 1
            outcomes.append(h.send(phones[n].request, from: office, at: at))
            h.answer(phones[n].response(401, "Unauthorized", nonce: "second-\(n)"), to: office, at: at + 0.01)
            phones[n].cseq += 1
            phones[n].credentials?.nonce = "second-\(n)"
            phones[n].credentials?.response = "resp2-\(n)"
            outcomes.append(h.send(phones[n].request, from: office, at: at + 0.02))
            h.answer(phones[n].response(200, "OK"), to: office, at: at + 0.03)
        }
        #expect(!outcomes.contains { $0.decision.drops })
        let keepsItsService = h.keepsItsService(office, user: "300", at: 610)
        #expect(keepsItsService)
    }
    /// Four SBCs of a carrier that is not in trust.allow deliver calls to the site's own numbers in
    /// E.164, one every 3 s. Listed in toll_fraud.own_numbers, they are not high risk and none is
    /// dropped; without the list every call is held as toll fraud (and the SBCs are banned).
    @Test(arguments: [true, false])
    func carrierCallsToTheSitesOwnNumbers(listed: Bool) {
        var rules = RuleSet()
        // A prefix of the site's range, and one number listed whole.
        if listed { rules.tollFraud.ownNumbers = ["+4420794600", "+441632960001"] }
        var h = Harness(rules: rules)
        for call in 0..<24 {
            let sbc = "198.18.7.\(1 + call % 4)"
            let number = call % 6 == 5 ? "+441632960001" : "+44207946000\(call % 10)"
            let invite = Transaction.invite(from: "caller", at: sbc, to: number, callID: "in-\(call)")
            h.send(invite.request, from: sbc, at: Double(call) * 3)
        }
        let dropped = h.outcomes.filter { $0.outcome.decision.drops }.count
        #expect(dropped == (listed ? 0 : 24))
    }
    /// A North American PBX that authenticates each call (it never registers) dials its domestic calls
    /// in E.164 ("+1 415 …"), one every 20 s, each sent again on RFC 3261's timers until the server's
    /// challenge comes. With `toll_fraud.domestic_prefixes = ["+1"]` they are not high risk: none is held
    /// and each is challenged. Without it every one is held as a call abroad, the PBX never authenticates,
    /// and it is banned. A premium "+1 900" number, listed as high risk, outranks "+1" and is still held.
    @Test(arguments: [true, false])
    func aPBXDiallingDomesticCallsInE164(domesticListed: Bool) {
        var rules = RuleSet()
        if domesticListed {
            rules.tollFraud.domesticPrefixes = ["+1"]
            rules.tollFraud.highRiskPrefixes.append("+1 900")
        }
        var h = Harness(rules: rules)
        let pbx = "192.0.2.152"
        var lost = 0
        for call in 0..<30 {
            let at = Double(call) * 20
            let invite = Transaction.invite(
                from: "trunk", at: pbx, to: "+1415555\(1000 + call)", callID: "e164-\(call)")
            let resends = [0, 0.5, 1.5, 3.5, 7.5, 15.5].lazy.map { h.send(invite.request, from: pbx, at: at + $0) }
            guard resends.contains(where: { !$0.decision.drops }) else {
                lost += 1
                continue
            }
            h.answer(invite.response(407, "Proxy Authentication Required", nonce: "e\(call)"), to: pbx, at: at + 0.01)
        }
        let premium = Transaction.invite(from: "trunk", at: pbx, to: "+19005550100", callID: "premium")
        let premiumCall = h.send(premium.request, from: pbx, at: 700)
        if domesticListed {
            #expect(lost == 0)
            #expect(h.bans.isEmpty)
            #expect(premiumCall.decision.reason == .tollFraud)
        } else {
            #expect(lost == 30)
            #expect(h.bans.first?.reason == .tollFraud)
        }
    }

    /// An office fails over to a new address. Its 12 phones' first REGISTERs claim users registered from
    /// the old one (points capped at half the drop threshold), and 4 phones' passwords changed: their
    /// failures come before any 200 OK (47 points). The first 200 proves the address and forgives what it
    /// was suspected of, so the 4 phones retrying at once and every 30 s cost the office nothing.
    @Test func anOfficeOnANewAddressWithWrongPasswordsKeepsItsService() {
        var h = Harness()
        let users = (0..<12).map { "desk\($0)" }
        for (n, user) in users.enumerated() { _ = h.register(user: user, from: "192.0.2.62", at: Double(n) * 0.1) }
        let moved = "192.0.2.63"
        var phones = users.map {
            Transaction(user: $0, target: $0, fromUser: $0, callID: "f-\($0)", contactHost: moved)
        }
        for n in phones.indices {
            h.send(phones[n].request, from: moved, at: 100 + Double(n) * 0.008)
            h.answer(phones[n].response(401, "Unauthorized", nonce: "m\(n)"), to: moved, at: 100.1 + Double(n) * 0.001)
            phones[n].cseq += 1
            phones[n].credentials = (users[n], "m\(n)", "r\(n)", "00000001", "c\(n)")
        }
        let wrong = 0..<4
        for n in wrong where !h.send(phones[n].request, from: moved, at: 100.2 + Double(n) * 0.001).decision.drops {
            h.answer(phones[n].response(401, "Unauthorized", nonce: "w\(n)"), to: moved, at: 100.21 + Double(n) * 0.001)
        }
        for n in phones.indices where !wrong.contains(n) {
            if !h.send(phones[n].request, from: moved, at: 100.22 + Double(n) * 0.008).decision.drops {
                h.answer(phones[n].response(200, "OK"), to: moved, at: 100.23 + Double(n) * 0.008)
            }
        }
        for retry in 0..<10 {
            for n in wrong {
                let at = 100.4 + Double(retry) * 30 + Double(n) * 0.01
                phones[n].cseq += 1
                phones[n].credentials = (users[n], "w\(n)-\(retry)", "bad-\(retry)", "00000001", "c\(n)")
                if !h.send(phones[n].request, from: moved, at: at).decision.drops {
                    h.answer(
                        phones[n].response(401, "Unauthorized", nonce: "w\(n)-\(retry + 1)"), to: moved, at: at + 0.01)
                }
            }
        }
        #expect(h.drops(from: moved) == 0)
        let keepsItsService = h.keepsItsService(moved, user: "desk5", at: 500)
        #expect(keepsItsService)
    }
    /// The host rebooted: the office comes back from the state file as authenticated, but which user is
    /// registered from where is not kept, and the registrar, restarted too, answers the 60 phones'
    /// refreshes (their nonces from before) with a plain 401, then registers them with fresh ones, all
    /// within 3 s. Each failure followed by its account's 200 OK from the same address is taken back: the
    /// office loses nothing, where 60 failures of 2 points banned it.
    @Test func aRestoredOfficeWhoseRegistrarForgotItsNoncesKeepsItsService() {
        var h = Harness()
        let office = "192.0.2.95"
        _ = h.replayer.filter.engine.restore(
            [
                ProvenSource(
                    address: IPAddress(office)!, good: true, authenticated: true, lastSeen: Timestamp(seconds: 0))
            ],
            now: Timestamp(seconds: 1))
        var outcomes: [PacketFilter.Outcome] = []
        for n in 0..<60 {
            let user = "\(700 + n)"
            let at = 2 + Double(n) * 0.05
            var t = Transaction(user: user, target: user, fromUser: user, callID: "boot-\(n)", contactHost: office)
            t.credentials = (user, "before-\(n)", "r-\(n)", "00000002", "c\(n)")
            outcomes.append(h.send(t.request, from: office, at: at))
            h.answer(t.response(401, "Unauthorized", nonce: "after-\(n)"), to: office, at: at + 0.01)
            t.cseq += 1
            t.credentials = (user, "after-\(n)", "r2-\(n)", "00000001", "c\(n)")
            outcomes.append(h.send(t.request, from: office, at: at + 0.02))
            h.answer(t.response(200, "OK"), to: office, at: at + 0.03)
        }
        #expect(!outcomes.contains { $0.decision.drops })
        let keepsItsService = h.keepsItsService(office, user: "700", at: 10)
        #expect(keepsItsService)
    }
    /// A guesser with an account of its own sends each guess at another account under the Call-ID and
    /// CSeq of a REGISTER of its own account that succeeds: the server's 200 cannot be told from the
    /// answer to the guess, so it binds nothing, and the guesses' failures are not its own phone's,
    /// whichever of the two it sends last (the answers are matched to the newer).
    @Test(arguments: [false, true], [false, true])
    func guessesUnderTheCallIDOfARightRegisterAreStillGuesses(guessFirst: Bool, underItsOwnUser: Bool) {
        var h = Harness()
        let guesser = "203.0.113.101"
        _ = h.register(user: "777", from: guesser, at: 0)
        for n in 0..<300 {
            let at = 1 + Double(n) * 0.2
            var own = Transaction.softphoneRegister("777", at: guesser, callID: "x\(n)")
            own.credentials = ("777", "n\(n)", "right\(n)", "00000001", "c\(n)")
            // The guess registers user 100, or its own user with 100's credentials.
            var guess = Transaction.softphoneRegister(underItsOwnUser ? "777" : "100", at: guesser, callID: "x\(n)")
            guess.credentials = ("100", "n\(n)", "guess\(n)", "00000001", "d\(n)")
            let (first, second) = guessFirst ? (guess, own) : (own, guess)
            let firstSent = !h.send(first.request, from: guesser, at: at).decision.drops
            let secondSent = !h.send(second.request, from: guesser, at: at + 0.01).decision.drops
            let (ownSent, guessSent) = guessFirst ? (secondSent, firstSent) : (firstSent, secondSent)
            if ownSent { h.answer(own.response(200, "OK"), to: guesser, at: at + 0.05) }
            if guessSent {
                h.answer(guess.response(401, "Unauthorized", nonce: "n\(n + 1)"), to: guesser, at: at + 0.06)
            }
        }
        #expect(h.bans.first { $0.target.address == IPAddress(guesser) }?.reason == .passwordGuessing)
        let victim = Array("100".utf8).withUnsafeBytes { ByteHash.hash($0, ByteRange(0, 3)) }
        let boundTo = h.engine.shared.withLock { tables in
            tables.users.find(UserKey(hash: victim)).flatMap { tables.users.values[$0].boundSource }
        }
        #expect(boundTo == nil, "the victim's account bound to the guesser")
    }

    /// A guesser with an account of its own fails that account (free: it is registered from there) and
    /// then registers it, between guesses at another account: only a failure that scored is taken back.
    @Test func failuresOfAnAccountRegisteredThereAreNotTakenBackForGuesses() {
        var h = Harness()
        let guesser = "203.0.113.102"
        _ = h.register(user: "778", from: guesser, at: 0)
        for n in 0..<300 {
            let at = 1 + Double(n)
            var guess = Transaction.softphoneRegister("100", at: guesser, callID: "g\(n)")
            guess.credentials = ("100", "p\(n - 1)", "guess\(n)", "00000001", "d\(n)")
            var own = Transaction.softphoneRegister("778", at: guesser, callID: "o\(n)")
            own.credentials = ("778", "m\(n)", "wrong\(n)", "00000001", "e\(n)")
            for (request, status) in [(guess, 401), (own, 401)] {
                if !h.send(request.request, from: guesser, at: at).decision.drops {
                    h.answer(request.response(status, "Unauthorized", nonce: "p\(n)"), to: guesser, at: at + 0.01)
                }
            }
            own.cseq += 1
            own.credentials = ("778", "p\(n)", "right\(n)", "00000001", "f\(n)")
            if !h.send(own.request, from: guesser, at: at + 0.02).decision.drops {
                h.answer(own.response(200, "OK"), to: guesser, at: at + 0.03)
            }
        }
        #expect(h.bans.first { $0.target.address == IPAddress(guesser) }?.reason == .passwordGuessing)
    }

    /// A receptionist's phone on an office's new address (failed over to its backup line, or the filter
    /// restarted without its state) subscribes again to its 60 busy lamps, 20 ms apart, each SUBSCRIBE
    /// challenged and sent again with credentials, before any phone's REGISTER refresh. The first whose
    /// credentials answer its challenge and succeed authenticates the address, as a REGISTER would: the
    /// rest are no extension scan, and the office's phones then all register. (Before, the address was
    /// banned for enumeration at the 27th lamp and every phone's refresh lost.) SUBSCRIBEs with the nonce
    /// of the server's challenge to a call, which it may check where it takes subscriptions unchecked,
    /// authenticate nothing: 60 such are still a scan.
    @Test(arguments: [true, false])
    func aReceptionistsBusyLampsOnAnOfficesNewAddressAreNoScan(answeringTheirOwnChallenges: Bool) {
        var h = Harness()
        let office = "192.0.2.71"
        if !answeringTheirOwnChallenges {
            let call = Transaction.invite(from: "400", at: office, to: "401", callID: "fetch")
            h.send(call.request, from: office, at: 0.5)
            h.answer(call.response(407, "Proxy Authentication Required", nonce: "call-nonce"), to: office, at: 0.505)
        }
        var lost = 0
        for lamp in 0..<60 {
            var subscribe = Transaction(
                method: "SUBSCRIBE", user: "400", target: "\(401 + lamp)", fromUser: "400", callID: "blf-\(lamp)",
                contactHost: office)
            subscribe.headers = ["Event: dialog", "Accept: application/dialog-info+xml", "Expires: 1800"]
            let at = 1 + Double(lamp) * 0.02
            // The server answers only what reaches it.
            guard !h.send(subscribe.request, from: office, at: at).decision.drops else {
                lost += 1
                continue
            }
            let nonce = answeringTheirOwnChallenges ? "blf-\(lamp)" : "call-nonce"
            if answeringTheirOwnChallenges {
                h.answer(subscribe.response(401, "Unauthorized", nonce: nonce), to: office, at: at + 0.005)
            }
            subscribe.cseq += 1
            subscribe.credentials = ("400", nonce, "r\(lamp)", "00000001", "c\(lamp)")
            guard !h.send(subscribe.request, from: office, at: at + 0.01).decision.drops else {
                lost += 1
                continue
            }
            h.answer(subscribe.response(200, "OK"), to: office, at: at + 0.015)
        }
        if answeringTheirOwnChallenges {
            #expect(lost == 0)
            for phone in 0..<60 { _ = h.register(user: "\(400 + phone)", from: office, at: 3 + Double(phone) * 0.1) }
            #expect(h.drops(from: office) == 0)
            #expect(h.bans.isEmpty)
        } else {
            #expect(lost > 20, "\(lost) busy lamps lost")
        }
    }

    /// A call centre's dialer places 25 calls a second out through its upstream provider, which is not
    /// in trust.allow and never sends the site a request: the provider answers each call with 407 (the
    /// site's credentials), then 100, 183, 180 and 200 or 486. The server asked for these answers: they
    /// are held to the limits of a source with good history (before, 1,662 of 3,750 were dropped at 25
    /// calls a second and the provider banned for rate-limit at 19 s, cutting off all outbound calls).
    @Test func anUndeclaredProviderAnsweringADialersCallsLosesNothing() {
        var h = Harness()
        let provider = "203.0.113.50"
        var lost = 0
        for call in 0..<750 {
            let at = Double(call) / 25
            var invite = Transaction(
                method: "INVITE", user: "acct", target: "0161496\(call)", fromUser: "acct", callID: "d\(call)",
                contactHost: Harness.server)
            h.answer(invite.request, to: provider, at: at)
            let challenge = invite.response(407, "Proxy Authentication Required", nonce: "pn\(call)")
            if h.send(challenge, from: provider, at: at + 0.02).decision.drops { lost += 1 }
            invite.cseq += 1
            h.answer(invite.request, to: provider, at: at + 0.04)
            let answers = [(100, "Trying"), (183, "Session Progress"), (180, "Ringing"), (200, "OK")]
            for (n, (status, reason)) in answers.enumerated() {
                let answer = h.send(invite.response(status, reason), from: provider, at: at + 0.06 + Double(n) * 0.5)
                if answer.decision.drops { lost += 1 }
            }
        }
        #expect(lost == 0)
        #expect(h.bans.isEmpty)
    }

    /// A carrier not in trust.allow delivers a call a second, each to another DID, over UDP or TCP. Each
    /// call's ACK and BYE (25 s on, 25 calls later) go to the DID the PBX's Contact names: as many users
    /// a minute as it has calls, none an extension scan (a request inside a dialog tells nothing of its
    /// user). The PBX refuses every tenth caller with a 403 (anonymous, barred): no password was tried.
    /// Before, its BYEs were refused as a scan from the 20th DID on, and over TCP the 403s banned it.
    @Test(arguments: [false, true])
    func anUndeclaredCarrierCallingManyNumbersLosesNothing(overTCP: Bool) {
        var h = Harness()
        let carrier = "203.0.113.60"
        let send = { (h: inout Harness, text: String, at: Double) in
            overTCP ? h.sendOverTCP(text, from: carrier, at: at) : h.send(text, from: carrier, at: at)
        }
        var lost = 0
        var answered: [Transaction] = []
        for call in 0..<180 {
            let at = Double(call)
            let invite = Transaction.invite(
                from: call % 10 == 9 ? "anonymous" : "\(4_155_550_000 + call)", at: carrier,
                to: "\(2_125_550_100 + (call * 37) % 900)", callID: "in\(call)")
            if send(&h, invite.request, at).decision.drops { lost += 1 }
            if call % 10 == 9 {
                h.answer(invite.response(403, "Forbidden"), to: carrier, at: at + 0.02)
            } else {
                h.answer(invite.response(180, "Ringing"), to: carrier, at: at + 0.2)
                h.answer(invite.response(200, "OK"), to: carrier, at: at + 0.5)
                var ack = invite
                (ack.method, ack.toTag) = ("ACK", "srv1")
                if send(&h, ack.request, at + 0.55).decision.drops { lost += 1 }
                answered.append(invite)
            }
            // The caller of a call answered 25 s before hangs up.
            guard let earlier = answered.first, earlier.callID == "in\(call - 25)" else { continue }
            answered.removeFirst()
            var bye = earlier
            (bye.method, bye.cseq, bye.toTag) = ("BYE", 2, "srv1")
            if send(&h, bye.request, at + 0.9).decision.drops { lost += 1 }
            h.answer(bye.response(200, "OK"), to: carrier, at: at + 0.91)
        }
        #expect(lost == 0)
        #expect(h.bans.isEmpty)
    }

    /// A peer the server knows nothing good of sends requests inside dialogs (INFO, UPDATE) to 40 users a
    /// minute, and the server refuses each with a 403 or a 404: they probe no user, so neither the users
    /// nor the answers count as a scan.
    @Test func refusedRequestsInsideDialogsAreNoScan() {
        var h = Harness()
        let peer = "203.0.113.61"
        var dropped = 0
        for n in 0..<120 {
            var t = Transaction(
                method: n % 2 == 0 ? "INFO" : "UPDATE", user: "\(2_125_550_100 + n)", target: "\(2_125_550_100 + n)",
                fromUser: "caller", callID: "dlg\(n)", contactHost: peer)
            t.toTag = "srv\(n)"
            let at = Double(n) * 1.5
            if h.send(t.request, from: peer, at: at).decision.drops { dropped += 1 }
            h.answer(t.response(n % 3 == 0 ? 404 : 403, "Refused"), to: peer, at: at + 0.02)
        }
        #expect(dropped == 0)
        #expect(h.bans.isEmpty)
        #expect(h.engine.counters.detectors[.enumeration] == nil)
    }

    /// A PBX that authenticates each call has its OPTIONS ping challenged between its call's 407 and the
    /// call sent again with credentials: the call's challenge is kept apart, and its 200 authenticates.
    @Test func aChallengedPingBetweenACallsChallengeAndItsAnswerLeavesTheCall() {
        var h = Harness()
        let pbx = "192.0.2.170"
        var call = Transaction.invite(from: "trunk", at: pbx, to: "02079460000", callID: "c1")
        h.send(call.request, from: pbx, at: 1)
        h.answer(call.response(407, "Proxy Authentication Required", nonce: "inv"), to: pbx, at: 1.01)
        let ping = Transaction(
            method: "OPTIONS", user: "trunk", target: "trunk", fromUser: "trunk", callID: "p1", contactHost: pbx)
        h.send(ping.request, from: pbx, at: 1.012)
        h.answer(ping.response(407, "Proxy Authentication Required", nonce: "opt"), to: pbx, at: 1.014)
        call.cseq += 1
        call.credentials = ("trunk", "inv", "right", "00000001", "c")
        h.send(call.request, from: pbx, at: 1.02)
        h.answer(call.response(200, "OK"), to: pbx, at: 1.5)
        let authenticated = h.engine.sources.find(IPAddress(pbx)!).map { h.engine.sources.values[$0].authenticated }
        #expect(authenticated == true)
    }

    /// A proxy that challenges requests from its own domain relays a MESSAGE from the same user at another
    /// domain unchecked, and the callee answers 200: the nonce of its challenge to the first, in the
    /// second, authenticates nothing (the challenge is bound to the From host too), and the address's
    /// calls abroad are still held.
    @Test func aChallengesNonceInAMessageFromAnotherDomainAuthenticatesNothing() {
        var h = Harness()
        let attacker = "203.0.113.66"
        var message = Transaction(
            method: "MESSAGE", user: "alice", target: "bob", fromUser: "alice", callID: "m1", contactHost: attacker)
        message.body = "hi"
        h.send(message.request, from: attacker, at: 1)
        h.answer(message.response(407, "Proxy Authentication Required", nonce: "N1"), to: attacker, at: 1.01)
        message.cseq += 1
        message.credentials = ("alice", "N1", "garbage", "00000001", "c1")
        let ownFrom = "From: <sip:alice@\(Transaction.domain)>"
        let foreignFrom = "From: <sip:alice@evil.example>"
        h.send(message.request.replacingOccurrences(of: ownFrom, with: foreignFrom), from: attacker, at: 1.02)
        h.answer(
            message.response(200, "OK").replacingOccurrences(of: ownFrom, with: foreignFrom), to: attacker, at: 1.03)
        let fraud = Transaction.invite(from: "alice", at: attacker, to: "+88216100000", callID: "f1")
        #expect(h.send(fraud.request, from: attacker, at: 2).decision.reason == .tollFraud)
    }
}

/// A new site's lines registering at once: consecutive extensions from an address and for users
/// nobody registered before, which is what a REGISTER scan looks like until the server answers.
@Suite struct NewSiteTests {
    /// A DECT multi-cell base or a new branch's PoE switch powering its phones: the first REGISTERs of
    /// extensions 301 on leave `spacing` apart, the registrar `roundTrip` away answers what reaches it
    /// (401, then 200; 404 to a line whose user is mistyped), and a phone resends an unanswered request
    /// on RFC 3261's timer E (0.5, 1, 2, 4, 4 … s).
    struct Site {
        var lines = 40
        var spacing = 0.005
        var roundTrip = 0.12
        /// The lines whose user is mistyped.
        var typos: Set<Int> = []
        /// How far apart the lines' extensions are (1: consecutive).
        var step = 1
        /// Each phone subscribes to its own mailbox just after its first REGISTER (challenged too).
        var subscribes = false
        /// The registrar answers nothing for this long (the site's link to it comes up late).
        var silentFor = 0.0
        /// REGISTERs forged in the site's name an hour before it goes live, each refused with a 404.
        var forgedBefore = 0

        enum Event { case send(resend: Double), challenge, notFound, registered }

        static let address = "192.0.2.150"

        /// Registers the site's lines through a harness: the lines registered, and the harness.
        func register() -> (registered: Int, harness: Harness) {
            let address = Self.address
            var h = Harness()
            for n in 0..<forgedBefore {
                let forged = Transaction.softphoneRegister("nobody\(n)", at: address, callID: "forged-\(n)")
                h.send(forged.request, from: address, at: Double(n))
                h.answer(forged.response(404, "Not Found"), to: address, at: Double(n) + 0.05)
            }
            let opening = forgedBefore > 0 ? 3600.0 : 0
            var phones = (0..<lines).map {
                let user = typos.contains($0) ? "9\(301 + $0 * step)" : "\(301 + $0 * step)"
                return Transaction(user: user, target: user, fromUser: user, callID: "line-\($0)", contactHost: address)
            }
            // Whether each phone's request in flight will be answered, and whether it is done.
            var answering = Array(repeating: false, count: lines)
            var done = Array(repeating: false, count: lines)
            var events = phones.indices.map {
                (at: opening + Double($0) * spacing, line: $0, event: Event.send(resend: 0.5))
            }
            var registered = 0
            while let next = events.indices.min(by: { events[$0].at < events[$1].at }) {
                let (at, n, event) = events.remove(at: next)
                switch event {
                case .send(let resend):
                    guard !done[n] else { continue }
                    let first = resend == 0.5 && phones[n].credentials == nil
                    if !h.send(phones[n].request, from: address, at: at).decision.drops, !answering[n],
                        at >= opening + silentFor
                    {
                        answering[n] = true
                        let answer: Event =
                            phones[n].credentials != nil ? .registered : typos.contains(n) ? .notFound : .challenge
                        events.append((at + roundTrip, n, answer))
                    }
                    if resend <= 4 { events.append((at + resend, n, .send(resend: min(resend * 2, 4)))) }
                    if first, subscribes {
                        var subscribe = phones[n]
                        (subscribe.method, subscribe.callID) = ("SUBSCRIBE", "mwi-\(n)")
                        h.send(subscribe.request, from: address, at: at + 0.001)
                        h.answer(subscribe.response(401, "Unauthorized"), to: address, at: at + 0.001 + roundTrip)
                    }
                case .challenge:
                    h.answer(phones[n].response(401, "Unauthorized", nonce: "d\(n)"), to: address, at: at)
                    phones[n].cseq += 1
                    phones[n].credentials = (phones[n].user, "d\(n)", "r\(n)", "00000001", "c\(n)")
                    answering[n] = false
                    events.append((at + 0.001, n, .send(resend: 0.5)))
                case .notFound:
                    h.answer(phones[n].response(404, "Not Found"), to: address, at: at)
                    done[n] = true
                case .registered:
                    h.answer(phones[n].response(200, "OK"), to: address, at: at)
                    done[n] = true
                    registered += 1
                }
            }
            return (registered, h)
        }

        /// Registers the site, expecting every line registered but the mistyped ones, none of its
        /// packets dropped and no ban.
        func registersLosingNothing(sourceLocation: SourceLocation = #_sourceLocation) {
            let (registered, h) = register()
            #expect(registered == lines - typos.count, sourceLocation: sourceLocation)
            #expect(h.drops(from: Self.address) == 0, sourceLocation: sourceLocation)
            #expect(h.bans.isEmpty, sourceLocation: sourceLocation)
        }
    }

    /// More REGISTERs are in flight than `sequential_users` before the first answer comes back (the
    /// lines 5 ms apart, or all within a few milliseconds), or to more users than `distinct_users`
    /// (extensions 7 apart); none is dropped.
    @Test(arguments: [
        (20, 0.005, 0.02, 1), (60, 0.005, 0.02, 1), (20, 0.005, 0.12, 1), (60, 0.005, 0.12, 1),
        (30, 0.0002, 0.2, 1), (80, 0.003, 0.12, 1), (60, 0.003, 0.12, 7),
    ])
    func aNewSitesLinesRegisteringAtOnceLoseNothing(lines: Int, spacing: Double, roundTrip: Double, step: Int) {
        Site(lines: lines, spacing: spacing, roundTrip: roundTrip, step: step).registersLosingNothing()
    }

    /// One of 80 lines has its user mistyped: its 404 may come back while lines are still going out,
    /// and the grace outlasts two such answers. Extensions 7 apart: no run of consecutive numbers lifts
    /// the thresholds forgiven in the grace over those that many users cross.
    @Test(arguments: [0, 5, 10, 15, 79])
    func aMistypedLineCostsTheOthersNothing(position: Int) {
        Site(lines: 80, spacing: 0.003, typos: [position], step: 7).registersLosingNothing()
    }

    /// 60 phones each subscribe to their own mailbox just after their first REGISTER: a SUBSCRIBE to a
    /// user the window counted already waits in the grace too.
    @Test func phonesSubscribingToTheirMailboxesAtOnceLoseNothing() {
        Site(lines: 60, subscribes: true).registersLosingNothing()
    }

    /// One or two REGISTERs forged in the site's name an hour before it goes live, refused with 404s,
    /// forgave nothing: they do not use up its grace (three would end it, as a scan's would).
    @Test(arguments: [1, 2])
    func aForgedRegisterBeforehandCostsTheSiteNothing(forged: Int) {
        Site(forgedBefore: forged).registersLosingNothing()
    }

    /// The registrar answers nothing for the first seconds: the phones resend until it does, which may be
    /// after the grace (10 s); resends start runs of consecutive numbers anew and cross no threshold
    /// their first sending crossed.
    @Test(arguments: [1.0, 8.0])
    func aRegistrarSilentForItsFirstSecondsCostsTheSiteNothing(silentFor: Double) {
        Site(silentFor: silentFor).registersLosingNothing()
    }
}
