/// A structural problem in a set of region definitions, found before the tree is built.
/// Indices refer to the definitions in the order written.
enum RegionProblem: Sendable, Hashable {
    case duplicate(Int, first: Int)
    case unknownParent(Int, suggestions: [String])
    case levelNotDeeper(Int, parent: Int, detail: String)
    /// Members in parent order, starting with the first written.
    case cycle([Int])
    case noRoot
    case secondRoot(Int, first: Int)

    /// Every problem, in a stable order: per definition, then cycles, then a missing root.
    static func find(in regions: [RegionDefinition]) -> [RegionProblem] {
        var problems: [RegionProblem] = []
        var indexByID: [String: Int] = [:]
        for (index, region) in regions.enumerated() {
            if let first = indexByID[region.id] {
                problems.append(.duplicate(index, first: first))
            } else {
                indexByID[region.id] = index
            }
        }
        var parentIndex = [Int?](repeating: nil, count: regions.count)
        var root: Int?
        for (index, region) in regions.enumerated() {
            guard let parent = region.parent else {
                if let root {
                    problems.append(.secondRoot(index, first: root))
                } else {
                    root = index
                }
                continue
            }
            guard let found = indexByID[parent] else {
                let ids = regions.lazy.map(\.id).filter { $0 != region.id }
                problems.append(.unknownParent(index, suggestions: Suggestions.closest(to: parent, in: ids, limit: 3)))
                continue
            }
            parentIndex[index] = found
            if let detail = region.level.problem(under: regions[found].level) {
                problems.append(.levelNotDeeper(index, parent: found, detail: detail))
            }
        }
        problems += cycles(parentIndex)
        if root == nil, !regions.isEmpty { problems.append(.noRoot) }
        return problems
    }

    /// Each cycle once, in the order of its first-written member.
    private static func cycles(_ parent: [Int?]) -> [RegionProblem] {
        var state = [UInt8](repeating: 0, count: parent.count)  // 0 new, 1 on the current path, 2 done
        var found: [[Int]] = []
        for start in parent.indices where state[start] == 0 {
            var path: [Int] = []
            var current: Int? = start
            while let node = current, state[node] == 0 {
                state[node] = 1
                path.append(node)
                current = parent[node]
            }
            if let node = current, state[node] == 1, let at = path.firstIndex(of: node) {
                var cycle = Array(path[at...])
                let first = cycle.indices.min { cycle[$0] < cycle[$1] }!
                cycle = Array(cycle[first...] + cycle[..<first])
                found.append(cycle)
            }
            for node in path { state[node] = 2 }
        }
        return found.sorted { $0[0] < $1[0] }.map { .cycle($0) }
    }

    /// The message, given each definition's id and a way to say where a definition is.
    func message(_ regions: [RegionDefinition], where place: (Int) -> String) -> String {
        switch self {
        case .duplicate(let index, let first):
            return "duplicate region '\(regions[index].id)' (first defined \(place(first))); give each region its own id"
        case .unknownParent(let index, let suggestions):
            let parent = regions[index].parent ?? ""
            let hint = suggestions.isEmpty ? "; parents are region ids defined in this file" : Suggestions.didYouMean(suggestions)
            return "region '\(regions[index].id)' names unknown parent '\(parent)'\(hint)"
        case .levelNotDeeper(let index, let parent, let detail):
            let region = regions[index]
            return
                "region '\(region.id)' is a \(region.level.rawValue) but its parent '\(regions[parent].id)' is a \(regions[parent].level.rawValue); \(detail)"
        case .cycle(let members):
            let path = (members + [members[0]]).map { regions[$0].id }.joined(separator: " → ")
            return "regions form a cycle through their parents: \(path); one of them needs a parent outside the cycle"
        case .noRoot:
            return "no root region: every region has a parent; the top region (the city) has no 'parent'"
        case .secondRoot(let index, let first):
            return
                "region '\(regions[index].id)' has no parent, but '\(regions[first].id)' (\(place(first))) is already the root; give it a 'parent': a jurisdiction has one root"
        }
    }
}
