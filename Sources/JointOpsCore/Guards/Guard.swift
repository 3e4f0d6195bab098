/// A compiled, type-checked guard (`when:`) over an operation's attributes and branches.
public indirect enum Guard: Sendable, Hashable {
    case constant(Bool)
    case compare(GuardOperand, ComparisonOperator, GuardOperand)
    case member(GuardOperand, [GuardOperand])
    case not(Guard)
    case and(Guard, Guard)
    case or(Guard, Guard)
}

public enum ComparisonOperator: String, Sendable, Hashable, CaseIterable {
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="

    var isOrdering: Bool { self != .equal && self != .notEqual }
}

/// One side of a comparison: something read from the operation, or a constant.
public enum GuardOperand: Sendable, Hashable {
    case attribute(Int)
    case branchStatus(Int)
    case branchStep(Int)
    case constant(GuardValue)
}

/// What an operand evaluates to.
public enum GuardValue: Sendable, Hashable {
    case attribute(AttributeValue)
    case status(BranchStatus)
    case step(Int)
}

/// What a guard reads from an operation; the engine's state conforms.
public protocol GuardContext {
    func attributeValue(_ index: Int) -> AttributeValue?
    func branchStatus(_ branch: Int) -> BranchStatus
    func branchStep(_ branch: Int) -> Int?
}

extension Guard {
    /// Whether the guard holds. An unset attribute makes any comparison with it false.
    public func evaluate(in context: some GuardContext) -> Bool {
        switch self {
        case .constant(let value):
            return value
        case .not(let inner):
            return !inner.evaluate(in: context)
        case .and(let lhs, let rhs):
            return lhs.evaluate(in: context) && rhs.evaluate(in: context)
        case .or(let lhs, let rhs):
            return lhs.evaluate(in: context) || rhs.evaluate(in: context)
        case .member(let operand, let options):
            guard let value = operand.value(in: context) else { return false }
            return options.contains { $0.value(in: context) == value }
        case .compare(let lhs, let op, let rhs):
            guard let left = lhs.value(in: context), let right = rhs.value(in: context) else { return false }
            switch op {
            case .equal: return left == right
            case .notEqual: return left != right
            default:
                guard let a = left.orderingKey, let b = right.orderingKey else { return false }
                switch op {
                case .less: return a < b
                case .lessOrEqual: return a <= b
                case .greater: return a > b
                default: return a >= b
                }
            }
        }
    }
}

extension GuardOperand {
    func value(in context: some GuardContext) -> GuardValue? {
        switch self {
        case .attribute(let index): context.attributeValue(index).map(GuardValue.attribute)
        case .branchStatus(let branch): .status(context.branchStatus(branch))
        case .branchStep(let branch): context.branchStep(branch).map(GuardValue.step)
        case .constant(let value): value
        }
    }
}

extension GuardValue {
    /// Ints and priorities are ordered (P1 < P2); nothing else is.
    var orderingKey: Int? {
        switch self {
        case .attribute(.int(let value)): value
        case .attribute(.priority(let level)): level
        default: nil
        }
    }
}
