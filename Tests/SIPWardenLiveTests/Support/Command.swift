import Foundation

/// Runs a program to completion with a time limit; the live tests' only way to start processes.
enum Command {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `arguments` (the first is looked up in PATH), killing it after `timeout` seconds.
    @discardableResult
    static func run(_ arguments: [String], timeout: Double = 30, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        // Output goes to files, so a chatty program never blocks on a full pipe.
        let base = NSTemporaryDirectory() + "swd-command-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: base + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer {
            unlink(base + ".out")
            unlink(base + ".err")
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let stdout = FileManager.default.contents(atPath: base + ".out") ?? Data()
        let stderr = FileManager.default.contents(atPath: base + ".err") ?? Data()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Runs `arguments` and fails the test when it exits non-zero.
    @discardableResult
    static func check(_ arguments: [String], timeout: Double = 30) throws -> String {
        let result = try run(arguments, timeout: timeout)
        guard result.status == 0 else {
            throw CommandFailure(command: arguments.joined(separator: " "), result: result)
        }
        return result.stdout
    }
}

struct CommandFailure: Error, CustomStringConvertible {
    let command: String
    let result: Command.Result
    var description: String { "\(command): exit \(result.status): \(result.stderr)" }
}

/// A program left running in the background, stopped by its own PID only.
final class Background {
    let process = Process()
    let log: URL

    /// Starts `arguments` with stdout and stderr into `log`.
    init(_ arguments: [String], log: URL, environment: [String: String] = [:]) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { if process.isRunning { kill(pid, number) } }

    /// Waits up to `timeout` seconds for the program to exit; returns its status, nil if still running.
    @discardableResult
    func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// SIGTERM, then SIGKILL if it lingers.
    func stop() {
        signal(SIGTERM)
        if wait(timeout: 5) == nil {
            signal(SIGKILL)
            wait(timeout: 2)
        }
    }

    deinit { stop() }
}
