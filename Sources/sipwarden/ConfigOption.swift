import ArgumentParser
import Foundation
import SIPWardenCore

/// `--config FILE`, shared by every command that reads rule files.
struct ConfigOption: ParsableArguments {
    static let defaultPath = "/etc/sipwarden/sipwarden.toml"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Rule file.",
            discussion: "Default: \(defaultPath) (the built-in defaults when it does not exist). Its `include` "
                + "files and conf.d/*.toml beside it are read after it."),
        completion: .file(extensions: ["toml"]))
    var config: String?

    /// The effective rules; every problem in every file becomes one InputError: a line each, and their
    /// count, as `check` prints them.
    func load() throws(InputError) -> RuleSet { try loadFiles().rules }

    /// The effective rules and the files they were read from, in order; errors as `load()` throws them.
    func loadFiles() throws(InputError) -> (rules: RuleSet, files: [String]) {
        switch loadAll() {
        case .success(let loaded): return loaded
        case .failure(let errors): throw InputError(description: errors.report.joined(separator: "\nsipwarden: "))
        }
    }

    /// Reads the main file, its includes (in order) and conf.d/*.toml (in name order), collecting the
    /// errors of every file instead of stopping at the first.
    func loadAll() -> Result<(rules: RuleSet, files: [String]), RulesErrors> { files.load() }

    /// The rule files this option names, to read again later (a reload).
    var files: RuleFiles { RuleFiles(config: config) }
}

extension RulesErrors {
    /// One line per error, then their count.
    var report: [String] {
        errors.map(\.description) + ["\(counted(errors.count, "error")) in the rules"]
    }
}

/// The rule files: a main file (or the default path), its includes and conf.d/*.toml beside it.
struct RuleFiles: Sendable {
    let config: String?

    /// Reads every file, collecting the errors of all of them instead of stopping at the first.
    func load() -> Result<(rules: RuleSet, files: [String]), RulesErrors> {
        let path = config ?? ConfigOption.defaultPath
        if config == nil, !FileManager.default.fileExists(atPath: path) { return .success((RuleSet(), [])) }
        var rules = RuleSet()
        var errors: [RulesError] = []
        var files: [String] = []
        // Each file once, however it is spelled (an include loop, a file named twice, a symbolic link).
        var read: Set<String> = []
        var queue: [(file: String, includedBy: String?)] = [(path, nil)]
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        let dropIns = directory.appendingPathComponent("conf.d")
        if let names = try? FileManager.default.contentsOfDirectory(atPath: dropIns.path) {
            queue += names.filter { $0.hasSuffix(".toml") }.sorted().map {
                (dropIns.appendingPathComponent($0).path, nil)
            }
        }
        var index = 0
        while index < queue.count {
            let (file, includedBy) = queue[index]
            index += 1
            guard read.insert(URL(fileURLWithPath: file).standardizedFileURL.resolvingSymlinksInPath().path).inserted
            else { continue }
            files.append(file)
            // A FIFO or a device (`/dev/zero`) would be read forever: only regular files are rule files.
            var info = stat()
            let regular = stat(file, &info) != 0 || info.st_mode & S_IFMT == S_IFREG
            guard regular, let data = FileManager.default.contents(atPath: file) else {
                let why = regular ? unreadableReason(file) : "not a regular file"
                let reason = "cannot read rule file: \(why)"
                errors.append(
                    .unreadable(file: file, reason: reason + (includedBy.map { " (included by \($0))" } ?? "")))
                continue
            }
            let includes: [String]
            do {
                includes = try rules.apply(toml: [UInt8](data), file: file)
            } catch {
                errors += error.errors
                // The files it names are read all the same: their errors are reported in the same run.
                includes = error.includes
            }
            let base = URL(fileURLWithPath: file).deletingLastPathComponent()
            let resolved = includes.map { ($0.hasPrefix("/") ? $0 : base.appendingPathComponent($0).path, file) }
            // Includes come right after the file that names them, before later files.
            queue.insert(contentsOf: resolved, at: index)
        }
        if errors.isEmpty { errors = rules.mergedErrors(file: path) }
        return errors.isEmpty ? .success((rules, files)) : .failure(RulesErrors(errors))
    }
}

/// Refuses rules whose tables, allocated whole at start, need more memory than this host has: the
/// allocation would stop the process without a word of why.
func requireMemory(for rules: RuleSet, queues: Int) throws(InputError) {
    let needed = UInt64(Engine.tableBytes(rules, queues: queues))
    let host = ProcessInfo.processInfo.physicalMemory
    guard needed > host else { return }
    throw InputError(
        description: "the tables need \(needed >> 20) MiB, more than this host's \(host >> 20) MiB: lower [tables]")
}
