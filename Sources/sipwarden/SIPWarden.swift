import ArgumentParser
import Foundation

@main
struct SIPWarden: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sipwarden",
        abstract: "Inline SIP flood and abuse filter for Linux.",
        discussion: """
            SIPWarden reads SIP traffic (live through NFQUEUE, or from captures) and decides per packet: \
            accept, drop or ban the source. These commands work offline, with no privileges.

            Exit codes: 0 success, 1 invalid input or configuration, 2 usage.
            """,
        subcommands: [CheckCommand.self, ClassifyCommand.self, FirewallCommand.self, ReplayCommand.self]
    )

    /// Runs the command line with the project's exit codes: 1 for bad input or configuration
    /// (one line on stderr), 2 for usage errors.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as InputError {
            printError(error.description)
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// A failure to report as one line on stderr with exit code 1 (invalid input or configuration).
struct InputError: Error, CustomStringConvertible {
    let description: String
}
