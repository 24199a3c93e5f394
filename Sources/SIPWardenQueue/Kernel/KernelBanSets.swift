import Dispatch
import Foundation
import SIPWardenCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Lifts bans from the kernel ban sets the firewall fills (ipset for the iptables flavours, nft sets in
/// table `inet sipwarden` for the nft flavour), deleting what `BanSets.entriesLifted` picks with the
/// input `BanSets.deletionScript` writes: `BanSets` is the one place set names and entries are defined.
public struct KernelBanSets: Sendable {
    /// Where `ipset` and `nft` are looked for.
    let searchPath: [String]
    /// How long one run of a tool may take before it is killed: a hung tool must not hold a control
    /// socket's thread, and with it every later `unban` (refused while one is under way), for long.
    let timeout: Double

    public init(searchPath: [String] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"], timeout: Double = 12) {
        self.searchPath = searchPath
        self.timeout = timeout
    }

    /// What an unban did in the kernel.
    public struct Removal: Equatable, Sendable {
        /// The sets an entry was deleted from.
        public var sets: [String] = []
        /// Why a flavour's entries could not be deleted (they are still banned in the kernel).
        public var failures: [String] = []
    }

    /// Deletes from the sets of every flavour loaded each entry that overlaps a target (an address, or
    /// a block: 0.0.0.0/0 lifts every IPv4 ban, those the daemon knows of and those it does not). A
    /// flavour whose tool or nft table is missing is skipped; a listing or a deletion that fails or
    /// times out is a failure (the bans stay in the kernel). However many entries, a flavour costs two
    /// runs of its tool: one listing what its sets hold, one deleting.
    public func remove(_ targets: [IPPrefix]) -> Removal {
        var removal = Removal()
        for flavour in Flavour.all {
            let name = flavour.tool
            guard let executable = tool(name) else { continue }
            let listed: ToolRun
            do { listed = try run(executable, flavour.listing) } catch {
                removal.failures.append("\(name) did not list its sets: \(error)")
                continue
            }
            guard listed.end == .exited(0) else {
                if let missing = flavour.notLoaded, listed.error.contains(missing) { continue }
                removal.failures.append("\(name) could not list its sets: \(listed.error)")
                continue
            }
            // In each set, the entries that expire last first: in a full nft set, the first element added
            // back (`BanSets.deletionScript`) is then still there, and each deletion makes room for the
            // next one, should it have expired since the listing.
            let held = flavour.entries(listed.output)
            let lifted = BanSets.entriesLifted(by: targets, from: held.keys).sorted {
                ($0.set, held[$1] ?? 0) < ($1.set, held[$0] ?? 0)
            }
            guard !lifted.isEmpty else { continue }
            let entries = counted(lifted.count, "entry", plural: "entries")
            let deleted: ToolRun
            do {
                deleted = try run(
                    executable, flavour.deleting, input: BanSets.deletionScript(lifted, backend: flavour.backend))
            } catch {
                removal.failures.append("\(name) did not finish deleting \(entries): \(error)")
                continue
            }
            guard deleted.end == .exited(0) else {
                removal.failures.append("\(name) could not delete \(entries): \(deleted.error)")
                continue
            }
            removal.sets = Array(Set(removal.sets + lifted.map(\.set))).sorted()
        }
        return removal
    }

    /// How each flavour's tool lists the ban sets and takes the deletions.
    struct Flavour: Sendable {
        let backend: BanSets.Backend
        let tool: String
        let listing: [String]
        /// The listing's entries, each with the seconds until it expires.
        let entries: @Sendable (String) -> [BanSets.Entry: Int]
        let deleting: [String]
        /// What the tool says when the flavour is not loaded (nothing to lift there), if it can say it.
        let notLoaded: String?

        static let all = [
            Flavour(
                backend: .ipset, tool: "ipset", listing: ["save"], entries: ipsetEntries,
                deleting: ["restore", "-exist"], notLoaded: nil),
            Flavour(
                backend: .nft, tool: "nft", listing: ["-j", "list", "table", "inet", BanSets.nftTable],
                entries: nftEntries, deleting: ["-f", "-"], notLoaded: "No such file or directory"),
        ]
    }

    /// The entries of `ipset save` output (`add SET ADDRESS [timeout N]` lines), each with 0 for when it
    /// expires, as `nftEntries` gives them: ipset's deletions need no order.
    static func ipsetEntries(_ text: String) -> [BanSets.Entry: Int] {
        text.split(separator: "\n").reduce(into: [:]) { entries, line in
            let words = line.split(separator: " ")
            guard words.count >= 3, words[0] == "add", let address = IPAddress(String(words[2])) else { return }
            entries[BanSets.Entry(set: String(words[1]), address: address)] = 0
        }
    }

    /// The entries of the sets in `nft -j list table` output, with the seconds until each expires (0
    /// when the listing does not say): each set's `elem` list holds addresses, as text or as
    /// `{"elem": {"val": ADDRESS, "expires": SECONDS, …}}` when they carry a timeout.
    static func nftEntries(_ text: String) -> [BanSets.Entry: Int] {
        guard let root = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let objects = root["nftables"] as? [[String: Any]]
        else { return [:] }
        var entries: [BanSets.Entry: Int] = [:]
        for object in objects {
            guard let set = object["set"] as? [String: Any], let name = set["name"] as? String,
                let elements = set["elem"] as? [Any]
            else { continue }
            for element in elements {
                let fields = (element as? [String: Any])?["elem"] as? [String: Any]
                guard let value = element as? String ?? fields?["val"] as? String, let address = IPAddress(value)
                else { continue }
                entries[BanSets.Entry(set: name, address: address)] = fields?["expires"] as? Int ?? 0
            }
        }
        return entries
    }

    func tool(_ name: String) -> String? {
        searchPath.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// What a run of a tool gave: how it ended, its standard output and the first line of its standard
    /// error.
    struct ToolRun {
        var end: ChildProcess.Termination
        var output: String
        var error: String
    }

    /// Why a run of a tool gave nothing.
    enum ToolFailure: Error, CustomStringConvertible {
        case cannotStart(SystemCallError)
        case tookLonger(than: Double)
        case cannotWait(SystemCallError)

        var description: String {
            switch self {
            case .cannotStart(let error): "it could not start (\(error))"
            case .tookLonger(let timeout): "it took longer than \(Rate.number(timeout)) s and was killed"
            case .cannotWait(let error): "its end could not be waited for (\(error))"
            }
        }
    }

    /// Runs a tool with `input` on its standard input, killing it after `timeout` seconds.
    func run(_ executable: String, _ arguments: [String], input: String = "") throws(ToolFailure) -> ToolRun {
        let (stdin, stdout, stderr) = (Pipe(), Pipe(), Pipe())
        let started = Result { () throws(SystemCallError) in
            try ChildProcess(
                executable, arguments, input: stdin.fileHandleForReading.fileDescriptor,
                output: stdout.fileHandleForWriting.fileDescriptor, error: stderr.fileHandleForWriting.fileDescriptor)
        }
        // The child's ends are its own now: the readers see the end of its output when it closes them.
        for end in [stdin.fileHandleForReading, stdout.fileHandleForWriting, stderr.fileHandleForWriting] {
            try? end.close()
        }
        let child: ChildProcess
        do { child = try started.get() } catch {
            try? stdin.fileHandleForWriting.close()
            throw .cannotStart(error)
        }
        // The input and the output may each be larger than a pipe holds: write from another thread, which
        // takes a tool that stops reading as an error (SIGPIPE blocked), not as the end of the daemon.
        let writer = Thread {
            var pipeSignal = sigset_t()
            sigemptyset(&pipeSignal)
            sigaddset(&pipeSignal, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
            let fd = stdin.fileHandleForWriting.fileDescriptor
            let bytes = Array(input.utf8)
            var offset = 0
            while offset < bytes.count {
                let count = retryingInterrupts {
                    bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
                }
                if count <= 0 { break }
                offset += count
            }
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let outputs = Mutex((output: Data(), error: Data()))
        let read = DispatchGroup()
        for isError in [false, true] {
            read.enter()
            Thread {
                let data = (isError ? stderr : stdout).fileHandleForReading.readDataToEndOfFile()
                outputs.withLock { if isError { $0.error = data } else { $0.output = data } }
                read.leave()
            }.start()
        }
        let finished = read.wait(timeout: .now() + timeout) == .success
        if !finished {
            // A child it left behind may keep the pipes open: the readers are not waited for past a second.
            child.kill()
            _ = read.wait(timeout: .now() + 1)
        }
        let end: ChildProcess.Termination
        do { end = try child.waitForEnd() } catch { throw .cannotWait(error) }
        guard finished else { throw .tookLonger(than: timeout) }
        let (output, error) = outputs.withLock { $0 }
        let firstLine = String(decoding: error, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        return ToolRun(end: end, output: String(decoding: output, as: UTF8.self), error: firstLine)
    }
}
