import JointOpsCore
import JointOpsProtocol
import JointOpsStore

extension OperationEngine {
    /// Subscribes a watcher: the matching operations as they stand, then every change. A
    /// filter that could never match (an unknown or ended operation, a branch no workflow
    /// has, a region outside the jurisdiction) is refused rather than left waiting in silence.
    public func watch(_ filter: WatchFilter, buffer: Int, interval: Duration = .zero) throws(VarlinkError) -> WatchHub.Subscription {
        var filter = filter
        try checkCanMatch(filter)
        if let region = filter.region { filter.regionScope = try regionScope(region, parameter: "region") }
        let subscription = hub.subscribe(filter, buffer: buffer, interval: interval)
        for state in operations.values.sorted(by: { $0.startedAt < $1.startedAt }) where filter.matches(state) {
            subscription.send(["operation": Views.operation(state)])
        }
        if let fault = committer.fault { subscription.send(["storeFault": Views.storeFault(fault)]) }
        subscription.send(["current": .bool(true)])
        return subscription
    }

    private func checkCanMatch(_ filter: WatchFilter) throws(VarlinkError) {
        if let id = filter.operation, operations[id] == nil {
            guard let ended = try storeRead({ () throws(StoreError) in try store.operation(id) }) else {
                throw VarlinkError("io.jointops.Operations.OperationNotFound", ["id": .string(id)])
            }
            throw VarlinkError(
                "io.jointops.Operations.CommandRefused",
                [
                    "code": .string(Refusal.Code.operationEnded.rawValue),
                    "reason": .string(
                        "\(id) has ended (\(ended.phaseName)\(ended.ending.map { ": \($0)" } ?? "")), so nothing about it will change; 'jointopsctl show \(id)' and 'jointopsctl history \(id)' tell how it went"
                    ),
                    "phase": .string(ended.phaseName), "allowed": .array([]),
                ])
        }
        if let branch = filter.branch { try checkBranchName(branch, parameter: "branch") }
    }
}
