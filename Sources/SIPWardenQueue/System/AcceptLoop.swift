import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A listening socket served until `stop()`, each connection on a thread of its own, at most
/// `connections` at once: the control socket and the metrics responder each run one, never on a
/// queue's thread.
final class AcceptLoop: Sendable {
    let listener: SocketDescriptor
    let stopping = Atomic<Bool>(false)
    let finished = DispatchSemaphore(value: 0)
    /// One per connection that may be served at once.
    let slots: DispatchSemaphore

    /// How long a client has to send its whole request: one that sends nothing, or a byte now and then,
    /// holds the loop no longer (a scrape or a `sipwarden` command sends it at once).
    static let requestSeconds = 1.0

    /// `listener` is bound and listening; its receive timeout bounds how long `stop()` takes.
    init(_ listener: SocketDescriptor, connections: Int = 1) {
        listener.setTimeout(seconds: 0.25)
        self.listener = listener
        slots = DispatchSemaphore(value: connections)
    }

    /// Starts the thread `name`, handing each accepted connection (with a 5 s timeout) to `serve` on a
    /// thread of its own once one of the `connections` is free.
    func start(name: String, serve: @escaping @Sendable (SocketDescriptor) -> Void) {
        let thread = Thread { [self] in
            while !stopping.load(ordering: .relaxed) {
                guard let client = listener.accept() else {
                    // A timeout comes back as EAGAIN; anything else (EMFILE, say) would spin: pause.
                    if errno != EAGAIN { usleep(100_000) }
                    continue
                }
                client.setTimeout(seconds: 5)
                slots.wait()
                Thread { [self] in
                    serve(client)
                    slots.signal()
                }.start()
            }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Stops accepting and waits (at most 2 s) for the thread to end.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        _ = finished.wait(timeout: .now() + 2)
    }
}
