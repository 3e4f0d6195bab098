import JointOpsProtocol

extension OperationEngine {
    /// The most items one page of `List` (operations) or `History` (events) answers with, and the default.
    public static let pageLimits = (default: 1000, most: 10_000)
}

extension Parameters {
    /// A page's `limit`, 1 … `pageLimits.most` (`pageLimits.default` when absent); a refusal
    /// names the parameter the pages go on with (`cursor`: List's `before`, History's `after`).
    func pageLimit(pagingOnWith cursor: String) throws(VarlinkError) -> Int {
        let limits = OperationEngine.pageLimits
        let limit = try optionalInt("limit") ?? limits.default
        guard (1...limits.most).contains(limit) else {
            throw VarlinkError.invalidParameter(
                "limit",
                because: "\(limit) is not between 1 and \(limits.most); leave it out for \(limits.default), and page on with '\(cursor)'")
        }
        return limit
    }
}
