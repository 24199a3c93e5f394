import Testing

@testable import SIPWardenCore

/// The server's upstream provider (it registers there and calls out through it, without declaring it
/// in `trust.allow`), addresses the server only called, attackers with good history, and requests inside
/// dialogs: what a forger can do in a peer's name, and what a call's own re-INVITEs are.
@Suite struct PeerTests {
    enum Forgery: CaseIterable {
        case scannerUserAgent, scannerFromTag, notSIP, flood, callsAbroad, replayedCredentials, guesses
    }

    /// Over UDP anyone can send in the name of the server's upstream provider: a scanning tool's name or
    /// mark, what is not SIP, a flood, calls abroad, credentials first used from the forger's own
    /// address, guesses at a user under distributed attack, each of which used to ban it (and with it
    /// every answer to the server's calls out). The forged packets are dropped (the flood past the
    /// provider's limits); none bans it, and its answers to the server's next ten calls pass.
    @Test(arguments: Forgery.allCases)
    func forgedPacketsInTheUpstreamProvidersNameDoNotBanIt(forgery: Forgery) {
        var h = Harness()
        let provider = "203.0.113.200"
        h.registerWithUpstream(provider, at: 0)
        var forged: [Decision] = []
        switch forgery {
        case .scannerUserAgent:
            forged.append(
                h.send(Transaction.svmap(from: provider, callID: "forged").request, from: provider, at: 5).decision)
        case .scannerFromTag:
            var probe = Transaction(method: "OPTIONS", user: "100", target: "100", fromUser: "100", callID: "forged")
            // SIPVicious' From tag (hex of "100", 0x01 and a number) behind a phone's User-Agent.
            probe.fromTag = "31303001" + "2894731605".utf8.map { String($0, radix: 16) }.joined()
            probe.contactHost = provider
            forged.append(h.send(probe.request, from: provider, at: 5).decision)
        case .notSIP:
            for i in 0..<10 {
                forged.append(
                    h.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n", from: provider, at: 5 + Double(i) * 0.01).decision)
            }
        case .flood:
            for i in 0..<200 {
                let invite = Transaction.invite(from: "x", at: provider, to: "100", callID: "forged\(i)")
                forged.append(h.send(invite.request, from: provider, at: 5 + Double(i) * 0.001).decision)
            }
        case .callsAbroad:
            for n in 0..<20 {
                let invite = Transaction.invite(from: "x", at: provider, to: "+88216\(900_000 + n)", callID: "fa-\(n)")
                forged.append(h.send(invite.request, from: provider, at: 5 + Double(n) * 0.1).decision)
            }
        case .replayedCredentials:
            var first = Transaction(
                method: "OPTIONS", user: "100", target: "100", fromUser: "x", callID: "rp-0",
                contactHost: "198.18.16.10")
            first.credentials = ("x", "made-up", "resp", "00000001", "cn")
            h.send(first.request, from: "198.18.16.10", at: 5)
            for n in 1...5 {
                var again = first
                (again.callID, again.contactHost) = ("rp-\(n)", provider)
                forged.append(h.send(again.request, from: provider, at: 5 + Double(n) * 0.1).decision)
            }
        case .guesses:
            // User 100 under distributed attack (20 failures from 4 addresses), then guesses at it in the
            // provider's name, each answered 401 there.
            for a in 0..<4 {
                for k in 0..<5 {
                    h.failToRegister(
                        user: "100", from: "198.18.17.\(10 + a)", at: 2 + Double(a * 5 + k) * 0.1, attempt: "\(a)-\(k)")
                }
            }
            for n in 0..<10 {
                var guess = Transaction.guess(n, at: provider)
                guess.callID = "dg-\(n)"
                forged.append(h.send(guess.request, from: provider, at: 5 + Double(n) * 0.1).decision)
                h.answer(guess.response(401, "Unauthorized", nonce: "dg\(n)"), to: provider, at: 5.05 + Double(n) * 0.1)
            }
        }
        #expect(forged.contains { $0.drops } || forgery == .guesses)
        #expect(h.bans.isEmpty, "\(h.bans.map { "\($0.reason)" })")
        let lost = (0..<10).flatMap { n in
            h.callOut(through: provider, to: "02079460\(100 + n)", callID: "out-\(n)", at: 10 + Double(n) * 5)
        }.filter { $0.decision.drops }.count
        #expect(lost == 0)
    }

    /// An IPv6 upstream provider: scanner probes forged from four other addresses of its /64 get them
    /// banned, never the /64 whole, and the provider's answers to the server's calls pass.
    @Test func forgedProbesFromAnIPv6UpstreamsSlash64DoNotBanIt() {
        var h = Harness()
        let provider = "2001:db8:cafe:1::10"
        h.registerWithUpstream(provider, at: 0)
        for k in 0..<4 {
            let forged = "2001:db8:cafe:1::\(String(0x100 + k, radix: 16))"
            h.send(
                Transaction.svmap(from: forged, callID: "forged\(k)").request, from: forged, at: 5 + Double(k) * 0.01)
        }
        #expect(h.bans.count == 4)
        #expect(h.bans.allSatisfy { $0.target.length == 128 })
        let lost = (0..<10).flatMap { n in
            h.callOut(through: provider, to: "02079460\(100 + n)", callID: "out-\(n)", at: 10 + Double(n) * 5)
        }.filter { $0.decision.drops }.count
        #expect(lost == 0)
    }

    /// Good history is not a peer's standing: one anonymous call an open PBX or IVR answered gives it to
    /// anyone. An attacker with it is banned on its first SIPVicious probe, and for its INVITE flood.
    @Test(arguments: [true, false])
    func anAttackerWhoseCallAnIVRAnsweredIsStillBanned(scans: Bool) {
        var h = Harness()
        let attacker = "198.18.42.10"
        h.answeredCall(from: "anon", at: attacker, to: "800", callID: "ivr", at: 0)
        if scans {
            h.send(Transaction.svmap(from: attacker, callID: "probe").request, from: attacker, at: 5)
        } else {
            for i in 0..<400 {
                let invite = Transaction.invite(from: "x", at: attacker, to: "100", callID: "flood\(i)")
                h.send(invite.request, from: attacker, at: 5 + Double(i) * 0.005)
            }
        }
        #expect(h.bans.first?.reason == (scans ? .scanner : .rateLimit))
    }

    /// The server calls out through an undeclared provider with its caller ID in E.164 in its Contact
    /// (as an SBC does): the provider's re-INVITEs in those calls (hold, session refresh) go to
    /// "+4930…", which reads as a number abroad. They are no calls: none is held, the provider is not
    /// banned, and its answers to the next calls pass.
    @Test func aProvidersReInvitesToTheServersE164ContactAreNoCallsAbroad() {
        var h = Harness()
        let provider = "203.0.113.201"
        var lost = 0
        for n in 0..<40 {
            let at = Double(n) * 15
            lost +=
                h.callOut(
                    through: provider, from: "+4930123456", to: "0207946\(1000 + n)", callID: "out-\(n)", at: at
                ).filter { $0.decision.drops }.count
            var reInvite = Transaction(
                method: "INVITE", user: "0207946\(1000 + n)", target: "+4930123456", fromUser: "0207946\(1000 + n)",
                callID: "out-\(n)", contactHost: provider)
            // The server's From tag in its call (the harness's), the provider's 200's To tag.
            (reInvite.toTag, reInvite.fromTag) = ("f1a2b3", "srv1")
            reInvite.headers = ["Session-Expires: 1800;refresher=uas"]
            if h.send(reInvite.request, from: provider, at: at + 10).decision.drops { lost += 1 }
        }
        #expect(lost == 0)
        #expect(h.bans.isEmpty)
    }

    /// A softphone in a call abroad moves from Wi-Fi to 4G and sends the re-INVITE that moves its media
    /// before it registers again: to the PBX's Contact, which names the dialled number, from an address
    /// that never authenticated, with or without the call's cached credentials. It is not held.
    @Test(arguments: [false, true])
    func aRoamingPhonesReInviteInACallAbroadPasses(cachedCredentials: Bool) {
        var h = Harness()
        let (wifi, lte) = ("192.0.2.90", "198.18.77.5")
        _ = h.register(user: "310", from: wifi, at: 0)
        #expect(
            !h.call(from: "310", at: wifi, to: "00442079460123", at: 1, id: "abroad").contains { $0.decision.drops })
        var reInvite = Transaction(
            method: "INVITE", user: "310", target: "00442079460123", fromUser: "310", callID: "call-abroad",
            contactHost: lte)
        (reInvite.cseq, reInvite.toTag) = (3, "srv2")
        if cachedCredentials { reInvite.credentials = ("310", "p-abroad", "r2", "00000002", "c-abroad") }
        let outcome = h.send(reInvite.request, from: lte, at: 20)
        #expect(!outcome.decision.drops)
        #expect(outcome.decision.parts.isEmpty)
    }

    /// A To tag alone makes no re-INVITE: a proxy relays a request with one (and a Route to itself)
    /// unchallenged wherever its Request-URI points. A stranger's calls abroad with made-up To tags, or
    /// with the Call-ID of a call of someone else's the server answered but not the server's tag in it,
    /// are held as any call abroad, and its claim of a registered user's caller ID scores as any claim.
    @Test func aMadeUpToTagMakesNoReInvite() {
        var h = Harness()
        let stranger = "198.51.100.60"
        _ = h.register(user: "310", from: "192.0.2.90", at: 0)
        _ = h.call(from: "310", at: "192.0.2.90", to: "00442079460123", at: 1, id: "abroad")
        var dropped = 0
        for n in 0..<20 {
            var call = Transaction(
                method: "INVITE", user: "310", target: "0088216100\(n)", fromUser: "310",
                callID: n.isMultiple(of: 2) ? "made-up-\(n)" : "call-abroad", contactHost: stranger)
            call.toTag = "x\(n)"
            let outcome = h.send(call.request, from: stranger, at: 10 + Double(n))
            if outcome.decision.drops { dropped += 1 }
            if n == 0 { #expect(outcome.decision.reason == .tollFraud && outcome.decision.parts[.hijack] > 0) }
        }
        #expect(dropped == 20)
        #expect(h.bans.first?.reason == .tollFraud)
    }

    /// An address the server only sent a call to (a call forwarded or transferred there, an address an
    /// attacker may choose) is a peer for its answers, not for its own requests: a scanner there is
    /// banned on its first probe.
    @Test func anAddressTheServerCalledIsNoPeerForItsOwnRequests() {
        var h = Harness()
        let forwardedTo = "198.51.100.61"
        _ = h.callOut(through: forwardedTo, to: "5551234", callID: "forwarded", at: 0)
        h.send(Transaction.svmap(from: forwardedTo, callID: "probe").request, from: forwardedTo, at: 5)
        #expect(h.bans.first?.reason == .scanner)
    }

    /// `text`, a client's request, as the server relays it as a proxy: its own Via on top.
    static func relayed(_ text: String) -> String {
        let lines = text.components(separatedBy: "\r\n")
        return ([lines[0], "Via: SIP/2.0/UDP \(Harness.server):5060;branch=z9hG4bKproxy1"] + lines.dropFirst())
            .joined(separator: "\r\n")
    }

    /// A call to a satellite number "in" dialog (`callID`, To tag `toTag`) from `host`, with a Route to
    /// the server (what a loose-routing proxy relays to the Request-URI unchallenged).
    static func callAbroadInDialog(_ n: Int, callID: String, toTag: String, from host: String) -> Transaction {
        var call = Transaction(
            method: "INVITE", user: "anon", target: "008821610000", fromUser: "anon", callID: callID,
            contactHost: host)
        (call.toTag, call.cseq, call.fromTag) = (toTag, 10 + n, "evil")
        call.headers = ["Route: <sip:\(Harness.server);lr>"]
        return call
    }

    /// The dialogs an attacker can be in give it no free calls abroad: one whose INVITE the server relayed
    /// as a proxy (its Call-ID and From tag, which are the attacker's, are no dialog of the server's), and
    /// one an open IVR answered (a real dialog, but a Request-URI other than the server's Contact in it
    /// is a new destination). Every call abroad is held, and the attacker banned.
    @Test(arguments: [true, false])
    func anAttackersDialogGivesItNoCallsAbroad(relayedByProxy: Bool) {
        var h = Harness()
        let attacker = "198.51.100.66"
        let (callID, toTag): (String, String)
        if relayedByProxy {
            _ = h.register(user: "310", from: "192.0.2.90", at: 0)
            // Its Contact names the number it will call: what the callee's re-INVITEs would go to.
            var invite = Transaction(
                method: "INVITE", user: "008821610000", target: "310", fromUser: "anon", callID: "atk",
                contactHost: attacker)
            invite.fromTag = "evil"
            h.send(invite.request, from: attacker, at: 5)
            h.answer(Self.relayed(invite.request), to: "192.0.2.90", at: 5.01)
            (callID, toTag) = ("atk", "evil")
        } else {
            h.answeredCall(from: "anon", at: attacker, to: "800", callID: "ivr", at: 0)
            (callID, toTag) = ("ivr", "srv1")
        }
        let dropped = (0..<20).filter { n in
            let call = Self.callAbroadInDialog(n, callID: callID, toTag: toTag, from: attacker)
            return h.send(call.request, from: attacker, at: 10 + Double(n)).decision.drops
        }.count
        #expect(dropped == 20)
        #expect(h.bans.first?.reason == .tollFraud)
    }

    /// A REGISTER the server relays as a proxy (to the registrar of the domain it names, which may be
    /// an attacker's address) makes no upstream provider: only one the server sends itself does.
    @Test func aRelayedRegisterMakesNoUpstreamProvider() {
        var h = Harness()
        let attacker = "198.18.99.10"
        let register = Transaction.softphoneRegister("evil", at: attacker, callID: "relay-reg")
        h.answer(Self.relayed(register.request), to: attacker, at: 0)
        h.send(register.response(200, "OK"), from: attacker, at: 0.05)
        h.send(Transaction.svmap(from: attacker, callID: "probe").request, from: attacker, at: 5)
        #expect(h.bans.first?.reason == .scanner)
    }

    /// A neighbour in the same IPv6 /64 (a hotel's, a campus's Wi-Fi) replaying a phone's REGISTER word
    /// for word is a replay as from anywhere else: the /64 counts for where a challenge was sent, not
    /// for who used a nonce.
    @Test(arguments: ["2001:db8:7:1::bad", "2001:db8:9:1::bad"])
    func aReplayFromTheSameSlash64IsAReplay(neighbour: String) {
        var h = Harness()
        let phone = "2001:db8:7:1::a1"
        _ = h.register(user: "320", from: phone, at: 0)
        var replay = Transaction(
            user: "320", target: "320", fromUser: "320", callID: "reg-320-\(phone)-r", contactHost: neighbour)
        replay.cseq = 2
        replay.credentials = ("320", "n-320-r", "resp-320-r", "00000001", "c-320-r")
        #expect(h.send(replay.request, from: neighbour, at: 2).decision.parts[.digestReplay] > 0)
    }

    /// A spoofed flood of calls an IVR answers (3,000 200 OKs to spoofed callers, none acknowledged)
    /// fills a dialog table of 1,024, and pushes out none of the calls going on whose caller acknowledged
    /// the 2xx: a roaming phone's re-INVITE in its call abroad still passes.
    @Test func answeredSpoofedCallsDoNotPushOutTheCallsGoingOn() {
        var rules = RuleSet()
        rules.tables.dialogs = 1024
        var h = Harness(rules: rules)
        let (wifi, lte) = ("192.0.2.90", "198.18.77.5")
        _ = h.register(user: "310", from: wifi, at: 0)
        _ = h.call(from: "310", at: wifi, to: "00442079460123", at: 1, id: "abroad")
        var ack = Transaction(
            method: "ACK", user: "310", target: "00442079460123", fromUser: "310", callID: "call-abroad",
            contactHost: wifi)
        (ack.cseq, ack.toTag) = (2, "srv2")
        h.send(ack.request, from: wifi, at: 1.6)
        for i in 0..<3000 {
            let spoofed = "10.8.\(i >> 8).\(i & 255)"
            let call = Transaction.invite(from: "x", at: spoofed, to: "800", callID: "ivr-\(i)")
            h.answer(call.response(200, "OK"), to: spoofed, at: 2 + Double(i) / 300)
        }
        var reInvite = Transaction(
            method: "INVITE", user: "310", target: "00442079460123", fromUser: "310", callID: "call-abroad",
            contactHost: lte)
        (reInvite.cseq, reInvite.toTag) = (3, "srv2")
        #expect(!h.send(reInvite.request, from: lte, at: 20).decision.drops)
    }

    /// A PBX registered as one account places four calls abroad a minute (under `calls_per_user`), each
    /// 15 minutes long and refreshed every 90 s by a re-INVITE with its cached credentials: the refreshes
    /// are no new calls, and spend none of the account's.
    @Test func sessionRefreshesOfCallsAbroadSpendNoneOfTheAccountsCalls() {
        var h = Harness()
        let pbx = "192.0.2.180"
        _ = h.register(user: "trunk", from: pbx, at: 0)
        var lost = 0
        var calls: [(call: Transaction, start: Double)] = []
        for n in 0..<60 {
            let start = 1 + Double(n) * 15
            // The refreshes due since the last call (5 s past the 15 s grid of the calls).
            for (call, callStart) in calls {
                for refresh in 1...9 where (start - 15..<start).contains(callStart + Double(refresh) * 90 + 5) {
                    var again = call
                    (again.toTag, again.cseq) = ("srv2", call.cseq + refresh)
                    let nc = String(refresh + 1, radix: 16)
                    again.credentials = (
                        "trunk", "p-\(call.callID)", "rr\(refresh)", String(repeating: "0", count: 8 - nc.count) + nc,
                        "c-\(call.callID)"
                    )
                    if h.send(again.request, from: pbx, at: callStart + Double(refresh) * 90 + 5).decision.drops {
                        lost += 1
                    }
                }
            }
            var call = Transaction(
                method: "INVITE", user: "trunk", target: "0044207946\(1000 + n)", fromUser: "trunk", callID: "x\(n)",
                contactHost: pbx)
            h.send(call.request, from: pbx, at: start)
            h.answer(call.response(407, "Proxy Authentication Required", nonce: "p-x\(n)"), to: pbx, at: start + 0.01)
            call.cseq += 1
            call.credentials = ("trunk", "p-x\(n)", "r\(n)", "00000001", "c-x\(n)")
            if h.send(call.request, from: pbx, at: start + 0.02).decision.drops { lost += 1 }
            h.answer(call.response(200, "OK"), to: pbx, at: start + 3)
            calls.append((call, start))
        }
        #expect(lost == 0)
    }

    /// An IPv6 softphone whose privacy address changed within its /64 refreshes its registration from
    /// the new address with the nonce it was sent at the old one (nc counting up), and the registrar
    /// accepts it: the nonce was sent to its site, so the new address authenticates, and its call goes
    /// through a spoofed flood that empties the unknown-source budget. From another /64 the same nonce
    /// proves nothing.
    @Test(arguments: [("2001:db8:7:1::b2", true), ("2001:db8:7:2::b2", false)])
    func anIPv6PhoneThatChangedItsPrivacyAddressAuthenticatesWithItsNonce(new: String, sameSite: Bool) {
        var h = Harness()
        let old = "2001:db8:7:1::a1"
        _ = h.register(user: "320", from: old, at: 0)
        var register = Transaction.softphoneRegister("320", at: new, callID: "reg-320")
        register.credentials = ("320", "n-320-r", "r2", "00000002", "c320b")
        #expect(!h.send(register.request, from: new, at: 60).decision.drops)
        h.answer(register.response(200, "OK"), to: new, at: 60.01)
        let slot = h.engine.sources.find(IPAddress(new)!)
        #expect(slot.map { h.engine.sources.values[$0].authenticated } == sameSite)
        for i in 0..<6000 {
            let spoofed = "10.8.\(i >> 8).\(i & 255)"
            h.send(
                Transaction.invite(from: "x", at: spoofed, to: "100", callID: "sp\(i)").request, from: spoofed,
                at: 70 + Double(i) / 3000)
        }
        let lost = h.call(from: "320", at: new, to: "321", at: 71, id: "v6").filter { $0.decision.drops }.count
        #expect((lost == 0) == sameSite)
    }
}
