import JointOpsCore

/// Small encodings of projection columns.
enum ProjectionCodec {
    /// `[1795910400000,null,…]`: when each phase was last entered.
    static func instantsJSON(_ instants: [Instant?]) -> String {
        JSONValue.array(instants.map { $0.map { .int($0.milliseconds) } ?? .null }).canonical
    }

    /// Reads the canonical form (`[1795910400000,null]`, no spaces) straight from its bytes;
    /// nil for anything else — parse that with `instants(_:count:)` of the text.
    static func instants(_ bytes: UnsafeBufferPointer<UInt8>, count: Int) -> [Instant?]? {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "["), bytes[bytes.count - 1] == UInt8(ascii: "]") else { return nil }
        var result: [Instant?] = []
        result.reserveCapacity(count)
        var position = 1
        let end = bytes.count - 1
        guard end > position else { return count == 0 ? [] : nil }
        while true {
            if bytes[position] == UInt8(ascii: "n") {
                guard end - position >= 4, bytes[position + 1] == UInt8(ascii: "u"), bytes[position + 2] == UInt8(ascii: "l"),
                    bytes[position + 3] == UInt8(ascii: "l")
                else { return nil }
                result.append(nil)
                position += 4
            } else {
                let negative = bytes[position] == UInt8(ascii: "-")
                if negative { position += 1 }
                let start = position
                var value: Int64 = 0
                while position < end, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
                    guard position - start < 18 else { return nil }  // no overflow: leave long numbers to the parser
                    value = value * 10 + Int64(bytes[position] - UInt8(ascii: "0"))
                    position += 1
                }
                guard position > start else { return nil }
                result.append(Instant(milliseconds: negative ? -value : value))
            }
            if position == end { break }
            guard bytes[position] == UInt8(ascii: ","), position + 1 < end else { return nil }
            position += 1
        }
        return result.count == count ? result : nil
    }

    /// `[0,2]`: branch instance positions.
    static func positionsJSON(_ positions: [Int]) -> String {
        positions.isEmpty ? "[]" : JSONValue.array(positions.map { .int(Int64($0)) }).canonical
    }

    /// Parses `positionsJSON`'s form; nil for anything else.
    static func positions(_ text: String) -> [Int]? {
        if text == "[]" { return [] }
        guard case .array(let items)? = try? JSONParser.parse(text) else { return nil }
        let positions = items.compactMap { $0.intValue.map(Int.init) }
        return positions.count == items.count ? positions : nil
    }

    static func instants(_ text: String, count: Int) -> [Instant?]? {
        guard case .array(let items)? = try? JSONParser.parse(text), items.count == count else { return nil }
        return items.map { $0.intValue.map(Instant.init(milliseconds:)) }
    }
}
