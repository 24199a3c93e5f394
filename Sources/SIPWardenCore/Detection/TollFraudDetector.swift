/// Spots calls to expensive destinations and one number tried behind many dial prefixes.
struct TollFraudDetector {
    let highRisk: [[UInt8]]
    let domestic: [[UInt8]]
    let ownNumbers: [[UInt8]]
    let numberDigits: Int
    let prefixVariants: Int
    /// The characters the high-risk prefixes start with, one bit each ("+" and digits are all below 64):
    /// a number that has none of them where it may start is no call abroad, without reading the lists
    /// (an extension dialled, most calls).
    let highRiskLeads: UInt64

    init(_ rules: RuleSet.TollFraud) {
        highRisk = rules.highRiskPrefixes.compactMap { DialledNumber.digits(of: $0) }
        domestic = rules.domesticPrefixes.compactMap { DialledNumber.digits(of: $0) }
        ownNumbers = rules.ownNumbers.compactMap { DialledNumber.digits(of: $0) }
        numberDigits = rules.numberDigits
        prefixVariants = rules.prefixVariants
        highRiskLeads = highRisk.reduce(0) { $0 | 1 << ($1[0] & 63) }
    }

    /// Whether the dialled user part is a number that starts with a high-risk prefix longer than any
    /// domestic one it starts with, and not with one of the site's own numbers.
    /// Behind a feature code ("*67"), each place the number may start is tried.
    func isHighRisk(_ number: DialledNumber?) -> Bool {
        guard let number else { return false }
        for start in number.starts where number.count - start >= 4 && mayLeadHighRisk(number[start]) {
            if number.longestPrefix(of: highRisk, at: start) > number.longestPrefix(of: domestic, at: start)
                && number.longestPrefix(of: ownNumbers, at: start, orWhole: true) == 0
            {
                return true
            }
        }
        return false
    }

    /// Whether a high-risk prefix starts with `character`.
    func mayLeadHighRisk(_ character: UInt8) -> Bool { highRiskLeads >> (character & 63) & 1 != 0 }

    /// Records the number's last digits with the digits before them; true when that number has now
    /// been tried behind `prefixVariants` different prefixes.
    func prefixVariants(_ number: DialledNumber, in dialled: inout DialledNumbers) -> Bool {
        guard number.count > numberDigits else { return false }
        let split = number.count - numberDigits
        return dialled.record(suffix: number.hash(split..<number.count), prefix: number.hash(0..<split))
            >= prefixVariants
    }
}

/// A dialled number as the PBX that routes it reads it: the user part of the Request-URI (or of a
/// transfer's Refer-To) with its escapes decoded ("%2B" is "+"), its visual separators left out
/// (RFC 3966's "-", ".", "(", ")", and spaces) and without its parameters (";isub=…", ";phone-context=…"). So
/// "011-44-20.7946.0000;isub=1" is 011442079460000, as a dial plan matching `_011.` dials it. A
/// feature code may come first ("*67" hides the caller's number, "*31#" too; dial plans strip it
/// and dial the rest): the number then starts after its "#", or after its first one to three digits.
struct DialledNumber {
    /// A leading "+" and digits, or a feature code and then those.
    private var digits = InlineArray<48, UInt8>(repeating: 0)
    private(set) var count = 0
    /// Where the number itself may start: 0, or past a feature code.
    private(set) var starts = 0..<1

    /// The number at the start of `user`, or nil when there is none (a name: a letter anywhere in it).
    /// It ends where a dial plan stops matching: at a parameter, at any other character (a trailing
    /// "#", the send key some phones add) or after 48 characters; feature codes may follow one another
    /// ("*67*82").
    init?(_ user: ByteRange, _ bytes: UnsafeRawBufferPointer) {
        var k = Int(user.lowerBound)
        let end = Int(user.upperBound)
        /// Where the latest feature code's "*" or "#" is, while its digits may still end in a "#".
        var code: Int?
        reading: while k < end, count < digits.count {
            var byte = bytes[k]
            k += 1
            if byte == UInt8(ascii: "%") {
                guard k + 2 <= end, let high = Self.hexValue(bytes[k]), let low = Self.hexValue(bytes[k + 1]) else {
                    break reading
                }
                byte = high << 4 | low
                k += 2
            }
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                break
            case UInt8(ascii: "+") where starts.contains(count):
                break
            case UInt8(ascii: "#") where code.map { (($0 + 2)...($0 + 4)).contains(count) } ?? false:
                // The "#" that ends a code of one to three digits ("*31#"): the number starts after it.
                starts = count + 1..<count + 2
                code = nil
            case UInt8(ascii: "*"), UInt8(ascii: "#"):
                // A feature code where a number could start (or right after another code's "*"): the
                // number starts after its first one to three digits.
                guard count == 0 || starts.contains(count) || code == count - 1 else { break reading }
                code = count
                starts = count + 2..<count + 5
            case _ where Self.isVisualSeparator(byte):
                continue
            case _ where ByteClass.isAlphanumeric(byte):
                // A letter: a name ("00a1b2c3-…" is an identifier), which no carrier takes for a number.
                return nil
            default:
                break reading
            }
            digits[count] = byte
            count += 1
        }
        guard count > 0 else { return nil }
        starts = starts.clamped(to: 0..<count)
    }

    /// The character at `position` (below `count`).
    subscript(position: Int) -> UInt8 { digits[position] }

    /// The length of the longest of `prefixes` that the number from `start` on starts with and goes on
    /// after, or (`orWhole`) is; 0 for none.
    func longestPrefix(of prefixes: [[UInt8]], at start: Int, orWhole: Bool = false) -> Int {
        let length = count - start
        var longest = 0
        for prefix in prefixes
        where prefix.count > longest && (prefix.count < length || orWhole && prefix.count == length) {
            var k = 0
            while k < prefix.count, digits[start + k] == prefix[k] { k += 1 }
            if k == prefix.count { longest = k }
        }
        return longest
    }

    /// The hash of the digits at `positions`.
    func hash(_ positions: Range<Int>) -> UInt64 {
        withUnsafeBytes(of: digits) { ByteHash.hash($0, ByteRange(positions.lowerBound, positions.upperBound)) }
    }

    /// RFC 3966's visual separators and the space (escaped in a URI), which dial plans pass over.
    static func isVisualSeparator(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: " "): true
        default: false
        }
    }

    /// A number or prefix as a rule file writes it ("+44 20 7946", "011", "+"): an optional "+" and
    /// digits, visual separators left out; nil for anything else.
    static func digits(of text: String) -> [UInt8]? {
        let kept = text.utf8.filter { !isVisualSeparator($0) }
        let digits = kept.first == UInt8(ascii: "+") ? kept.dropFirst() : kept[...]
        guard !kept.isEmpty, digits.allSatisfy({ ByteClass.isDigit($0) }) else { return nil }
        return kept
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
