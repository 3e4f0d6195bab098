/// "Did you mean …" hints: the closest candidate by edit distance, if close enough.
package enum Suggestions {
    /// The candidate nearest to `word`, or nil when none is plausibly a typo of it. Letter
    /// case counts for nothing (`HX-SWAT-02` means `hx-swat-02`).
    package static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        var best: (name: String, distance: Int)?
        let word = word.lowercased()
        guard word.unicodeScalars.count <= longestWord else { return nil }
        for candidate in candidates where !tooFarApart(word, candidate) {
            let distance = editDistance(word, candidate.lowercased())
            if distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        guard let best else { return nil }
        let limit = max(1, min(word.count, best.name.count) / 3 + 1)
        return best.distance <= limit ? best.name : nil
    }

    /// "; did you mean 'x'?" or "; allowed: a, b, c" — a suffix for an error message.
    package static func hint(
        for word: String, in candidates: [String], noun: String = "allowed"
    )
        -> String
    {
        if let match = closest(to: word, in: candidates) { return "; did you mean '\(match)'?" }
        if candidates.isEmpty { return "" }
        return "; \(noun): \(candidates.joined(separator: ", "))"
    }

    /// Words longer than this get no suggestion: nobody mistypes a name that long, and the
    /// edit distance costs the product of the two lengths (a 60,000-character unit id held
    /// the engine for over a second per candidate list).
    package static let longestWord = 256

    /// Whether the lengths alone show that `candidate` is neither a typo of `word` (the edit
    /// distance is at least the difference in length, here beyond any threshold) nor
    /// contains it (`word` is the longer).
    static func tooFarApart(_ word: String, _ candidate: String) -> Bool {
        let difference = abs(word.unicodeScalars.count - candidate.unicodeScalars.count)
        return difference > min(word.count, candidate.count) / 3 + 1 && word.count > candidate.count
    }

    /// Levenshtein distance over Unicode scalars.
    package static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars)
        let b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

extension Suggestions {
    /// Up to `limit` candidates that `word` plausibly meant, best first: near misses by edit
    /// distance, then candidates that contain it (`liulin` → `hexi-liulin`), case aside. Ties
    /// go to the alphabetically first.
    package static func closest(to word: String, in candidates: some Sequence<String>, limit: Int) -> [String] {
        var scored: [(score: Int, name: String)] = []
        let word = word.lowercased()
        guard word.unicodeScalars.count <= longestWord else { return [] }
        for candidate in candidates where !tooFarApart(word, candidate) {
            let distance = editDistance(word, candidate.lowercased())
            let threshold = max(1, min(word.count, candidate.count) / 3 + 1)
            if distance <= threshold {
                scored.append((distance, candidate))
            } else if word.count >= 3, candidate.lowercased().contains(word) {
                scored.append((1000 + distance, candidate))
            }
        }
        scored.sort { ($0.score, $0.name) < ($1.score, $1.name) }
        return scored.prefix(limit).map(\.name)
    }

    /// "; did you mean 'a', 'b' or 'c'?" or "" — a suffix for an error message.
    package static func didYouMean(_ names: [String]) -> String {
        guard let last = names.last else { return "" }
        let quoted = names.map { "'\($0)'" }
        if names.count == 1 { return "; did you mean \(quoted[0])?" }
        return "; did you mean \(quoted.dropLast().joined(separator: ", ")) or '\(last)'?"
    }
}
