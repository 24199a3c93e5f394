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
                errors.append(.unknownKey(file: file, key: fullKey, suggestion: closest(to: fullKey, in: candidates)))
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
                .badValue(file: file, key: path, value: value.debugDescription, expected: "a table [\(path)]"))
            return nil
        }
        return table
    }

    mutating func string(_ value: TOMLValueConvertible?, at path: String) -> String? {
        guard let value else { return nil }
        guard let text = value.string else {
            errors.append(.badValue(file: file, key: path, value: value.debugDescription, expected: "a string"))
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
        guard let value else { return nil }
        guard let array = value.array else {
            errors.append(
                .badValue(file: file, key: path, value: value.debugDescription, expected: "an array of ports"))
            return nil
        }
        var ports: [UInt16] = []
        for (index, element) in array.enumerated() {
            guard let number = element.int, (1...65535).contains(number) else {
                errors.append(
                    .badValue(
                        file: file, key: "\(path)[\(index)]", value: element.debugDescription,
                        expected: "a port from 1 to 65535"))
                continue
            }
            ports.append(UInt16(number))
        }
        return ports
    }

    /// An array of CIDR blocks, IPv4 or IPv6.
    mutating func prefixes(_ value: TOMLValueConvertible?, at path: String) -> [IPPrefix]? {
        guard let value else { return nil }
        guard let array = value.array else {
            errors.append(
                .badValue(file: file, key: path, value: value.debugDescription, expected: "an array of CIDR strings"))
            return nil
        }
        var prefixes: [IPPrefix] = []
        for (index, element) in array.enumerated() {
            guard let text = element.string, let prefix = IPPrefix(text) else {
                errors.append(
                    .badValue(
                        file: file, key: "\(path)[\(index)]", value: element.debugDescription,
                        expected: "an IPv4 or IPv6 address or CIDR block such as \"192.0.2.0/24\""))
                continue
            }
            prefixes.append(prefix)
        }
        return prefixes
    }

    /// `"N"` or `"N-M"`: a range of NFQUEUE numbers.
    mutating func queueRange(_ value: TOMLValueConvertible?, at path: String) -> ClosedRange<UInt16>? {
        guard let text = string(value, at: path) else { return nil }
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { UInt16($0) }
        if bounds.count == 1, let only = bounds[0] { return only...only }
        if bounds.count == 2, let low = bounds[0], let high = bounds[1], low <= high { return low...high }
        errors.append(
            .badValue(file: file, key: path, value: "\"\(text)\"", expected: "a queue number or range like \"0-3\""))
        return nil
    }

    /// The candidate nearest to `key` by edit distance, if it is close enough to be a typo.
    func closest(to key: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(key, $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, best.count / 3) else { return nil }
        return best
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
