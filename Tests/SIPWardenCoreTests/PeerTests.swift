import Testing

@testable import SIPWardenCore

/// Peers the rules declare nowhere (a carrier whose calls the server answers, an upstream provider the
/// server registers with and calls through), and requests inside dialogs: what a forger can do in a
/// peer's name, and what a call's own re-INVITEs are.
@Suite struct PeerTests {
    /// An undeclared carrier delivering calls, each answered 200 and ACKed: it has good history.
    static func carrierWithGoodHistory(_ carrier: String) -> Harness {
        var h = Harness()
        for call in 0..<10 {
            h.answeredCall(
                from: "\(4_155_550_000 + call)", at: carrier, to: "\(2_125_550_100 + call)", callID: "in\(call)",
                at: Double(call))
        }
        return h
    }

    /// The carrier's next `count` calls from `start`, one a second: how many were dropped.
    static func lostCalls(_ h: inout Harness, from carrier: String, at start: Double, count: Int = 20) -> Int {
        (0..<count).filter { call in
            let invite = Transaction.invite(
                from: "41555599\(call)", at: carrier, to: "\(2_125_550_100 + call)", callID: "after\(call)")
            return h.send(invite.request, from: carrier, at: start + Double(call)).decision.drops
        }.count
    }

    enum Forgery: CaseIterable { case scannerUserAgent, scannerFromTag, notSIP, flood }

    /// Over UDP anyone can send in a carrier's name: a scanning tool's name or mark, what is not SIP, a
    /// flood. Each forged packet is dropped (the flood past the carrier's own limits); none bans it, and
    /// its calls go on.
    @Test(arguments: Forgery.allCases)
    func forgedPacketsInACarriersNameDoNotBanIt(forgery: Forgery) {
        let carrier = "203.0.113.77"
        var h = Self.carrierWithGoodHistory(carrier)
        var forged: [Decision] = []
        switch forgery {
        case .scannerUserAgent:
            forged.append(
                h.send(Transaction.svmap(from: carrier, callID: "forged").request, from: carrier, at: 20).decision)
        case .scannerFromTag:
            var probe = Transaction(method: "OPTIONS", user: "100", target: "100", fromUser: "100", callID: "forged")
            // SIPVicious' From tag (hex of "100", 0x01 and a number) behind a phone's User-Agent.
            probe.fromTag = "31303001" + "2894731605".utf8.map { String($0, radix: 16) }.joined()
            probe.contactHost = carrier
            forged.append(h.send(probe.request, from: carrier, at: 20).decision)
        case .notSIP:
            for i in 0..<10 {
                forged.append(
                    h.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n", from: carrier, at: 20 + Double(i) * 0.01).decision)
            }
        case .flood:
            for i in 0..<200 {
                let invite = Transaction.invite(from: "x", at: carrier, to: "100", callID: "forged\(i)")
                forged.append(h.send(invite.request, from: carrier, at: 20 + Double(i) * 0.001).decision)
            }
        }
        #expect(forged.contains { $0.drops })
        #expect(h.bans.isEmpty, "\(h.bans.map { "\($0.reason)" })")
        #expect(Self.lostCalls(&h, from: carrier, at: 30) == 0)
    }

    /// An upstream provider the server registers with (not in `trust.allow`): one forged scanner probe in
    /// its name used to ban it, and with it every answer to the server's calls out.
    @Test func aForgedProbeInTheUpstreamProvidersNameDoesNotBanIt() {
        var h = Harness()
        let provider = "203.0.113.200"
        h.registerWithUpstream(provider, at: 0)
        #expect(
            h.send(Transaction.svmap(from: provider, callID: "forged").request, from: provider, at: 5).decision.drops)
        let lost = (0..<10).flatMap { n in
            h.callOut(through: provider, to: "02079460\(100 + n)", callID: "out-\(n)", at: 10 + Double(n) * 5)
        }.filter { $0.decision.drops }.count
        #expect(h.bans.isEmpty)
        #expect(lost == 0)
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
            (reInvite.toTag, reInvite.fromTag) = ("srvtag\(n)", "prov\(n)")
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
                    (again.toTag, again.cseq) = ("srv-\(call.callID)", call.cseq + refresh)
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
