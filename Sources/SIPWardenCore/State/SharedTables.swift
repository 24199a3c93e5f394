/// What the engine remembers about an IPv4 /24, IPv6 /64 or IPv6 /48.
struct PrefixState {
    var buckets = ClassBuckets()
    var lastSeen: Int64 = 0
    /// Members banned within the current prefix-ban window.
    var bannedMembers: UInt16 = 0
    var windowStart: Int64 = 0
    /// Members with good history: a prefix holding one is never banned as a whole.
    var goodMembers: UInt16 = 0
    /// When the prefix as a whole is banned until.
    var bannedUntil: Int64 = 0

    static func retention(_ state: PrefixState) -> Int64 {
        state.goodMembers > 0 ? .max : state.lastSeen &+ Int64(state.bannedMembers) * 600 * 1_000_000_000
    }
}

/// A prefix as a table key: the masked address and the prefix length.
struct PrefixKey: TableKey {
    var address: IPAddress
    var length: UInt8

    var tableHash: UInt64 { ByteHash.mix(address.tableHash ^ UInt64(length)) }
}

/// What the engine remembers about one target user (an extension or account), shared by all queues.
struct UserState {
    /// The source of the user's last successful REGISTER.
    var boundSource: IPAddress?
    var boundAt: Int64 = 0
    /// Failed authentications against this user in the guessing window, and from how many sources.
    var failures: UInt16 = 0
    var failureSources = SIMD8<UInt32>()
    var windowStart: Int64 = 0
    /// Until when only the bound source may try to authenticate as this user.
    var underAttackUntil: Int64 = 0
    var calls = TokenBucket.empty
    var lastSeen: Int64 = 0

    /// Adds a failing source; returns the distinct failing sources remembered (up to 8).
    mutating func addFailure(from source: UInt32) -> Int {
        failures &+= 1
        var empty = -1
        for i in 0..<8 {
            if failureSources[i] == source { return distinctSources }
            if failureSources[i] == 0, empty < 0 { empty = i }
        }
        failureSources[empty >= 0 ? empty : Int(failures) & 7] = source
        return distinctSources
    }

    var distinctSources: Int {
        var count = 0
        for i in 0..<8 where failureSources[i] != 0 { count += 1 }
        return count
    }

    static func retention(_ state: UserState) -> Int64 {
        state.boundSource != nil ? state.lastSeen &+ 86_400 * 1_000_000_000 : state.lastSeen
    }
}

/// A user as a table key: the hash of the user part's bytes.
struct UserKey: TableKey {
    var hash: UInt64
    var tableHash: UInt64 { hash }
}

/// A digest response seen before: which source and dialog used the (nonce, nc, cnonce).
struct NonceUse {
    var source: UInt64 = 0
    var callID: UInt64 = 0
    var seenAt: Int64 = 0

    static func retention(_ use: NonceUse) -> Int64 { use.seenAt }
}

/// The state every queue's engine shares: per-user tables, digest nonces and global budgets.
///
/// One engine per queue owns its sources; these tables are global by nature (an attack on one user
/// arrives on every queue). The daemon guards them with one lock; replay uses one engine.
struct SharedTables {
    var users: BoundedTable<UserKey, UserState>
    var nonces: BoundedTable<UserKey, NonceUse>
    var global: ClassBuckets
    var unknownSources: TokenBucket

    init(_ rules: RuleSet, at now: Timestamp) {
        users = BoundedTable(capacity: rules.tables.users, emptyKey: UserKey(hash: 0), emptyValue: UserState())
        nonces = BoundedTable(capacity: rules.tables.nonces, emptyKey: UserKey(hash: 0), emptyValue: NonceUse())
        global = ClassBuckets(rules.limits, at: now, scope: \.global)
        unknownSources = TokenBucket(rules.limits.unknownSources, at: now)
    }
}
