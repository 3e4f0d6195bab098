/// The untyped syntax tree of a guard, with each name's character offset in the source.
indirect enum GuardSyntax: Sendable {
    case name(String, offset: Int)
    case integer(Int, offset: Int)
    case text(String, offset: Int)
    case boolean(Bool, offset: Int)
    case compare(GuardSyntax, ComparisonOperator, GuardSyntax, offset: Int)
    case member(GuardSyntax, [GuardSyntax], offset: Int)
    case not(GuardSyntax)
    case and(GuardSyntax, GuardSyntax)
    case or(GuardSyntax, GuardSyntax)

    var offset: Int {
        switch self {
        case .name(_, let offset), .integer(_, let offset), .text(_, let offset), .boolean(_, let offset),
            .compare(_, _, _, let offset), .member(_, _, let offset):
            offset
        case .not(let inner): inner.offset
        case .and(let lhs, _), .or(let lhs, _): lhs.offset
        }
    }
}

/// A problem in a guard at a character offset within its text.
struct GuardError: Error, Sendable {
    var offset: Int
    var message: String
}
