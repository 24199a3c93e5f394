/// One problem in the rule files, located by file and line/column (syntax) or by key path (meaning).
public enum RulesError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The TOML itself does not parse.
    case syntax(file: String, line: Int, column: Int, message: String)
    /// A key the schema does not have; `suggestions` are the known keys it may stand for, if any is close.
    case unknownKey(file: String, key: String, suggestions: [String])
    /// A known key with a value of the wrong type or out of range.
    case badValue(file: String, key: String, value: String, expected: String)
    /// A rule file (or include) that cannot be read.
    case unreadable(file: String, reason: String)

    public var description: String {
        switch self {
        case .syntax(let file, let line, let column, let message):
            return "\(file):\(line):\(column): \(message)"
        case .unknownKey(let file, let key, let suggestions):
            let quoted = suggestions.map { "'\($0)'" }
            guard let last = quoted.last else { return "\(file): unknown key '\(key)'" }
            let choices = quoted.count == 1 ? last : quoted.dropLast().joined(separator: ", ") + " or " + last
            return "\(file): unknown key '\(key)' (did you mean \(choices)?)"
        case .badValue(let file, let key, let value, let expected):
            return "\(file): \(key) = \(value): expected \(expected)"
        case .unreadable(let file, let reason):
            return "\(file): \(reason)"
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
