import TOMLKit

/// Walks a parsed TOML document against the schema, collecting every error instead of stopping at the first.
struct RuleReader {
    let file: String
    var errors: [RulesError] = []

    init(file: String) {
        self.file = file
    }

    /// The sub-tables and values of `table`, reporting keys the schema does not know.
    mutating func entries(of table: TOMLTable, at path: String, known: [String]) -> [String: TOMLValueConvertible] {
        var result: [String: TOMLValueConvertible] = [:]
        for (key, value) in table {
            let fullKey = path.isEmpty ? key : "\(path).\(key)"
            guard known.contains(key) else {
                let candidates = known.map { path.isEmpty ? $0 : "\(path).\($0)" }
                errors.append(.unknownKey(file: file, key: fullKey, suggestions: closest(to: fullKey, in: candidates)))
                continue
            }
            result[key] = value
        }
        return result
    }

    mutating func table(_ value: TOMLValueConvertible?, at path: String) -> TOMLTable? {
        guard let value else { return nil }
        guard let table = value.table else {
            errors.append(
                .badValue(file: file, key: path, value: value.written, expected: "a table [\(path)]"))
            return nil
        }
        return table
    }

    mutating func string(_ value: TOMLValueConvertible?, at path: String) -> String? {
        guard let value else { return nil }
        guard let text = value.string else {
            errors.append(.badValue(file: file, key: path, value: value.written, expected: "a string"))
            return nil
        }
        return text
    }

    /// A string that must be one of `choices`.
    mutating func choice<Choice: RawRepresentable & CaseIterable>(
        _ value: TOMLValueConvertible?, at path: String, as: Choice.Type
    ) -> Choice? where Choice.RawValue == String {
        guard let text = string(value, at: path) else { return nil }
        guard let choice = Choice(rawValue: text) else {
            let names = Choice.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
            errors.append(.badValue(file: file, key: path, value: "\"\(text)\"", expected: names))
            return nil
        }
        return choice
    }

    /// An array of port numbers 1–65535.
    mutating func ports(_ value: TOMLValueConvertible?, at path: String) -> [UInt16]? {
        array(value, at: path, of: "ports") { reader, item, key in
            guard let number = item.int, (1...65535).contains(number) else {
                reader.errors.append(
                    .badValue(
                        file: reader.file, key: key, value: item.written, expected: "a port from 1 to 65535"))
                return nil
            }
            return UInt16(number)
        }
    }

    /// An array of CIDR blocks, IPv4 or IPv6.
    mutating func prefixes(_ value: TOMLValueConvertible?, at path: String) -> [IPPrefix]? {
        array(value, at: path, of: "CIDR strings") { reader, item, key in
            guard let text = item.string, let prefix = IPPrefix(text) else {
                reader.errors.append(
                    .badValue(
                        file: reader.file, key: key, value: item.written,
                        expected: "an IPv4 or IPv6 address or CIDR block such as \"192.0.2.0/24\""))
                return nil
            }
            return prefix
        }
    }

    /// An array of telephone numbers or number prefixes: digits after an optional "+", with visual
    /// separators (spaces, "-", ".", "(", ")") allowed; the toll-fraud detector leaves them out.
    mutating func numbers(_ value: TOMLValueConvertible?, at path: String) -> [String]? {
        array(value, at: path, of: "numbers") { reader, item, key in
            guard let text = item.string, DialledNumber.digits(of: text) != nil else {
                reader.errors.append(
                    .badValue(
                        file: reader.file, key: key, value: item.written,
                        expected:
                            "a number or prefix such as \"+4420794600\" or \"011\" (digits after an optional \"+\")"))
                return nil
            }
            return text
        }
    }

    /// An array of strings.
    mutating func strings(_ value: TOMLValueConvertible?, at path: String) -> [String]? {
        array(value, at: path, of: "strings") { reader, item, key in reader.string(item, at: key) }
    }

    /// An absolute file path.
    mutating func absolutePath(_ value: TOMLValueConvertible?, at path: String) -> String? {
        guard let text = string(value, at: path) else { return nil }
        guard text.hasPrefix("/"), text.utf8.count < 108 else {
            errors.append(
                .badValue(
                    file: file, key: path, value: "\"\(text)\"",
                    expected: "an absolute path shorter than 108 bytes"))
            return nil
        }
        return text
    }

    /// An absolute path, or `""` for none: `.some(nil)` disables.
    mutating func optionalAbsolutePath(_ value: TOMLValueConvertible?, at path: String) -> String?? {
        guard let text = string(value, at: path) else { return nil }
        if text.isEmpty { return .some(nil) }
        guard text.hasPrefix("/"), !text.hasSuffix("/") else {
            errors.append(
                .badValue(
                    file: file, key: path, value: "\"\(text)\"", expected: "an absolute file path, or \"\" for none"))
            return nil
        }
        return text
    }

    /// `"127.0.0.1:PORT"` or `"[::1]:PORT"` (loopback only), or `""` for none: `.some(nil)` disables.
    mutating func endpoint(_ value: TOMLValueConvertible?, at path: String) -> RuleSet.Endpoint?? {
        guard let text = string(value, at: path) else { return nil }
        if text.isEmpty { return .some(nil) }
        guard let endpoint = RuleSet.Endpoint(text), endpoint.isLoopback else {
            errors.append(
                .badValue(
                    file: file, key: path, value: "\"\(text)\"",
                    expected: "a loopback address and port like \"127.0.0.1:9595\" or \"[::1]:9595\", or \"\" for none")
            )
            return nil
        }
        return .some(endpoint)
    }

    /// `"N"` or `"N-M"`: NFQUEUE numbers, at most `maximumQueues` of them (the daemon runs a thread for each).
    mutating func queueRange(_ value: TOMLValueConvertible?, at path: String) -> ClosedRange<UInt16>? {
        let expected = "a queue number or range like \"0-3\", of at most \(Self.maximumQueues) queues"
        guard let queues = range(value, at: path, within: 0...65535, expected: expected) else { return nil }
        guard queues.count <= Self.maximumQueues else {
            errors.append(.badValue(file: file, key: path, value: value?.written ?? "", expected: expected))
            return nil
        }
        return queues
    }

    static let maximumQueues = 128

    /// `"N-M"`: a range of UDP ports.
    mutating func portRange(_ value: TOMLValueConvertible?, at path: String) -> ClosedRange<UInt16>? {
        range(value, at: path, within: 1...65535, expected: "a port range like \"10000-20000\"")
    }

    mutating func range(
        _ value: TOMLValueConvertible?, at path: String, within limits: ClosedRange<UInt16>, expected: String
    ) -> ClosedRange<UInt16>? {
        guard let text = string(value, at: path) else { return nil }
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { UInt16($0) }
        if bounds.count == 1, let only = bounds[0], limits.contains(only) { return only...only }
        if bounds.count == 2, let low = bounds[0], let high = bounds[1], low <= high, limits.contains(low) {
            return low...high
        }
        errors.append(.badValue(file: file, key: path, value: "\"\(text)\"", expected: expected))
        return nil
    }

    /// A whole number within `range`.
    mutating func integer(_ value: TOMLValueConvertible?, at path: String, in range: ClosedRange<Int>) -> Int? {
        guard let value else { return nil }
        guard let number = value.int, range.contains(number) else {
            errors.append(
                .badValue(
                    file: file, key: path, value: value.written,
                    expected: "a whole number from \(range.lowerBound) to \(range.upperBound)"))
            return nil
        }
        return number
    }

    /// A number (whole or not) that is `minimum` or more.
    /// The largest score, weight, factor or burst a rule may set: far past any sensible one, and small
    /// enough that sums of them over a source's life stay exact integers (a ban's logged score).
    static let largestNumber = 1e9

    mutating func number(_ value: TOMLValueConvertible?, at path: String, atLeast minimum: Double = 0) -> Double? {
        guard let value else { return nil }
        guard let number = value.double ?? value.int.map(Double.init), number >= minimum,
            number <= Self.largestNumber
        else {
            let range = "from \(Rate.number(minimum)) to \(Rate.number(Self.largestNumber))"
            errors.append(
                .badValue(file: file, key: path, value: value.written, expected: "a number \(range)"))
            return nil
        }
        return number
    }

    mutating func bool(_ value: TOMLValueConvertible?, at path: String) -> Bool? {
        guard let value else { return nil }
        guard let flag = value.bool else {
            errors.append(.badValue(file: file, key: path, value: value.written, expected: "true or false"))
            return nil
        }
        return flag
    }

    /// `"20/s"`, `"300/min"`, `"1000/h"`: events per second, more than zero.
    mutating func rate(_ value: TOMLValueConvertible?, at path: String) -> Double? {
        guard let text = string(value, at: path) else { return nil }
        guard let rate = Rate.parse(text) else {
            errors.append(
                .badValue(
                    file: file, key: path, value: "\"\(text)\"",
                    expected: "a rate like \"20/s\", \"300/min\" or \"1000/h\""))
            return nil
        }
        guard rate > 0 else {
            errors.append(.badValue(file: file, key: path, value: "\"\(text)\"", expected: "a rate above zero"))
            return nil
        }
        return rate
    }

    /// `"30s"`, `"10m"`, `"2h"`, `"1d"`: nanoseconds, more than zero.
    /// The longest duration a rule may set: ten years (added to a capture's clock, it stays in range).
    static let longestDuration: Int64 = 3650 * 86_400 * 1_000_000_000

    mutating func duration(
        _ value: TOMLValueConvertible?, at path: String, atMost longest: Int64 = longestDuration, _ why: String = ""
    ) -> Int64? {
        guard let text = string(value, at: path) else { return nil }
        guard let nanoseconds = RuleDuration.parse(text), nanoseconds > 0 else {
            errors.append(
                .badValue(
                    file: file, key: path, value: "\"\(text)\"",
                    expected: "a duration like \"30s\", \"10m\", \"2h\" or \"1d\""))
            return nil
        }
        guard nanoseconds <= longest else {
            let most = RuleDuration.text(longest)
            errors.append(.badValue(file: file, key: path, value: "\"\(text)\"", expected: "at most \"\(most)\"\(why)"))
            return nil
        }
        return nanoseconds
    }

    /// An array of values each read by `element`, or nil when the value is not an array.
    mutating func array<Element>(
        _ value: TOMLValueConvertible?, at path: String, of what: String,
        _ element: (inout RuleReader, TOMLValueConvertible, String) -> Element?
    ) -> [Element]? {
        guard let value else { return nil }
        guard let array = value.array else {
            errors.append(
                .badValue(file: file, key: path, value: value.written, expected: "an array of \(what)"))
            return nil
        }
        var result: [Element] = []
        for (index, item) in array.enumerated() {
            if let read = element(&self, item, "\(path)[\(index)]") { result.append(read) }
        }
        return result
    }

    /// The candidates `key` may stand for: those it names without their qualifier ("burst" for
    /// "source_burst" and "prefix_burst"), else the nearest by edit distance if its name (the last part
    /// of its path) is close enough to be a typo of that key's; none when nothing is close.
    func closest(to key: String, in candidates: [String]) -> [String] {
        let name = Self.name(of: key)
        let qualified = candidates.filter { $0.hasSuffix("_" + name) }
        if !qualified.isEmpty { return qualified }
        let scored = candidates.map { ($0, editDistance(name, Self.name(of: $0))) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, Self.name(of: best).count / 3), distance < name.count
        else { return [] }
        return [best]
    }

    /// The last part of a key path: the key's own name.
    private static func name(of key: String) -> String {
        key.split(separator: ".").last.map(String.init) ?? key
    }

    func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension TOMLValueConvertible {
    /// The value as an error shows it: in TOML, a table as `{...}` (the parser would show its keys on
    /// lines of their own, or nothing for an empty one).
    var written: String { table == nil ? debugDescription : "{...}" }
}
