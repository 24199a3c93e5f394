import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A failed system call: which operation, and the errno it left.
public struct SystemCallError: Error, Equatable, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Errno

    public init(_ operation: String, _ errno: Errno) {
        self.operation = operation
        self.errno = errno
    }

    /// The error for the `errno` a call just left.
    static func last(_ operation: String) -> SystemCallError {
        SystemCallError(operation, Errno(rawValue: Glibc.errno))
    }

    public var description: String { "\(operation): \(errno)" }
}

/// Runs a C call that returns -1 and sets errno on failure, again while it fails with EINTR: the one
/// place interrupted calls are retried.
@inline(__always)
func retryingInterrupts<Result: BinaryInteger>(_ call: () -> Result) -> Result {
    while true {
        let result = call()
        if result == -1 && Glibc.errno == EINTR { continue }
        return result
    }
}
