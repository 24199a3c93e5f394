/// Spots calls to expensive destinations and one number tried behind many dial prefixes.
struct TollFraudDetector {
    let highRisk: [[UInt8]]
    let ownNumbers: [[UInt8]]
    let numberDigits: Int
    let prefixVariants: Int

    init(_ rules: RuleSet.TollFraud) {
        highRisk = rules.highRiskPrefixes.map { Array($0.utf8) }
        ownNumbers = rules.ownNumbers.map { Array($0.utf8) }
        numberDigits = rules.numberDigits
        prefixVariants = rules.prefixVariants
    }

    /// Whether the dialled user part starts with a high-risk prefix and not with one of the site's own
    /// numbers (and is a number, not a name).
    func isHighRisk(_ user: ByteRange, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard user.count >= 4, isNumber(user, bytes) else { return false }
        return Self.starts(user, bytes, withOneOf: highRisk)
            && !Self.starts(user, bytes, withOneOf: ownNumbers, orIs: true)
    }

    /// Whether the value in `range` starts with one of `prefixes` and goes on after it, or (`orIs`) is one.
    static func starts(
        _ range: ByteRange, _ bytes: UnsafeRawBufferPointer, withOneOf prefixes: [[UInt8]], orIs: Bool = false
    ) -> Bool {
        let start = Int(range.lowerBound)
        for prefix in prefixes where prefix.count < range.count || (orIs && prefix.count == range.count) {
            var k = 0
            while k < prefix.count, bytes[start + k] == prefix[k] { k += 1 }
            if k == prefix.count { return true }
        }
        return false
    }

    /// Records the number's last digits with the digits before them; true when that number has now
    /// been tried behind `prefixVariants` different prefixes.
    func prefixVariants(_ user: ByteRange, _ bytes: UnsafeRawBufferPointer, in dialled: inout DialledNumbers) -> Bool {
        guard user.count > numberDigits else { return false }
        let split = Int(user.upperBound) - numberDigits
        let suffix = ByteHash.hash(bytes, ByteRange(split, Int(user.upperBound)))
        let prefix = ByteHash.hash(bytes, ByteRange(Int(user.lowerBound), split))
        return dialled.record(suffix: suffix, prefix: prefix) >= prefixVariants
    }

    /// Digits, with an optional leading "+", and visual separators.
    func isNumber(_ user: ByteRange, _ bytes: UnsafeRawBufferPointer) -> Bool {
        for k in user.range {
            let b = bytes[k]
            if ByteClass.isDigit(b) || (k == Int(user.lowerBound) && b == UInt8(ascii: "+")) { continue }
            return false
        }
        return true
    }
}
