/// Extension enumeration (svwar and friends): many target users, sequential numbers, many 404s.
extension Engine {
    /// Scores a scan; from an address with good history (calls of its answered, never authenticated),
    /// whose name anyone can send in over UDP, refuses it without points instead: the scan ends there
    /// and a forger cannot get a trunk banned. A prefix being scanned from address after address
    /// (`notFound(atPrefixOf:)`), with no good member, has its other members' requests refused too
    /// (`narrowPrefix`: the slot of the source's /24 or /64 when it has one). Returns `.enumeration` when
    /// the request is refused.
    mutating func enumeration(
        _ message: SIPMessage, _ memo: RequestMemo, _ bytes: UnsafeRawBufferPointer, source: IPAddress,
        state: inout SourceState, narrowPrefix: Int?, parts: inout ScoreParts, now: Timestamp
    ) -> Decision.Reason? {
        // `target` is 0 for a request that cannot probe a user (`probesUser`).
        guard memo.target != 0, !state.mayReachManyUsers(with: memo.method) else { return nil }
        // Over UDP anyone can draw 404s in a prefix's name: a member with good history is never refused.
        if !state.good, Self.isScanned(prefixesOf: source, narrowPrefix: narrowPrefix, in: prefixes, now: now) {
            count(.enumeration)
            return .enumeration
        }
        let settings = rules.enumeration
        var window = state.enumeration.current(at: now, length: settings.window)
        let seenUser = window.add(user: memo.target)
        if let number = Self.number(message.targetUser, bytes), number != window.lastNumber {
            // The length of the run of consecutive numbers this one ends: 1 when it continues none (the
            // same number again, a phone's SUBSCRIBE after its REGISTER, neither ends nor continues one).
            window.sequential =
                number == window.lastNumber &+ 1 || number == window.lastNumber &- 1 ? window.sequential &+ 1 : 1
            window.lastNumber = number
        }
        if window.waits(message.method, seenUser: seenUser, settings, now: now) {
            state.enumeration = window
            return nil
        }
        // Each multiple of a threshold crossed scores once: a long scan keeps adding points.
        let levels = window.levels(settings)
        state.enumeration = window
        // A user it tried just before passes: forged REGISTERs in a trunk's name must not stop its OPTIONS
        // pings to one user.
        if state.good {
            let scanning =
                !state.recent.hasOther(to: memo)
                && (levels > Int(window.scoredLevels) || Int(window.notFound) >= settings.notFound)
            if scanning { count(.enumeration) }
            return scanning ? .enumeration : nil
        }
        if levels > Int(window.scoredLevels) {
            parts[.enumeration] += rules.score[.enumeration] * Double(levels - Int(window.scoredLevels))
            state.enumeration.scoredLevels = UInt8(min(levels, 255))
            count(.enumeration)
        }
        return nil
    }

    /// Whether one of `source`'s prefixes, its /24, or its /64 or /48 (a scan rotating through the /64s of
    /// a site's or customer's /48), is being scanned (`notFound(atPrefixOf:)`) and holds no good member
    /// (an office whose phones registered, in IPv6 one that authenticated). `narrowPrefix` is the slot of
    /// its /24 or /64 when known. Static: as a method, each call from the mutating `enumeration` took a
    /// copy of the whole engine (1,968 bytes) to call it with.
    static func isScanned(
        prefixesOf source: IPAddress, narrowPrefix: Int?, in prefixes: BoundedTable<PrefixKey, PrefixState>,
        now: Timestamp
    ) -> Bool {
        func scanned(_ slot: Int) -> Bool {
            prefixes.values[slot].scanningUntil > now.nanoseconds && prefixes.values[slot].goodMembers == 0
        }
        if let narrowPrefix, scanned(narrowPrefix) { return true }
        guard let wide = PrefixKey(wideOf: source), let slot = prefixes.find(wide) else { return false }
        return scanned(slot)
    }

    /// Whether the answer to `request` can tell a scanner that its user exists. Not for an ACK (never
    /// answered), a CANCEL (answered for its transaction), nor a request inside a dialog (a To tag: a
    /// server answers 481 where it has no such dialog, whatever the user), which a carrier or provider
    /// sends for each of its calls to as many users as it calls; but for a REGISTER, whose To tag means
    /// nothing to a registrar.
    static func probesUser(_ request: SIPMessage) -> Bool {
        switch request.method {
        case .ack, .cancel: false
        case .register: true
        default: request.to.tag.isEmpty
        }
    }

    /// The user part as a number when it is all digits (at most 18), else nil.
    static func number(_ user: ByteRange, _ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard !user.isEmpty, user.count <= 18 else { return nil }
        var value: UInt64 = 0
        for k in user.range {
            guard ByteClass.isDigit(bytes[k]) else { return nil }
            value = value * 10 + UInt64(bytes[k] - 0x30)
        }
        return value
    }
}

extension EnumerationWindow {
    init(start: Int64) {
        self.start = start
    }

    /// This window, or a new one from `now` when more than `length` passed since it began (a
    /// registration grace this one used is over in the next).
    func current(at now: Timestamp, length: Int64) -> EnumerationWindow {
        guard now.nanoseconds - start > length else { return self }
        var next = EnumerationWindow(start: now.nanoseconds)
        next.grace = grace == .ended || grace == .open && usedGrace ? .ended : .unused
        return next
    }
}
