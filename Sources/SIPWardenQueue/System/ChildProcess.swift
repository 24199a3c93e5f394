import CSpawn
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
/// it, whatever the daemon's other threads have open as it starts: the queues' netlink sockets, the
/// control socket's connections and another child's pipes stay where they are.
struct ChildProcess {
    /// How a child ended.
    enum Termination: Equatable {
        case exited(Int32)
        case signalled(Int32)
    }

    let pid: pid_t

    /// Starts `executable` (a path: nothing is searched) with `arguments` and the descriptors `input`,
    /// `output` and `error` as its 0, 1 and 2 (/dev/null where nil).
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
        let closing = cspawn_file_actions_addclosefrom(&actions, 3)
        guard closing == 0 else { throw SystemCallError("start \(executable)", Errno(rawValue: closing)) }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw SystemCallError("start \(executable)", Errno(rawValue: result)) }
        self.pid = pid
    }

    /// How the child ended, once it has (it is then reaped); nil while it runs.
    func ended() throws(SystemCallError) -> Termination? {
        try reap(options: WNOHANG)
    }

    /// Waits for the child to end and reaps it.
    func waitForEnd() throws(SystemCallError) -> Termination {
        while true {
            if let end = try reap(options: 0) { return end }
        }
    }

    /// Kills the child (an ended child not yet reaped keeps its process number, so no other gets it).
    func kill() { _ = Glibc.kill(pid, SIGKILL) }

    private func reap(options: Int32) throws(SystemCallError) -> Termination? {
        var status: Int32 = 0
        let result = retryingInterrupts { waitpid(pid, &status, options) }
        guard result != -1 else { throw .last("wait for process \(pid)") }
        return result == pid ? Self.termination(status) : nil
    }

    /// A `waitpid` status: the exit status, or the signal that ended the child.
    static func termination(_ status: Int32) -> Termination {
        let signal = status & 0x7F
        return signal == 0 ? .exited(status >> 8 & 0xFF) : .signalled(signal)
    }
}
