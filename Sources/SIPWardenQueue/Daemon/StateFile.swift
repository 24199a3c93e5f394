import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The file that keeps the proven sources across a restart (`daemon.state_file`): read whole at the
/// start, replaced whole on a graceful stop.
enum StateFile {
    /// The file's text; nil when there is no file.
    static func read(_ path: String) throws(SystemCallError) -> String? {
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec])
        } catch Errno.noSuchFileOrDirectory {
            return nil
        } catch {
            throw SystemCallError("open \(path)", error as? Errno ?? .ioError)
        }
        defer { try? file.close() }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count: Int
            do {
                count = try chunk.withUnsafeMutableBytes { try file.read(into: $0, retryOnInterrupt: true) }
            } catch {
                throw SystemCallError("read \(path)", error as? Errno ?? .ioError)
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Replaces the file with `text` (mode 0600): written to `PATH.tmp`, flushed to disk, then renamed
    /// over the old one and the folder flushed too (where the file system allows it), so a crash or
    /// power loss midway leaves the old file or the new one, never half of one. A missing parent folder is made (mode 0700), as
    /// systemd's `StateDirectory` does under the unit.
    static func write(_ text: String, to path: String) throws(SystemCallError) {
        let folder = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        mkdir(folder, 0o700)
        let temporary = path + ".tmp"
        do {
            let file = try FileDescriptor.open(
                temporary, .writeOnly, options: [.create, .truncate, .closeOnExec],
                permissions: [.ownerRead, .ownerWrite])
            try file.closeAfter {
                _ = try file.writeAll(Array(text.utf8))
                guard fsync(file.rawValue) == 0 else { throw Errno(rawValue: errno) }
            }
        } catch {
            unlink(temporary)
            throw SystemCallError("write \(temporary)", error as? Errno ?? .ioError)
        }
        guard rename(temporary, path) == 0 else {
            let failure = SystemCallError.last("rename \(temporary)")
            unlink(temporary)
            throw failure
        }
        syncFolder(folder)
    }

    /// Flushes the folder's entries, which makes a rename in it durable. Best effort: the new file is in
    /// place either way, and some file systems cannot sync a folder.
    static func syncFolder(_ folder: String) {
        guard let directory = try? FileDescriptor.open(folder, .readOnly, options: [.directory, .closeOnExec])
        else { return }
        fsync(directory.rawValue)
        try? directory.close()
    }
}
