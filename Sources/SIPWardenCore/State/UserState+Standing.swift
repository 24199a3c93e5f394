/// The standing (`SourceState.authenticated`: an office's allowances) an account gives the addresses
/// that authenticate as it: a few at a time, and none while they spray passwords over other accounts.
extension UserState {
    /// The window in which eight addresses that took an account's standing keep it from any new one
    /// (`givesStanding`), and in which a spray's accounts are counted (`countSpray`).
    static let standingWindow: Int64 = 3600 * 1_000_000_000

    /// How long a spray from the addresses standing on an account spends its standing (`countSpray`): a
    /// day, so that a guesser who waits out the ban re-registers without it.
    static let spentPeriod: Int64 = 86_400 * 1_000_000_000

    /// Whether the account gives standing to the address whose key is `address`, which just
    /// authenticated as it at `now`: not while a spray spent it (`countSpray`); else to one it gave
    /// standing to before (now the latest again), and to a new one unless eight others already took it
    /// within `standingWindow` (an office on a line whose address changes at each reconnect takes a few;
    /// a guesser with one cracked password would take every address of its /64 or botnet, and each one
    /// with standing is never evicted from the source table).
    mutating func givesStanding(to address: UInt32, at now: Timestamp) -> Bool {
        guard sprayingUntil <= now.nanoseconds else { return false }
        let seconds = UInt32(truncatingIfNeeded: now.nanoseconds / 1_000_000_000)
        let window = Int32(Self.standingWindow / 1_000_000_000)
        // The slot a new address takes: the first empty one (slots fill in order and are never emptied,
        // so none follows it), else the one idle longest, unless every one took it within the window.
        var replaced = 0
        var longest = Int32.min
        for i in 0..<8 {
            if standingFrom[i] == address {
                standingAt[i] = seconds
                return true
            }
            if standingFrom[i] == 0 {
                replaced = i
                longest = .max
                break
            }
            // Signed: a time after `now` (out of order in a capture) is recent.
            let idle = Int32(bitPattern: seconds &- standingAt[i])
            if idle > longest {
                longest = idle
                replaced = i
            }
        }
        guard longest > window else { return false }
        standingFrom[replaced] = address
        standingAt[replaced] = seconds
        return true
    }

    /// Whether the account still holds the standing it gave the address whose key is `address`
    /// (`givesStanding`): no spray spent it, and the address is one of the `limit` that authenticated as
    /// it last. A guesser's cracked account lends standing to a few addresses at a time, however many
    /// it had; a phone's account keeps its office's while the phone refreshes its registration.
    func holdsStanding(of address: UInt32, at now: Timestamp, limit: Int) -> Bool {
        guard sprayingUntil <= now.nanoseconds else { return false }
        for i in 0..<8 where standingFrom[i] == address {
            // Those that authenticated after it, in whole seconds; in the same second, the later slots
            // (an order, however arbitrary, so that no more than `limit` hold it).
            var later = 0
            for j in 0..<8 where standingFrom[j] != 0 {
                let after = Int32(bitPattern: standingAt[j] &- standingAt[i])
                if after > 0 || after == 0 && j > i { later += 1 }
            }
            return later < limit
        }
        return false
    }

    /// Counts a miss at an address standing on this account, in `bit` (0..<256, the missed account's;
    /// `UserTables.countSpray`): a failed authentication that proved its address, of another account than
    /// the one registered there, or a 404 (a 403 without credentials) to a probe that proved it. Past
    /// `limit` distinct accounts in a `standingWindow` (a linear-counting estimate), the misses are a
    /// password spray or an extension scan, and the account gives and holds no standing for a
    /// `spentPeriod`. An office's phones with wrong passwords retry the same few accounts; a guesser who
    /// cracked one password tries account after account.
    mutating func countSpray(bit: Int, at now: Timestamp, limit: Int) {
        lastSeen = max(lastSeen, now.nanoseconds)
        if now.nanoseconds - sprayStart > Self.standingWindow {
            sprayStart = now.nanoseconds
            sprayedAccounts = SIMD4()
        }
        sprayedAccounts[bit >> 6] |= 1 << UInt64(bit & 63)
        var set = 0
        for word in 0..<4 { set += sprayedAccounts[word].nonzeroBitCount }
        if LinearCounting.estimate(set: set, of: 256) > Double(limit) {
            sprayingUntil = now.nanoseconds + Self.spentPeriod
        }
    }
}
