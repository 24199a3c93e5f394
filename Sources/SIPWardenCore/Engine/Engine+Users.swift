/// What the per-user checks found about a request.
struct UserCheck {
    /// Why the packet must be dropped, if it must.
    var drop: Decision.Reason?
    /// A REGISTER claims a user registered from another address: a phone that moved (or a hijack,
    /// which is scored as such), not a sign of an extension scan.
    var claimsRegisteredUser = false
}

/// Detectors that need the shared per-user tables and the digest nonce table.
extension Engine {
    /// Hijack and caller-ID spoofing, distributed guessing containment and per-user call rates.
    /// `highRiskCall`: the request is an INVITE to a high-risk number, or a REFER transferring to one.
    mutating func users(
        _ message: SIPMessage, _ memo: RequestMemo, _ bytes: UnsafeRawBufferPointer, source: IPAddress,
        highRiskCall: Bool, reInvite: Bool, state: inout SourceState, parts: inout ScoreParts, now: Timestamp
    ) -> UserCheck {
        if message.method == .refer {
            // A transfer abroad from an address that authenticated (any other is held as toll fraud) is a
            // call the PBX places for it: counted as one, against the address (a REFER in a dialog
            // carries no credentials), so a cracked account cannot dial abroad by transfers unlimited.
            guard highRiskCall, state.authenticated else { return UserCheck() }
            return shared.withLock { tables in
                UserCheck(drop: spendCall(shared.callsAbroad(of: source), &tables, &parts, now))
            }
        }
        // Claims and calls are REGISTER's and INVITE's; any method the server challenges (SUBSCRIBE,
        // MESSAGE, PUBLISH, …) tries a password, so distributed guessing is contained for all.
        let registersOrCalls = message.method == .register || message.method == .invite
        guard registersOrCalls || memo.authUser != 0 else { return UserCheck() }
        // A REGISTER claims its user, a call its caller (From): not a re-INVITE (`isReInvite`), which places
        // no call (a phone that moved sends it from its new address before registering).
        let claimed =
            message.method == .register
            ? memo.target : message.method == .invite && !reInvite ? ByteHash.hash(bytes, message.from.uri.user) : 0
        let attempted = memo.authUser != 0 ? memo.authUser : (message.method == .register ? memo.target : 0)
        // The lock is taken only when one of the three checks below can apply: an authenticated source
        // refreshing its registration does not touch the shared tables here.
        let unproven = memo.authUser != 0 && !memo.provesAddress
        let checksGuessing = attempted != 0 && (!state.authenticated || unproven)
        let checksClaim = !state.authenticated && claimed != 0 && !memo.answersChallenge
        // A call counts against the account its credentials name when they can be its caller's: they
        // answer the challenge to its call, or carry a nonce the server sent its address only. Anyone
        // can write a username into a forged INVITE, in any address's name, and spend others' calls.
        // Other credentials from an address that authenticated (a nonce fetched at another address, which
        // a registrar whose nonces are not bound to one accepts) count against that address, as its
        // transfers do: its calls abroad are not unlimited, and a forger cannot spend the account's.
        let caller: UInt64 =
            !highRiskCall || memo.authUser == 0
            ? 0
            : memo.answersChallenge || memo.provesAddress
                ? memo.authUser
                : state.authenticated ? shared.callsAbroad(of: source) : 0
        let countsCall = caller != 0
        guard checksGuessing || checksClaim || countsCall else { return UserCheck() }
        // A REFER took the lock above; credentials took it in `checkCredentials`.
        return shared.withLock { tables in
            var check = UserCheck()
            // Distributed guessing: while a user is under attack, only its bound source may try it (and
            // addresses that authenticated); after many failures that proved nothing, only tries that
            // prove their address.
            if checksGuessing, let slot = tables.users.find(UserKey(hash: attempted)) {
                let user = tables.users.values[slot]
                let attacked =
                    user.underAttackUntil > now.nanoseconds && !state.authenticated
                    || user.provenOnlyUntil > now.nanoseconds && unproven
                if attacked, user.boundSource != source {
                    parts[.distributedGuessing] += rules.score[.distributedGuessing]
                    count(.distributedGuessing)
                    check.drop = .distributedGuessing
                }
            }
            // Hijack (REGISTER) or caller-ID spoofing (INVITE): claiming a user bound to another source,
            // without credentials that answer the server's challenge (a made-up header counts for
            // nothing), from a source that never authenticated. Claims alone never take a source past
            // half the drop threshold: a NAT office whose public address changed claims every phone's
            // user at once, before the first 200 OK proves its new address.
            if checksClaim, let slot = tables.users.find(UserKey(hash: claimed)),
                let bound = tables.users.values[slot].boundSource, bound != source
            {
                parts[.hijack] += suspicionPoints(rules.score[.hijack], state, parts, now: now)
                count(.hijack)
                check.claimsRegisteredUser = message.method == .register
            }
            // Calls per user: a cracked account dialling abroad as fast as it can. Counted per account
            // (the credentials' username: the From user is the caller's to choose).
            if countsCall, let refused = spendCall(caller, &tables, &parts, now) {
                check.drop = check.drop ?? refused
            }
            return check
        }
    }

    /// Spends a call abroad from the calls_per_user bucket of `account` (a user's hash, or the
    /// transfers of an address); returns why the call is refused when the bucket is empty. Resends
    /// count too: which request starts a new call is the caller's to disguise (a Call-ID, CSeq and
    /// branch used again), and a client resends only what got no answer, where a server answers 100
    /// Trying at once. A call over the limit is dropped and scores; its resends are refused.
    mutating func spendCall(
        _ account: UInt64, _ tables: inout UserTables, _ parts: inout ScoreParts, _ now: Timestamp
    ) -> Decision.Reason? {
        guard let slot = tables.users.findOrInsert(UserKey(hash: account), UserState(), retention: UserState.retention)
        else { return nil }
        var user = tables.users.values[slot]
        user.lastSeen = now.nanoseconds
        let conforms = user.calls.takeStartingFull(rate: rules.tollFraud.callsPerUser, at: now)
        tables.users.values[slot] = user
        guard !conforms else { return nil }
        parts[.tollFraud] += rules.score[.tollFraud]
        count(.tollFraud)
        return .tollFraud
    }

    /// Of the two usernames of a request's credentials (`rival-credentials`), the one its failure counts
    /// for: the other one when the first is bound to `source` (a guesser puts first a decoy naming its
    /// own account, registered from there, to have each failure charged to it), else the first (a phone
    /// whose outbound proxy knows it by another name). Static, as are the other readers of `shared` that
    /// `judge` calls: as a method, each call from the mutating detectors took a copy of the whole engine
    /// (1,968 bytes) to call it with.
    static func chargedAccount(_ first: UInt64, rival: UInt64, source: IPAddress, in shared: SharedTables) -> UInt64 {
        shared.withLock { tables in
            let boundHere = tables.users.find(UserKey(hash: first)).map {
                tables.users.values[$0].boundSource == source
            }
            return boundHere == true ? rival : first
        }
    }

    /// What a request's credentials show, in one take of the lock: whether their nonce is one the server
    /// sent in a challenge (`rememberChallenge`) to `source` only, or to one other address only, and
    /// whether they replay another dialog's or source's (the same nonce, nc and cnonce; without qop a
    /// client may reuse a nonce for its own new requests, so there only another source counts).
    /// `nonce` is the hash of their nonce, `callID` the request's (`RequestMemo.callID`).
    mutating func checkCredentials(
        _ message: SIPMessage, nonce: UInt64, callID: UInt64, _ bytes: UnsafeRawBufferPointer, source: IPAddress,
        now: Timestamp
    ) -> (sentHere: Bool, sentElsewhere: Bool, replayed: Bool) {
        let credentials = message.authorization
        let hasResponse = !credentials.response.isEmpty
        let hasQop = !credentials.qop.isEmpty && !credentials.cnonce.isEmpty
        if hasResponse, !hasQop { counters.weakDigest += 1 }
        let use =
            hasQop
            ? nonce ^ ByteHash.hash(bytes, credentials.nc, seed: 1) ^ ByteHash.hash(bytes, credentials.cnonce, seed: 2)
            : nonce ^ ByteHash.hash(bytes, credentials.response, seed: 3)
        let (address, site) = (source.tableHash, Self.site(of: source))
        return shared.withLock { tables in
            // A challenge that is answered stays remembered as long as one sent later.
            var (sentHere, sentElsewhere) = (false, false)
            if let challenge = tables.nonces.find(Self.challengeRecordKey(nonce)) {
                tables.nonces.values[challenge].seenAt = now.nanoseconds
                let sent = tables.nonces.values[challenge]
                sentHere = !sent.sentToSeveral && sent.source == site
                sentElsewhere = !sent.sentToSeveral && sent.source != site
            }
            guard hasResponse,
                let slot = tables.nonces.findOrInsert(
                    UserKey(hash: use), NonceUse(source: address, callID: callID, seenAt: now.nanoseconds),
                    retention: NonceUse.retention)
            else { return (sentHere, sentElsewhere, false) }
            let earlier = tables.nonces.values[slot]
            // By address: a neighbour in a shared /64 (a hotel's, a campus's) replays as any other.
            let replayed = earlier.source != address || (hasQop && earlier.callID != callID)
            if !replayed { tables.nonces.values[slot].seenAt = now.nanoseconds }
            return (sentHere, sentElsewhere, replayed)
        }
    }

    /// Remembers that the server sent `client` a challenge with `nonce` (its hash), for as long as the
    /// nonce table keeps it: a phone that reuses a nonce for minutes (nc counting up), or a guesser that
    /// reuses one for every guess, answers a challenge sent to its address all the same. A nonce sent to
    /// a second address is marked so: it proves neither.
    func rememberChallenge(_ nonce: UInt64, to client: IPAddress, now: Timestamp) {
        let site = Self.site(of: client)
        shared.withLock { tables in
            guard
                let slot = tables.nonces.findOrInsert(
                    Self.challengeRecordKey(nonce), NonceUse(source: site, callID: 0, seenAt: now.nanoseconds),
                    retention: NonceUse.retention)
            else { return }
            if tables.nonces.values[slot].source != site { tables.nonces.values[slot].sentToSeveral = true }
            tables.nonces.values[slot].seenAt = now.nanoseconds
        }
    }

    /// Where a challenge's nonce was sent, as the nonce table keeps it: an IPv4 address, or an IPv6
    /// address's /64, a host's while its privacy addresses change (a phone refreshes its registration
    /// from its new address with the nonce it was sent at the old one). Inlined: for an IPv4 address it
    /// is the address's `tableHash`, which `checkCredentials` then works out once for both.
    @inline(__always)
    static func site(of address: IPAddress) -> UInt64 {
        address.family == .v4 ? address.tableHash : PrefixKey(narrowestOf: address).tableHash(seed: 0)
    }

    /// Remembers that the server is in the dialog `key` (`dialogKey`), its side's Contact user
    /// `contactUser` (a hash): it answered a call 2xx (or a re-INVITE in one), or sent an INVITE itself
    /// (`confirmed`).
    func rememberDialog(_ key: UInt64, contactUser: UInt64, confirmed: Bool, now: Timestamp) {
        shared.withLock { tables in
            guard let slot = tables.dialogs.findOrInsert(UserKey(hash: key), Dialog(), retention: Dialog.retention)
            else { return }
            let wasConfirmed = tables.dialogs.values[slot].confirmed
            tables.dialogs.values[slot] = Dialog(
                lastSeen: now.nanoseconds, contactUser: contactUser, confirmed: confirmed || wasConfirmed)
        }
    }

    /// `message`, an ACK with a To tag, confirms the dialog of the server's 2xx it acknowledges.
    static func confirmDialog(_ message: SIPMessage, _ bytes: UnsafeRawBufferPointer, in shared: SharedTables) {
        let key = UserKey(
            hash: Self.dialogKey(callID: ByteHash.hash(bytes, message.callID), serverTag: message.to.tag, bytes))
        shared.withLock { tables in
            guard let slot = tables.dialogs.find(key) else { return }
            tables.dialogs.values[slot].confirmed = true
        }
    }

    /// Whether `message`, an INVITE, is a re-INVITE in a dialog the server is in: its Call-ID and To tag
    /// those of a call the server answered (its 2xx's To tag) or placed (its From tag), sent to the
    /// server's side's Contact user. A hold, a session refresh, a phone that moved: it places no call
    /// (and keeps the dialog remembered). A To tag alone proves nothing: a proxy relays a request with
    /// one (and a Route to itself) unchallenged, wherever its Request-URI points; the server's tag comes
    /// only with its own messages, and a Request-URI other than its Contact is a new destination.
    /// `callID` is the hash of its Call-ID (`RequestMemo.callID`).
    static func isReInvite(
        _ message: SIPMessage, callID: UInt64, _ bytes: UnsafeRawBufferPointer, in shared: SharedTables, now: Timestamp
    ) -> Bool {
        guard !message.to.tag.isEmpty else { return false }
        let key = UserKey(hash: Self.dialogKey(callID: callID, serverTag: message.to.tag, bytes))
        let target = ByteHash.hash(bytes, message.requestURI.user)
        return shared.withLock { tables in
            guard let slot = tables.dialogs.find(key), tables.dialogs.values[slot].contactUser == target else {
                return false
            }
            tables.dialogs.values[slot].lastSeen = now.nanoseconds
            return true
        }
    }

    /// A dialog's key in the dialog table: its Call-ID (`callID`, its hash) and the server's tag in it.
    static func dialogKey(callID: UInt64, serverTag: ByteRange, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        ByteHash.mix(callID ^ ByteHash.hash(bytes, serverTag, seed: 7))
    }

    /// The nonce table's key for a challenge's nonce (its hash).
    static func challengeRecordKey(_ nonce: UInt64) -> UserKey { UserKey(hash: ByteHash.mix(nonce ^ 0x0C4A_113E_46ED)) }
}
