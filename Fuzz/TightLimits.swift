// Compiled into both fuzz targets (scripts/fuzz).

/// Classifier limits small enough that a fuzzer's short inputs cross them.
let tightLimits: ClassifierLimits = {
    var limits = ClassifierLimits()
    limits.uriLength = 8
    limits.callIDLength = 8
    limits.headerLength = 32
    limits.messageLength = 64
    return limits
}()
