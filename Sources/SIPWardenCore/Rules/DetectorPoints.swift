extension RuleSet {
    /// Points per detector, held inline (one lane per detector): reading one is an index, not a hash
    /// lookup. A detector never given points has 0.
    public struct DetectorPoints: Equatable, Sendable, ExpressibleByDictionaryLiteral {
        var lanes = SIMD16<Double>()

        public init(dictionaryLiteral elements: (Detector, Double)...) {
            for (detector, points) in elements { self[detector] = points }
        }

        public subscript(_ detector: Detector) -> Double {
            @inline(__always) get { lanes[detector.lane] }
            @inline(__always) set { lanes[detector.lane] = newValue }
        }
    }
}

extension RuleSet.Detector {
    /// The detector's lane in `DetectorPoints` and `ScoreParts`: its place in declaration order.
    @inline(__always)
    var lane: Int {
        switch self {
        case .scannerUserAgent: return 0
        case .scannerMarks: return 1
        case .malformed: return 2
        case .notSIP: return 3
        case .rateLimit: return 4
        case .enumeration: return 5
        case .passwordGuessing: return 6
        case .distributedGuessing: return 7
        case .tollFraud: return 8
        case .hijack: return 9
        case .digestReplay: return 10
        case .cleartextKeys: return 11
        case .sharedUserAgent: return 12
        }
    }
}
