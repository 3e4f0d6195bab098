/// What a dispatch asks for: `count` units of a branch kind with every capability in
/// `capabilities`, for a branch sent to `region`.
public struct UnitRequest: Sendable, Hashable {
    public var kind: BranchDefinition.Kind
    public var count: Int
    public var capabilities: Set<String>
    public var region: String

    public init(kind: BranchDefinition.Kind, count: Int, capabilities: Set<String> = [], region: String) {
        self.kind = kind
        self.count = count
        self.capabilities = capabilities
        self.region = region
    }

    /// "2 swat units with armed".
    public var description: String {
        let caps = capabilities.isEmpty ? "" : " with \(capabilities.sorted().joined(separator: ", "))"
        return "\(count) \(kind.rawValue) unit\(count == 1 ? "" : "s")\(caps)"
    }
}

/// The units chosen for a request, why each, and how many are still missing.
public struct UnitSelection: Sendable, Hashable {
    public struct Choice: Sendable, Hashable {
        public var unit: String
        public var homeRegion: String
        /// 0 when homed inside the dispatch region, else how many ancestors up it was found.
        public var levelsUp: Int
        /// E.g. "homed in hexi-liulin, inside dispatch region hexi".
        public var reason: String
    }

    public var request: UnitRequest
    /// Best first; at most `request.count`.
    public var chosen: [Choice]
    public var unitIDs: [String] { chosen.map(\.unit) }
    /// How many more units the request needs (0 when filled): the branch awaits units.
    public var shortfall: Int { request.count - chosen.count }
    /// Why the request could not be filled, or nil when it was.
    public var shortfallReason: String? {
        guard shortfall > 0 else { return nil }
        return "\(shortfall) of \(request.description) short: no other free one anywhere in the jurisdiction"
    }
}

/// Picks the nearest free units for a dispatch.
///
/// Candidates are the roster's available, non-retired units of the request's kind with all
/// its capabilities. They are taken ring by ring: units homed inside the dispatch region
/// (its whole subtree) first, then those inside the parent's subtree but outside the
/// region's, then the grandparent's, … up to the root. Within a ring the unit homed
/// closest in the tree (shallowest home) comes first, then the smaller id — so the same
/// roster always gives the same answer.
///
/// Cost: one binary search per ring plus a scan of the ring's candidates of that kind,
/// thanks to the roster's per-kind index in depth-first order. Selecting does not change
/// the roster; commit the choice with `UnitRoster.assign`.
public enum UnitSelector {
    /// `excluding`: units not to choose although free (changed by a command whose commit is
    /// still in flight).
    public static func select(
        _ request: UnitRequest, in roster: UnitRoster, excluding excluded: Set<String> = []
    ) throws(UnitRefusal) -> UnitSelection {
        let tree = roster.tree
        guard let region = tree.node(request.region) else {
            throw UnitRefusal(.unknownRegion, unit: nil, "dispatch region: \(tree.unknownRegionMessage(request.region))")
        }
        guard request.count >= 1 else {
            throw UnitRefusal(.invalidArgument, unit: nil, "a dispatch needs at least 1 unit, not \(request.count)")
        }
        var selection = UnitSelection(request: request, chosen: [])
        guard let required = roster.requiredMask(request.capabilities) else { return selection }
        let entries = roster.index[UnitRoster.kindIndex(request.kind)]
        var inner: Range<Int>? = nil
        var levelsUp = 0
        var ring = region.order
        while true {
            let outer = tree.node(at: ring).subtreeRange
            let need = request.count - selection.chosen.count
            let best = nearest(
                need, in: entries, within: outer, outside: inner, required: required, excluding: excluded, roster: roster)
            for entry in best {
                let home = tree.node(at: Int(entry.order)).id
                selection.chosen.append(
                    .init(
                        unit: roster.slots[Int(entry.slot)].id, homeRegion: home, levelsUp: levelsUp,
                        reason: reason(home: home, region: region.id, ancestor: tree.node(at: ring).id, levelsUp: levelsUp, request)))
            }
            guard selection.chosen.count < request.count, let parent = tree.node(at: ring).parent, let next = tree.node(parent) else {
                break
            }
            inner = outer
            ring = next.order
            levelsUp += 1
        }
        return selection
    }

    /// The `need` best entries homed in `outer` but not in `inner`, by (depth, id).
    private static func nearest(
        _ need: Int, in entries: [SelectionEntry], within outer: Range<Int>, outside inner: Range<Int>?, required: UInt64,
        excluding excluded: Set<String>, roster: UnitRoster
    ) -> [SelectionEntry] {
        var best: [SelectionEntry] = []
        best.reserveCapacity(min(need, entries.count))  // a workflow may ask for more units than exist
        func better(_ a: SelectionEntry, _ b: SelectionEntry) -> Bool {
            if a.depth != b.depth { return a.depth < b.depth }
            return roster.slots[Int(a.slot)].id < roster.slots[Int(b.slot)].id
        }
        func consider(_ range: Range<Int>) {
            var position = entries.partitionPoint { $0.order >= Int32(range.lowerBound) }
            let upper = Int32(range.upperBound)
            while position < entries.count, entries[position].order < upper {
                let entry = entries[position]
                position += 1
                guard entry.mask & required == required else { continue }
                if !excluded.isEmpty, excluded.contains(roster.slots[Int(entry.slot)].id) { continue }
                if best.count == need {
                    guard better(entry, best[need - 1]) else { continue }
                    best.removeLast()
                }
                let at = best.partitionPoint { better(entry, $0) }
                best.insert(entry, at: at)
            }
        }
        if let inner {
            consider(outer.lowerBound..<inner.lowerBound)
            consider(inner.upperBound..<outer.upperBound)
        } else {
            consider(outer)
        }
        return best
    }

    private static func reason(home: String, region: String, ancestor: String, levelsUp: Int, _ request: UnitRequest) -> String {
        if levelsUp == 0 {
            return home == region ? "homed in \(home), the dispatch region" : "homed in \(home), inside dispatch region \(region)"
        }
        let caps = request.capabilities.isEmpty ? "" : " with \(request.capabilities.sorted().joined(separator: ", "))"
        let levels = levelsUp == 1 ? "1 level up" : "\(levelsUp) levels up"
        return "homed in \(home), from ancestor \(ancestor) (\(levels)): no free \(request.kind.rawValue) unit\(caps) nearer"
    }
}
