extension RuleSet {
    /// One value per method class, held inline: reading one is a switch over stored properties, with no
    /// hashing and no heap storage, so the engine can read it for every packet.
    public struct MethodClassTable<Value> {
        public var invite: Value
        public var register: Value
        public var options: Value
        public var presence: Value
        public var dialog: Value
        public var responses: Value
        public var other: Value

        public init(
            invite: Value, register: Value, options: Value, presence: Value, dialog: Value, responses: Value,
            other: Value
        ) {
            self.invite = invite
            self.register = register
            self.options = options
            self.presence = presence
            self.dialog = dialog
            self.responses = responses
            self.other = other
        }

        /// The same value for every class.
        public init(repeating value: Value) {
            self.init(
                invite: value, register: value, options: value, presence: value, dialog: value, responses: value,
                other: value)
        }

        public subscript(_ methodClass: MethodClass) -> Value {
            @inline(__always) get {
                switch methodClass {
                case .invite: return invite
                case .register: return register
                case .options: return options
                case .presence: return presence
                case .dialog: return dialog
                case .responses: return responses
                case .other: return other
                }
            }
            // In place: spending from one bucket of a table does not copy it out and back.
            @inline(__always) _modify {
                switch methodClass {
                case .invite: yield &invite
                case .register: yield &register
                case .options: yield &options
                case .presence: yield &presence
                case .dialog: yield &dialog
                case .responses: yield &responses
                case .other: yield &other
                }
            }
        }

        /// A table of `transform` applied to every class's value.
        public func map<Result>(_ transform: (Value) -> Result) -> MethodClassTable<Result> {
            MethodClassTable<Result>(
                invite: transform(invite), register: transform(register), options: transform(options),
                presence: transform(presence), dialog: transform(dialog), responses: transform(responses),
                other: transform(other))
        }
    }
}

extension RuleSet.MethodClassTable: Equatable where Value: Equatable {}
extension RuleSet.MethodClassTable: Sendable where Value: Sendable {}
