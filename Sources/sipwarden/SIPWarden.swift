import ArgumentParser

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
        subcommands: [ClassifyCommand.self, ReplayCommand.self]
    )
}

/// A failure to report as one line on stderr with exit code 1 (invalid input or configuration).
struct InputError: Error, CustomStringConvertible {
    let description: String
}

extension InputError {
    /// Prints the message the way every command reports bad input, then exits 1.
    func exit() -> Never {
        printError(description)
        SIPWarden.exit(withError: ExitCode(1))
    }
}
