/// The jurisdiction: a tree of regions (city → districts → stations → grids, plus command
/// units), immutable once built.
///
/// Nodes are stored in depth-first order with each subtree's range precomputed (an Euler
/// tour), so "is A within B" is two comparisons and a subtree is a contiguous slice.
public struct JurisdictionTree: Sendable {
    /// Every region in depth-first order (children in the order written).
    public let nodes: [RegionNode]
    private let indexByID: [String: Int]
    private let parentIndex: [Int]
    private let childIndices: [[Int]]

    /// Builds the tree, or throws every structural problem (duplicate id, unknown parent,
    /// a level not deeper than its parent's, a cycle, no root or a second root).
    public init(regions: [RegionDefinition]) throws(JurisdictionError) {
        let problems = RegionProblem.find(in: regions)
        guard problems.isEmpty, !regions.isEmpty else {
            let messages = problems.map { $0.message(regions) { "as region #\($0 + 1)" } }
            throw JurisdictionError(messages: messages.isEmpty ? ["a jurisdiction needs at least one region"] : messages)
        }
        self.init(checked: regions)
    }

    /// Builds a tree from definitions `RegionProblem.find` found nothing wrong with.
    init(checked regions: [RegionDefinition]) {
        let written = Dictionary(uniqueKeysWithValues: regions.enumerated().map { ($1.id, $0) })
        var childrenWritten = [[Int]](repeating: [], count: regions.count)
        var rootWritten = 0
        for (index, region) in regions.enumerated() {
            if let parent = region.parent { childrenWritten[written[parent]!].append(index) } else { rootWritten = index }
        }
        // Iterative depth-first walk: assign `order`, then the subtree end on the way back.
        var orderOf = [Int](repeating: 0, count: regions.count)
        var depthOf = [Int](repeating: 0, count: regions.count)
        var endOf = [Int](repeating: 0, count: regions.count)
        var sequence: [Int] = []
        sequence.reserveCapacity(regions.count)
        var stack: [(node: Int, next: Int)] = [(rootWritten, 0)]
        orderOf[rootWritten] = 0
        sequence.append(rootWritten)
        while let top = stack.last {
            let children = childrenWritten[top.node]
            if top.next < children.count {
                stack[stack.count - 1].next += 1
                let child = children[top.next]
                orderOf[child] = sequence.count
                depthOf[child] = stack.count
                sequence.append(child)
                stack.append((child, 0))
            } else {
                endOf[top.node] = sequence.count
                stack.removeLast()
            }
        }
        nodes = sequence.map { index in
            let region = regions[index]
            return RegionNode(
                id: region.id, level: region.level, name: region.name, parent: region.parent, depth: depthOf[index],
                order: orderOf[index], subtreeEnd: endOf[index])
        }
        indexByID = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($1.id, $0) })
        parentIndex = sequence.map { index in regions[index].parent.map { orderOf[written[$0]!] } ?? -1 }
        childIndices = sequence.map { index in childrenWritten[index].map { orderOf[$0] } }
    }

    public var root: RegionNode { nodes[0] }
    public var count: Int { nodes.count }

    public func node(_ id: String) -> RegionNode? { indexByID[id].map { nodes[$0] } }
    public func contains(_ id: String) -> Bool { indexByID[id] != nil }
    /// The node at depth-first position `order` (see `RegionNode.order`).
    public func node(at order: Int) -> RegionNode { nodes[order] }

    public func parent(of id: String) -> String? { node(id)?.parent }
    public func children(of id: String) -> [String] { indexByID[id].map { childIndices[$0].map { nodes[$0].id } } ?? [] }
    public func depth(of id: String) -> Int? { node(id)?.depth }

    /// Parent, grandparent, … up to the root; empty for the root or an unknown id.
    public func ancestors(of id: String) -> [String] {
        guard var index = indexByID[id] else { return [] }
        var result: [String] = []
        while parentIndex[index] >= 0 {
            index = parentIndex[index]
            result.append(nodes[index].id)
        }
        return result
    }

    /// The `order` of each ancestor, nearest first.
    func ancestorOrders(of order: Int) -> [Int] {
        var result: [Int] = []
        var index = order
        while parentIndex[index] >= 0 {
            index = parentIndex[index]
            result.append(index)
        }
        return result
    }

    /// Whether `id` is `ancestor` itself or lies below it. O(1). False when either is unknown.
    public func isWithin(_ id: String, _ ancestor: String) -> Bool {
        guard let node = indexByID[id], let outer = indexByID[ancestor] else { return false }
        return nodes[outer].subtreeRange.contains(node)
    }

    /// `id` and every region below it, in depth-first order: the regions a report
    /// filtered on "`id` including its sub-regions" covers. Empty for an unknown id.
    public func subtree(of id: String) -> [String] {
        guard let index = indexByID[id] else { return [] }
        return nodes[nodes[index].subtreeRange].map(\.id)
    }

    /// Up to three region ids an unknown id was probably meant to be, best first, for
    /// "unknown region 'X', did you mean …" refusals.
    public func closest(to unknownID: String) -> [String] {
        Suggestions.closest(to: unknownID, in: nodes.map(\.id), limit: 3)
    }

    /// "unknown region 'X'; did you mean 'a' or 'b'?" — the refusal text for an unknown id.
    /// A region's own name (`河西分局`, `Hexi Branch`) is answered with its id.
    public func unknownRegionMessage(_ id: String) -> String {
        let named = nodes.filter { $0.name.zh == id || $0.name.en?.lowercased() == id.lowercased() }
        if !named.isEmpty {
            let ids = named.map { "'\($0.id)' (\($0.name))" }.joined(separator: " or ")
            return "unknown region '\(id)': regions are given by id, not by name; did you mean \(ids)?"
        }
        let suggestions = closest(to: id)
        return "unknown region '\(id)'"
            + (suggestions.isEmpty ? "; regions are ids of the jurisdiction tree, e.g. '\(root.id)'" : Suggestions.didYouMean(suggestions))
    }
}

/// Why a set of region definitions does not make a tree.
public struct JurisdictionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var messages: [String]
    public var description: String { messages.joined(separator: "\n") }
}
