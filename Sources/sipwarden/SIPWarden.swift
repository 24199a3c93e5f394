// swift-format-ignore-file: OrderedImports
// `stdout` is a C global that Swift 6 lets be read only through a preconcurrency import, which must
// come before Foundation's (which imports Glibc too).
@preconcurrency import Glibc
import ArgumentParser
import Foundation
import Logging

@main
struct SIPWarden: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sipwarden",
        abstract: "Inline SIP flood and abuse filter for Linux.",
        discussion: """
            SIPWarden reads SIP traffic (live through NFQUEUE, or from captures) and decides per packet: \
            accept, drop or ban the source. `run` is the inline daemon (root or CAP_NET_ADMIN); `bans`, \
            `unban` and `stats` talk to it over its control socket; the other commands work offline.

            Exit codes: 0 success, 1 invalid input or configuration, 2 usage.
            """,
        version: "0.1.0",
        subcommands: [
            RunCommand.self, BansCommand.self, UnbanCommand.self, StatsCommand.self, CheckCommand.self,
            ClassifyCommand.self, FirewallCommand.self, ReplayCommand.self,
        ]
    )

    /// Runs the command line with the project's exit codes: 1 for bad input or configuration
    /// (one line on stderr), 2 for usage errors.
    static func main() {
        LoggingSystem.bootstrap { _ in LineLogHandler() }
        // Output up to 1 MiB goes out in the final flush below: a write that fails (a full disk) fails
        // there, where the reason is still known, not in an earlier flush whose errno is gone. (glibc
        // takes the size only with a buffer; this one lives as long as the process.)
        let size = 1 << 20
        setvbuf(stdout, UnsafeMutablePointer<CChar>.allocate(capacity: size), _IOFBF, size)
        do {
            var command = try parseAsRoot()
            try command.run()
            // Output that did not all reach its file (a full disk) is a failure: a firewall cut short
            // must not look like a whole one.
            let flushed = fflush(stdout) == 0
            if !flushed || ferror(stdout) != 0 {
                printError("cannot write the output" + (flushed ? "" : ": \(systemMessage())"))
                Foundation.exit(1)
            }
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
