import Foundation

/// A program run to completion: its exit status and what it printed.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs programs for tests, each bounded in time.
enum Subprocess {
    /// Runs `executable` (a path, or a name looked up in PATH) with `arguments`, feeding it `input`, and
    /// waits at most `timeout` seconds; a program still running then is killed and the run throws.
    static func run(
        _ executable: String, _ arguments: [String], input: String? = nil, in directory: URL? = nil,
        timeout: Double = 30
    ) throws -> ProcessResult {
        let process = try start(executable, arguments, directory: directory)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sipwarden-run-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outURL = folder.appendingPathComponent("stdout")
        let errURL = folder.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let inPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
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

    /// A configured, not yet started process for `executable`.
    static func start(_ executable: String, _ arguments: [String], directory: URL? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
        process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
        if let directory { process.currentDirectoryURL = directory }
        return process
    }

    /// Waits for `process` to end, at most `seconds`; whether it ended.
    static func wait(for process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            guard Date() < deadline else { return false }
            usleep(10_000)
        }
        return true
    }

    /// A program that did not end in time.
    struct Timeout: Error, CustomStringConvertible {
        let command: String
        let seconds: Double
        var description: String { "\(command): still running after \(seconds) s, killed" }
    }
}
