import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The file that keeps the proven sources across a restart (`daemon.state_file`): read whole at the
/// start, replaced whole on a graceful stop.
enum StateFile {
    /// The most a state file of tables of `sources` and `users` may hold: 128 bytes an entry (a line
    /// takes at most about 80), and never less than 128 MiB; the default tables full take about 20 MB.
    static func largest(sources: Int, users: Int) -> Int { max(128 << 20, (sources + users) * 128) }

    /// The file's text; nil when there is no file. Refused: anything but a regular file (a FIFO or a
    /// device would be read forever), a symbolic link, a file another user owns or may write (its
    /// sources would be trusted), one larger than `largest` bytes.
    static func read(_ path: String, largest: Int = largest(sources: 0, users: 0)) throws(SystemCallError) -> String? {
        let file: FileDescriptor
        do {
            file = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec, .noFollow, .nonBlocking])
        } catch Errno.noSuchFileOrDirectory {
            return nil
        } catch {
            throw SystemCallError("open \(path)", error as? Errno ?? .ioError)
        }
        defer { try? file.close() }
        var info = stat()
        guard fstat(file.rawValue, &info) == 0 else { throw .last("stat \(path)") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw SystemCallError("\(path): not a regular file", .invalidArgument)
        }
        guard info.st_uid == geteuid(), info.st_mode & 0o022 == 0 else {
            throw SystemCallError("\(path): owned or writable by another user", .permissionDenied)
        }
        let tooLarge = SystemCallError("\(path): larger than \(largest >> 20) MiB", .fileTooLarge)
        guard info.st_size <= largest else { throw tooLarge }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count <= largest {
            let count: Int
            do {
                count = try chunk.withUnsafeMutableBytes { try file.read(into: $0, retryOnInterrupt: true) }
            } catch {
                throw SystemCallError("read \(path)", error as? Errno ?? .ioError)
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        // The file may have grown since it was measured.
        guard bytes.count <= largest else { throw tooLarge }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Moves a file that could not be read out of the way (to `PATH.unreadable`), so that the next
    /// graceful stop does not replace what it held; returns where it went, nil when nothing was moved
    /// (no regular file or link there, or the rename failed).
    static func setAside(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG || info.st_mode & S_IFMT == S_IFLNK else {
            return nil
        }
        let aside = path + ".unreadable"
        return rename(path, aside) == 0 ? aside : nil
    }

    /// Replaces the file with `text` (mode 0600): written to a new `PATH.tmp`, flushed to disk, then renamed
    /// over the old one and the folder flushed too (where the file system allows it), so a crash or
    /// power loss midway leaves the old file or the new one, never half of one. A missing parent folder is made (mode 0700), as
    /// systemd's `StateDirectory` does under the unit.
    static func write(_ text: String, to path: String) throws(SystemCallError) {
        let folder = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        mkdir(folder, 0o700)
        let temporary = path + ".tmp"
        // A new file of the daemon's own: whatever was left at the temporary path (a link to another file,
        // a file another user made) is removed first, never written through or kept; one put there in
        // between makes the exclusive, no-follow open fail rather than be used.
        unlink(temporary)
        do {
            let file = try FileDescriptor.open(
                temporary, .writeOnly, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
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
