import Synchronization

/// What the engine remembers about an IPv4 /24, IPv6 /64 or IPv6 /48.
struct PrefixState {
    var buckets = ClassBuckets()
    var lastSeen: Int64 = 0
    /// Members banned within the current prefix-ban window.
    var bannedMembers: UInt16 = 0
    var windowStart: Int64 = 0
    /// Good members (`Engine.protectPrefixes`): a prefix holding one is never banned as a whole.
    var goodMembers: UInt16 = 0
    /// When the prefix as a whole is banned until.
    var bannedUntil: Int64 = 0
    /// 404 answers (and 403s to requests without credentials) to its unproven members in the window from
    /// `notFoundStart`, and until when their scans are refused (`Engine.enumeration`).
    var notFound: UInt16 = 0
    var notFoundStart: Int64 = 0
    var scanningUntil: Int64 = 0

    static func retention(_ state: PrefixState) -> Int64 {
        state.goodMembers > 0 ? .max : state.lastSeen &+ Int64(state.bannedMembers) * 600 * 1_000_000_000
    }
}

/// A prefix as a table key: the masked address and the prefix length.
struct PrefixKey: TableKey {
    var address: IPAddress
    var length: UInt8

    func tableHash(seed: UInt64) -> UInt64 { ByteHash.mix(address.tableHash(seed: seed) ^ UInt64(length)) }
}

/// What the engine remembers about one target user (an extension or account), shared by all queues.
struct UserState {
    /// The source of the user's last successful REGISTER.
    var boundSource: IPAddress?
    var boundAt: Int64 = 0
    /// Failed authentications against this user in the guessing window (`failureSources`: from where).
    var failures: UInt16 = 0
    /// Those of them whose requests did not prove where they came from (`RequestMemo.provesAddress`).
    var unprovenFailures: UInt16 = 0
    var failureSources = SIMD8<UInt32>()
    var windowStart: Int64 = 0
    /// Until when only the bound source may try to authenticate as this user.
    var underAttackUntil: Int64 = 0
    /// Until when a try at this user from elsewhere than its bound source must prove its address: after
    /// as many unproven failures as distributed guessing needs, from any number of addresses (a guesser
    /// with good history using nonces fetched at another address of its own is not scored for them).
    var provenOnlyUntil: Int64 = 0
    var calls = TokenBucket.empty
    var lastSeen: Int64 = 0
    /// When the user last failed to authenticate with a request that proved its address, from anywhere
    /// (0: never).
    var lastFailure: Int64 = 0
    /// The addresses the account gave standing to (`Engine.authenticate`; `UserTables.addressKey`s), and
    /// when each last authenticated as it, in whole seconds (UserState+Standing.swift).
    var standingFrom = SIMD8<UInt32>()
    var standingAt = SIMD8<UInt32>()
    /// The accounts missed at addresses standing on this one (`countSpray`), in the `standingWindow`
    /// from `sprayStart` (a bit each), and until when a spray or scan from them spent its standing.
    var sprayedAccounts = SIMD4<UInt64>()
    var sprayStart: Int64 = 0
    var sprayingUntil: Int64 = 0

    /// The least time between two failures of one account that a phone with a wrong password leaves: it
    /// retries its registration every 30 s or more. A guesser at one account fails faster, from one
    /// address or many.
    static let phonePace: Int64 = 20_000_000_000

    /// Adds a failing source (`UserTables.addressKey`); returns the distinct failing sources remembered
    /// (up to 8), and whether the source was not among them yet.
    mutating func addFailure(from source: UInt32) -> (sources: Int, new: Bool) {
        failures &+= 1
        var empty = -1
        for i in 0..<8 {
            if failureSources[i] == source { return (distinctSources, false) }
            if failureSources[i] == 0, empty < 0 { empty = i }
        }
        failureSources[empty >= 0 ? empty : Int(failures) & 7] = source
        return (distinctSources, true)
    }

    /// Takes back the failure `source` had in the window at `now` (`window` long), if it had one: its
    /// phone then registered, so that failure was a nonce the server no longer knew, not a guess.
    mutating func forgiveFailure(of source: UInt32, now: Timestamp, window: Int64) -> Bool {
        guard now.nanoseconds - windowStart <= window else { return false }
        for i in 0..<8 where failureSources[i] == source {
            failureSources[i] = 0
            failures = failures > 0 ? failures - 1 : 0
            return true
        }
        return false
    }

    var distinctSources: Int {
        var count = 0
        for i in 0..<8 where failureSources[i] != 0 { count += 1 }
        return count
    }

    /// A bound user, or an account that gave an address standing, is kept a day past its last use (a
    /// flood of new keys must not push out the account a PBX authenticating its calls stands on); a user
    /// under attack at least until the attack's window ends, so that a flood of new keys (held calls,
    /// forged failures) cannot lift its protection.
    static func retention(_ state: UserState) -> Int64 {
        let kept = max(state.lastSeen, state.underAttackUntil, state.provenOnlyUntil)
        let gaveStanding = state.standingFrom[0] != 0
        return state.boundSource != nil || gaveStanding ? kept &+ 86_400 * 1_000_000_000 : kept
    }
}

/// A user as a table key: the hash of the user part's bytes.
struct UserKey: TableKey {
    var hash: UInt64
    func tableHash(seed: UInt64) -> UInt64 { ByteHash.mix(hash ^ seed) }
}

/// A digest response seen before: which address and dialog used the (nonce, nc, cnonce). Or a challenge
/// the server sent (`Engine.challengeRecordKey`): to which site first (`callID` 0), whether to another
/// too, and when last sent or answered.
struct NonceUse {
    /// Where it was used (the address's hash), or for a challenge where it was sent (`Engine.site(of:)`).
    var source: UInt64 = 0
    var callID: UInt64 = 0
    var seenAt: Int64 = 0
    /// A challenge's nonce the server sent to more than one address (a registrar whose nonces depend on
    /// the time only): it proves none of them.
    var sentToSeveral = false

    static func retention(_ use: NonceUse) -> Int64 { use.seenAt }
}

/// A dialog the server is in (`Engine.dialogKey`: its Call-ID and the server's tag in it): a call it
/// answered 2xx, or one whose INVITE it sent itself.
struct Dialog {
    var lastSeen: Int64 = 0
    /// The user of the server's side's Contact (its hash), where the other party sends its re-INVITEs.
    var contactUser: UInt64 = 0
    /// The other party showed it is there: its ACK carried the server's 2xx's To tag (a forger of the
    /// caller's address never sees it), or the server placed the call.
    var confirmed = false

    /// One never confirmed goes before any confirmed one seen in the last hour: a spoofed flood of calls
    /// an IVR answers does not push out the calls going on.
    static func retention(_ dialog: Dialog) -> Int64 {
        dialog.confirmed ? dialog.lastSeen : dialog.lastSeen &- 3600 * 1_000_000_000
    }
}

/// The per-user and digest-nonce tables every queue's engine shares, behind one lock.
///
/// One engine per queue owns its sources, prefixes and budgets lock-free: the kernel balances queues
/// by address pair, so a source and the server's answers to it always meet the same engine. Users and
/// nonces are global by nature (a distributed attack on one user, or a replayed nonce, arrives on every
/// queue), so they live here. Only REGISTER and INVITE requests, requests with credentials, and the
/// server's answers to them and its challenges take the lock; everything else never touches it. Replay
/// and tests give each engine its own.
public final class SharedTables: Sendable {
    let tables: Mutex<UserTables>
    public let userCapacity: Int
    public let nonceCapacity: Int
    /// The users table's seed, which never changes: read without the lock.
    let usersSeed: UInt64

    public init(_ rules: RuleSet, seeding: TableSeeding = .random) {
        let tables = UserTables(rules, seeding: seeding)
        userCapacity = tables.users.capacity
        nonceCapacity = tables.nonces.capacity
        usersSeed = tables.users.seed
        self.tables = Mutex(tables)
    }

    /// The users-table key of the calls abroad an address places with no account to count them against
    /// (its transfers, and calls whose credentials do not prove they are its own): its hash under the
    /// table's seed, so that nobody outside can choose an address whose key is a victim account's and
    /// spend that account's calls.
    func callsAbroad(of address: IPAddress) -> UInt64 {
        ByteHash.mix(address.tableHash(seed: usersSeed) ^ 0x7EA5_FE55_0F_CA11)
    }

    /// Runs `body` with the tables locked.
    @inline(__always)
    func withLock<Result>(_ body: (inout UserTables) -> Result) -> Result {
        tables.withLock { body(&$0) }
    }

    /// Entries in use: (users, nonces).
    public var fill: (users: Int, nonces: Int) { tables.withLock { ($0.users.count, $0.nonces.count) } }

    /// Every user bound to an address, in user order.
    public func bindings() -> [UserBinding] {
        withLock { tables in
            tables.users.entries.compactMap { key, user in
                user.boundSource.map {
                    UserBinding(user: key.hash, address: $0, boundAt: Timestamp(nanoseconds: user.boundAt))
                }
            }
        }.sorted { $0.user < $1.user }
    }

    /// Takes back bindings made before a restart (their `boundAt` on this process's clock), each unless
    /// the user is bound already or was bound more than `maxAge` before `now`; returns how many.
    public func restore(_ bindings: [UserBinding], now: Timestamp, maxAge: Int64 = ProvenSource.maxAge) -> Int {
        withLock { tables in
            var restored = 0
            for binding in bindings {
                let boundAt = min(binding.boundAt, now).nanoseconds
                guard now.nanoseconds - boundAt <= maxAge,
                    let slot = tables.users.findOrInsert(
                        UserKey(hash: binding.user), UserState(), retention: UserState.retention),
                    tables.users.values[slot].boundSource == nil
                else { continue }
                tables.users.values[slot].boundSource = binding.address
                tables.users.values[slot].boundAt = boundAt
                tables.users.values[slot].lastSeen = max(tables.users.values[slot].lastSeen, boundAt)
                restored += 1
            }
            return restored
        }
    }
}

/// The tables behind `SharedTables`' lock.
struct UserTables: Sendable {
    var users: BoundedTable<UserKey, UserState>
    var nonces: BoundedTable<UserKey, NonceUse>
    /// A quarter of the nonce table's size: a request waits here for its answer only, milliseconds.
    var lost: LostRequests
    /// The dialogs the server is in (`tables.dialogs`): a re-INVITE in one of them (a hold, a session
    /// refresh, a phone that moved) is no new call.
    var dialogs: BoundedTable<UserKey, Dialog>

    init(_ rules: RuleSet, seeding: TableSeeding) {
        users = BoundedTable(
            capacity: rules.tables.users, emptyValue: UserState(), seed: seeding.seed(3))
        nonces = BoundedTable(
            capacity: rules.tables.nonces, emptyValue: NonceUse(), seed: seeding.seed(4))
        lost = LostRequests(capacity: Self.lostCapacity(rules), seed: seeding.seed(5))
        dialogs = BoundedTable(capacity: rules.tables.dialogs, emptyValue: Dialog(), seed: seeding.seed(6))
    }

    static func lostCapacity(_ rules: RuleSet) -> Int { max(rules.tables.nonces / 4, 1) }

    /// How a `UserState` holds an address (`failureSources`, `standingFrom`): the low 32 bits of its hash
    /// under the users table's seed (random in the daemon: nobody outside can choose addresses that share
    /// one), never 0 (an empty slot).
    func addressKey(_ address: IPAddress) -> UInt32 {
        UInt32(truncatingIfNeeded: address.tableHash(seed: users.seed)) | 1
    }

    /// Counts a miss of `account` (a user hash) at an address standing on `standing` (a user hash; 0
    /// for none known: nothing to count) (`UserState.countSpray`), in the bit its hash takes under the
    /// users table's seed: nobody outside can choose accounts that share bits, to spray more of them
    /// than the count shows.
    mutating func countSpray(of account: UInt64, at standing: UInt64, now: Timestamp, limit: Int) {
        guard standing != 0, let slot = users.find(UserKey(hash: standing)) else { return }
        let bit = Int(truncatingIfNeeded: ByteHash.mix(account ^ users.seed) >> 56)
        users.values[slot].countSpray(bit: bit, at: now, limit: limit)
    }

    /// Counts `missed` (a user hash; 0 for none) as a miss at `address`, standing on `account` (0 for none
    /// known) (`countSpray`); then whether the account still holds the address's standing
    /// (`holdsStanding`): what a failed authentication or a 404 at an authenticated address asks.
    mutating func holdsStanding(
        _ account: UInt64, of address: IPAddress, missing missed: UInt64, now: Timestamp, guessing: RuleSet.Guessing
    ) -> Bool {
        if missed != 0 { countSpray(of: missed, at: account, now: now, limit: guessing.sprayAccounts) }
        return holdsStanding(account, of: address, at: now, limit: guessing.accountAddresses)
    }

    /// Whether `account` (a user hash, 0 for none known) still holds the standing it gave `address`
    /// (`UserState.holdsStanding`). An account no longer remembered proves nothing either way: the
    /// address keeps it.
    func holdsStanding(_ account: UInt64, of address: IPAddress, at now: Timestamp, limit: Int) -> Bool {
        guard account != 0, let slot = users.find(UserKey(hash: account)) else { return true }
        return users.values[slot].holdsStanding(of: addressKey(address), at: now, limit: limit)
    }

    /// The memory these tables take under `rules`.
    static func bytes(_ rules: RuleSet) -> Int {
        BoundedTable<UserKey, UserState>.bytes(capacity: rules.tables.users)
            + BoundedTable<UserKey, NonceUse>.bytes(capacity: rules.tables.nonces)
            + LostRequests.bytes(capacity: lostCapacity(rules))
            + BoundedTable<UserKey, Dialog>.bytes(capacity: rules.tables.dialogs)
    }
}

/// The global budgets (per method class, and for unknown sources) as one queue's share of them.
///
/// Every inbound packet spends from these, so they stay queue-local and lock-free: with N queues each
/// engine holds 1/N of every global rate and burst, and together they never exceed the configured
/// budget. (The kernel spreads address pairs evenly; a skewed spread only makes the budget stricter.)
struct GlobalBudgets {
    var global = ClassBuckets()
    var unknownSources: TokenBucket
    /// This engine's fraction of each global budget, in (0, 1].
    let share: Double

    init(_ limits: RuleSet.Limits, share: Double, at now: Timestamp) {
        self.share = share
        unknownSources = TokenBucket(
            share == 1 ? limits.unknownSources : Self.scale(limits.unknownSources, by: share), at: now)
        global = ClassBuckets(limits.classes.map { Self.scale($0.global, by: share) }, at: now)
    }

    /// `rate` cut to this engine's share.
    @inline(__always)
    func scaled(_ rate: Rate) -> Rate { share == 1 ? rate : Self.scale(rate, by: share) }

    static func scale(_ rate: Rate, by share: Double) -> Rate {
        Rate(perSecond: rate.perSecond * share, burst: rate.burst * share)
    }
}
