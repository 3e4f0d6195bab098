/// Parses JSON text (as written by `JSONValue.canonical`, or any JSON with integer numbers).
public enum JSONParser {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { "invalid JSON at byte \(offset): \(message)" }
    }

    /// The deepest nesting of arrays and objects accepted. The parser recurses once per
    /// level: without a bound, a few kilobytes of `[[[[…` overflow the stack of whichever
    /// thread parses them (a daemon's, for any caller of its socket). Nothing jointops
    /// exchanges nests deeper than a handful of levels.
    public static let maximumDepth = 64

    public static func parse(_ text: String) throws(Failure) -> JSONValue {
        var parser = Parser(bytes: Array(text.utf8))
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw Failure(offset: parser.index, message: "trailing characters") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        /// Arrays and objects open around the current position.
        var depth = 0

        mutating func enter() throws(Failure) {
            depth += 1
            guard depth <= JSONParser.maximumDepth else {
                throw Failure(offset: index, message: "nested deeper than \(JSONParser.maximumDepth) arrays and objects")
            }
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        mutating func value() throws(Failure) -> JSONValue {
            skipWhitespace()
            guard index < bytes.count else { throw Failure(offset: index, message: "unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                try enter()
                defer { depth -= 1 }
                index += 1
                var members: [String: JSONValue] = [:]
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                }
                while true {
                    skipWhitespace()
                    let keyOffset = index
                    let key = try string()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"))
                    // Two values for one name would leave which one counts to the parser.
                    guard members.updateValue(try value(), forKey: key) == nil else {
                        throw Failure(offset: keyOffset, message: "the member \"\(key)\" is given twice")
                    }
                    skipWhitespace()
                    if try separator(closing: UInt8(ascii: "}")) { return .object(members) }
                }
            case UInt8(ascii: "["):
                try enter()
                defer { depth -= 1 }
                index += 1
                var items: [JSONValue] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(items)
                }
                while true {
                    items.append(try value())
                    skipWhitespace()
                    if try separator(closing: UInt8(ascii: "]")) { return .array(items) }
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            default:
                let start = index
                if bytes[index] == UInt8(ascii: "-") { index += 1 }
                func digits() { while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 } }
                digits()
                var fractional = false
                if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                    fractional = true
                    index += 1
                    digits()
                }
                if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                    fractional = true
                    index += 1
                    if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                    digits()
                }
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                if fractional, let number = Double(text), number.isFinite { return .double(number) }
                guard index > start, text != "-" else { throw Failure(offset: start, message: "expected a value") }
                guard let number = Int64(text) else {
                    throw Failure(
                        offset: start, message: "the number \(text) is out of range: whole numbers must lie within ±9223372036854775807")
                }
                return .int(number)
            }
        }

        mutating func separator(closing: UInt8) throws(Failure) -> Bool {
            guard index < bytes.count else { throw Failure(offset: index, message: "unexpected end") }
            if bytes[index] == closing {
                index += 1
                return true
            }
            try expect(UInt8(ascii: ","))
            return false
        }

        mutating func expect(_ byte: UInt8) throws(Failure) {
            guard index < bytes.count, bytes[index] == byte else {
                throw Failure(offset: index, message: "expected '\(Character(Unicode.Scalar(byte)))'")
            }
            index += 1
        }

        mutating func literal(_ word: String) throws(Failure) {
            for byte in word.utf8 { try expect(byte) }
        }

        /// A string: text without escapes becomes a String in one step; escapes are decoded
        /// into UTF-8 first.
        mutating func string() throws(Failure) -> String {
            try expect(UInt8(ascii: "\""))
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") { index += 1 }
            guard index < bytes.count else { throw Failure(offset: index, message: "unterminated string") }
            if bytes[index] == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: bytes[start..<index - 1], as: UTF8.self)
            }
            var utf8 = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { return String(decoding: utf8, as: UTF8.self) }
                guard byte == UInt8(ascii: "\\") else {
                    utf8.append(byte)
                    continue
                }
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    // A surrogate pair written as two escapes is one scalar.
                    if (0xD800..<0xDC00).contains(code), index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    {
                        let mark = index
                        index += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            index = mark
                        }
                    }
                    utf8.append(contentsOf: String(Character(Unicode.Scalar(code) ?? "\u{FFFD}")).utf8)
                default: utf8.append(escape)
                }
            }
            throw Failure(offset: index, message: "unterminated string")
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard index + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
                throw Failure(offset: index, message: "bad \\u escape")
            }
            index += 4
            return code
        }
    }
}
