/// `count` and its noun, plural unless `count` is 1: "1 error", "3 errors", "2 entries".
public func counted(_ count: Int, _ noun: String, plural: String? = nil) -> String {
    "\(count) \(count == 1 ? noun : plural ?? noun + "s")"
}
