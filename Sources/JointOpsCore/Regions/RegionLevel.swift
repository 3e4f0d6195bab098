/// How high a region sits in the jurisdiction: city → district (分局) → station (派出所) →
/// grid (网格), plus `command` for special units attached to a city or a district (a
/// traffic command, a SWAT detachment, a big-data center).
///
/// A region's level must be deeper than its parent's (levels may be skipped: a grid may
/// sit directly under a district). A `command` may sit under a city, a district or another
/// command, and may only have `command` children.
public enum RegionLevel: String, Sendable, Hashable, CaseIterable, Codable {
    case city, district, station, grid, command

    /// 0 for city … 3 for grid; nil for `command`, which is ranked by its parent instead.
    var rank: Int? {
        switch self {
        case .city: 0
        case .district: 1
        case .station: 2
        case .grid: 3
        case .command: nil
        }
    }

    /// Why `self` may not sit under `parent`, or nil when it may.
    func problem(under parent: RegionLevel) -> String? {
        switch (self, parent) {
        case (.command, .city), (.command, .district), (.command, .command): return nil
        case (.command, _): return "a command may sit under a city, a district or another command"
        case (_, .command): return "a command may only have command children"
        case (.city, _): return "a city is the root and has no parent"
        default:
            guard let mine = rank, let theirs = parent.rank, mine <= theirs else { return nil }
            let allowed = RegionLevel.allCases.filter { $0.rank.map { $0 < mine } ?? false }.map(\.rawValue)
            return "a \(rawValue) must be under a \(allowed.joined(separator: " or "))"
        }
    }
}
