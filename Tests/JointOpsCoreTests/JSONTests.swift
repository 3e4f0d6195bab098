import Testing

@testable import JointOpsCore

@Suite struct JSONTests {
    @Test func textIsReadBackAsItWasWritten() throws {
        let value = JSONValue.object([
            "plain": .string("note: load"), "quote": .string("say \"stop\""), "backslash": .string(#"C:\ops"#),
            "lines": .string("one\ntwo\tthree\r"), "control": .string("\u{1}"), "chinese": .string("情指行一体化"),
            "emoji": .string("🚓"), "numbers": .array([.int(0), .int(-42), .int(9_007_199_254_740_993), .double(2.5)]),
            "nothing": .null, "flags": .array([.bool(true), .bool(false)]), "empty": .object([:]), "none": .array([]),
        ])
        #expect(try JSONParser.parse(value.canonical) == value)
    }

    @Test func escapesOfOtherWritersAreDecoded() throws {
        #expect(try JSONParser.parse(#""a\/b\u00e9\ud83d\ude93\b\f""#) == .string("a/bé🚓\u{8}\u{c}"))
        #expect(try JSONParser.parse(#" { "k" : [ 1 , "v" ] } "#) == .object(["k": .array([.int(1), .string("v")])]))
        // A lone high surrogate is replaced; the character after it is kept.
        #expect(try JSONParser.parse(#""\ud83dx""#) == .string("\u{FFFD}x"))
    }

    @Test func brokenTextIsRefusedWithItsOffset() {
        for (text, offset) in [(#""open"#, 5), (#""bad \u12""#, 7), ("[1,]", 3), ("{\"a\" 1}", 5), ("1 2", 2)] {
            #expect(throws: JSONParser.Failure.self, "\(text)") { try JSONParser.parse(text) }
            do {
                _ = try JSONParser.parse(text)
            } catch {
                #expect(error.offset == offset, "\(text): \(error)")
            }
        }
    }

    @Test func canonicalTextSortsKeysAndWritesIntegersExactly() {
        let value = JSONValue.object(["b": .int(Int64.min), "a": .int(Int64.max), "c": .int(-7), "d": .int(10)])
        #expect(value.canonical == #"{"a":9223372036854775807,"b":-9223372036854775808,"c":-7,"d":10}"#)
    }
}
