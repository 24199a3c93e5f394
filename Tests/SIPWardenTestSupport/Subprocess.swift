import Foundation

/// A program run to completion: its exit status and what it printed.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs programs for the tests that drive real tools (the CLI, iptables, sipp, SIPVicious), each
/// bounded in time; output goes to files, so a chatty program never blocks on a full pipe.
public enum Subprocess {
    /// Runs `executable` (a path, or a name looked up in PATH) with `arguments`, feeding it `input`, and
    /// waits at most `timeout` seconds; a program still running then is killed and the run throws.
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String], input: String? = nil, in directory: URL? = nil,
        environment: [String: String] = [:], timeout: Double = 30
    ) throws -> ProcessResult {
        let process = start(executable, arguments, directory: directory, environment: environment)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sipwarden-run-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outURL = folder.appendingPathComponent("stdout")
        let errURL = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let inPipe = Pipe()
        let output = try FileHandle(forWritingTo: outURL)
        let errors = try FileHandle(forWritingTo: errURL)
        // Closed here: the Process object keeps its handles (and their descriptors) as long as it lives,
        // and a test run that leaked two descriptors per command passed a thousand within minutes, past
        // which Foundation's Process.run crashed the test runner.
        defer {
            try? output.close()
            try? errors.close()
            try? inPipe.fileHandleForReading.close()
        }
        process.standardInput = inPipe
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        inPipe.fileHandleForWriting.write(Data((input ?? "").utf8))
        try inPipe.fileHandleForWriting.close()
        guard wait(for: process, seconds: timeout) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw Timeout(command: ([executable] + arguments).joined(separator: " "), seconds: timeout)
        }
        return ProcessResult(
            status: process.terminationStatus, stdout: try String(contentsOf: outURL, encoding: .utf8),
            stderr: try String(contentsOf: errURL, encoding: .utf8))
    }

    /// Runs `executable` like `run` and returns its standard output; throws `Failure` when it exits non-zero.
    @discardableResult
    public static func check(_ executable: String, _ arguments: [String], timeout: Double = 30) throws -> String {
        let result = try run(executable, arguments, timeout: timeout)
        guard result.status == 0 else {
            throw Failure(command: ([executable] + arguments).joined(separator: " "), result: result)
        }
        return result.stdout
    }

    /// A configured, not yet started process for `executable`.
    public static func start(
        _ executable: String, _ arguments: [String], directory: URL? = nil, environment: [String: String] = [:]
    ) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
        process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
        if let directory { process.currentDirectoryURL = directory }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        return process
    }

    /// Waits for `process` to end, at most `seconds`; whether it ended.
    public static func wait(for process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            guard Date() < deadline else { return false }
            usleep(10_000)
        }
        return true
    }

    /// A program that did not end in time.
    public struct Timeout: Error, CustomStringConvertible {
        public let command: String
        public let seconds: Double
        public var description: String { "\(command): still running after \(seconds) s, killed" }
    }

    /// A program that exited non-zero where it had to succeed.
    public struct Failure: Error, CustomStringConvertible {
        public let command: String
        public let result: ProcessResult

        public init(command: String, result: ProcessResult) {
            self.command = command
            self.result = result
        }

        public var description: String { "\(command): exit \(result.status): \(result.stderr)" }
    }
}
