/// The state file's text: one proven source a line, `ADDRESS FLAG... LASTSEEN`, where the flags are
/// `good` and `authenticated` (at least one), `upstream` for the server's upstream provider, and
/// `account=HASH` for the account an authenticated one stands on, and the last packet is in whole
/// Unix seconds; then one user binding a line, `user HASH ADDRESS BOUNDAT`, hashes in 16 hex digits:
///
/// ```
/// 198.51.100.23 good authenticated account=5f3a9c0d12e4b786 1733212345
/// user 5f3a9c0d12e4b786 198.51.100.23 1733210000
/// ```
///
/// Blank lines and `#` comments are ignored. Reading is tolerant: a line that does not parse is
/// skipped and counted, never fatal, so a damaged file never keeps the daemon from starting.
extension ProvenSource {
    /// What `parse` read: the entries, and how many lines it skipped as unreadable.
    public struct Parsed: Equatable, Sendable {
        public var sources: [ProvenSource]
        public var bindings: [UserBinding]
        public var badLines: Int

        public init(sources: [ProvenSource] = [], bindings: [UserBinding] = [], badLines: Int = 0) {
            self.sources = sources
            self.bindings = bindings
            self.badLines = badLines
        }
    }

    /// The file's text for `sources` and `bindings`, their times on the wall clock; a comment line first.
    public static func render(_ sources: [ProvenSource], bindings: [UserBinding] = []) -> String {
        var text =
            "# sipwarden proven sources (address, good and/or authenticated, upstream, account, last packet in Unix"
            + " seconds),"
            + " then bound users (user, hash, address, when bound)\n"
        for source in sources where source.good || source.authenticated {
            text += source.address.description
            if source.good { text += " good" }
            if source.authenticated { text += " authenticated" }
            if source.authenticated, source.account != 0 { text += " account=\(hex(source.account))" }
            if source.upstream { text += " upstream" }
            text += " \(source.lastSeen.nanoseconds / 1_000_000_000)\n"
        }
        for binding in bindings {
            text += "user \(hex(binding.user)) \(binding.address) \(binding.boundAt.nanoseconds / 1_000_000_000)\n"
        }
        return text
    }

    /// A hash in 16 hex digits.
    static func hex(_ hash: UInt64) -> String {
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// A hash written in 16 hex digits, or nil.
    static func hash(_ word: Substring) -> UInt64? {
        word.count == 16 ? UInt64(word, radix: 16) : nil
    }

    /// The entries of a state file's text, their times on the wall clock.
    public static func parse(_ text: String) -> Parsed {
        var parsed = Parsed()
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: \.isWhitespace)
            guard let first = words.first, !first.hasPrefix("#") else { continue }
            if first == "user" {
                if let binding = binding(words) { parsed.bindings.append(binding) } else { parsed.badLines += 1 }
            } else if let source = entry(words) {
                parsed.sources.append(source)
            } else {
                parsed.badLines += 1
            }
        }
        return parsed
    }

    /// A `user HASH ADDRESS SECONDS` line's words as a binding; nil when they are not.
    static func binding(_ words: [Substring]) -> UserBinding? {
        guard words.count == 4, let user = hash(words[1]),
            let address = IPAddress(String(words[2])), let seconds = wholeSeconds(words[3])
        else { return nil }
        return UserBinding(user: user, address: address, boundAt: Timestamp(nanoseconds: seconds * 1_000_000_000))
    }

    /// Unix seconds that fit a `Timestamp`.
    static func wholeSeconds(_ word: Substring) -> Int64? {
        guard let seconds = Int64(word), seconds >= 0, seconds < Int64.max / 1_000_000_000 else { return nil }
        return seconds
    }

    /// One line's words as an entry; nil when they are not an address, known flags (`good` or
    /// `authenticated` among them, none twice; `account=HASH` with `authenticated` only) and a time in
    /// seconds.
    static func entry(_ words: [Substring]) -> ProvenSource? {
        guard words.count >= 3, words.count <= 6, let address = IPAddress(String(words[0])),
            let seconds = wholeSeconds(words[words.count - 1])
        else { return nil }
        var flags = words.dropFirst().dropLast()
        var account: UInt64 = 0
        if let named = flags.firstIndex(where: { $0.hasPrefix("account=") }) {
            guard flags.contains("authenticated"), let hash = hash(flags[named].dropFirst("account=".count))
            else { return nil }
            account = hash
            flags.remove(at: named)
        }
        guard Set(flags).count == flags.count, flags.contains("good") || flags.contains("authenticated"),
            flags.allSatisfy({ ["good", "authenticated", "upstream"].contains($0) })
        else { return nil }
        return ProvenSource(
            address: address, good: flags.contains("good"), authenticated: flags.contains("authenticated"),
            upstream: flags.contains("upstream"), account: account,
            lastSeen: Timestamp(nanoseconds: seconds * 1_000_000_000))
    }
}
