/// What the daemon asks of an engine between packets: ban records, unbans, a look at its tables, and
/// the proven sources kept across a restart.
extension Engine {
    /// Hands every pending ban record to `body`, oldest first, and forgets them (keeping the storage,
    /// so draining after every batch allocates nothing).
    public mutating func drainBans(_ body: (BanRecord) -> Void) {
        guard !pendingBans.isEmpty else { return }
        for record in pendingBans { body(record) }
        pendingBans.removeAll(keepingCapacity: true)
    }

    /// Lifts the engine's bans on `target` (an address or a prefix) and on every source and prefix that
    /// overlaps it; their scores start again from zero, their offence count (which escalates the next
    /// ban's TTL) stays. Returns how many entries were lifted. Walks the tables: not for the hot path.
    public mutating func unban(_ target: IPPrefix, now: Timestamp) -> Int {
        var lifted = 0
        for (slot, address) in sources.storedKeys
        where target.contains(address) && sources.values[slot].bannedUntil > now.nanoseconds {
            sources.values[slot].bannedUntil = 0
            sources.values[slot].score = 0
            lifted += 1
        }
        for (slot, key) in prefixes.storedKeys where prefixes.values[slot].bannedUntil > now.nanoseconds {
            guard IPPrefix(address: key.address, length: Int(key.length)).overlaps(target) else { continue }
            prefixes.values[slot].bannedUntil = 0
            prefixes.values[slot].bannedMembers = 0
            lifted += 1
        }
        return lifted
    }

    /// The sources that proved themselves (good history or authentication), with their last packet on
    /// the engine's clock: what a restart should not forget. Walks the table: not for the hot path.
    public func provenSources() -> [ProvenSource] {
        sources.storedKeys.compactMap { slot, address in
            let state = sources.values[slot]
            guard state.good || state.authenticated else { return nil }
            return ProvenSource(
                address: address, good: state.good, authenticated: state.authenticated,
                upstream: state.registeredWithByServer, account: state.standingAccount,
                lastSeen: Timestamp(nanoseconds: state.lastSeen))
        }
    }

    /// Takes back sources proven before a restart (their `lastSeen` on this engine's clock): each is
    /// added, or joined to the entry the engine already has, which keeps its own proofs and gains these.
    /// An entry last seen more than `maxAge` before `now`, or with neither flag, is skipped; one whose
    /// table window is full of protected entries is not stored, as for any new source. An authenticated
    /// one gets its standing back as the account it stood on (`authenticate`: so again at most eight new
    /// addresses an hour per account), or, from a file that names none, as a user bound to it (the shared
    /// tables' bindings, restored first); without either, good history only: one cracked account's
    /// standing lent to many addresses is not restored to all. Returns how many were taken in.
    public mutating func restore(
        _ proven: [ProvenSource], now: Timestamp, maxAge: Int64 = ProvenSource.maxAge
    ) -> Int {
        // Looked up only for a file written before it named the accounts: it walks the users table.
        let boundUsers: [IPAddress: UInt64] =
            !proven.contains { $0.authenticated && $0.account == 0 }
            ? [:]
            : shared.withLock { tables in
                var users: [IPAddress: UInt64] = [:]
                for (key, user) in tables.users.entries { if let bound = user.boundSource { users[bound] = key.hash } }
                return users
            }
        var restored = 0
        for source in proven where source.good || source.authenticated {
            let lastSeen = min(source.lastSeen, now)
            guard now.nanoseconds - lastSeen.nanoseconds <= maxAge,
                let slot = sources.findOrInsert(
                    source.address, SourceState(at: lastSeen, limits: rules.limits), retention: SourceState.retention)
            else { continue }
            inPlace(source: slot) { engine, state in
                // Through `becomeGood`, so that its prefixes are again protected from a prefix ban.
                if source.good { engine.becomeGood(&state, source.address, now: now) }
                if source.authenticated, let account = source.account != 0 ? source.account : boundUsers[source.address]
                {
                    engine.authenticate(&state, source.address, as: account, givesStanding: nil, now: now)
                }
                if source.upstream { engine.becomeUpstream(&state, source.address, now: now) }
                state.lastSeen = max(state.lastSeen, lastSeen.nanoseconds)
            }
            restored += 1
        }
        return restored
    }

    /// How full the engine's tables are and which sources score highest, at `now`.
    public func snapshot(at now: Timestamp, top count: Int) -> EngineSnapshot {
        let halfLife = rules.score.halfLife
        var top: [EngineSnapshot.Source] = []
        // With no top list wanted (a metrics scrape), the table walk is skipped.
        for (slot, address) in count > 0 ? sources.storedKeys : [] {
            let state = sources.values[slot]
            let score = state.score(at: now, halfLife: halfLife)
            guard score > 0 || state.bannedUntil > now.nanoseconds else { continue }
            let entry = EngineSnapshot.Source(
                address: address, score: score, packets: Int(state.packets),
                banned: state.bannedUntil > now.nanoseconds, good: state.good)
            if top.count < count {
                top.append(entry)
            } else if let weakest = top.indices.min(by: { top[$0].score < top[$1].score }),
                top[weakest].score < score
            {
                top[weakest] = entry
            }
        }
        top.sort { ($0.score, $1.address) > ($1.score, $0.address) }
        let (users, nonces) = shared.fill
        return EngineSnapshot(
            tables: [
                .init(name: "sources", entries: sources.count, capacity: sources.capacity),
                .init(name: "prefixes", entries: prefixes.count, capacity: prefixes.capacity),
                .init(name: "users", entries: users, capacity: shared.userCapacity),
                .init(name: "nonces", entries: nonces, capacity: shared.nonceCapacity),
            ],
            topSources: top, counters: counters)
    }
}

/// One engine's tables and its highest-scoring sources at one moment (for `sipwarden stats`).
public struct EngineSnapshot: Sendable, Equatable {
    /// How full one bounded table is.
    public struct Table: Sendable, Equatable {
        public var name: String
        public var entries: Int
        public var capacity: Int
    }

    /// A source the engine holds a score for.
    public struct Source: Sendable, Equatable {
        public var address: IPAddress
        public var score: Double
        public var packets: Int
        public var banned: Bool
        public var good: Bool
    }

    public var tables: [Table]
    /// Highest score first.
    public var topSources: [Source]
    public var counters: EngineCounters
}
