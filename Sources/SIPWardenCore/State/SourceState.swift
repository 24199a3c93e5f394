#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the engine remembers about one source address. Fixed size, stored inline in `BoundedTable`.
struct SourceState {
    var firstSeen: Int64 = 0
    var lastSeen: Int64 = 0
    var packets: UInt32 = 0
    /// The To tag (its hash) of the server's 2xx to this source's latest call that proved nothing of its
    /// address (over UDP, unchallenged: an IVR answers anyone), 0 when none: the ACK carrying it gives
    /// good history, since a forger in the address's name never sees the 2xx. Here, where it fills the
    /// padding after `packets`.
    var awaitedAck: UInt32 = 0
    /// Score at `scoredAt`; it halves every `score.halfLife`.
    var score: Double = 0
    var scoredAt: Int64 = 0
    var bannedUntil: Int64 = 0
    var banCount: UInt8 = 0
    /// A REGISTER or INVITE of this source succeeded, or another request whose credentials answer the
    /// server's challenge (the server said 2xx; for a call answered unchallenged over UDP, its ACK
    /// carried the 2xx's To tag), unless its credentials carried a nonce the server sent another address
    /// only.
    var good = false
    /// It proved who it is: a REGISTER, or a request whose credentials answer the server's challenge
    /// (`issuedNonce`), of it succeeded, its credentials carrying no nonce sent to another address only.
    /// A call answered without such credentials (an open PBX or IVR answers anyone, whatever header the
    /// call carries) gives good history, not this.
    var authenticated = false
    /// The server sent it a request out of a dialog (it registers with it, calls it, pings it): the
    /// answers of an upstream provider or a peer the server chose are not held to the unknown-source
    /// budget (a spoofed flood must not cut off the provider's answers to the server's REGISTER).
    var contactedByServer = false
    /// The server registered with it (its upstream provider or registrar): chosen by the server's own
    /// configuration, where the address of a request the server sent out (a call forwarded or
    /// transferred) may be an attacker's choice.
    var registeredWithByServer = false
    /// The detector that last added points: the reason given when a later packet is dropped for the score.
    var lastReason: RuleSet.Detector?
    /// The User-Agent last checked against the scanner list (its hash), so a phone is checked once.
    var checkedUserAgent: UInt64 = 0
    var buckets = ClassBuckets()
    /// The last few requests, to match the server's responses to them.
    var recent = RecentRequests()
    var enumeration = EnumerationWindow()
    /// The account (its user hash) whose success gave it standing (`authenticated`) last, 0 without
    /// standing or for none known: it keeps standing while that account holds it
    /// (`UserState.holdsStanding`), and its failures count towards that account's spray
    /// (`UserState.countSpray`). Here, where it fills the padding before `dialled`.
    var standingAccount: UInt64 = 0
    /// (number suffix, dial prefix) hashes of recent high-risk INVITEs, for "one number, many prefixes".
    var dialled = DialledNumbers()
    /// Calls abroad held without credentials (`RuleSet.TollFraud.heldCalls`); empty before the first.
    var heldCalls = TokenBucket.empty
    /// Failed authentications without points, once it authenticated (`RuleSet.Guessing.officeFailures`);
    /// empty before the first.
    var officeFailures = TokenBucket.empty
    /// The latest 401/407 challenge the server sent this source to an INVITE, 0 before any: its nonce, the
    /// From user and host and the method it challenged (`RequestMemo.challengeKey`). Credentials count
    /// only when they answer it: an open PBX never challenges, so never checks them; a PBX that
    /// challenges its peers' calls may answer a guest's (another From) unchecked, whatever nonce it
    /// carries; and one that challenges SUBSCRIBEs may take calls unchecked.
    var issuedNonce: UInt64 = 0
    /// The same for the latest challenge to any other request but a REGISTER (a SUBSCRIBE, a MESSAGE): kept
    /// apart, so that an OPTIONS ping challenged between a call's 407 and its resend leaves the call's.
    var issuedOtherNonce: UInt64 = 0
    /// Its failed authentications lately (`Engine.authenticationFailed`). Last, where it fills the
    /// entry's padding.
    var failures = RecentFailures()

    init() {}

    init(at now: Timestamp, limits: RuleSet.Limits) {
        firstSeen = now.nanoseconds
        lastSeen = now.nanoseconds
        scoredAt = now.nanoseconds
        buckets = ClassBuckets(limits.classes.map { $0.source }, at: now)
    }

    /// The score decayed to `now`. Inlined: a call would copy the whole entry (512 bytes) to read two
    /// fields.
    @inline(__always)
    func score(at now: Timestamp, halfLife: Int64) -> Double {
        guard score > 0, now.nanoseconds > scoredAt else { return score }
        return score * exp2(-Double(now.nanoseconds - scoredAt) / Double(halfLife))
    }

    mutating func add(_ points: Double, at now: Timestamp, halfLife: Int64) {
        score = score(at: now, halfLife: halfLife) + points
        scoredAt = max(scoredAt, now.nanoseconds)
    }

    /// Whether requests of `method` from this source may reach many users, beyond the enumeration
    /// detector: from an address that authenticated; calls also from one with good history (a carrier
    /// or a peer PBX delivers calls to many numbers). Good history alone does not exempt REGISTER,
    /// OPTIONS or SUBSCRIBE: one anonymous call an IVR answers gives it to any scanner.
    func mayReachManyUsers(with method: SIPMethod) -> Bool {
        authenticated || good && method == .invite
    }

    /// Whether `message` comes from a peer the server chose: its upstream provider (it registered
    /// there), or, for an answer, any address it sent a request out of a dialog. Good history is not
    /// enough: an open PBX or IVR answers anyone's call.
    func isServersPeer(sending message: SIPMessage) -> Bool {
        registeredWithByServer || message.isResponse && contactedByServer
    }

    /// How much the entry is worth keeping: an authenticated source is never evicted once it sent this
    /// engine a packet (an entry restored from the state file into every queue's engine has not, where
    /// another queue owns it). Otherwise recent, busy and suspicious sources outlast idle one-packet ones,
    /// a banned one by an hour more, and one with good history (or restored) by `goodHistoryRetention`
    /// more: an attacker who gets one anonymous call answered (an open PBX or IVR answers anyone) from
    /// many addresses cannot make them all permanent.
    static func retention(_ state: SourceState) -> Int64 {
        if state.authenticated, state.packets > 0 { return .max }
        let busy = Int64(min(state.packets, 100)) * 1_000_000_000
        let suspicious = Int64(min(state.score, 1000) * 10) * 1_000_000_000
        let banned: Int64 = state.bannedUntil > state.lastSeen ? 3600 * 1_000_000_000 : 0
        let good = state.good || state.authenticated || state.contactedByServer ? goodHistoryRetention : 0
        return state.lastSeen &+ busy &+ suspicious &+ banned &+ good
    }

    /// How much longer than a newcomer a source with good history but no authentication (or a restored
    /// one this engine has not seen) stays: a day.
    static let goodHistoryRetention: Int64 = 86_400 * 1_000_000_000
}

/// One token bucket per method class.
typealias ClassBuckets = RuleSet.MethodClassTable<TokenBucket>

extension RuleSet.MethodClassTable where Value == TokenBucket {
    /// Empty buckets, to be filled by `init(_:at:)` when an entry is created.
    init() { self.init(repeating: .empty) }

    /// Full buckets at the rates `rates` gives per class.
    init(_ rates: RuleSet.MethodClassTable<Rate>, at now: Timestamp) {
        self = rates.map { TokenBucket($0, at: now) }
    }
}

extension TokenBucket {
    static let empty = TokenBucket(Rate(perSecond: 0, burst: 0), at: Timestamp(nanoseconds: 0))

    /// `take(rate:at:)` on a bucket left `.empty` until its first use, when it starts full.
    mutating func takeStartingFull(rate: Rate, at now: Timestamp) -> Bool {
        if self == .empty { self = TokenBucket(rate, at: now) }
        return take(rate: rate, at: now)
    }
}

/// A request remembered so the server's answer can be matched to it (Call-ID and CSeq).
struct RequestMemo {
    var callID: UInt64 = 0
    var cseq: UInt32 = 0
    var method: SIPMethod = .none
    /// The user the request targets (`SIPMessage.targetUser`, its hash); 0 for none, and
    /// for a request that cannot probe one (`Engine.probesUser`: an ACK, a CANCEL, one inside a dialog).
    var target: UInt64 = 0
    /// The Authorization username, 0 when the request carried no credentials.
    var authUser: UInt64 = 0
    /// Its credentials answer the latest challenge the server issued its source to a request of its
    /// method (a call's to a call, a SUBSCRIBE's to a SUBSCRIBE; never a REGISTER's): they carry that
    /// nonce, from the From user challenged. A bare header, a nonce made up, issued to another address or
    /// to a request of another method, or sent by another From user (a guest's call), does not.
    var answersChallenge = false
    /// Another request the source sent lately has its Call-ID and CSeq but another target or username:
    /// the server's answer cannot say which of the two it answers, so it binds and forgives nothing.
    var ambiguous = false
    /// It came over TCP, or its credentials carry the nonce of a challenge the server sent its source
    /// and no other address (`Engine.checkCredentials`): its sender reads what is sent to the address,
    /// which a forger of UDP packets in its name does not.
    var provesAddress = false
    /// It came over UDP with the nonce of a challenge the server sent another address only: a REGISTER
    /// forged in this address's name with a nonce fetched elsewhere, unless a phone moved in between.
    var answersAnotherAddress = false
    /// The server's final answer to it came, or none will: the filter dropped it.
    var answered = false
    /// Why a detector refused the request, if one did; and how many resends of it were refused since.
    var refused: Decision.Reason?
    var resends: UInt8 = 0

    /// Whether `other` is this request resent: the same Call-ID, CSeq, method and target.
    func isSameRequest(as other: RequestMemo) -> Bool {
        callID == other.callID && cseq == other.cseq && method == other.method && target == other.target
    }

    /// Whether `other` is this request resent with the same credentials, as far as they were read: the
    /// same user, proving or answering what this one does. Remembering it again would tell nothing new.
    func isResendAlike(_ other: RequestMemo) -> Bool {
        isSameRequest(as: other) && authUser == other.authUser && answersChallenge == other.answersChallenge
            && provesAddress == other.provesAddress && answersAnotherAddress == other.answersAnotherAddress
    }

    /// Resends of a refused request refused without new points: a client's timers resend one at most
    /// 10 times (RFC 3261 Timers A and E within Timer B's or F's 32 s); every later one is scored again.
    static let freeResends: UInt8 = 10

    init() {}

    /// The request `message` (whose bytes are `bytes`, whose credentials' nonce hashes to `nonce`, 0
    /// without, over UDP when `overUDP`) from a source the server last challenged with `issuedNonce`
    /// (`SourceState.issuedNonce`).
    /// Not inlined: inlined into the engine's judging, it cost 42 more instructions per packet of the
    /// bundled capture (the optimiser then stopped inlining the walk over the source's prefixes).
    @inline(never)
    init(_ message: SIPMessage, _ bytes: UnsafeRawBufferPointer, nonce: UInt64, overUDP: Bool, issuedNonce: UInt64) {
        callID = ByteHash.hash(bytes, message.callID)
        cseq = message.cseq.number
        method = message.method
        target = Engine.probesUser(message) ? ByteHash.hash(bytes, message.targetUser) : 0
        authUser = message.authorization.isPresent ? ByteHash.hash(bytes, message.authorization.username) : 0
        answersChallenge =
            nonce != 0 && issuedNonce != 0
            && Self.challengeKey(nonce, message.from.uri, message.method, bytes) == issuedNonce
        provesAddress = !overUDP
    }

    /// A challenge's nonce (its hash) bound to the From user and host and the method it challenged, as
    /// one hash: a proxy that challenges requests from its own domain relays one from the same user at
    /// another domain unchecked.
    static func challengeKey(
        _ nonce: UInt64, _ from: SIPURI, _ method: SIPMethod, _ bytes: UnsafeRawBufferPointer
    ) -> UInt64 {
        nonce ^ ByteHash.hash(bytes, from.user, seed: 5) ^ ByteHash.hash(bytes, from.host, seed: 6)
            ^ UInt64(method.rawValue) &* 0x9E37_79B9_7F4A_7C15
    }
}

/// The last four requests of a source, oldest overwritten first (but see `remember`).
struct RecentRequests {
    /// How `admit` took a request in.
    struct Admission {
        /// A resend of a refused request, within the free resends: refused again, for this reason.
        var refused: Decision.Reason?
        /// The request remembering it pushed out unanswered.
        var lost: RequestMemo?
        /// It is now the newest remembered request.
        var remembered = false
        /// It is a resend alike of the remembered request in this slot, and was not remembered again.
        var resendOf: UInt8?
    }

    var slots = (RequestMemo(), RequestMemo(), RequestMemo(), RequestMemo())
    var next: UInt8 = 0
    /// A request whose credentials carry a nonce the server sent another address only was pushed out
    /// before its answer: a 2xx matching no remembered request may be that one's, so it must not be read
    /// as a registration of this address (`Engine.registration(answeredBy:)`). Kept until a 2xx answers
    /// a request that proves the address; its own remembered requests count meanwhile.
    var lostForeignRequest = false
    /// A request pushed out before its answer came was kept in the shared tables (`Engine.keepLost`):
    /// an answer that matches no remembered request may be its, and is looked up there.
    var lostRequests = false

    /// Remembers `memo` in place of the oldest, unless that one carries credentials and is unanswered
    /// while `memo` carries none: a guesser that sends other requests between its guesses and their
    /// answers must not push the guesses out before their 401s come. Returns the request pushed out when
    /// its answer has not come (a guess or an extension scan's probe followed by as many other requests
    /// as the entry holds before its answer, or a NAT office's phones registering at once): the engine
    /// may keep it elsewhere, so that its answer still counts.
    @discardableResult
    mutating func remember(_ memo: RequestMemo) -> RequestMemo? {
        let oldest = self[next]
        if memo.authUser == 0, oldest.authUser != 0, !oldest.answered { return nil }
        if oldest.answersAnotherAddress, !oldest.answered { lostForeignRequest = true }
        self[next] = memo
        next &+= 1
        return oldest.answered || oldest.method == .none ? nil : oldest
    }

    /// The most recent request with this Call-ID, CSeq number and method, marked answered when `final`.
    /// The method too: a request without credentials sent under a guess's Call-ID and CSeq number must
    /// not take its 401.
    mutating func answer(callID: UInt64, cseq: UInt32, method: SIPMethod, final: Bool) -> RequestMemo? {
        guard let index = slot(where: { $0.callID == callID && $0.cseq == cseq && $0.method == method })
        else { return nil }
        if final { self[index].answered = true }
        return self[index]
    }

    /// Takes in a new request: a resend of one a detector refused, within `RequestMemo.freeResends`
    /// (counting this one), returns the refusal's reason; anything else but an ACK or a resend alike of
    /// a remembered request is remembered (past the free resends with their count spent, so that every
    /// later resend is judged and scored afresh), and the request it pushed out unanswered is returned
    /// (see `remember`). An ACK gets no answer, so remembering it would only push out requests that will.
    mutating func admit(_ memo: RequestMemo) -> Admission {
        var memo = memo
        if let index = slot(where: { $0.isSameRequest(as: memo) && $0.refused != nil }) {
            guard self[index].resends >= RequestMemo.freeResends else {
                self[index].resends += 1
                return Admission(refused: self[index].refused)
            }
            memo.resends = self[index].resends
        }
        guard memo.method != .ack else { return Admission() }
        // A resend alike of a request still remembered (its answer lost or not yet sent) is that request:
        // remembered again, four resends of a REGISTER would push out the INVITE waiting for its 407.
        if let index = slot(where: { $0.isResendAlike(memo) && $0.refused == nil }) {
            return Admission(resendOf: index)
        }
        memo.ambiguous =
            slot {
                $0.callID == memo.callID && $0.cseq == memo.cseq
                    && (!$0.isSameRequest(as: memo) || $0.authUser != memo.authUser)
            } != nil
        let before = next
        let lost = remember(memo)
        return Admission(lost: lost, remembered: next != before)
    }

    /// Records that the filter dropped the request `admission` took in. If it was remembered (it is then
    /// the newest), no answer will come. With `refusal`, its resends are refused for that reason: a
    /// resend alike of a remembered request marks that one (which went through, and may still be answered).
    mutating func drop(refusal: Decision.Reason?, as admission: Admission) {
        if admission.remembered {
            let newest = (next &- 1) & 3
            self[newest].refused = refusal
            self[newest].answered = true
        } else if let refusal, let index = admission.resendOf {
            self[index].refused = refusal
        }
    }

    /// Forgets every refusal, so that resends are judged again.
    mutating func forgetRefusals() {
        for slot in 0..<UInt8(4) { self[slot].refused = nil }
    }

    /// Whether another of the remembered requests than `memo` went to its target.
    mutating func hasOther(to memo: RequestMemo) -> Bool {
        slot { $0.target == memo.target && !$0.isSameRequest(as: memo) } != nil
    }

    /// The slot of the most recent request matching `matches`.
    mutating func slot(where matches: (RequestMemo) -> Bool) -> UInt8? {
        let newest = (next &- 1) & 3
        for age in 0..<UInt8(4) where matches(self[(newest &- age) & 3]) { return (newest &- age) & 3 }
        return nil
    }

    subscript(slot: UInt8) -> RequestMemo {
        mutating get { withSlots { $0[Int(slot & 3)] } }
        set { withSlots { $0[Int(slot & 3)] = newValue } }
    }

    /// Runs `body` on the four slots where they lie, as an array's elements: the tuple's are laid out
    /// one after another. Indexed there rather than through a switch over the four, whose branches the
    /// optimiser spread over every scan of the slots, each field of each slot reloaded in each branch.
    @inline(__always)
    private mutating func withSlots<Result>(_ body: (UnsafeMutablePointer<RequestMemo>) -> Result) -> Result {
        withUnsafeMutablePointer(to: &slots) { $0.withMemoryRebound(to: RequestMemo.self, capacity: 4, body) }
    }
}

/// Per-source counters for extension scans, reset every enumeration window. (Its 8-byte fields first:
/// packed into 30 bytes, it leaves `SourceState.standingAccount` room in the entry's 512.)
struct EnumerationWindow {
    var start: Int64 = 0
    /// Linear-counting bitmap of target-user hashes: the number of set bits estimates distinct users.
    var users: UInt64 = 0
    var lastNumber: UInt64 = 0
    var notFound: UInt16 = 0
    var sequential: UInt8 = 0
    /// How many thresholds this window has crossed and scored already (each crossing scores once), or
    /// crossed during the registration grace (forgiven when it ended).
    var scoredLevels: UInt8 = 0
    /// The registration grace (EnumerationWindow+Grace.swift), and the REGISTERs held in it that the
    /// server refused.
    var grace = RegistrationGrace.unused
    var refusedRegisters: UInt8 = 0

    /// Counts the user whose hash is `target` (`RequestMemo.target`); returns whether its position was
    /// set already (the user, or another sharing its position, was counted). Its position is the hash's
    /// top six bits: the lowest bit of a hash is always set (to tell a hash from "none"), so the low six
    /// would reach only half the positions.
    @discardableResult
    mutating func add(user target: UInt64) -> Bool {
        let bit: UInt64 = 1 << (target >> 58)
        defer { users |= bit }
        return users & bit != 0
    }

    /// How many thresholds the window has crossed: multiples of either of them, distinct or consecutive
    /// users.
    func levels(_ settings: RuleSet.Enumeration) -> Int {
        max(distinctUsers / max(settings.distinctUsers, 1), Int(sequential) / max(settings.sequentialUsers, 1))
    }

    /// An estimate of the distinct users seen (near the true count while few bits are set, saturating
    /// near 64 × ln 64).
    var distinctUsers: Int { Self.estimates[users.nonzeroBitCount] }

    /// The linear-counting estimate for each count of set bits, worked out once rather than with a
    /// logarithm per request.
    static let estimates: [Int] = (0...64).map { Int(LinearCounting.estimate(set: $0, of: 64).rounded()) }
}

/// The four most recent (number suffix, prefix) pairs dialled to high-risk destinations.
struct DialledNumbers {
    var suffixes = SIMD4<UInt64>()
    var prefixes = SIMD4<UInt64>()
    var next = 0

    /// Records a pair; returns how many distinct prefixes this suffix now has among the remembered pairs.
    mutating func record(suffix: UInt64, prefix: UInt64) -> Int {
        var known = false
        for i in 0..<4 where suffixes[i] == suffix && prefixes[i] == prefix { known = true }
        if !known {
            suffixes[next & 3] = suffix
            prefixes[next & 3] = prefix
            next &+= 1
        }
        var distinct = 0
        for i in 0..<4 where suffixes[i] == suffix {
            var seenBefore = false
            for j in 0..<i where suffixes[j] == suffix && prefixes[j] == prefixes[i] { seenBefore = true }
            if !seenBefore { distinct += 1 }
        }
        return distinct
    }
}

/// A source's failed authentications in its latest guessing window, in 8 bytes: those of accounts that
/// failed there for the first time (counted only where they score), and those whose credentials carried
/// a nonce the server sent another address only, with the requests refused for carrying one
/// (`Engine.refusesForeignNonce`): half of those carry over to the next window, so that an address
/// keeps being refused while it keeps sending them, and no longer once it stops.
struct RecentFailures {
    /// The window's start, in whole seconds after an origin the owner keeps (its entry's `firstSeen`).
    var start: UInt32 = 0
    var newAccounts: UInt16 = 0
    var foreignNonces: UInt16 = 0

    /// The counts at `now`: a new window's, with half the foreign nonces, when more than `length` passed
    /// since this one began (a time before it, out of order in a capture, is in it).
    func current(at now: Timestamp, origin: Int64, length: Int64) -> RecentFailures {
        let seconds = UInt32(clamping: (now.nanoseconds - origin) / 1_000_000_000)
        let stale = (Int64(seconds) - Int64(start)) * 1_000_000_000 > length
        guard stale || (newAccounts == 0 && foreignNonces == 0) else { return self }
        return RecentFailures(start: seconds, foreignNonces: foreignNonces / 2)
    }

    /// Counts a failure, or a refused request, at `now` in the window `current` gives.
    mutating func add(newAccount: Bool, foreignNonce: Bool, at now: Timestamp, origin: Int64, length: Int64) {
        self = current(at: now, origin: origin, length: length)
        if newAccount, newAccounts < .max { newAccounts += 1 }
        if foreignNonce, foreignNonces < .max { foreignNonces += 1 }
    }
}

/// Distinct items counted in a bitmap, a bit per item by its hash: estimated from the bits still clear.
enum LinearCounting {
    /// The estimate when `set` of `bits` bits are set: −bits × ln(clear / bits); when none is clear,
    /// the estimate for one clear bit (past which the bitmap tells no more).
    static func estimate(set: Int, of bits: Int) -> Double {
        -Double(bits) * log(Double(max(bits - set, 1)) / Double(bits))
    }
}
