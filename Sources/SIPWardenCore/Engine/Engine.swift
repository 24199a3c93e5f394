/// Decides per SIP message: accept, drop or ban. Time is an argument; one engine per queue thread.
///
/// Inbound messages go through the detectors and add points to their source's score, which decays
/// with a half-life; a score at `score.dropAt` drops the source's packets and at `score.banAt` bans it
/// in the kernel, for longer at each repeat. Outbound messages (the server's answers) are matched to
/// the requests they answer: failures feed the detectors, successes give the source good history.
public struct Engine {
    public private(set) var rules: RuleSet
    /// The protected host's own addresses: never banned, whatever headers say.
    public var servers: Set<IPAddress> {
        didSet { serverList = AddressList(servers) }
    }
    /// `servers`, for the per-packet test.
    private(set) var serverList: AddressList
    public internal(set) var counters = EngineCounters()
    /// Bans issued since the last `drainBans`, oldest first; at most `pendingBanLimit`, newer ones
    /// beyond that are counted in `counters.unreportedBans` (the kernel still gets them as verdicts).
    public internal(set) var pendingBans: [BanRecord] = []
    var sources: BoundedTable<IPAddress, SourceState>
    var prefixes: BoundedTable<PrefixKey, PrefixState>
    /// Per-user tables and nonces, shared with the other queues' engines (see `SharedTables`).
    let shared: SharedTables
    /// This engine's share of the global budgets.
    var budgets: GlobalBudgets
    /// The rules' limits as the buckets spend them.
    var refills: LimitRefills
    var scanner: ScannerDetector
    var tollFraud: TollFraudDetector

    /// How many ban records wait for `drainBans` at most.
    public static let pendingBanLimit = 4096

    /// The rules each of `queues` engines runs: the source and prefix tables split between them, since
    /// the kernel spreads sources over the queues (together they stay within the tables' sizes).
    public static func rules(_ rules: RuleSet, forEachOf queues: Int) -> RuleSet {
        var each = rules
        each.tables.sources = max(1024, rules.tables.sources / max(queues, 1))
        each.tables.prefixes = max(1024, rules.tables.prefixes / max(queues, 1))
        return each
    }

    /// The memory the tables of `queues` engines take under `rules`, the tables they share included.
    /// Allocated whole at start.
    public static func tableBytes(_ rules: RuleSet, queues: Int) -> Int {
        let each = Self.rules(rules, forEachOf: queues)
        let own =
            BoundedTable<IPAddress, SourceState>.bytes(capacity: each.tables.sources)
            + BoundedTable<PrefixKey, PrefixState>.bytes(capacity: each.tables.prefixes)
        return own * max(queues, 1) + UserTables.bytes(rules)
    }

    /// An engine that shares `shared` with other engines (a new one of its own by default) and holds
    /// `budgetShare` of every global budget (1 for a single engine, 1/N for one of N queues); its
    /// tables (and a new `shared`) hash under seeds from `seeding`.
    public init(
        rules: RuleSet, servers: Set<IPAddress> = [], startingAt start: Timestamp = Timestamp(nanoseconds: 0),
        shared: SharedTables? = nil, budgetShare: Double = 1, seeding: TableSeeding = .random
    ) {
        self.rules = rules
        self.servers = servers
        serverList = AddressList(servers)
        sources = BoundedTable(
            capacity: rules.tables.sources, emptyValue: SourceState(),
            seed: seeding.seed(1))
        prefixes = BoundedTable(
            capacity: rules.tables.prefixes, emptyValue: PrefixState(), seed: seeding.seed(2))
        self.shared = shared ?? SharedTables(rules, seeding: seeding)
        budgets = GlobalBudgets(rules.limits, share: min(max(budgetShare, 0.001), 1), at: start)
        refills = LimitRefills(rules.limits, budgets: budgets)
        pendingBans.reserveCapacity(64)
        scanner = ScannerDetector(rules.signatures)
        tollFraud = TollFraudDetector(rules.tollFraud)
    }

    /// Decides what to do with one message travelling in `direction` at `now`.
    public mutating func decide(_ inspected: InspectedPacket, direction: Direction, now: Timestamp) -> Decision {
        decide(inspected.message, in: inspected.bytes, of: inspected.packet, direction: direction, now: now)
    }

    /// Decides about `message`, read from `bytes`, that came in `packet` (what `InspectedPacket` gathers,
    /// without copying it there first).
    mutating func decide(
        _ message: SIPMessage, in bytes: UnsafeRawBufferPointer, of packet: DecodedPacket, direction: Direction,
        now: Timestamp
    ) -> Decision {
        var decision =
            direction == .outbound
            ? observeOutbound(message, bytes, client: packet.destination, now: now)
            : judgeInbound(message, bytes, source: packet.source, overUDP: packet.transport == .udp, now: now)
        if rules.daemon.mode == .monitor, decision.verdict != .accept {
            decision.verdict = .accept
        }
        return decision
    }

    /// Replaces the rules (a reload) and keeps what is known about sources, users and bans.
    public mutating func reload(_ newRules: RuleSet) {
        rules = newRules
        refills = LimitRefills(newRules.limits, budgets: budgets)
        scanner = ScannerDetector(newRules.signatures)
        tollFraud = TollFraudDetector(newRules.tollFraud)
    }

    // MARK: - Inbound

    /// `overUDP`: the message came in a UDP datagram, whose source address anyone can forge.
    mutating func judgeInbound(
        _ message: SIPMessage, _ bytes: UnsafeRawBufferPointer, source: IPAddress, overUDP: Bool, now: Timestamp
    ) -> Decision {
        if rules.trust.denies(source) { return Decision(.drop, .denied) }
        if serverList.contains(source) || rules.trust.allows(source) { return Decision(.accept, .trusted) }
        if message.anomalies.contains(.keepAlive) { return Decision(.accept, .keepAlive) }

        let known = sources.find(source)
        if let known, sources.values[known].bannedUntil > now.nanoseconds {
            return Decision(.drop, .banned)
        }
        let narrowPrefix = prefixes.find(PrefixKey(narrowestOf: source))
        if let narrowPrefix, prefixes.values[narrowPrefix].bannedUntil > now.nanoseconds {
            return Decision(.drop, .banned)
        }
        // A peer the server contacted is known for its answers only: a PBX honouring a transfer (REFER)
        // sends an INVITE wherever the transferor says.
        let isKnown =
            known.map { sources.values[$0].good || message.isResponse && sources.values[$0].contactedByServer }
            ?? false
        if !isKnown, !budgets.unknownSources.take(refill: refills.unknownSources, at: now) {
            return Decision(.drop, .unknownSourceBudget)
        }
        guard
            let slot = known
                ?? sources.findOrInsert(
                    source, SourceState(at: now, limits: rules.limits), retention: SourceState.retention)
        else {
            // Every slot this address could take holds a protected source: judge it without memory.
            return stateless(message, bytes, now: now)
        }
        return inPlace(source: slot) {
            $0.judge(
                message, bytes, source: source, overUDP: overUDP, state: &$1, narrowPrefix: narrowPrefix, now: now)
        }
    }

    /// Runs `body` on the source entry at `slot` where it lies, so that it is neither copied out and back
    /// nor looked up again: the table's values are moved out of `self` meanwhile, and `body` must not read
    /// `sources` (the detectors do not). An empty array holds no storage: the swaps allocate nothing.
    @inline(__always)
    mutating func inPlace<Result>(source slot: Int, _ body: (inout Engine, inout SourceState) -> Result) -> Result {
        var values: [SourceState] = []
        swap(&values, &sources.values)
        defer { swap(&values, &sources.values) }
        return body(&self, &values[slot])
    }

    /// Runs the detectors and the rate limits on a message from a source with a table entry, and turns
    /// the points into a verdict. `narrowPrefix` is the slot of the source's /24 or /64 when it has one.
    mutating func judge(
        _ message: SIPMessage, _ bytes: UnsafeRawBufferPointer, source: IPAddress, overUDP: Bool,
        state: inout SourceState, narrowPrefix: Int?, now: Timestamp
    ) -> Decision {
        state.lastSeen = now.nanoseconds
        state.packets &+= 1
        if message.method == .ack, !message.to.tag.isEmpty { Self.confirmDialog(message, bytes, in: shared) }
        if message.method == .ack, state.awaitedAck != 0, Self.ackKey(message, bytes) == state.awaitedAck {
            state.awaitedAck = 0
            becomeGood(&state, source, now: now)
            state.recent.forgetRefusals()
        }
        var parts = ScoreParts()
        var memo: RequestMemo?
        var replayed = false
        if message.kind == .request {
            // The credentials' nonce (0 without), hashed once for the memo's check and the nonce table's.
            let nonce = ByteHash.hash(bytes, message.authorization.nonce)
            let issued = message.method == .invite ? state.issuedNonce : state.issuedOtherNonce
            var request = RequestMemo(message, bytes, nonce: nonce, overUDP: overUDP, issuedNonce: issued)
            if !message.authorization.rivalUsername.isEmpty {
                let rival = ByteHash.hash(bytes, message.authorization.rivalUsername)
                request.authUser = Self.chargedAccount(request.authUser, rival: rival, source: source, in: shared)
            }
            if nonce != 0 {
                let credentials = checkCredentials(
                    message, nonce: nonce, callID: request.callID, bytes, source: source, now: now)
                request.provesAddress = request.provesAddress || credentials.sentHere
                request.answersAnotherAddress = overUDP && credentials.sentElsewhere
                replayed = credentials.replayed
            }
            memo = request
        }
        // A client resends a request that got no answer: a resend of one a detector refused is refused
        // again for the same reason, without its points again (a phone is not banned for its timers).
        var admission = RecentRequests.Admission()
        if let memo {
            admission = state.recent.admit(memo)
            // A guess, or a probe from an address a scan's 404s count against, pushed out unanswered.
            if let lost = admission.lost, lost.authUser != 0 || !state.mayReachManyUsers(with: lost.method) {
                keepLost(lost, from: source)
                state.recent.lostRequests = true
            }
            if let refused = admission.refused {
                return verdict(for: &state, source: source, parts: parts, packetDrop: refused, now: now)
            }
        }
        var packetDrop = inspect(
            message, memo, bytes, source: source, replayed: replayed, state: &state, narrowPrefix: narrowPrefix,
            parts: &parts, now: now)
        // An address that authenticated (a NAT office, a PBX registered as one account) scores for failed
        // authentications only: what else a detector finds in its requests (a softphone built on an SDK
        // scanners use, a buggy phone's malformed messages, anything one forged UDP packet in its name can
        // carry) costs it those packets, never its service. Over UDP so does the server's own peer (its
        // upstream provider, or for its answers any address the server sent a request): anyone can send
        // in its name, and a ban would cut the server's calls out.
        if state.authenticated || overUDP && state.isServersPeer(sending: message), let found = parts.strongest {
            parts = ScoreParts()
            if packetDrop == nil, found.refusesByPointsAlone { packetDrop = Decision.Reason(found) }
        }
        // A guess refused for another reason without points (a scan's, from an address with good
        // history) goes unanswered too.
        if packetDrop == nil || parts.isEmpty, let memo, isUnansweredGuess(memo, state, now: now) {
            parts[.passwordGuessing] += failurePoints(state)
            count(.passwordGuessing)
            packetDrop = packetDrop ?? .passwordGuessing
        }
        if packetDrop == nil, let memo, memo.answersAnotherAddress, refusesForeignNonce(&state, now: now) {
            count(.passwordGuessing)
            packetDrop = .passwordGuessing
        }
        if packetDrop == nil, let memo, isUnansweredProbe(memo, state, now: now) {
            parts[.enumeration] += rules.score[.enumeration] / Double(max(rules.enumeration.notFound, 1))
            count(.enumeration)
            packetDrop = .enumeration
        }
        // A request refused without points (a call abroad held without credentials) still spends its
        // tokens: a flood of such requests is a flood.
        if packetDrop == nil || parts.isEmpty,
            !rateLimit(message, source: source, state: &state, narrowPrefix: narrowPrefix, now: now)
        {
            parts[.rateLimit] += excessPoints(message, state, parts, overUDP: overUDP, now: now)
            packetDrop = packetDrop ?? .rateLimit
        }
        let decision = verdict(for: &state, source: source, parts: parts, packetDrop: packetDrop, now: now)
        // A request refused by a detector, or dropped (not banned) for the points it scored (a replay: a
        // phone that moved in the middle of a transaction resends it from its new address), is refused
        // again when resent, without points. A rate-limited one is judged afresh: by then the bucket may
        // have refilled.
        if decision.drops {
            let scoredDrop = decision.verdict == .drop ? parts.strongest.map(Decision.Reason.init) : nil
            let refusal = (packetDrop ?? scoredDrop).flatMap { $0 == .rateLimit ? nil : $0 }
            state.recent.drop(refusal: refusal, as: admission)
        }
        return decision
    }

    /// Whether `memo` is a guess the filter will drop unanswered: credentials from a source whose failed
    /// authentications (the server's 401/407/403) already took it to the drop threshold. Points come with
    /// the server's answers, and a dropped request gets none, so counting such a guess as a failure is
    /// what bans a guesser that waits for each answer instead of holding it at the threshold, even one
    /// that authenticated with another, cracked account. Its resends are refused without points again,
    /// as any refused request's.
    /// Inlined: called with the source's entry, which a call would copy whole (512 bytes) for each request.
    @inline(__always)
    func isUnansweredGuess(_ memo: RequestMemo, _ state: SourceState, now: Timestamp) -> Bool {
        memo.authUser != 0 && isHeld(state, by: .passwordGuessing, now: now)
    }

    /// Whether `memo` is an extension scan's probe the filter will drop unanswered: a request to a user
    /// (one it can probe: `RequestMemo.target`) from an unproven source whose scan (its 404s, its many
    /// users) already took it to the drop threshold. It scores what a 404 does on average (`enumeration`
    /// points per `not_found` 404s), as an unanswered guess scores a failure: else a scan that waits for each
    /// answer (svwar at 15 probes a minute) is held at the threshold, not banned, and reaches more than
    /// half the extensions it tries.
    @inline(__always)
    func isUnansweredProbe(_ memo: RequestMemo, _ state: SourceState, now: Timestamp) -> Bool {
        memo.target != 0 && !state.good && !state.mayReachManyUsers(with: memo.method)
            && isHeld(state, by: .enumeration, now: now)
    }

    /// Whether `detector` last scored the source, whose score is at the drop threshold or over it.
    @inline(__always)
    func isHeld(_ state: SourceState, by detector: RuleSet.Detector, now: Timestamp) -> Bool {
        state.lastReason == detector && state.score(at: now, halfLife: rules.score.halfLife) >= rules.score.dropAt
    }

    /// Runs the detectors on one inbound message; returns a reason when this packet must be dropped
    /// whatever the score. `replayed`: its credentials replay another dialog's or source's; `narrowPrefix`
    /// is the slot of the source's /24 or /64 when it has one.
    mutating func inspect(
        _ message: SIPMessage, _ memo: RequestMemo?, _ bytes: UnsafeRawBufferPointer, source: IPAddress,
        replayed: Bool, state: inout SourceState, narrowPrefix: Int?, parts: inout ScoreParts, now: Timestamp
    ) -> Decision.Reason? {
        if message.anomalies.contains(.notSIP) {
            parts[.notSIP] += rules.score[.notSIP]
            return .notSIP
        }
        var packetDrop: Decision.Reason?
        if message.isMalformed, rules.policy.malformed != .ignore {
            parts[.malformed] += rules.score[.malformed]
            if rules.policy.malformed == .drop { packetDrop = .malformed }
        }
        if !message.userAgent.isEmpty || message.kind == .request {
            let agent = ByteHash.hash(bytes, message.userAgent)
            let newAgent = agent != state.checkedUserAgent || agent == 0
            if let found = scanner.inspect(message, bytes, userAgentHash: agent, newUserAgent: newAgent) {
                count(found)
                if found == .sharedUserAgent {
                    // A product's name scanners use too: the request is dropped, and its points never by
                    // themselves take the source past half the drop threshold (an office on a new address
                    // whose softphone happens to register first).
                    parts[found] += suspicionPoints(rules.score[found], state, parts, now: now)
                    packetDrop = packetDrop ?? .scanner
                } else {
                    parts[found] += rules.score[found]
                }
            } else if newAgent {
                state.checkedUserAgent = agent
            }
        }
        guard let memo else { return packetDrop }
        // The number dialled: an INVITE's that starts a call, or a REFER's transfer target, which a PBX
        // that honours transfers dials on the caller's behalf. A re-INVITE in a dialog the server is in
        // goes to the other party's Contact, which may read as a number abroad (a call abroad's, a caller
        // ID in E.164), and places no call.
        let reInvite =
            message.method == .invite && Self.isReInvite(message, callID: memo.callID, bytes, in: shared, now: now)
        let dialled =
            message.method == .invite && !reInvite
            ? DialledNumber(message.requestURI.user, bytes)
            : message.method == .refer ? DialledNumber(message.referTo.uri.user, bytes) : nil
        let highRisk = tollFraud.isHighRisk(dialled)
        let userCheck = users(
            message, memo, bytes, source: source, highRiskCall: highRisk, reInvite: reInvite, state: &state,
            parts: &parts, now: now)
        if let reason = userCheck.drop { packetDrop = packetDrop ?? reason }
        // An office that comes back on a new address registers all its (often consecutive) extensions
        // at once: registered users are not what a scan looks for.
        if !userCheck.claimsRegisteredUser,
            let refused = enumeration(
                message, memo, bytes, source: source, state: &state, narrowPrefix: narrowPrefix, parts: &parts,
                now: now)
        {
            packetDrop = packetDrop ?? refused
        }
        // Toll fraud: a call to a high-risk number from a source that never authenticated (good history
        // is not enough: an open PBX or IVR answers anyone's call), unless its credentials answer the
        // challenge the server issued to this source: a server that challenges checks them (a wrong
        // password is a 401/407/403 that the guessing detectors count, and cracked accounts meet the
        // calls-per-user limit). Any other credentials (a bare header, a made-up or another address's
        // nonce) count for nothing: an open PBX never challenges, so never checks them.
        // A call without credentials scores only past the address's free held calls (`heldCalls`): a PBX
        // that authenticates each call (it never registers) sends its first INVITE bare and waits for the
        // server's challenge, which a held call never gets, so its staff's first calls abroad must not
        // take it past the thresholds; a fraudster trying call after call is past them soon. Such a call
        // relies on the address's standing: it holds only while its account holds it (`checkStanding`).
        if highRisk, !memo.answersChallenge { checkStanding(&state, source, now: now) }
        if highRisk, !state.authenticated, !memo.answersChallenge {
            if message.authorization.isPresent
                || !state.heldCalls.takeStartingFull(rate: rules.tollFraud.heldCalls, at: now)
            {
                parts[.tollFraud] += rules.score[.tollFraud]
            }
            if let dialled, tollFraud.prefixVariants(dialled, in: &state.dialled) {
                parts[.tollFraud] += rules.score[.tollFraud]
            }
            count(.tollFraud)
            packetDrop = packetDrop ?? .tollFraud
        }
        if replayed {
            parts[.digestReplay] += rules.score[.digestReplay]
            count(.digestReplay)
        }
        if message.sdpHasInlineKey, rules.policy.cleartextKeys != .ignore {
            parts[.cleartextKeys] += rules.score[.cleartextKeys]
            count(.cleartextKeys)
            if rules.policy.cleartextKeys == .drop { packetDrop = packetDrop ?? .cleartextKeys }
        }
        return packetDrop
    }

    /// Spends a token from the source's, its prefixes' and the global bucket of the message's class.
    /// `narrowPrefix` is the slot of the source's /24 or /64 (the first of its aggregates) when known.
    mutating func rateLimit(
        _ message: SIPMessage, source: IPAddress, state: inout SourceState, narrowPrefix: Int?, now: Timestamp
    ) -> Bool {
        let methodClass = RuleSet.MethodClass(message)
        // The answers of a peer the server sent requests to (an upstream provider answering a dialer's
        // calls: 407, 100, 183, 180, 200 for each) are what the server asked for: held to the limits of a
        // source with good history, and not to its prefix's (the global budget still holds them).
        let answersServer = message.isResponse && state.contactedByServer
        let good = state.good || answersServer
        let sourceRefill = good ? refills.goodSource[methodClass] : refills.source[methodClass]
        var conforms = state.buckets[methodClass].take(refill: sourceRefill, at: now)
        // A source that authenticated is held by its own limits only: its prefix's buckets are for the
        // unproven addresses around it (an IPv6 neighbour rotating privacy addresses in its /64). Good
        // history is not enough: an IVR answers anyone's call, from every address of a /64.
        // Tested once before the walk: as the walk's `where`, it came after each prefix's key was worked out.
        if !state.authenticated, !answersServer {
            let prefixRefill = refills.prefix[methodClass]
            var known = narrowPrefix
            for key in PrefixKey.aggregates(of: source) {
                defer { known = nil }
                guard
                    let slot = known
                        ?? prefixes.findOrInsert(
                            key, PrefixState(at: now, limits: rules.limits), retention: PrefixState.retention)
                else { continue }
                conforms = prefixes.values[slot].spend(methodClass, refill: prefixRefill, at: now) && conforms
            }
        }
        // The global budget protects the server from the unknown; proven sources have their own limits.
        return (budgets.global[methodClass].take(refill: refills.global[methodClass], at: now) || state.good)
            && conforms
    }

    /// `points` for evidence that alone must never cost a source its service (a claim of a user
    /// registered elsewhere, a name scanners share with real products, a UDP flood in an authenticated
    /// address's name), or none where they would take its score past half the drop threshold: that leaves
    /// room for a few failures of its own (an office failed over to a new address, one of whose phones
    /// has a wrong password, before the first 200 OK proves the address and forgives them all).
    func suspicionPoints(_ points: Double, _ state: SourceState, _ parts: ScoreParts, now: Timestamp) -> Double {
        let score = state.score(at: now, halfLife: rules.score.halfLife) + parts.total + points
        return score <= rules.score.dropAt / 2 ? points : 0
    }

    /// What a packet over the limits scores: `rate_limit`, or, from an address that authenticated, that
    /// divided by its burst for the message's class (times `good_source_factor`). A NAT office whose
    /// phones all boot at once runs a few bursts over and stays far below the drop threshold; a flood
    /// from it over TCP runs hundreds over and is banned. Over UDP anyone can send in the office's name:
    /// there its excess scores as suspicion only, and so does the server's peer's
    /// (`SourceState.isServersPeer`): a forged flood in its upstream provider's name must not ban it;
    /// its buckets still drop the excess.
    func excessPoints(
        _ message: SIPMessage, _ state: SourceState, _ parts: ScoreParts, overUDP: Bool, now: Timestamp
    ) -> Double {
        guard state.authenticated else {
            let points = rules.score[.rateLimit]
            return overUDP && state.isServersPeer(sending: message)
                ? suspicionPoints(points, state, parts, now: now) : points
        }
        let burst = Double(refills.goodSource[RuleSet.MethodClass(message)].capacity) / Double(TokenBucket.scale)
        let points = rules.score[.rateLimit] / max(burst, 1)
        return overUDP ? suspicionPoints(points, state, parts, now: now) : points
    }

    /// Without a table slot (every slot the address could take holds an authenticated source): what one
    /// message shows, a scanning tool's name or mark, and the global budget of its class.
    mutating func stateless(_ message: SIPMessage, _ bytes: UnsafeRawBufferPointer, now: Timestamp) -> Decision {
        if message.anomalies.contains(.notSIP) { return Decision(.drop, .notSIP) }
        if message.isMalformed, rules.policy.malformed == .drop { return Decision(.drop, .malformed) }
        if message.kind == .request,
            scanner.inspect(
                message, bytes, userAgentHash: ByteHash.hash(bytes, message.userAgent), newUserAgent: true) != nil
        {
            return Decision(.drop, .scanner)
        }
        let methodClass = RuleSet.MethodClass(message)
        guard budgets.global[methodClass].take(refill: refills.global[methodClass], at: now) else {
            return Decision(.drop, .rateLimit)
        }
        return Decision(.accept, .sip)
    }

    // MARK: - Score to verdict

    mutating func verdict(
        for state: inout SourceState, source: IPAddress, parts: ScoreParts, packetDrop: Decision.Reason?,
        now: Timestamp
    ) -> Decision {
        let halfLife = rules.score.halfLife
        let strongest = parts.strongest
        if let strongest { state.lastReason = strongest }
        state.add(parts.total, at: now, halfLife: halfLife)
        let score = state.score(at: now, halfLife: halfLife)
        let scoreReason = Decision.Reason(strongest ?? state.lastReason ?? .rateLimit)
        var decision: Decision
        if score >= rules.score.banAt {
            decision = ban(&state, source: source, reason: scoreReason, score: score, now: now)
        } else if score >= rules.score.dropAt {
            decision = Decision(.drop, scoreReason)
        } else if let packetDrop {
            decision = Decision(.drop, packetDrop)
        } else {
            decision = Decision(.accept, .sip)
        }
        decision.score = score
        decision.parts = parts
        return decision
    }

    mutating func ban(
        _ state: inout SourceState, source: IPAddress, reason: Decision.Reason, score: Double, now: Timestamp
    )
        -> Decision
    {
        let ttls = rules.bans.ttl
        state.banCount = state.banCount < UInt8.max ? state.banCount + 1 : state.banCount
        let ttl = ttls[min(Int(state.banCount) - 1, ttls.count - 1)]
        state.bannedUntil = now.nanoseconds + ttl
        // The score is spent: after the ban a source starts again, and a repeat escalates the TTL.
        state.score = 0
        var target = IPPrefix(host: source)
        if let prefix = prefixBan(source, ttl: ttl, now: now) {
            target = prefix
            counters.prefixBans += 1
        }
        counters.bans += 1
        if pendingBans.count < Self.pendingBanLimit {
            pendingBans.append(BanRecord(time: now, target: target, reason: reason, ttl: ttl, score: score))
        } else {
            counters.unreportedBans += 1
        }
        var decision = Decision(.ban, reason)
        decision.ban = Decision.Ban(ttl: ttl, prefixLength: target.length, offence: Int(state.banCount))
        return decision
    }

    /// Counts a banned member of the source's /24 or /64; returns the prefix when it is to be banned whole.
    mutating func prefixBan(_ source: IPAddress, ttl: Int64, now: Timestamp) -> IPPrefix? {
        let members = rules.bans.prefixMembers
        let key = PrefixKey(narrowestOf: source)
        guard members > 0,
            let slot = prefixes.findOrInsert(
                key, PrefixState(at: now, limits: rules.limits), retention: PrefixState.retention)
        else { return nil }
        var prefix = prefixes.values[slot]
        if now.nanoseconds - prefix.windowStart > rules.bans.prefixWindow {
            prefix.windowStart = now.nanoseconds
            prefix.bannedMembers = 0
        }
        prefix.bannedMembers &+= 1
        let block = IPPrefix(address: key.address, length: Int(key.length))
        let protected =
            prefix.goodMembers > 0 || rules.trust.allow.contains { $0.overlaps(block) }
            || servers.contains { block.contains($0) }
        var banned: IPPrefix?
        if Int(prefix.bannedMembers) >= members, !protected {
            prefix.bannedUntil = now.nanoseconds + ttl
            banned = block
        }
        prefixes.values[slot] = prefix
        return banned
    }

    mutating func count(_ detector: RuleSet.Detector) {
        counters.detectors[detector, default: 0] += 1
    }
}

extension PrefixKey {
    /// The /24 of an IPv4 address or the /64 of an IPv6 address: the unit of prefix bans.
    init(narrowestOf address: IPAddress) {
        let length = address.family == .v4 ? 24 : 64
        self.init(address: IPPrefix.masked(address, to: length), length: UInt8(length))
    }

    /// The /48 of an IPv6 address, nil for an IPv4 address: the wider of its prefixes.
    init?(wideOf address: IPAddress) {
        guard address.family == .v6 else { return nil }
        self.init(address: IPPrefix.masked(address, to: 48), length: 48)
    }

    /// The prefixes whose buckets an address also spends from: its /24, or its /64 and /48.
    static func aggregates(of address: IPAddress) -> PrefixAggregates { PrefixAggregates(address: address) }
}

/// The one or two prefixes an address is limited under, without allocating an array.
struct PrefixAggregates: Sequence, IteratorProtocol {
    let address: IPAddress
    var step = 0

    mutating func next() -> PrefixKey? {
        defer { step += 1 }
        switch step {
        case 0: return PrefixKey(narrowestOf: address)
        case 1: return PrefixKey(wideOf: address)
        default: return nil
        }
    }
}

extension PrefixState {
    init(at now: Timestamp, limits: RuleSet.Limits) {
        buckets = ClassBuckets(limits.classes.map { $0.prefix }, at: now)
        lastSeen = now.nanoseconds
    }

    /// Marks the prefix seen and takes a token from its bucket for `methodClass`; whether it conforms.
    mutating func spend(_ methodClass: RuleSet.MethodClass, refill: TokenBucket.Refill, at now: Timestamp) -> Bool {
        lastSeen = now.nanoseconds
        return buckets[methodClass].take(refill: refill, at: now)
    }
}

extension IPPrefix {
    /// Whether the two blocks share any address.
    public func overlaps(_ other: IPPrefix) -> Bool {
        address.family == other.address.family && (contains(other.address) || other.contains(address))
    }
}
