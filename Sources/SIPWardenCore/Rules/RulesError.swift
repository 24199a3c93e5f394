/// One problem in the rule files, located by file and line/column (syntax) or by key path and the line
/// the key is on (meaning; no line for what no one line holds, such as thresholds two files cross).
public enum RulesError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The TOML itself does not parse.
    case syntax(file: String, line: Int, column: Int, message: String)
    /// A key the schema does not have; `suggestions` are the known keys it may stand for, if any is close.
    case unknownKey(file: String, line: Int? = nil, key: String, suggestions: [String])
    /// A known key with a value of the wrong type or out of range.
    case badValue(file: String, line: Int? = nil, key: String, value: String, expected: String)
    /// A rule file (or include) that cannot be read.
    case unreadable(file: String, reason: String)

    public var description: String {
        switch self {
        case .syntax(let file, let line, let column, let message):
            return "\(file):\(line):\(column): \(message)"
        case .unknownKey(let file, let line, let key, let suggestions):
            let quoted = suggestions.map { "'\($0)'" }
            let place = Self.place(file, line)
            guard let last = quoted.last else { return "\(place): unknown key '\(key)'" }
            let choices = quoted.count == 1 ? last : quoted.dropLast().joined(separator: ", ") + " or " + last
            return "\(place): unknown key '\(key)' (did you mean \(choices)?)"
        case .badValue(let file, let line, let key, let value, let expected):
            return "\(Self.place(file, line)): \(key) = \(Self.oneLine(value)): expected \(expected)"
        case .unreadable(let file, let reason):
            return "\(file): \(reason)"
        }
    }
}

extension RulesError {
    /// `value` on one line: its line breaks and tabs escaped, as in a TOML string.
    static func oneLine(_ value: String) -> String {
        value.unicodeScalars.map { scalar in
            switch scalar {
            case "\n": "\\n"
            case "\r": "\\r"
            case "\t": "\\t"
            default: String(scalar)
            }
        }.joined()
    }

    /// `FILE:LINE`, or `FILE` alone when no line is known.
    static func place(_ file: String, _ line: Int?) -> String {
        line.map { "\(file):\($0)" } ?? file
    }

    /// The line the error is on (for a key path, its key's, once `placed(by:)`); nil when none is known.
    var line: Int? {
        switch self {
        case .syntax(_, let line, _, _): line
        case .unknownKey(_, let line, _, _), .badValue(_, let line, _, _, _): line
        case .unreadable: nil
        }
    }

    /// The error with its key's line from `lines`.
    func placed(by lines: KeyLines) -> RulesError {
        switch self {
        case .unknownKey(let file, nil, let key, let suggestions):
            .unknownKey(file: file, line: lines.line(of: key), key: key, suggestions: suggestions)
        case .badValue(let file, nil, let key, let value, let expected):
            .badValue(file: file, line: lines.line(of: key), key: key, value: value, expected: expected)
        default: self
        }
    }
}

/// Every problem found in a set of rule files; `check` prints them all.
public struct RulesErrors: Error, Equatable, Sendable, CustomStringConvertible {
    public var errors: [RulesError]
    /// The `include` list of the one file these errors are in, read despite them (empty when it could
    /// not be: a syntax error), so that the files it names are read and their errors reported too.
    public var includes: [String]
    public init(_ errors: [RulesError], includes: [String] = []) {
        self.errors = errors
        self.includes = includes
    }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
