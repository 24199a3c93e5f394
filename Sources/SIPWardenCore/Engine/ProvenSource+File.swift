/// The state file's text: one proven source a line, `ADDRESS FLAG... LASTSEEN`, where the flags are
/// `good` and `authenticated` (at least one) and the last packet is in whole Unix seconds:
///
/// ```
/// 198.51.100.23 good authenticated 1733212345
/// ```
///
/// Blank lines and `#` comments are ignored. Reading is tolerant: a line that does not parse is
/// skipped and counted, never fatal, so a damaged file never keeps the daemon from starting.
extension ProvenSource {
    /// What `parse` read: the entries, and how many lines it skipped as unreadable.
    public struct Parsed: Equatable, Sendable {
        public var sources: [ProvenSource]
        public var badLines: Int
    }

    /// The file's text for `sources`, whose `lastSeen` is on the wall clock; a comment line first.
    public static func render(_ sources: [ProvenSource]) -> String {
        var text = "# sipwarden proven sources: address, good and/or authenticated, last packet (Unix seconds)\n"
        for source in sources where source.good || source.authenticated {
            text += source.address.description
            if source.good { text += " good" }
            if source.authenticated { text += " authenticated" }
            text += " \(source.lastSeen.nanoseconds / 1_000_000_000)\n"
        }
        return text
    }

    /// The entries of a state file's text, their `lastSeen` on the wall clock.
    public static func parse(_ text: String) -> Parsed {
        var parsed = Parsed(sources: [], badLines: 0)
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: \.isWhitespace)
            guard let first = words.first, !first.hasPrefix("#") else { continue }
            if let source = entry(words) {
                parsed.sources.append(source)
            } else {
                parsed.badLines += 1
            }
        }
        return parsed
    }

    /// One line's words as an entry; nil when they are not an address, known flags (at least one, none
    /// twice) and a time in seconds.
    static func entry(_ words: [Substring]) -> ProvenSource? {
        guard words.count >= 3, words.count <= 4, let address = IPAddress(String(words[0])),
            let seconds = Int64(words[words.count - 1]), seconds >= 0, seconds < Int64.max / 1_000_000_000
        else { return nil }
        let flags = words.dropFirst().dropLast()
        guard Set(flags).count == flags.count, flags.allSatisfy({ $0 == "good" || $0 == "authenticated" }) else {
            return nil
        }
        return ProvenSource(
            address: address, good: flags.contains("good"), authenticated: flags.contains("authenticated"),
            lastSeen: Timestamp(nanoseconds: seconds * 1_000_000_000))
    }
}
