import Foundation

/// Network namespaces the live tests make and remove.
public enum Namespaces {
    /// Deletes the network namespace `name` (and its interfaces). A program another test started
    /// meanwhile with `ip netns exec` holds a copy of the namespace's mount until it exits, and the kernel
    /// refuses the deletion (busy) until then: it is tried again for up to 5 s, so that no run leaves a
    /// namespace behind.
    public static func delete(_ name: String) {
        for attempt in 1...50 {
            let result = try? Subprocess.run("ip", ["netns", "delete", name])
            if result?.status == 0 || !FileManager.default.fileExists(atPath: "/run/netns/\(name)") { return }
            if attempt < 50 { usleep(100_000) }
        }
    }
}
