/// Parses JSON text (as written by `JSONValue.canonical`, or any JSON with integer numbers).
/// Strict to RFC 8259's grammar: what it does not allow (a lone UTF-16 surrogate, an escape
/// it does not name, a raw control character in a string, a number such as `01` or `1.`) is
/// refused, never repaired or guessed at, since a repaired text could mean something other
/// than what its sender meant (two request ids with different lone surrogates became one).
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

    /// The most characters of a token a message repeats: a 100,000-digit number is not
    /// echoed whole.
    static let echoLimit = 40

    /// `text`, cut to `echoLimit` characters with "…" when longer.
    static func echo(_ text: some StringProtocol) -> String {
        let head = text.prefix(echoLimit + 1)
        return head.count > echoLimit ? head.prefix(echoLimit) + "…" : String(head)
    }

    /// The four lowercase hex digits of a code unit, as a `\u` escape writes them.
    static func hex(_ code: UInt32) -> String {
        let digits = String(code, radix: 16)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

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
                        throw Failure(offset: keyOffset, message: "the member \"\(JSONParser.echo(key))\" is given twice")
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
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return try number()
            case UInt8(ascii: "+"):
                throw Failure(offset: index, message: "a number must not start with '+'; leave it out (1, not +1)")
            case UInt8(ascii: "."):
                throw Failure(
                    offset: index, message: "the number \(numberToken(from: index)) needs a digit before the '.' (as in 0.5)")
            default:
                throw Failure(offset: index, message: "expected a value")
            }
        }

        func isDigit(_ at: Int) -> Bool { at < bytes.count && bytes[at] >= 0x30 && bytes[at] <= 0x39 }

        /// A number, by RFC 8259's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
        /// A whole number is read as it is scanned (no String is made); one with a fraction or
        /// an exponent is a Double.
        mutating func number() throws(Failure) -> JSONValue {
            let start = index
            let negative = bytes[index] == UInt8(ascii: "-")
            if negative { index += 1 }
            guard isDigit(index) else {
                throw Failure(offset: start, message: "a '-' must be followed by a digit (as in -1 or -0.5)")
            }
            var magnitude: UInt64 = 0
            var overflow = false
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
                guard !isDigit(index) else {
                    throw Failure(
                        offset: start,
                        message: "the number \(numberToken(from: start)) has a leading zero, which JSON does not allow; leave the zero out")
                }
            } else {
                while isDigit(index) {
                    let (times10, over1) = magnitude.multipliedReportingOverflow(by: 10)
                    let (sum, over2) = times10.addingReportingOverflow(UInt64(bytes[index] &- 0x30))
                    overflow = overflow || over1 || over2
                    magnitude = sum
                    index += 1
                }
            }
            var whole = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                whole = false
                index += 1
                guard isDigit(index) else {
                    throw Failure(offset: start, message: "the number \(numberToken(from: start)) needs a digit after the '.' (as in 1.0)")
                }
                while isDigit(index) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                whole = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard isDigit(index) else {
                    throw Failure(
                        offset: start,
                        message: "the number \(numberToken(from: start)) needs a digit after the exponent's e (as in 1e5 or 1e-5)")
                }
                while isDigit(index) { index += 1 }
            }
            if whole {
                if !overflow {
                    if !negative, magnitude <= UInt64(Int64.max) { return .int(Int64(magnitude)) }
                    if negative, magnitude <= UInt64(Int64.max) + 1 { return .int(Int64(bitPattern: 0 &- magnitude)) }
                }
                throw Failure(
                    offset: start,
                    message: "the number \(numberToken(from: start)) is out of range: whole numbers must lie within ±9223372036854775807")
            }
            guard let number = Double(String(decoding: bytes[start..<index], as: UTF8.self)), number.isFinite else {
                throw Failure(
                    offset: start,
                    message:
                        "the number \(numberToken(from: start)) is out of range: too large to represent (numbers must lie within ±1.7976931348623157e308)"
                )
            }
            return .double(number)
        }

        /// The number-like characters from `start`, for a message (cut short when long).
        func numberToken(from start: Int) -> String {
            var end = start
            while end < bytes.count, end - start <= JSONParser.echoLimit {
                switch bytes[end] {
                case 0x30...0x39, UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): end += 1
                default: return JSONParser.echo(String(decoding: bytes[start..<end], as: UTF8.self))
                }
            }
            return JSONParser.echo(String(decoding: bytes[start..<end], as: UTF8.self))
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
            while index < bytes.count, bytes[index] >= 0x20, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
                index += 1
            }
            guard index < bytes.count else { throw Failure(offset: index, message: "unterminated string") }
            if bytes[index] == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: bytes[start..<index - 1], as: UTF8.self)
            }
            var utf8 = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                if byte < 0x20 { throw controlCharacter(at: index) }
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
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "u"):
                    let escapeStart = index - 2
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        // A surrogate pair written as two escapes is one scalar; a high
                        // surrogate without its low one is no character at all.
                        guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw loneSurrogate(
                                at: escapeStart,
                                #"\u\#(JSONParser.hex(code)) is a high surrogate not followed by a low one (\udc00 to \udfff)"#)
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else {
                            throw loneSurrogate(
                                at: escapeStart,
                                #"\u\#(JSONParser.hex(code)) is a high surrogate followed by \u\#(JSONParser.hex(low)), not by a low one (\udc00 to \udfff)"#
                            )
                        }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(code) {
                        throw loneSurrogate(at: escapeStart, #"\u\#(JSONParser.hex(code)) is a low surrogate without a high one before it"#)
                    }
                    // Every code left is a scalar: surrogates are taken above.
                    guard let scalar = Unicode.Scalar(code) else {
                        throw Failure(offset: escapeStart, message: #"\u\#(JSONParser.hex(code)) is not a character"#)
                    }
                    UTF8.encode(scalar) { utf8.append($0) }
                default:
                    throw Failure(
                        offset: index - 2,
                        message:
                            #"\#(escapeName(at: index - 1)) is not a JSON escape; the escapes are \" \\ \/ \b \f \n \r \t and \uXXXX (a backslash itself is written \\)"#
                    )
                }
            }
            throw Failure(offset: index, message: "unterminated string")
        }

        func controlCharacter(at offset: Int) -> Failure {
            let code = JSONParser.hex(UInt32(bytes[offset]))
            return Failure(
                offset: offset,
                message:
                    #"a string holds a raw control character (U+\#(code.uppercased())); escape control characters as \u00XX (here \u\#(code))"#
            )
        }

        func loneSurrogate(at offset: Int, _ what: String) -> Failure {
            Failure(
                offset: offset,
                message: what
                    + #": a lone surrogate is not a character; send the character in UTF-8 or as a surrogate pair (as in \ud83d\ude00)"#)
        }

        /// How a message names a backslash and the character after it at `offset`.
        func escapeName(at offset: Int) -> String {
            let scalar = String(decoding: bytes[offset..<min(offset + 4, bytes.count)], as: UTF8.self).unicodeScalars.first ?? "?"
            if scalar.value > 0x20, scalar.value < 0x7F { return "\\" + String(scalar) }
            return "a backslash followed by U+" + JSONParser.hex(scalar.value).uppercased()
        }

        /// Four hex digits, and nothing else (no sign, no space).
        mutating func hex4() throws(Failure) -> UInt32 {
            guard index + 4 <= bytes.count else { throw badHex() }
            var code: UInt32 = 0
            for byte in bytes[index..<index + 4] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw badHex()
                }
                code = code << 4 | UInt32(digit)
            }
            index += 4
            return code
        }

        func badHex() -> Failure { Failure(offset: index, message: #"a \u escape needs four hex digits (as in \u00e9)"#) }
    }
}
