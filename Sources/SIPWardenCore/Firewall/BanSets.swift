/// The kernel ban sets and the packet marks that fill them: one class per `bans.ttl` entry, each with a
/// set for addresses and one for prefixes, per address family. The firewall generator and the daemon
/// both derive names and marks from here, so they always agree.
public struct BanSets: Equatable, Sendable {
    /// Bits of the packet mark SIPWarden owns.
    public static let markMask: UInt32 = 0xFFFF
    /// Bits 8–15 say "a SIPWarden verdict"; a packet carrying them is never queued again.
    public static let verdictMark: UInt32 = 0x5700
    public static let verdictMask: UInt32 = 0xFF00
    /// Bit 7 says the ban covers the source's prefix; bits 0–6 hold the class (1-based).
    public static let prefixFlag: UInt32 = 0x80
    /// A SIPWarden verdict with no class: the packet is a TCP segment whose message a detector refused,
    /// and the firewall answers it with a TCP reset (`PacketFilter.Outcome.resetsConnection`).
    public static let resetMark: UInt32 = verdictMark
    /// The nftables table (family `inet`) that holds the sets and chains of the nft flavour.
    public static let nftTable = "sipwarden"
    /// Entries each set holds at most (ipset `maxelem`, nft `size`); a full set drops without adding.
    public static let capacity = 65536
    /// The most classes the mark's 7 class bits hold (`bans.ttl` entries).
    public static let largestClass = 127
    /// The longest ban: ipset's longest timeout, 2,147,483 s (24 days and a bit), in nanoseconds.
    public static let longestTimeout: Int64 = 2_147_483 * 1_000_000_000

    /// One ban class: its number and TTL.
    public struct Class: Equatable, Sendable {
        public var number: Int
        public var ttl: Int64
        /// The TTL in whole seconds (at least one), as ipset and nft timeouts take it.
        public var ttlSeconds: Int64 { max(1, ttl / 1_000_000_000) }
    }

    /// One kernel set.
    public struct Set: Equatable, Sendable {
        public var name: String
        public var family: IPAddress.Family
        public var banClass: Class
        /// Whether it holds prefixes (/24 for IPv4, /64 for IPv6) rather than addresses.
        public var holdsPrefixes: Bool
        public var prefixLength: Int { BanSets.prefixLength(family, prefix: holdsPrefixes) }
        public var mark: UInt32 { BanSets.mark(class: banClass.number, prefix: holdsPrefixes) }
    }

    /// The kernel tool a firewall flavour keeps its sets in.
    public enum Backend: Sendable {
        /// `ipset`, for the iptables and ip6tables flavours.
        case ipset
        /// nft sets in table `inet sipwarden`.
        case nft
    }

    public let classes: [Class]

    public init(_ bans: RuleSet.Bans) {
        classes = bans.ttl.enumerated().map { Class(number: $0.offset + 1, ttl: $0.element) }
    }

    public static func mark(class number: Int, prefix: Bool) -> UInt32 {
        verdictMark | (prefix ? prefixFlag : 0) | UInt32(number & 0x7F)
    }

    /// The length of what a set of `family` holds: the address alone, or its /24 or /64.
    public static func prefixLength(_ family: IPAddress.Family, prefix: Bool) -> Int {
        switch (family, prefix) {
        case (.v4, false): return 32
        case (.v4, true): return 24
        case (.v6, false): return 128
        case (.v6, true): return 64
        }
    }

    /// The class a source's `offence`-th ban falls in (the last class repeats).
    public func banClass(offence: Int) -> Class { classes[min(max(offence, 1), classes.count) - 1] }

    /// The mark the daemon puts on a packet whose decision is `ban`.
    public func mark(for ban: Decision.Ban) -> UInt32 {
        Self.mark(
            class: banClass(offence: ban.offence).number, prefix: ban.prefixLength != 32 && ban.prefixLength != 128)
    }

    /// Every set, addresses before prefixes, IPv4 before IPv6.
    public var sets: [Set] {
        [IPAddress.Family.v4, .v6].flatMap { family in
            [false, true].flatMap { prefixes in
                classes.map { banClass in
                    Set(
                        name: "sipwarden-\(family == .v4 ? "v4" : "v6")-\(prefixes ? "p" : "c")\(banClass.number)",
                        family: family, banClass: banClass, holdsPrefixes: prefixes)
                }
            }
        }
    }

    /// One entry of a kernel ban set: an address, or the first address of a /24 or /64 in a prefix set.
    public struct Entry: Hashable, Sendable {
        public var set: String
        public var address: IPAddress

        public init(set: String, address: IPAddress) {
            self.set = set
            self.address = address
        }
    }

    /// The entries of `held` an unban of `targets` lifts, in set and address order: each entry of a
    /// SIPWarden set whose address (or block, in a prefix set) overlaps a target, so that an address
    /// lifts the block banned around it and a block lifts every ban inside it. A set is known by its
    /// name, so the sets of classes a reload took out of `bans.ttl` are lifted from too.
    public static func entriesLifted(by targets: [IPPrefix], from held: some Sequence<Entry>) -> [Entry] {
        // A target covering an entry's block: the entry's address masked to the target's length is it.
        let covering = Dictionary(grouping: targets, by: \.length).mapValues { Swift.Set($0.map(\.address)) }
        // A target inside an entry's block: the target's address masked to the block's length is the block.
        let blockLengths = [24, 32, 64, 128]
        let inside = Dictionary(
            uniqueKeysWithValues: blockLengths.map { length in
                (
                    length,
                    Swift.Set(targets.filter { $0.length > length }.map { IPPrefix.masked($0.address, to: length) })
                )
            })
        let lifted = held.filter { entry in
            guard let block = blockLength(ofSetNamed: entry.set, holding: entry.address) else { return false }
            return inside[block]?.contains(IPPrefix.masked(entry.address, to: block)) == true
                || covering.contains { length, addresses in
                    length <= block && addresses.contains(IPPrefix.masked(entry.address, to: length))
                }
        }
        return lifted.sorted { ($0.set, $0.address) < ($1.set, $1.address) }
    }

    /// The length of the blocks a SIPWarden set named `name` holds (`sipwarden-v4-p3`: /24), nil for
    /// another set, or one whose family is not `address`'s.
    static func blockLength(ofSetNamed name: String, holding address: IPAddress) -> Int? {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "sipwarden", let kind = parts[2].first, kind == "c" || kind == "p",
            parts[2].count > 1, parts[2].dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }),
            parts[1] == (address.family == .v4 ? "v4" : "v6")
        else { return nil }
        return prefixLength(address.family, prefix: kind == "p")
    }

    /// The input that deletes `entries`: `del SET ADDRESS` lines for `ipset restore -exist` (which
    /// passes over an entry gone meanwhile), and for `nft -f -`, whose batch fails whole on one missing
    /// element (one that expired since it was listed), each element added, then deleted.
    public static func deletionScript(_ entries: [Entry], backend: Backend) -> String {
        entries.map { entry in
            switch backend {
            case .ipset: return "del \(entry.set) \(entry.address)\n"
            case .nft:
                let element = "element inet \(nftTable) \(entry.set) { \(entry.address) }"
                return "add \(element)\ndelete \(element)\n"
            }
        }.joined()
    }
}
