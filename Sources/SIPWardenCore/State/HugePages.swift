#if canImport(Glibc)
    import Glibc
#endif

extension Array {
    /// `count` copies of `value`, in memory the kernel is asked to back with transparent huge pages.
    ///
    /// The large tables are probed at random, one or two cache lines per lookup, so with 4 KiB pages
    /// nearly every probe also misses the TLB and walks the page tables; one 2 MiB page covers what 512
    /// small ones do. The advice comes before the first write, so the pages are huge from their first
    /// fault. Where the kernel gives none (THP set to `never`, or memory too fragmented), the array
    /// is an ordinary one.
    init(hugePagesRepeating value: Element, count: Int) {
        self.init(unsafeUninitializedCapacity: count) { buffer, initialized in
            HugePages.advise(UnsafeMutableRawBufferPointer(buffer))
            buffer.initialize(repeating: value)
            initialized = count
        }
    }
}

/// Transparent huge pages (Linux THP) for the large tables.
enum HugePages {
    /// A huge page on x86-64, and on arm64 with 4 KiB base pages.
    static let size = 2 << 20

    /// The addresses of the whole huge pages inside `start..<end`; nil when it holds none.
    static func wholePages(from start: Int, to end: Int) -> Range<Int>? {
        let first = (start + size - 1) & ~(size - 1)
        let last = end & ~(size - 1)
        return first < last ? first..<last : nil
    }

    /// Advises huge pages for the whole huge pages inside `memory` (madvise MADV_HUGEPAGE, which THP's
    /// default `madvise` mode waits for); the parts before the first and after the last stay small.
    static func advise(_ memory: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
            guard let base = memory.baseAddress,
                let pages = wholePages(from: Int(bitPattern: base), to: Int(bitPattern: base) + memory.count),
                let first = UnsafeMutableRawPointer(bitPattern: pages.lowerBound)
            else { return }
            // Advice only: where it fails (a kernel without THP), small pages are just as correct.
            _ = madvise(first, pages.count, MADV_HUGEPAGE)
        #endif
    }
}
