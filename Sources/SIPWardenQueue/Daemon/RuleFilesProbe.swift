import Foundation

/// Reads the rule files once in a child process (`sipwarden check`) before a reload reads them: the
/// TOML parser (toml++ 3.4) stops the whole process on some malformed input, an assertion of its own
/// (`ParserTraps` finds every such input known), and a reload must not end the daemon. A child that
/// exits, whatever its status, read them without stopping: the daemon reads them then, errors and all.
/// One that a signal stops, or that takes longer than `timeout`, or that cannot be started or waited for,
/// has the reload rejected.
public struct RuleFilesProbe: Sendable {
    /// Why the rule files may not be read in the daemon's own process.
    public enum Problem: Equatable, Sendable, CustomStringConvertible {
        /// The child could not be started, or not waited for.
        case failed(String)
        case tookLonger(than: Double)
        case stopped(signal: Int32)

        public var description: String {
            switch self {
            case .failed(let reason): "the child process that reads the rule files first failed: \(reason)"
            case .tookLonger(let timeout): "reading the rule files took a child process longer than \(timeout) s"
            case .stopped(let signal):
                "reading the rule files stopped a child process (signal \(signal)): `sipwarden check` shows where"
            }
        }
    }

    public let command: [String]
    public let timeout: Double

    public init(command: [String], timeout: Double = 5) {
        self.command = command
        self.timeout = timeout
    }

    /// `sipwarden check` of the rule files at `config` (nil: the default path), by this very binary.
    public static func check(config: String?) -> RuleFilesProbe {
        RuleFilesProbe(command: ["/proc/self/exe", "check"] + (config.map { ["--config", $0] } ?? []))
    }

    /// Nil when the child read the rule files to the end.
    public func problem() -> Problem? {
        guard let executable = command.first else { return .failed("no command") }
        let child: ChildProcess
        do { child = try ChildProcess(executable, Array(command.dropFirst())) } catch {
            return .failed("\(error)")
        }
        let deadline = Date(timeIntervalSinceNow: timeout)
        do {
            var end = try child.ended()
            while end == nil, Date() < deadline {
                usleep(5_000)
                end = try child.ended()
            }
            guard let end else {
                child.kill()
                _ = try child.waitForEnd()
                return .tookLonger(than: timeout)
            }
            if case .signalled(let signal) = end { return .stopped(signal: signal) }
            return nil
        } catch {
            return .failed("\(error)")
        }
    }
}
