import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A listening socket served until `stop()` by `threads` threads of its own, each accepting and
/// serving one connection at a time: the control socket and the metrics responder each run one, never
/// on a queue's thread.
final class AcceptLoop: Sendable {
    let listener: SocketDescriptor
    let threads: Int
    let stopping = Atomic<Bool>(false)
    let finished = DispatchSemaphore(value: 0)

    /// How long a client has to send its whole request: one that sends nothing, or a byte now and then,
    /// holds its thread no longer (a scrape or a `sipwarden` command sends it at once).
    static let requestSeconds = 1.0

    /// `listener` is bound and listening; its receive timeout bounds how long `stop()` takes.
    init(_ listener: SocketDescriptor, threads: Int = 1) {
        listener.setTimeout(seconds: 0.25)
        self.listener = listener
        self.threads = threads
    }

    /// Starts the threads `name`, each handing the connections it accepts (with a 5 s timeout) to
    /// `serve`: while one serves a long request, the others take the next connections.
    func start(name: String, serve: @escaping @Sendable (SocketDescriptor) -> Void) {
        for _ in 0..<threads {
            let thread = Thread { [self] in
                while !stopping.load(ordering: .relaxed) {
                    guard let client = listener.accept() else {
                        // A timeout comes back as EAGAIN; anything else (EMFILE, say) would spin: pause.
                        if errno != EAGAIN { usleep(100_000) }
                        continue
                    }
                    client.setTimeout(seconds: 5)
                    serve(client)
                }
                finished.signal()
            }
            thread.name = name
            thread.start()
        }
    }

    /// Stops accepting and waits (at most 2 s in all) for the threads to end; one still serving a
    /// request (an unban waiting for the kernel's tools) ends when it has answered.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        let deadline = DispatchTime.now() + 2
        for _ in 0..<threads where finished.wait(timeout: deadline) == .timedOut { break }
    }
}
