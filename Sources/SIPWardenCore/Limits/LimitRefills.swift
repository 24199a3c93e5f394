/// The rates an engine spends from for every packet, as token-bucket refills worked out once from the
/// rules and the engine's budget share (at start and on reload) instead of for each packet.
struct LimitRefills {
    /// Per source, for sources without and with good history (`goodSourceFactor` applied).
    var source: RuleSet.MethodClassTable<TokenBucket.Refill>
    var goodSource: RuleSet.MethodClassTable<TokenBucket.Refill>
    var prefix: RuleSet.MethodClassTable<TokenBucket.Refill>
    /// The global budgets and the unknown-source budget, cut to the engine's share.
    var global: RuleSet.MethodClassTable<TokenBucket.Refill>
    var unknownSources: TokenBucket.Refill

    init(_ limits: RuleSet.Limits, budgets: GlobalBudgets) {
        let factor = limits.goodSourceFactor
        source = limits.classes.map { TokenBucket.Refill($0.source) }
        goodSource = limits.classes.map {
            TokenBucket.Refill(Rate(perSecond: $0.source.perSecond * factor, burst: $0.source.burst * factor))
        }
        prefix = limits.classes.map { TokenBucket.Refill($0.prefix) }
        global = limits.classes.map { TokenBucket.Refill(budgets.scaled($0.global)) }
        unknownSources = TokenBucket.Refill(budgets.scaled(limits.unknownSources))
    }
}
