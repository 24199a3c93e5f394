import Foundation

/// Writes a line to standard error, prefixed with the program name.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("sipwarden: \(message)\n".utf8))
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
