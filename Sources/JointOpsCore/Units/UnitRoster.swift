/// Every unit of the command center and where each stands: a value type whose mutations
/// each return what changed (`UnitChange`) or throw a `UnitRefusal` and change nothing.
///
/// Never twice: a unit is committed to at most one branch instance. `assign` refuses a
/// unit committed anywhere (also to the same operation), and only `preempt` — with a
/// reason — moves a committed unit, reporting the assignment that lost it.
///
/// The roster keeps, per branch kind, the selectable units (available, not retired)
/// ordered by their home region's depth-first `order` in the tree, updated on every
/// mutation, so `UnitSelector` reads a region's units as a contiguous slice.
public struct UnitRoster: Sendable {
    public private(set) var tree: JurisdictionTree
    /// Units by slot; a slot never changes (retired units stay; only a unit whose adding
    /// failed to commit is forgotten, and the slots are then numbered anew).
    private(set) var slots: [Unit] = []
    private var slotByID: [String: Int] = [:]
    /// Each slot's capabilities as bits of `capabilityBits`.
    private(set) var masks: [UInt64] = []
    private(set) var capabilityBits: [String: Int] = [:]
    /// Per kind (indexed by `kindIndex`): selectable units sorted by (home order, slot).
    private(set) var index: [[SelectionEntry]]
    /// Slots committed to each assignment.
    private var committed: [UnitAssignment: [Int]] = [:]

    /// At most this many distinct capability names in one roster (they are kept as bits).
    public static let maximumCapabilities = 64

    public init(tree: JurisdictionTree) {
        self.tree = tree
        index = Array(repeating: [], count: BranchDefinition.Kind.allCases.count)
    }

    // MARK: Reading

    public var count: Int { slots.count }
    public var units: [Unit] { slots }
    public func unit(_ id: String) -> Unit? { slotByID[id].map { slots[$0] } }
    /// The units committed to `assignment`, in the order they were assigned.
    public func units(committedTo assignment: UnitAssignment) -> [Unit] { (committed[assignment] ?? []).map { slots[$0] } }

    // MARK: Adding, changing, retiring

    public mutating func add(_ unit: Unit) throws(UnitRefusal) -> UnitChange {
        guard ScalarReaders.isIdentifier(unit.id, allowDash: true), unit.id.utf8.count <= Self.longestName else {
            throw UnitRefusal(
                .invalidArgument, unit: String(unit.id.prefix(Self.longestName)),
                "'\(unit.id.prefix(Self.longestName))\(unit.id.count > Self.longestName ? "…" : "")' is not a valid unit id: use lowercase letters, digits, '_' and '-', starting with a letter, at most \(Self.longestName)"
            )
        }
        if let slot = slotByID[unit.id] {
            guard !slots[slot].retired else {
                throw UnitRefusal(
                    .duplicateUnit, unit: unit.id,
                    "unit '\(unit.id)' is retired, and ids are not reused (the record keeps its history): pick a new id")
            }
            throw UnitRefusal(.duplicateUnit, unit: unit.id, "unit '\(unit.id)' already exists; change it instead of adding it again")
        }
        try check(callSign: unit.callSign, unit: unit.id)
        try check(home: unit.homeRegion, unit: unit.id)
        try check(capabilities: unit.capabilities, unit: unit.id)
        var fresh = Unit(
            id: unit.id, callSign: unit.callSign, kind: unit.kind, homeRegion: unit.homeRegion, capabilities: unit.capabilities)
        let mask = try self.mask(for: fresh.capabilities, unit: fresh.id)
        fresh.statusReason = nil
        slotByID[fresh.id] = slots.count
        slots.append(fresh)
        masks.append(mask)
        insertIntoIndex(slots.count - 1)
        return .added(fresh)
    }

    /// Changes what is given (nil leaves it as it is); the status is untouched.
    public mutating func change(
        _ id: String, callSign: String? = nil, capabilities: Set<String>? = nil, homeRegion: String? = nil
    ) throws(UnitRefusal) -> UnitChange {
        let slot = try self.slot(id)
        let before = slots[slot]
        guard !before.retired else { throw UnitRefusal(.retired, unit: id, "unit '\(id)' is retired and can no longer be changed") }
        if let callSign { try check(callSign: callSign, unit: id) }
        if let homeRegion { try check(home: homeRegion, unit: id) }
        if let capabilities { try check(capabilities: capabilities, unit: id) }
        let mask = try capabilities.map { caps throws(UnitRefusal) in try self.mask(for: caps, unit: id) } ?? masks[slot]
        guard callSign != nil || capabilities != nil || homeRegion != nil else {
            throw UnitRefusal(
                .invalidArgument, unit: id, "nothing to change for unit '\(id)': give a call sign, capabilities or a home region")
        }
        update(slot) { unit, unitMask in
            if let callSign { unit.callSign = callSign }
            if let capabilities { unit.capabilities = capabilities }
            if let homeRegion { unit.homeRegion = homeRegion }
            unitMask = mask
        }
        return .edited(before: before, after: slots[slot])
    }

    /// Retires a unit for good; refused while it is committed to an operation.
    public mutating func retire(_ id: String) throws(UnitRefusal) -> UnitChange {
        let slot = try self.slot(id)
        let unit = slots[slot]
        guard !unit.retired else { throw UnitRefusal(.retired, unit: id, "unit '\(id)' is already retired") }
        if let assignment = unit.assignment {
            throw UnitRefusal(
                .committed, unit: id,
                "unit '\(id)' is \(unit.status.rawValue) for \(assignment) and cannot be retired; release it first")
        }
        update(slot) { unit, _ in unit.retired = true }
        return .retired(slots[slot])
    }

    // MARK: Status

    /// Moves a unit along its lifecycle (see `UnitStatus`). Moving a committed unit to
    /// `returning` or `available` releases it from its operation (a `.released` change).
    /// `dispatched` is reached only through `assign`. `out_of_service` needs a reason.
    public mutating func setStatus(_ id: String, to status: UnitStatus, reason: String? = nil) throws(UnitRefusal) -> UnitChange {
        let slot = try self.slot(id)
        let unit = slots[slot]
        guard !unit.retired else { throw UnitRefusal(.retired, unit: id, "unit '\(id)' is retired; its status no longer changes") }
        guard unit.status.canMove(to: status) else {
            let reachable = unit.status.reachable.map(\.rawValue).joined(separator: ", ")
            throw UnitRefusal(
                .illegalTransition, unit: id,
                "unit '\(id)' cannot go from \(unit.status.rawValue) to \(status.rawValue); from \(unit.status.rawValue) it can go to \(reachable)"
            )
        }
        if status == .dispatched {
            throw UnitRefusal(
                .illegalTransition, unit: id, "unit '\(id)' becomes dispatched only by assigning it to an operation's branch")
        }
        let reason = reason.flatMap { $0.isEmpty ? nil : $0 }
        if status == .outOfService, reason == nil {
            throw UnitRefusal(
                .reasonRequired, unit: id,
                "taking unit '\(id)' out of service needs a reason (it is recorded): say why, e.g. 'engine failure'")
        }
        if let assignment = unit.assignment, !status.isCommitted {
            uncommit(slot, from: assignment)
            update(slot) { unit, _ in
                unit.status = status
                unit.statusReason = reason
                unit.assignment = nil
            }
            return .released(unit: id, from: assignment, to: status)
        }
        update(slot) { unit, _ in
            unit.status = status
            unit.statusReason = reason
        }
        return .statusChanged(unit: id, from: unit.status, to: status, reason: reason)
    }

    // MARK: Commitment

    /// Commits every unit in `ids` to `assignment` (status `dispatched`), or none of them:
    /// refused if any is unknown, retired, not available, or committed anywhere.
    public mutating func assign(_ ids: [String], to assignment: UnitAssignment) throws(UnitRefusal) -> [UnitChange] {
        guard !ids.isEmpty else { throw UnitRefusal(.invalidArgument, unit: nil, "no units to assign to \(assignment)") }
        var seen: Set<String> = []
        var chosen: [Int] = []
        for id in ids {
            guard seen.insert(id).inserted else {
                throw UnitRefusal(.invalidArgument, unit: id, "unit '\(id)' is named twice; name each unit once")
            }
            let slot = try self.slot(id)
            let unit = slots[slot]
            if unit.retired { throw UnitRefusal(.retired, unit: id, "unit '\(id)' is retired and cannot be assigned") }
            if let current = unit.assignment {
                // Preempting moves a unit between operations; within one, it is released first.
                let move =
                    current == assignment
                    ? "nothing to do"
                    : current.operation == assignment.operation
                        ? "a unit serves one branch at a time — release it there first (set it available, with a reason), then assign it"
                        : "a unit serves one operation at a time — preempt it with a reason to move it"
                throw UnitRefusal(
                    .committed, unit: id, "unit '\(id)' is already committed to \(current) (\(unit.status.rawValue)); \(move)")
            }
            guard unit.status == .available else {
                throw UnitRefusal(
                    .notAvailable, unit: id,
                    "unit '\(id)' is \(unit.status.rawValue)\(unit.statusReason.map { " (\($0))" } ?? ""), not available; set it available first"
                )
            }
            chosen.append(slot)
        }
        for slot in chosen { commit(slot, to: assignment) }
        return chosen.map { .assigned(unit: slots[$0].id, to: assignment) }
    }

    /// Releases the given committed units to `release` status.
    public mutating func release(_ ids: [String], to release: UnitRelease = .available) throws(UnitRefusal) -> [UnitChange] {
        var slotsToRelease: [Int] = []
        for id in ids {
            let slot = try self.slot(id)
            guard slots[slot].assignment != nil else {
                throw UnitRefusal(.notAvailable, unit: id, "unit '\(id)' is \(slots[slot].status.rawValue), not committed to an operation")
            }
            slotsToRelease.append(slot)
        }
        var changes: [UnitChange] = []
        for slot in slotsToRelease {
            if let change = releaseSlot(slot, to: release) { changes.append(change) }
        }
        return changes
    }

    /// Releases every unit committed to `assignment` (when its branch ends); none is fine.
    public mutating func release(assignment: UnitAssignment, to release: UnitRelease = .available) -> [UnitChange] {
        (committed[assignment] ?? []).compactMap { releaseSlot($0, to: release) }
    }

    /// Moves a committed unit from the assignment it serves to `assignment`, for an
    /// operator who decided another operation needs it more. The change's `from` is the
    /// assignment that lost the unit; that operation must be told.
    public mutating func preempt(_ id: String, to assignment: UnitAssignment, reason: String) throws(UnitRefusal) -> UnitChange {
        let slot = try self.slot(id)
        guard !reason.isEmpty else {
            throw UnitRefusal(.invalidArgument, unit: id, "preempting unit '\(id)' needs a reason (it is taken from another operation)")
        }
        guard let current = slots[slot].assignment else {
            throw UnitRefusal(
                .notAvailable, unit: id,
                "unit '\(id)' is \(slots[slot].status.rawValue), not committed to an operation; assign it instead of preempting it")
        }
        guard current != assignment else {
            throw UnitRefusal(.invalidArgument, unit: id, "unit '\(id)' is already committed to \(assignment)")
        }
        uncommit(slot, from: current)
        commit(slot, to: assignment)
        update(slot) { unit, _ in unit.statusReason = reason }
        return .preempted(unit: id, from: current, to: assignment, reason: reason)
    }

    // MARK: Restoring

    /// Puts a unit back exactly as it was stored (status, assignment, retirement): for a
    /// daemon recovering its roster, or undoing a change whose commit failed. Replaces the
    /// unit if it exists. The caller guarantees the stored state is consistent.
    package mutating func restore(_ unit: Unit) {
        let mask = (try? self.mask(for: unit.capabilities, unit: unit.id)) ?? 0
        let slot: Int
        if let existing = slotByID[unit.id] {
            slot = existing
            if let assignment = slots[slot].assignment { uncommit(slot, from: assignment) }
            update(slot) { stored, storedMask in
                stored = unit
                storedMask = mask
            }
        } else {
            slot = slots.count
            slotByID[unit.id] = slot
            slots.append(unit)
            masks.append(mask)
            insertIntoIndex(slot)
        }
        if let assignment = unit.assignment { committed[assignment, default: []].append(slot) }
    }

    /// Removes a unit that was never stored (its `add` failed to commit), as if it had
    /// never been added: the other units keep their assignments, in the order assigned.
    package mutating func forget(_ id: String) {
        guard slotByID[id] != nil else { return }
        var rebuilt = UnitRoster(tree: tree)
        for unit in slots where unit.id != id { rebuilt.restore(unit) }
        rebuilt.committed = committed.compactMapValues { slots in
            let kept = slots.compactMap { rebuilt.slotByID[self.slots[$0].id] }
            return kept.isEmpty ? nil : kept
        }
        self = rebuilt
    }

    // MARK: Re-reading the tree

    /// Uses a reloaded jurisdiction; refused, leaving the roster as it was, if a unit in
    /// service is homed in a region the new tree lacks (every such unit, a line each).
    public mutating func rebind(to tree: JurisdictionTree) throws(UnitRefusal) {
        let orphans = slots.filter { !$0.retired && !tree.contains($0.homeRegion) }
        if let first = orphans.first {
            throw UnitRefusal(
                .unknownRegion, unit: first.id,
                orphans.map { "unit '\($0.id)' is homed in '\($0.homeRegion)', which the new jurisdiction lacks; move the unit first" }
                    .joined(separator: "\n"))
        }
        self.tree = tree
        index = Array(repeating: [], count: BranchDefinition.Kind.allCases.count)
        for slot in slots.indices { insertIntoIndex(slot) }
    }

    // MARK: Internals

    private func slot(_ id: String) throws(UnitRefusal) -> Int {
        guard let slot = slotByID[id] else {
            let hint = Suggestions.didYouMean(Suggestions.closest(to: id, in: slotByID.keys, limit: 3))
            throw UnitRefusal(.unknownUnit, unit: id, "unknown unit '\(id)'\(hint)")
        }
        return slot
    }

    /// The longest unit id and call sign (as operation ids).
    public static let longestName = 64

    private func check(callSign: String, unit: String) throws(UnitRefusal) {
        if callSign.isBlank { throw UnitRefusal(.invalidArgument, unit: unit, "unit '\(unit)' needs a call sign") }
        if callSign.count > Self.longestName {
            throw UnitRefusal(
                .invalidArgument, unit: unit, "the call sign of unit '\(unit)' is longer than \(Self.longestName) characters; shorten it")
        }
        // A control character would print as nothing, and SQLite's text functions stop at a NUL.
        if callSign.containsControlCharacter {
            throw UnitRefusal(
                .invalidArgument, unit: unit,
                "the call sign of unit '\(unit)' contains a control character (a line break, tab or NUL); use printable characters only")
        }
    }

    /// Capabilities are names as workflows and roster files write them (`armed`, `k9`): a
    /// unit's `ARMED` or `armed ` would never match a branch that requires `armed`.
    private func check(capabilities: Set<String>, unit: String) throws(UnitRefusal) {
        for capability in capabilities.sorted()
        where capability.utf8.count > Self.longestName || !ScalarReaders.isIdentifier(capability) {
            throw UnitRefusal(
                .invalidArgument, unit: unit,
                "capability '\(capability.prefix(Self.longestName))' of unit '\(unit)' is not a capability name: use lowercase letters, digits and '_', starting with a letter (as workflows and roster files name them), at most \(Self.longestName)"
            )
        }
    }

    private func check(home: String, unit: String) throws(UnitRefusal) {
        guard tree.contains(home) else {
            throw UnitRefusal(.unknownRegion, unit: unit, "home region of unit '\(unit)': \(tree.unknownRegionMessage(home))")
        }
    }

    private mutating func mask(for capabilities: Set<String>, unit: String) throws(UnitRefusal) -> UInt64 {
        var mask: UInt64 = 0
        for capability in capabilities.sorted() {
            if let bit = capabilityBits[capability] {
                mask |= 1 << UInt64(bit)
                continue
            }
            guard capabilityBits.count < Self.maximumCapabilities else {
                throw UnitRefusal(
                    .invalidArgument, unit: unit,
                    "capability '\(capability)' of unit '\(unit)' would be the roster's \(Self.maximumCapabilities + 1)th distinct capability; at most \(Self.maximumCapabilities) are supported"
                )
            }
            capabilityBits[capability] = capabilityBits.count
            mask |= 1 << UInt64(capabilityBits.count - 1)
        }
        return mask
    }

    /// The bits for `capabilities`, or nil when some capability no unit has ever had.
    func requiredMask(_ capabilities: Set<String>) -> UInt64? {
        var mask: UInt64 = 0
        for capability in capabilities {
            guard let bit = capabilityBits[capability] else { return nil }
            mask |= 1 << UInt64(bit)
        }
        return mask
    }

    private mutating func commit(_ slot: Int, to assignment: UnitAssignment) {
        committed[assignment, default: []].append(slot)
        update(slot) { unit, _ in
            unit.status = .dispatched
            unit.statusReason = nil
            unit.assignment = assignment
        }
    }

    private mutating func uncommit(_ slot: Int, from assignment: UnitAssignment) {
        committed[assignment]?.removeAll { $0 == slot }
        if committed[assignment]?.isEmpty == true { committed[assignment] = nil }
    }

    private mutating func releaseSlot(_ slot: Int, to release: UnitRelease) -> UnitChange? {
        guard let assignment = slots[slot].assignment else { return nil }
        uncommit(slot, from: assignment)
        update(slot) { unit, _ in
            unit.status = release.status
            unit.statusReason = nil
            unit.assignment = nil
        }
        return .released(unit: slots[slot].id, from: assignment, to: release.status)
    }

    /// Applies `body` to a unit, keeping the selection index in step.
    private mutating func update(_ slot: Int, _ body: (inout Unit, inout UInt64) -> Void) {
        removeFromIndex(slot)
        body(&slots[slot], &masks[slot])
        insertIntoIndex(slot)
    }

    static func kindIndex(_ kind: BranchDefinition.Kind) -> Int {
        switch kind {
        case .criminalInvestigation: 0
        case .publicOrder: 1
        case .swat: 2
        case .population: 3
        case .traffic: 4
        case .intelligence: 5
        case .liaison: 6
        case .other: 7
        }
    }

    private func entry(_ slot: Int) -> SelectionEntry? {
        let unit = slots[slot]
        guard unit.isSelectable, let node = tree.node(unit.homeRegion) else { return nil }
        return SelectionEntry(order: Int32(node.order), depth: Int32(node.depth), slot: Int32(slot), mask: masks[slot])
    }

    private mutating func insertIntoIndex(_ slot: Int) {
        guard let entry = entry(slot) else { return }
        let kind = Self.kindIndex(slots[slot].kind)
        let position = index[kind].partitionPoint { ($0.order, $0.slot) >= (entry.order, entry.slot) }
        index[kind].insert(entry, at: position)
    }

    private mutating func removeFromIndex(_ slot: Int) {
        guard let entry = entry(slot) else { return }
        let kind = Self.kindIndex(slots[slot].kind)
        let position = index[kind].partitionPoint { ($0.order, $0.slot) >= (entry.order, entry.slot) }
        precondition(
            position < index[kind].count && index[kind][position].slot == entry.slot,
            "the selection index lost unit '\(slots[slot].id)'; every change to a unit must go through update(_:_:)")
        index[kind].remove(at: position)
    }

    /// Differences between the maintained index and one rebuilt from scratch (empty when
    /// they agree); for property tests.
    package func indexDiscrepancies() -> [String] {
        var rebuilt = Array(repeating: [SelectionEntry](), count: index.count)
        for slot in slots.indices {
            if let entry = entry(slot) { rebuilt[Self.kindIndex(slots[slot].kind)].append(entry) }
        }
        var problems: [String] = []
        for kind in rebuilt.indices {
            rebuilt[kind].sort { ($0.order, $0.slot) < ($1.order, $1.slot) }
            if rebuilt[kind] != index[kind] {
                problems.append(
                    "kind \(BranchDefinition.Kind.allCases[kind].rawValue): index \(index[kind].map(\.slot)) ≠ rebuilt \(rebuilt[kind].map(\.slot))"
                )
            }
        }
        for (assignment, committedSlots) in committed {
            for slot in committedSlots where slots[slot].assignment != assignment {
                problems.append(
                    "unit '\(slots[slot].id)' is listed under \(assignment) but assigned to \(String(describing: slots[slot].assignment))")
            }
        }
        for (slot, unit) in slots.enumerated() {
            if unit.status.isCommitted != (unit.assignment != nil) {
                problems.append("unit '\(unit.id)' is \(unit.status.rawValue) with assignment \(String(describing: unit.assignment))")
            }
            if let assignment = unit.assignment, committed[assignment]?.contains(slot) != true {
                problems.append("unit '\(unit.id)' is assigned to \(assignment) but not listed under it")
            }
        }
        return problems
    }
}

/// One selectable unit in the per-kind index.
struct SelectionEntry: Sendable, Hashable {
    var order: Int32
    var depth: Int32
    var slot: Int32
    var mask: UInt64
}

extension Array {
    /// The first index whose element satisfies `predicate`, which must be false then true
    /// along the array (binary search).
    func partitionPoint(_ predicate: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
