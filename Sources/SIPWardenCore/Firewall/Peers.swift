/// Who a rule is for: everyone, or the addresses inside some blocks.
enum Peers {
    case anywhere
    case only([IPPrefix])

    /// The blocks of `family`, without those another block covers; nil for everyone of that family,
    /// empty when nobody of that family is meant.
    func blocks(_ family: IPAddress.Family) -> [IPPrefix]? {
        guard case .only(let list) = self else { return nil }
        let mine = list.filter { $0.address.family == family }
        if mine.contains(where: { $0.length == 0 }) { return nil }
        return mine.enumerated().filter { index, block in
            !mine.enumerated().contains { other, wider in
                other != index && wider.covers(block) && (wider != block || other < index)
            }
        }.map(\.element)
    }
}
