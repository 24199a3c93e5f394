import ArgumentParser
import Foundation
import SIPWardenCore

/// `--config FILE`, shared by every command that reads rule files.
struct ConfigOption: ParsableArguments {
    static let defaultPath = "/etc/sipwarden/sipwarden.toml"

    @Option(
        name: .long,
        help: ArgumentHelp("Rule file.", discussion: "Default: \(defaultPath) (built-in defaults when absent)."),
        completion: .file(extensions: ["toml"]))
    var config: String?

    /// The effective rules: the named file, the default file if present, or the built-in defaults.
    func load() throws(InputError) -> RuleSet {
        let path = config ?? Self.defaultPath
        guard let data = FileManager.default.contents(atPath: path) else {
            if config == nil { return RuleSet() }
            throw InputError(description: "\(path): cannot read rule file")
        }
        do {
            return try RuleSet(toml: String(decoding: data, as: UTF8.self), file: path)
        } catch {
            throw InputError(description: error.description)
        }
    }
}
