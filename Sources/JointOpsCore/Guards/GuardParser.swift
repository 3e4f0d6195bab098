/// Parses guard text: `not`, `and`, `or`, parentheses, comparisons, `in [ … ]`.
struct GuardParser {
    private enum Token: Equatable {
        case name(String)
        case integer(Int)
        case text(String)
        case op(ComparisonOperator)
        case punct(Character)
        case end
    }

    private var tokens: [(token: Token, offset: Int)] = []
    private var position = 0
    /// How deep `not` and parentheses nest here, and how many conditions `and`/`or` join.
    private var depth = 0
    private var terms = 0

    /// Limits that keep a guard readable and its checking and running cheap: the parser,
    /// the compiler and the engine each walk a guard recursively, and a 65 KB guard of
    /// 16,000 nested `not`s overflowed the stack of all three.
    static let longestGuard = 4096
    static let deepestNesting = 64
    static let mostTerms = 256

    static func parse(_ source: String) throws(GuardError) -> GuardSyntax {
        guard source.utf8.count <= longestGuard else {
            throw GuardError(
                offset: 0,
                message:
                    "a guard is at most \(longestGuard) bytes, this one is \(source.utf8.count); a condition that long is better kept in an attribute that operators set"
            )
        }
        var parser = GuardParser()
        try parser.tokenize(source)
        let syntax = try parser.parseOr()
        guard parser.current == .end else {
            throw GuardError(offset: parser.currentOffset, message: "unexpected \(parser.describe(parser.current)) in guard")
        }
        return syntax
    }

    private var current: Token { tokens[position].token }
    private var currentOffset: Int { tokens[position].offset }

    private mutating func tokenize(_ source: String) throws(GuardError) {
        let chars = Array(source)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            // A guard written over several lines (`when: >`) has line ends in it.
            if c == " " || c == "\t" || c == "\n" || c == "\r\n" || c == "\r" {
                i += 1
                continue
            }
            let start = i
            if c.isLetter || c == "_" {
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "." || chars[i] == "#" {
                    i += 1
                }
                tokens.append((.name(String(chars[start..<i])), start))
            } else if c.isNumber || (c == "-" && i + 1 < chars.count && chars[i + 1].isNumber) {
                i += 1
                while i < chars.count, chars[i].isNumber { i += 1 }
                let digits = chars[start..<i]
                if let other = digits.firstIndex(where: { $0 != "-" && !("0"..."9").contains($0) }) {
                    // A full-width (１２) or other script's digit, from an input method.
                    throw GuardError(
                        offset: other,
                        message:
                            "'\(chars[other])' is not a digit a guard reads; write numbers with ASCII digits 0-9 (switch the input method to half-width)"
                    )
                }
                guard let value = Int(String(digits)) else {
                    throw GuardError(offset: start, message: "number '\(String(digits).prefix(40))' is too large")
                }
                tokens.append((.integer(value), start))
            } else if c == "'" || c == "\"" {
                i += 1
                while i < chars.count, chars[i] != c { i += 1 }
                guard i < chars.count else { throw GuardError(offset: start, message: "unterminated string in guard; close it with \(c)") }
                tokens.append((.text(String(chars[start + 1..<i])), start))
                i += 1
            } else if "=!<>".contains(c) {
                let two = i + 1 < chars.count ? String([c, chars[i + 1]]) : String(c)
                if let op = ComparisonOperator(rawValue: two) {
                    tokens.append((.op(op), start))
                    i += 2
                } else if let op = ComparisonOperator(rawValue: String(c)), c != "=" && c != "!" {
                    tokens.append((.op(op), start))
                    i += 1
                } else {
                    throw GuardError(offset: start, message: "unknown operator '\(c)' in guard; use ==, !=, <, <=, >, >=")
                }
            } else if "()[],".contains(c) {
                tokens.append((.punct(c), start))
                i += 1
            } else {
                throw GuardError(offset: start, message: "unexpected character '\(c)' in guard")
            }
        }
        tokens.append((.end, chars.count))
    }

    private func describe(_ token: Token) -> String {
        switch token {
        case .name(let name): "'\(name)'"
        case .integer(let value): "'\(value)'"
        case .text(let text): "'\(text)'"
        case .op(let op): "'\(op.rawValue)'"
        case .punct(let c): "'\(c)'"
        case .end: "end of guard"
        }
    }

    private mutating func advance() { position += 1 }

    private mutating func parseOr() throws(GuardError) -> GuardSyntax {
        var lhs = try parseAnd()
        while current == .name("or") {
            try countTerm()
            advance()
            lhs = .or(lhs, try parseAnd())
        }
        return lhs
    }

    private mutating func parseAnd() throws(GuardError) -> GuardSyntax {
        var lhs = try parseNot()
        while current == .name("and") {
            try countTerm()
            advance()
            lhs = .and(lhs, try parseNot())
        }
        return lhs
    }

    private mutating func parseNot() throws(GuardError) -> GuardSyntax {
        if current == .name("not") {
            try nest()
            defer { depth -= 1 }
            advance()
            return .not(try parseNot())
        }
        return try parseComparison()
    }

    private mutating func nest() throws(GuardError) {
        depth += 1
        guard depth <= Self.deepestNesting else {
            throw GuardError(
                offset: currentOffset,
                message: "guard nested deeper than \(Self.deepestNesting) levels of 'not' and parentheses; simplify it")
        }
    }

    private mutating func countTerm() throws(GuardError) {
        terms += 1
        guard terms < Self.mostTerms else {
            throw GuardError(
                offset: currentOffset,
                message:
                    "a guard joins at most \(Self.mostTerms) conditions with 'and' and 'or'; use 'in [a, b, …]' for a list of values, or split the condition"
            )
        }
    }

    private mutating func parseComparison() throws(GuardError) -> GuardSyntax {
        if current == .punct("(") {
            try nest()
            defer { depth -= 1 }
            advance()
            let inner = try parseOr()
            guard current == .punct(")") else {
                throw GuardError(offset: currentOffset, message: "expected ')' but found \(describe(current))")
            }
            advance()
            return inner
        }
        let start = currentOffset
        let lhs = try parseOperand()
        if case .op(let op) = current {
            advance()
            return .compare(lhs, op, try parseOperand(), offset: start)
        }
        if current == .name("in") {
            advance()
            guard current == .punct("[") else {
                throw GuardError(offset: currentOffset, message: "expected '[' after 'in', e.g. in [a, b]")
            }
            advance()
            var options: [GuardSyntax] = []
            while current != .punct("]") {
                options.append(try parseOperand())
                if current == .punct(",") {
                    advance()
                } else if current != .punct("]") {
                    throw GuardError(offset: currentOffset, message: "expected ',' or ']' but found \(describe(current))")
                }
            }
            advance()
            return .member(lhs, options, offset: start)
        }
        return lhs
    }

    private mutating func parseOperand() throws(GuardError) -> GuardSyntax {
        let offset = currentOffset
        switch current {
        case .name(let name) where ["and", "or", "not", "in"].contains(name):
            throw GuardError(offset: offset, message: "expected a value but found '\(name)'")
        case .name("true"):
            advance()
            return .boolean(true, offset: offset)
        case .name("false"):
            advance()
            return .boolean(false, offset: offset)
        case .name(let name):
            advance()
            return .name(name, offset: offset)
        case .integer(let value):
            advance()
            return .integer(value, offset: offset)
        case .text(let text):
            advance()
            return .text(text, offset: offset)
        default:
            throw GuardError(offset: offset, message: "expected a value but found \(describe(current))")
        }
    }
}
