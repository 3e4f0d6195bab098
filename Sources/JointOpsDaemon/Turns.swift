/// Keys held by one caller at a time, the others waiting in line in arrival order: the
/// engine's per-operation lock and its per-request-id lock. Actor state, so nobody blocks a
/// thread: a caller that finds its key taken waits on a continuation.
struct Turns {
    /// Each key held now, and who waits for it.
    private var lines: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// How many keys are held now.
    var count: Int { lines.count }

    func isHeld(_ key: String) -> Bool { lines[key] != nil }

    /// Takes `key` if nobody holds it (true); otherwise the caller must `wait` for it.
    mutating func take(_ key: String) -> Bool {
        guard lines[key] == nil else { return false }
        lines[key] = []
        return true
    }

    /// Puts a caller in line for a held key; it holds the key once it is resumed.
    mutating func wait(for key: String, _ continuation: CheckedContinuation<Void, Never>) {
        lines[key]!.append(continuation)
    }

    /// Gives `key` back: the next in line, who now holds it (resume it), or nil when the key is free.
    mutating func giveBack(_ key: String) -> CheckedContinuation<Void, Never>? {
        guard var line = lines[key], !line.isEmpty else {
            lines[key] = nil
            return nil
        }
        let next = line.removeFirst()
        lines[key] = line
        return next
    }
}
