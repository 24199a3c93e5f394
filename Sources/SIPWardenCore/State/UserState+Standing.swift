#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The standing (`SourceState.authenticated`: an office's allowances) an account gives the addresses
/// that authenticate as it: a few at a time, and none while they spray passwords over other accounts.
extension UserState {
    /// How long an address that authenticated as an account counts against the account's
    /// `guessing.account_addresses` after it last did.
    static let standingPeriod: Int64 = 3600 * 1_000_000_000

    /// How long a spray from the addresses standing on an account spends its standing (`countSpray`): a
    /// day, so that a guesser who waits out the ban re-registers without it.
    static let spentPeriod: Int64 = 86_400 * 1_000_000_000

    /// Whether the account gives standing to `address`, which just authenticated as it at `now`: not
    /// while a spray spent it (`countSpray`); else to an address it gave standing to before (now counted
    /// afresh), and to a new one while fewer than `limit` others authenticated as it within
    /// `standingPeriod`. One account's phones are at one or two addresses in an hour (an office, a
    /// dual-stack or roaming phone, a PBX cluster's nodes); a guesser who cracked one password lends its
    /// standing to address after address of its /64 or botnet.
    mutating func givesStanding(to address: IPAddress, at now: Timestamp, limit: Int) -> Bool {
        guard sprayingUntil <= now.nanoseconds else { return false }
        let key = Self.addressKey(address)
        let seconds = UInt32(truncatingIfNeeded: now.nanoseconds / 1_000_000_000)
        let period = Int32(Self.standingPeriod / 1_000_000_000)
        var recent = 0
        // The slot a new address takes: the first empty one (slots fill in order and are never emptied,
        // so none follows it), else the one idle longest.
        var replaced = 0
        var longest = Int32.min
        for i in 0..<8 {
            if standingFrom[i] == key {
                standingAt[i] = seconds
                return true
            }
            if standingFrom[i] == 0 {
                replaced = i
                break
            }
            // Signed: a time after `now` (out of order in a capture) is recent.
            let idle = Int32(bitPattern: seconds &- standingAt[i])
            if idle <= period { recent += 1 }
            if idle > longest {
                longest = idle
                replaced = i
            }
        }
        guard recent < limit else { return false }
        standingFrom[replaced] = key
        standingAt[replaced] = seconds
        return true
    }

    /// Whether the account still holds the standing it gave `address` (`givesStanding`): no spray spent
    /// it, and the address is among the last eight it gave standing to, which a newer one pushes out
    /// once it idled longest. A guesser's cracked account lends standing to a few addresses at a time,
    /// however many it had over the hours; a phone's account keeps its office's while the phone
    /// refreshes its registration.
    func holdsStanding(of address: IPAddress, at now: Timestamp) -> Bool {
        guard sprayingUntil <= now.nanoseconds else { return false }
        let key = Self.addressKey(address)
        for i in 0..<8 where standingFrom[i] == key { return true }
        return false
    }

    /// Counts a failure of `account` (a user hash) at an address standing on this account, which the
    /// request proved and which is not that account's own phone: past `limit` distinct accounts failing
    /// in a `standingPeriod` (an estimate: −256 × ln of the share of bits still clear), the failures are
    /// a password spray, and the account gives and holds no standing for a `spentPeriod`. An office's
    /// phones with wrong passwords retry the same few accounts; a guesser who cracked one password tries
    /// account after account, however slowly.
    mutating func countSpray(of account: UInt64, at now: Timestamp, limit: Int) {
        if now.nanoseconds - sprayStart > Self.standingPeriod {
            sprayStart = now.nanoseconds
            sprayedAccounts = SIMD4()
        }
        let bit = Int(account >> 56)
        sprayedAccounts[bit >> 6] |= 1 << UInt64(bit & 63)
        var set = 0
        for word in 0..<4 { set += sprayedAccounts[word].nonzeroBitCount }
        let distinct = set == 256 ? Double.infinity : -256 * log(Double(256 - set) / 256)
        if distinct > Double(limit) { sprayingUntil = now.nanoseconds + Self.spentPeriod }
    }
}
