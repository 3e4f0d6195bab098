/// The names a guard may use: the workflow's attributes and branches.
struct GuardSymbols {
    var attributes: [(name: String, type: AttributeType)]
    var branches: [(name: String, steps: [String])]

    func attributeIndex(_ name: String) -> Int? { attributes.firstIndex { $0.name == name } }
    func branchIndex(_ name: String) -> Int? { branches.firstIndex { $0.name == name } }
}

/// Resolves names and checks types in a parsed guard, producing a `Guard` the engine runs.
struct GuardCompiler {
    let symbols: GuardSymbols

    private enum Typed {
        case operand(GuardOperand, OperandType)
        /// A bare name that is not an attribute: a value whose type comes from the other side.
        case symbol(String, offset: Int)
    }

    private enum OperandType: Equatable {
        case string, int, bool, priority, status
        case enumeration(attribute: Int)
        case step(branch: Int)
    }

    static func compile(_ source: String, symbols: GuardSymbols) throws(GuardError) -> Guard {
        let syntax = try GuardParser.parse(source)
        return try GuardCompiler(symbols: symbols).condition(syntax)
    }

    private func condition(_ syntax: GuardSyntax) throws(GuardError) -> Guard {
        switch syntax {
        case .not(let inner): return .not(try condition(inner))
        case .and(let lhs, let rhs): return .and(try condition(lhs), try condition(rhs))
        case .or(let lhs, let rhs): return .or(try condition(lhs), try condition(rhs))
        case .boolean(let value, _): return .constant(value)
        case .name(let name, let offset):
            let typed = try operand(.name(name, offset: offset))
            guard case .operand(let operand, .bool) = typed else {
                if case .symbol = typed { throw unknownName(name, offset: offset) }
                throw GuardError(offset: offset, message: "'\(name)' is not a bool attribute; compare it, e.g. \(name) == …")
            }
            return .compare(operand, .equal, .constant(.attribute(.bool(true))))
        case .compare(let lhs, let op, let rhs, let offset):
            let (left, right) = try unify(try operand(lhs), try operand(rhs), offset: offset)
            if op.isOrdering, left.1 != .int, left.1 != .priority {
                throw GuardError(
                    offset: offset, message: "'\(op.rawValue)' needs int or priority values, not \(describe(left.1)); use == or !=")
            }
            return .compare(left.0, op, right.0)
        case .member(let lhs, let options, let offset):
            let subject = try operand(lhs)
            var compiled: [GuardOperand] = []
            var subjectOperand: GuardOperand?
            for option in options {
                let (left, right) = try unify(subject, try operand(option), offset: option.offset)
                subjectOperand = left.0
                compiled.append(right.0)
            }
            guard let subjectOperand else {
                throw GuardError(offset: offset, message: "'in' needs at least one value, e.g. in [a, b]")
            }
            return .member(subjectOperand, compiled)
        case .integer(_, let offset), .text(_, let offset):
            throw GuardError(offset: offset, message: "a constant alone is not a condition; compare it with an attribute")
        }
    }

    private func operand(_ syntax: GuardSyntax) throws(GuardError) -> Typed {
        switch syntax {
        case .integer(let value, _): return .operand(.constant(.attribute(.int(value))), .int)
        case .text(let text, _): return .operand(.constant(.attribute(.string(text))), .string)
        case .boolean(let value, _): return .operand(.constant(.attribute(.bool(value))), .bool)
        case .name(let name, let offset):
            if let index = symbols.attributeIndex(name) {
                return .operand(.attribute(index), type(of: symbols.attributes[index].type, index: index))
            }
            for (prefix, isStatus) in [("branch.", true), ("step.", false)] where name.hasPrefix(prefix) {
                let branchName = String(name.dropFirst(prefix.count))
                guard let branch = symbols.branchIndex(branchName) else {
                    let hint = Suggestions.hint(for: branchName, in: symbols.branches.map(\.name), noun: "branches")
                    throw GuardError(offset: offset + prefix.count, message: "unknown branch '\(branchName)' in guard\(hint)")
                }
                return isStatus
                    ? .operand(.branchStatus(branch), .status) : .operand(.branchStep(branch), .step(branch: branch))
            }
            return .symbol(name, offset: offset)
        default:
            throw GuardError(offset: syntax.offset, message: "expected a value, not a condition")
        }
    }

    private func type(of attributeType: AttributeType, index: Int) -> OperandType {
        switch attributeType {
        case .string: .string
        case .int: .int
        case .bool: .bool
        case .priority: .priority
        case .enumeration: .enumeration(attribute: index)
        }
    }

    /// Gives both sides of a comparison one type, reading a bare name by the other side's type.
    private func unify(
        _ lhs: Typed, _ rhs: Typed, offset: Int
    ) throws(GuardError)
        -> ((GuardOperand, OperandType), (GuardOperand, OperandType))
    {
        switch (lhs, rhs) {
        case (.symbol(let name, let at), .symbol):
            throw unknownName(name, offset: at)
        case (.operand(let operand, let type), .symbol(let name, let at)):
            return ((operand, type), (try constant(name, as: type, offset: at), type))
        case (.symbol(let name, let at), .operand(let operand, let type)):
            return ((try constant(name, as: type, offset: at), type), (operand, type))
        case (.operand(let left, let leftType), .operand(let right, let rightType)):
            guard leftType == rightType else {
                // `priority > 3`: priorities are written as they are said, not as numbers.
                let hint =
                    [leftType, rightType].contains(.priority) && [leftType, rightType].contains(.int)
                    ? "; write a priority as P1 … P4 (P1 most urgent), e.g. priority <= P2" : ""
                throw GuardError(offset: offset, message: "cannot compare \(describe(leftType)) with \(describe(rightType))\(hint)")
            }
            return ((left, leftType), (right, rightType))
        }
    }

    private func constant(_ name: String, as type: OperandType, offset: Int) throws(GuardError) -> GuardOperand {
        switch type {
        case .string:
            return .constant(.attribute(.string(name)))
        case .enumeration(let attribute):
            guard case .enumeration(let values) = symbols.attributes[attribute].type, values.contains(name) else {
                let values = symbols.attributes[attribute].type.enumValues
                throw GuardError(
                    offset: offset,
                    message: "'\(name)' is not a value of '\(symbols.attributes[attribute].name)'\(Suggestions.hint(for: name, in: values))"
                )
            }
            return .constant(.attribute(.symbol(name)))
        case .priority:
            guard let level = AttributeValue.priorityLevel(name) else {
                throw GuardError(offset: offset, message: "'\(name)' is not a priority; use P1, P2, P3 or P4")
            }
            return .constant(.attribute(.priority(level)))
        case .status:
            guard let status = BranchStatus(rawValue: name) else {
                throw GuardError(
                    offset: offset,
                    message: "'\(name)' is not a branch status\(Suggestions.hint(for: name, in: BranchStatus.allCases.map(\.rawValue)))")
            }
            return .constant(.status(status))
        case .step(let branch):
            guard let step = symbols.branches[branch].steps.firstIndex(of: name) else {
                throw GuardError(
                    offset: offset,
                    message:
                        "branch '\(symbols.branches[branch].name)' has no step '\(name)'\(Suggestions.hint(for: name, in: symbols.branches[branch].steps, noun: "steps"))"
                )
            }
            return .constant(.step(step))
        case .int, .bool:
            throw GuardError(
                offset: offset,
                message:
                    "unknown attribute '\(name)' in guard\(Suggestions.hint(for: name, in: symbols.attributes.map(\.name), noun: "attributes"))"
            )
        }
    }

    private func unknownName(_ name: String, offset: Int) -> GuardError {
        GuardError(
            offset: offset,
            message:
                "unknown attribute '\(name)' in guard\(Suggestions.hint(for: name, in: symbols.attributes.map(\.name), noun: "attributes"))"
        )
    }

    private func describe(_ type: OperandType) -> String {
        switch type {
        case .string: "a string"
        case .int: "an int"
        case .bool: "a bool"
        case .priority: "a priority"
        case .status: "a branch status"
        case .enumeration(let attribute): "enum '\(symbols.attributes[attribute].name)'"
        case .step(let branch): "a step of '\(symbols.branches[branch].name)'"
        }
    }
}

extension AttributeType {
    var enumValues: [String] {
        if case .enumeration(let values) = self { return values }
        return []
    }
}
