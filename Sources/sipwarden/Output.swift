import Foundation

/// Writes a line to standard error, prefixed with the program name.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("sipwarden: \(message)\n".utf8))
}

/// The system's words for error number `code` ("No such file or directory").
func systemMessage(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

/// Why the file at `path` cannot be read, in the system's words.
func unreadableReason(_ path: String) -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return systemMessage() }
    defer { close(fd) }
    var byte: UInt8 = 0
    return read(fd, &byte, 1) < 0 ? systemMessage() : "unreadable"
}

/// Formats rows as left-aligned columns separated by two spaces, for terminal tables.
func table(_ rows: [[String]]) -> String {
    guard let columns = rows.map(\.count).max() else { return "" }
    var widths = [Int](repeating: 0, count: columns)
    for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
    return rows.map { row in
        row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
