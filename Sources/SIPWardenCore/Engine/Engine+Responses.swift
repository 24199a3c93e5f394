/// The server's answers, matched to the requests they answer by Call-ID and CSeq.
extension Engine {
    mutating func observeOutbound(
        _ message: SIPMessage, _ bytes: UnsafeRawBufferPointer, client: IPAddress, now: Timestamp
    ) -> Decision {
        if message.kind == .request {
            // A request the server sends itself has one Via; one it relays as a proxy (a caller's INVITE,
            // a REGISTER for another domain) has the sender's too, and the sender's tags and Contact.
            let own = message.via.count == 1
            // Out of a dialog only: where the server sends in-dialog requests (BYE, NOTIFY) is the other
            // party's Contact, which an attacker whose call an IVR answered chooses.
            if message.to.tag.isEmpty {
                contacted(client, registering: own && message.method == .register, now: now)
            }
            if own, message.method == .invite {
                rememberDialog(
                    Self.dialogKey(callID: ByteHash.hash(bytes, message.callID), serverTag: message.from.tag, bytes),
                    contactUser: ByteHash.hash(bytes, message.contact.uri.user), confirmed: true, now: now)
            }
            return Decision(.accept, .outbound)
        }
        guard message.kind == .response else { return Decision(.accept, .outbound) }
        let callID = ByteHash.hash(bytes, message.callID)
        if message.cseq.method == .invite, (200..<300).contains(message.status) {
            rememberDialog(
                Self.dialogKey(callID: callID, serverTag: message.to.tag, bytes),
                contactUser: ByteHash.hash(bytes, message.contact.uri.user), confirmed: false, now: now)
        }
        guard let slot = sources.find(client) else { return Decision(.accept, .outbound) }
        // Every challenge the address is sent, whether or not its request is still remembered (a NAT
        // office has more requests in flight than its entry holds). Its nonce's hash, 0 for none.
        let challenge =
            message.status == 401 || message.status == 407 ? ByteHash.hash(bytes, message.challenge.nonce) : 0
        if challenge != 0 { rememberChallenge(challenge, to: client, now: now) }
        let final = message.status >= 200
        let remembered =
            sources.values[slot].recent.answer(
                callID: callID, cseq: message.cseq.number, method: message.cseq.method, final: final)
            ?? (final && sources.values[slot].recent.lostRequests
                ? lostRequest(callID, message.cseq.number, of: client) : nil)
        let readable = !sources.values[slot].recent.lostForeignRequest
        guard let request = remembered ?? (readable ? Self.registration(answeredBy: message, bytes) : nil)
        else { return Decision(.accept, .outbound) }
        return inPlace(source: slot) {
            $0.answer(message, bytes, to: request, challenge: challenge, client: client, state: &$1, now: now)
        }
    }

    /// Keeps `memo`, a request that `source`'s entry pushed out before its answer came
    /// (`RecentRequests.remember`), until that answer: a guesser that sends other requests between a
    /// guess and its 401, or a scanner between a probe and its 404, must not see them lost.
    func keepLost(_ memo: RequestMemo, from source: IPAddress) {
        let key = Self.lostRequestKey(source, memo.callID, memo.cseq)
        shared.withLock { $0.lost.keep(memo, key: key) }
    }

    /// The request `keepLost` kept that a final answer with `callID` and `cseq` to `client` answers,
    /// marked answered there (an answer the server sends again counts once).
    func lostRequest(_ callID: UInt64, _ cseq: UInt32, of client: IPAddress) -> RequestMemo? {
        shared.withLock { $0.lost.answer(Self.lostRequestKey(client, callID, cseq)) }
    }

    /// The lost-request table's key for a request from `source` with `callID` (its hash) and `cseq`.
    static func lostRequestKey(_ source: IPAddress, _ callID: UInt64, _ cseq: UInt32) -> UInt64 {
        ByteHash.mix(source.tableHash ^ callID ^ UInt64(cseq) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// Counts a 404 (or a 403 to a request without credentials) to an unproven member of `client`'s
    /// prefixes (its /24, or its /64 and /48): past `enumeration.prefix_not_found` in a window, a prefix is
    /// being scanned from address after address.
    mutating func notFound(atPrefixOf client: IPAddress, now: Timestamp) {
        let settings = rules.enumeration
        for key in PrefixKey.aggregates(of: client) {
            guard let slot = prefixes.find(key) else { continue }
            var prefix = prefixes.values[slot]
            if now.nanoseconds - prefix.notFoundStart > settings.window {
                prefix.notFoundStart = now.nanoseconds
                prefix.notFound = 0
            }
            prefix.notFound &+= 1
            if Int(prefix.notFound) >= settings.prefixNotFound {
                prefix.scanningUntil = now.nanoseconds + settings.window
            }
            prefixes.values[slot] = prefix
        }
    }

    /// The server sent `peer` a request out of a dialog: remembers it as a peer of the server's
    /// (`contactedByServer`). One it registers with is its upstream provider (`registeredWithByServer`),
    /// with good history from then on: its own requests (its calls to the server's numbers) are a
    /// carrier's, and over UDP what arrives in its name proves nothing (`isServersPeer`).
    mutating func contacted(_ peer: IPAddress, registering: Bool, now: Timestamp) {
        guard !serverList.contains(peer),
            let slot = sources.findOrInsert(
                peer, SourceState(at: now, limits: rules.limits), retention: SourceState.retention)
        else { return }
        sources.values[slot].contactedByServer = true
        if registering { inPlace(source: slot) { $0.becomeUpstream(&$1, peer, now: now) } }
    }

    /// Makes `state`, `peer`'s, the server's upstream provider: good history, and its prefixes kept from
    /// a prefix ban as an authenticated address's are (the server chose it: an IPv6 one's /64 too, which
    /// good history alone does not shield).
    mutating func becomeUpstream(_ state: inout SourceState, _ peer: IPAddress, now: Timestamp) {
        guard !state.registeredWithByServer else { return }
        state.registeredWithByServer = true
        becomeGood(&state, peer, now: now)
        protectPrefixes(of: peer, authenticated: true, now: now)
    }

    /// The REGISTER a 2xx answered, read from the answer itself, for when the source's entry no longer
    /// remembers it (more requests in flight than it holds: a NAT office re-registering all its phones at
    /// once). The server's 2xx proves the address all the same, and its To names the registered user.
    static func registration(answeredBy message: SIPMessage, _ bytes: UnsafeRawBufferPointer) -> RequestMemo? {
        guard (200..<300).contains(message.status), message.cseq.method == .register else { return nil }
        var registration = RequestMemo()
        registration.method = .register
        registration.target = ByteHash.hash(bytes, message.to.uri.user)
        return registration
    }

    /// What the server's answer to `request` tells about the client: good history, a challenge, a
    /// failed authentication or a 404 (or 403 without credentials) of an extension scan.
    /// `challenge` is the hash of the nonce of a 401/407, 0 for any other answer.
    mutating func answer(
        _ message: SIPMessage, _ bytes: UnsafeRawBufferPointer, to request: RequestMemo, challenge: UInt64,
        client: IPAddress, state: inout SourceState, now: Timestamp
    ) -> Decision {
        var decision = Decision(.accept, .outbound)
        var parts = ScoreParts()
        // A challenge: the nonce the client's credentials must answer, from the same From user (the answer
        // carries the request's From) and in a request of the same method, for them to authenticate it (a
        // PBX may challenge REGISTERs or SUBSCRIBEs and still answer guests' calls without checking theirs).
        // Not a REGISTER's: its 2xx authenticates by itself, and must not take the place of a call's.
        if challenge != 0, request.method != .register {
            let key = RequestMemo.challengeKey(challenge, message.from.uri, request.method, bytes)
            if request.method == .invite { state.issuedNonce = key } else { state.issuedOtherNonce = key }
        }
        // A 404 that can tell a scan something: to a request that probes a user (`target` is 0 for one
        // that names none or cannot probe one, `Engine.probesUser`), from a source the detector judges.
        // A 404 to an address standing on an account relies on that standing, and to a probe that proved
        // its address (a forger's never does) counts as the account's miss: a cracked account's addresses
        // scanning extensions spend its standing as a spray does (`UserState.countSpray`).
        let refusesProbe = message.status == 404 || message.status == 403 && request.authUser == 0
        if request.target != 0, state.authenticated, refusesProbe {
            checkStanding(&state, client, missing: request.provesAddress ? request.target : 0, now: now)
        }
        let answersProbe = request.target != 0 && !state.mayReachManyUsers(with: request.method)
        if request.method == .register, request.authUser == 0 { state.enumeration.registerAnswered(message.status) }
        switch message.status {
        // A REGISTER forged in this address's name with a nonce the server sent another address, and
        // accepted (a registrar whose nonces are not bound to an address), proves nothing of it.
        case 200..<300 where request.answersAnotherAddress:
            break
        // An unchallenged call answered over UDP: good history once the ACK shows its sender got the 2xx.
        case 200..<300 where request.method == .invite && !request.answersChallenge && !request.provesAddress:
            state.awaitedAck = message.to.tag.isEmpty ? 0 : Self.ackKey(message, bytes)
        // Any other request whose credentials answered the server's challenge to it (a busy-lamp SUBSCRIBE,
        // a MESSAGE) and succeeded: the server checked the password, as for a REGISTER. A receptionist's
        // phone on an office's new address is then no extension scan at its 60 busy lamps.
        case 200..<300 where request.method == .register || request.method == .invite || request.answersChallenge:
            becomeGood(&state, client, now: now)
            var givesStanding: Bool?
            if request.method == .register, request.target != 0, !request.ambiguous {
                let binding = bind(request.target, alsoAs: request.authUser, to: client, now: now)
                givesStanding = binding.givesStanding
                // A failure of this account from here just before was its phone's: a nonce the server no
                // longer knew (a restarted registrar answers it with a plain 401, not a stale one).
                if binding.forgaveFailure {
                    let score = state.score(at: now, halfLife: rules.score.halfLife)
                    state.add(-min(failurePoints(state), score), at: now, halfLife: rules.score.halfLife)
                }
            }
            // Credentials authenticate only when they answered the server's challenge: an open PBX
            // answers a call with made-up ones as it answers anyone's.
            if request.method == .register || request.answersChallenge {
                let account = request.authUser != 0 ? request.authUser : request.target
                authenticate(&state, client, as: account, givesStanding: givesStanding, now: now)
            }
            // What the detectors refused was judged without this history: resends are judged afresh.
            state.recent.forgetRefusals()
            // A request of its own proved the address: 2xx matching no remembered request read as
            // registrations again (they were not, after a forged request was pushed out).
            if request.provesAddress { state.recent.lostForeignRequest = false }
        // A challenge marked stale answers right credentials with an expired nonce: no failure.
        case 401 where request.authUser != 0 && !message.challenge.isStale,
            407 where request.authUser != 0 && !message.challenge.isStale,
            403 where request.authUser != 0:
            authenticationFailed(request, client, state: &state, parts: &parts, now: now)
        // A 403 to a request without credentials tried no password: it refuses an anonymous caller, a
        // barred number, or, from a server that answers so for users it does not know, says as much as a
        // 404 does to a scan.
        case 403 where answersProbe, 404 where answersProbe:
            var window = state.enumeration.current(at: now, length: rules.enumeration.window)
            window.notFound &+= 1
            notFound(atPrefixOf: client, now: now)
            // From an address with good history the scan's requests are refused instead (`enumeration`).
            if !state.good, Int(window.notFound) % max(rules.enumeration.notFound, 1) == 0 {
                parts[.enumeration] += rules.score[.enumeration]
                count(.enumeration)
            }
            state.enumeration = window
        default:
            break
        }
        if !parts.isEmpty {
            if let strongest = parts.strongest { state.lastReason = strongest }
            state.add(parts.total, at: now, halfLife: rules.score.halfLife)
        }
        decision.parts = parts
        decision.score = state.score(at: now, halfLife: rules.score.halfLife)
        return decision
    }

    /// The address proved who it is, as `account` (its user hash, 0 when unknown), unless the account
    /// gives no more addresses standing (`UserState.givesStanding`; `givesStanding` when `bind` asked it
    /// already): then it has good history only. What it was suspected of before is forgiven: an office
    /// that failed over to a new address claims its users, registered from the old one, and one of its
    /// phones may fail its password before the first 200 OK. (A guesser at the drop threshold gets no
    /// answers, so proves nothing: only suspicion short of it is forgiven.)
    mutating func authenticate(
        _ state: inout SourceState, _ client: IPAddress, as account: UInt64, givesStanding: Bool?, now: Timestamp
    ) {
        // Standing is held for the latest account that gives it: an office's other phones keep it when
        // one's account has moved on to more addresses.
        guard !state.authenticated else {
            if givesStanding == true { state.standingAccount = account }
            return
        }
        let standing =
            givesStanding
            ?? shared.withLock { tables in
                guard account != 0,
                    let slot = tables.users.findOrInsert(
                        UserKey(hash: account), UserState(), retention: UserState.retention)
                else { return true }
                tables.users.values[slot].lastSeen = now.nanoseconds
                return tables.users.values[slot].givesStanding(to: tables.addressKey(client), at: now)
            }
        guard standing else { return }
        state.authenticated = true
        state.standingAccount = account
        state.score = 0
        state.scoredAt = now.nanoseconds
        state.lastReason = nil
        protectPrefixes(of: client, authenticated: true, now: now)
    }

    /// Whether `client`, authenticated, still has the standing its account gave it (`UserTables
    /// .holdsStanding`), checked where it relies on it (a 404 that would count against any other
    /// address, a call abroad without credentials); `missing`, a user a probe of it found missing, counts
    /// as the account's miss first (`UserState.countSpray`). Withdrawn when it no longer does.
    mutating func checkStanding(
        _ state: inout SourceState, _ client: IPAddress, missing: UInt64 = 0, now: Timestamp
    ) {
        guard state.authenticated else { return }
        let account = state.standingAccount
        let guessing = rules.guessing
        let holds = shared.withLock {
            $0.holdsStanding(account, of: client, missing: missing, now: now, guessing: guessing)
        }
        if !holds { withdrawStanding(&state, client) }
    }

    /// The address loses the standing its account no longer holds: a guesser's cracked account lends it
    /// to a few addresses at a time, not to each it ever had. Its IPv6 prefixes no longer count it as a
    /// good member.
    mutating func withdrawStanding(_ state: inout SourceState, _ client: IPAddress) {
        state.authenticated = false
        state.standingAccount = 0
        guard client.family == .v6 else { return }
        for key in PrefixKey.aggregates(of: client) {
            if let slot = prefixes.find(key), prefixes.values[slot].goodMembers > 0 {
                prefixes.values[slot].goodMembers -= 1
            }
        }
    }

    /// How `SourceState.awaitedAck` holds the To tag of a 2xx or of the ACK to it: 32 bits of its hash,
    /// never 0 (none awaited).
    static func ackKey(_ message: SIPMessage, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(truncatingIfNeeded: ByteHash.hash(bytes, message.to.tag)) | 1
    }

    mutating func becomeGood(_ state: inout SourceState, _ client: IPAddress, now: Timestamp) {
        guard !state.good else { return }
        state.good = true
        protectPrefixes(of: client, authenticated: false, now: now)
    }

    /// Counts `client`, which just got good history or (`authenticated`) authenticated, as a good member
    /// of its prefixes, which are then never banned whole, when that is the proof its family needs: an
    /// IPv4 address's good history (a trunk or PBX hosted in a /24 beside attackers), an IPv6 address's
    /// authentication, since a /64 is one site's and its addresses cost nothing (one call an IVR answered
    /// must not shield an attacker rotating through its own /64).
    mutating func protectPrefixes(of client: IPAddress, authenticated: Bool, now: Timestamp) {
        guard (client.family == .v6) == authenticated else { return }
        for key in PrefixKey.aggregates(of: client) {
            if let slot = prefixes.findOrInsert(
                key, PrefixState(at: now, limits: rules.limits), retention: PrefixState.retention)
            {
                prefixes.values[slot].goodMembers &+= 1
            }
        }
    }

    /// Binds the registered user, and the username its credentials gave when that is another (an
    /// account whose authentication ID is not its extension), to `client`: failures of either from
    /// there are its own phone's. Returns whether the account (its credentials' username) had a failure
    /// from `client` in its window that scored (it was not bound there yet), now taken back, and whether
    /// the account gives `client` standing (`UserState.givesStanding`).
    func bind(_ user: UInt64, alsoAs authUser: UInt64, to client: IPAddress, now: Timestamp) -> RegistrationOutcome {
        let account = authUser != 0 ? authUser : user
        let window = rules.guessing.window
        return shared.withLock { tables in
            let key = tables.addressKey(client)
            let scoredFailures =
                tables.users.find(UserKey(hash: account)).map { tables.users.values[$0].boundSource != client } ?? false
            func bind(_ name: UInt64) -> Int? {
                guard
                    let slot = tables.users.findOrInsert(
                        UserKey(hash: name), UserState(), retention: UserState.retention)
                else { return nil }
                tables.users.values[slot].boundSource = client
                tables.users.values[slot].boundAt = now.nanoseconds
                tables.users.values[slot].lastSeen = now.nanoseconds
                return slot
            }
            let userSlot = bind(user)
            // The account's slot: the credentials' username's, inserted last, or the user's.
            guard let slot = authUser != 0 && authUser != user ? bind(authUser) : userSlot else {
                return RegistrationOutcome()
            }
            return RegistrationOutcome(
                forgaveFailure: scoredFailures
                    && tables.users.values[slot].forgiveFailure(of: key, now: now, window: window),
                givesStanding: tables.users.values[slot].givesStanding(to: key, at: now))
        }
    }

    /// A wrong password: a failure against the credentials' user that, from enough sources, puts the
    /// user under distributed attack, and points for the source, unless the user is registered from this
    /// very address: that is its own phone, whose password changed (the server keeps refusing it; the
    /// phone's other users behind the same NAT keep their service).
    /// (`request` is what the answer was matched to: when it is ambiguous, the failure may be another
    /// user's, and is no phone's own.)
    mutating func authenticationFailed(
        _ request: RequestMemo, _ client: IPAddress, state: inout SourceState, parts: inout ScoreParts,
        now: Timestamp
    ) {
        count(.passwordGuessing)
        let failure = countFailure(
            against: request.authUser, from: client, proven: request.provesAddress, standing: state.standingAccount,
            now: now)
        if failure.standingLapsed { withdrawStanding(&state, client) }
        // An address with good history is someone's (a NAT office, a trunk, a PBX): over UDP anyone can
        // send in its name, so a failure scores it only when its request proved where it came from.
        let scores = (!failure.boundHere || request.ambiguous) && (request.provesAddress || !state.good)
        // Accounts new to an address that authenticated count where they score: forged UDP must not take
        // an office's free failures away.
        let newAccount = scores && state.authenticated && failure.newHere
        if newAccount || request.answersAnotherAddress {
            state.failures.add(
                newAccount: newAccount, foreignNonce: request.answersAnotherAddress, at: now, origin: state.firstSeen,
                length: rules.guessing.window)
        }
        if scores { parts[.passwordGuessing] += scoreFailure(failure, &state, now: now) }
    }

    /// Counts a failure against `user` from `client` in the user's window, `proven` when its request
    /// proved where it came from, putting the user under distributed attack when enough sources failed,
    /// and taking only proven tries from elsewhere when enough failures proved nothing. `standing` is the
    /// account that gave `client` its standing (0: none, or none known): a proven failure of another
    /// account than the one registered there counts towards that account's spray
    /// (`UserState.countSpray`), and the account may no longer hold the standing.
    func countFailure(
        against user: UInt64, from client: IPAddress, proven: Bool, standing: UInt64, now: Timestamp
    ) -> AccountFailure {
        let guessing = rules.guessing
        return shared.withLock { tables in
            let found = tables.users.findOrInsert(UserKey(hash: user), UserState(), retention: UserState.retention)
            let missed = proven && found.map({ tables.users.values[$0].boundSource != client }) ?? true
            let lapsed = !tables.holdsStanding(
                standing, of: client, missing: missed ? user : 0, now: now, guessing: guessing)
            guard let slot = found else { return AccountFailure(standingLapsed: lapsed) }
            var record = tables.users.values[slot]
            if now.nanoseconds - record.windowStart > guessing.window {
                record.windowStart = now.nanoseconds
                record.failures = 0
                record.unprovenFailures = 0
                record.failureSources = SIMD8()
            }
            record.lastSeen = now.nanoseconds
            let (sources, newHere) = record.addFailure(from: tables.addressKey(client))
            if Int(record.failures) >= guessing.distributedFailures, sources >= guessing.distributedSources {
                record.underAttackUntil = now.nanoseconds + guessing.window
            }
            if !proven { record.unprovenFailures &+= 1 }
            if Int(record.unprovenFailures) >= guessing.distributedFailures {
                record.provenOnlyUntil = now.nanoseconds + guessing.window
            }
            let again = record.lastFailure != 0 && now.nanoseconds - record.lastFailure < UserState.phonePace
            // Only failures that proved their address: forged UDP must not take an office's allowance away.
            if proven { record.lastFailure = now.nanoseconds }
            tables.users.values[slot] = record
            return AccountFailure(
                boundHere: record.boundSource == client, again: again, newHere: newHere, standingLapsed: lapsed)
        }
    }

    /// What one failed authentication scores: from an address that has authenticated (a NAT office whose
    /// new phone has a mistyped password) a `limits.good_source_factor`th of the points.
    func failurePoints(_ state: SourceState) -> Double {
        rules.score[.passwordGuessing] / (state.authenticated ? rules.limits.goodSourceFactor : 1)
    }

    /// What this failed authentication scores: from an address that has authenticated, nothing while its
    /// failures keep within `guessing.office_failures` (an office's phones with wrong passwords, each
    /// retrying every 30 s, are no guesser), unless the account failed faster than a phone retries, or
    /// failed there for the first time past `guessing.office_accounts` such accounts in a window (a
    /// password spray tries account after account; an office's phones retry theirs); else
    /// `failurePoints`.
    func scoreFailure(_ failure: AccountFailure, _ state: inout SourceState, now: Timestamp) -> Double {
        guard state.authenticated else { return failurePoints(state) }
        let guessing = rules.guessing
        let newAccounts = state.failures.current(at: now, origin: state.firstSeen, length: guessing.window).newAccounts
        let spray = failure.newHere && Int(newAccounts) > guessing.officeAccounts
        if !failure.again, !spray, state.officeFailures.takeStartingFull(rate: guessing.officeFailures, at: now) {
            return 0
        }
        return failurePoints(state)
    }

    /// Whether a request whose credentials carry a nonce the server sent another address only is refused:
    /// from an address that failed with such credentials more than `guessing.foreign_nonces` times in a
    /// window, a guesser at an address with good history using nonces fetched at another of its own (a
    /// registrar whose nonces are not bound to an address accepts them), spraying account after account,
    /// one try each, which proves nothing and scores nothing there. Refused without points (a forger
    /// sends the same in an office's name; the office's phones answer their own challenges), and counted:
    /// the refusals last while the spray does (`RecentFailures`).
    func refusesForeignNonce(_ state: inout SourceState, now: Timestamp) -> Bool {
        let window = rules.guessing.window
        let failures = state.failures.current(at: now, origin: state.firstSeen, length: window)
        guard Int(failures.foreignNonces) > rules.guessing.foreignNonces else { return false }
        state.failures.add(newAccount: false, foreignNonce: true, at: now, origin: state.firstSeen, length: window)
        return true
    }
}

/// What `Engine.bind` did for a registration besides binding its users.
struct RegistrationOutcome {
    /// A failure of the account from the address in its window, which scored, was taken back.
    var forgaveFailure = false
    /// The account gives the address standing (`UserState.givesStanding`).
    var givesStanding = true
}

/// What `Engine.countFailure` found about one failed authentication of an account from an address.
struct AccountFailure {
    /// The account is registered from the address: its own phone, whose password changed.
    var boundHere = false
    /// The account failed less than `UserState.phonePace` before (from anywhere) with a request that
    /// proved its address: faster than a phone with a wrong password retries, so a guess.
    var again = false
    /// The account had not failed from the address in its window: new to it.
    var newHere = false
    /// The account that gave the address standing no longer holds it (`UserState.holdsStanding`).
    var standingLapsed = false
}
