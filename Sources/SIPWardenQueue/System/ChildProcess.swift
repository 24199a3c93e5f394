import Foundation
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A child process (ipset, nft, the rule files' probe) started with `posix_spawn`, its signals reset.
///
/// The daemon blocks SIGTERM, SIGINT and SIGHUP in every thread for its signal loop (`SignalWaiter`),
/// and a child inherits the mask of the thread that starts it: one started with Foundation's `Process`
/// kept them blocked, so systemd's SIGTERM at a stop could not end it. Here the child starts with no
/// signal blocked and those, and SIGPIPE, at their default actions. Only descriptors 0, 1 and 2 reach
/// it: the queues' netlink sockets and the control socket stay the daemon's.
struct ChildProcess {
    /// How a child ended.
    enum Termination: Equatable {
        case exited(Int32)
        case signalled(Int32)
    }

    let pid: pid_t

    /// Starts `executable` with `arguments` and the descriptors `input`, `output` and `error` as its
    /// 0, 1 and 2 (/dev/null where nil).
    init(_ executable: String, _ arguments: [String], input: Int32? = nil, output: Int32? = nil, error: Int32? = nil)
        throws(SystemCallError)
    {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in SignalWaiter.handled + [SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, descriptor) in [input, output, error].enumerated() {
            if let descriptor {
                posix_spawn_file_actions_adddup2(&actions, descriptor, Int32(target))
            } else {
                posix_spawn_file_actions_addopen(&actions, Int32(target), "/dev/null", O_RDWR, 0)
            }
        }
        // (glibc's closefrom action is not visible to Swift; a descriptor closed meanwhile is no error.)
        for descriptor in Self.openDescriptors() where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw SystemCallError("start \(executable)", Errno(rawValue: result)) }
        self.pid = pid
    }

    /// How the child ended, once it has (it is then reaped); nil while it runs.
    func ended() -> Termination? {
        var status: Int32 = 0
        let result = retryingInterrupts { waitpid(pid, &status, WNOHANG) }
        return result == pid ? Self.termination(status) : nil
    }

    /// Waits for the child to end and reaps it.
    func waitForEnd() -> Termination {
        var status: Int32 = 0
        _ = retryingInterrupts { waitpid(pid, &status, 0) }
        return Self.termination(status)
    }

    /// Kills the child (an ended child not yet reaped keeps its process number, so no other gets it).
    func kill() { _ = Glibc.kill(pid, SIGKILL) }

    /// The descriptors this process holds.
    static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    }

    /// A `waitpid` status: the exit status, or the signal that ended the child.
    static func termination(_ status: Int32) -> Termination {
        let signal = status & 0x7F
        return signal == 0 ? .exited(status >> 8 & 0xFF) : .signalled(signal)
    }
}
