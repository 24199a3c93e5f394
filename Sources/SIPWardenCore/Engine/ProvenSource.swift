/// A source that proved itself to the server, as kept across a restart: what `Engine.provenSources`
/// exports and `Engine.restore` takes back.
public struct ProvenSource: Equatable, Sendable {
    public var address: IPAddress
    /// A REGISTER or INVITE of it succeeded (`SourceState.good`).
    public var good: Bool
    /// A REGISTER of it, or a request whose credentials answer the server's challenge, succeeded.
    public var authenticated: Bool
    /// The server registers with it: its upstream provider (`SourceState.registeredWithByServer`).
    public var upstream: Bool
    /// The account whose success gave it standing (`SourceState.standingAccount`, a user hash), 0 for
    /// none known.
    public var account: UInt64
    /// Its last packet, on the clock of whoever holds the value (the engine's, or the state file's
    /// wall clock).
    public var lastSeen: Timestamp

    public init(
        address: IPAddress, good: Bool, authenticated: Bool, upstream: Bool = false, account: UInt64 = 0,
        lastSeen: Timestamp
    ) {
        self.address = address
        self.good = good
        self.authenticated = authenticated
        self.upstream = upstream
        self.account = account
        self.lastSeen = lastSeen
    }

    /// How old an entry may be and still be restored: a day.
    public static let maxAge: Int64 = 86_400 * 1_000_000_000

    /// One entry per address, in address order: the flags of an address held by several engines are
    /// joined, and its latest `lastSeen` kept, with the account of the entry seen latest that names one.
    public static func merged(_ sources: [ProvenSource]) -> [ProvenSource] {
        var byAddress: [IPAddress: ProvenSource] = [:]
        for source in sources {
            guard var known = byAddress[source.address] else {
                byAddress[source.address] = source
                continue
            }
            known.good = known.good || source.good
            known.authenticated = known.authenticated || source.authenticated
            known.upstream = known.upstream || source.upstream
            if source.account != 0, known.account == 0 || source.lastSeen > known.lastSeen {
                known.account = source.account
            }
            known.lastSeen = max(known.lastSeen, source.lastSeen)
            byAddress[source.address] = known
        }
        return byAddress.values.sorted { $0.address < $1.address }
    }
}

/// A user bound to the address of its last successful REGISTER, as kept across a restart: failures of
/// that user from that address are its own phone's (a password changed on the server), which the
/// office's other phones must not pay for when the daemon restarts before they register again.
public struct UserBinding: Equatable, Sendable {
    /// The user's hash (`ByteHash` of its name, the same in every process): no names in clear.
    public var user: UInt64
    public var address: IPAddress
    /// When it was bound, on the clock of whoever holds the value.
    public var boundAt: Timestamp

    public init(user: UInt64, address: IPAddress, boundAt: Timestamp) {
        self.user = user
        self.address = address
        self.boundAt = boundAt
    }
}
