import Foundation
import Testing

@testable import SIPWardenCore

@Suite struct HugePagesTests {
    static let mib = 1 << 20

    @Test func onlyWholeHugePagesInsideTheMemoryAreAdvised() {
        #expect(HugePages.wholePages(from: 4096, to: 4096 + 2 * Self.mib) == nil, "2 MiB, but across a boundary")
        #expect(HugePages.wholePages(from: 2 * Self.mib, to: 4 * Self.mib) == 2 * Self.mib..<4 * Self.mib)
        #expect(HugePages.wholePages(from: 1, to: 6 * Self.mib + 5) == 2 * Self.mib..<6 * Self.mib)
        #expect(HugePages.wholePages(from: 0, to: Self.mib) == nil)
    }

    #if os(Linux)
        /// The kernel marks advised memory `hg` in the VmFlags of its mapping in /proc/self/smaps,
        /// whatever THP's mode, so this holds on any Linux host.
        @Test func aLargeTableIsAdvisedHugePages() throws {
            let table = BoundedTable<IPAddress, SourceState>(
                capacity: 1 << 16, emptyValue: SourceState(), seed: 1)
            let values = table.values.withUnsafeBufferPointer { UnsafeRawBufferPointer($0) }
            let start = Int(bitPattern: values.baseAddress)
            let pages = try #require(HugePages.wholePages(from: start, to: start + values.count))
            #expect(try Self.vmFlags(at: pages.lowerBound).contains("hg"))
        }

        /// The VmFlags of the mapping that holds `address`.
        static func vmFlags(at address: Int) throws -> [Substring] {
            // Read to the end: /proc files report no size, and String(contentsOfFile:) reads one page.
            let file = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
            let smaps = String(decoding: try file.readToEnd() ?? Data(), as: UTF8.self)
            var holds = false
            for line in smaps.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                    let bounds = range.split(separator: "-").compactMap { Int($0, radix: 16) }
                    holds = bounds.count == 2 && bounds[0] <= address && address < bounds[1]
                } else if holds, fields.first == "VmFlags:" {
                    return Array(fields.dropFirst())
                }
            }
            return []
        }
    #endif
}
