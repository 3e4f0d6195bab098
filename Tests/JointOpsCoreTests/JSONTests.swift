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

    @Test func nestingIsBoundedSoNoInputCanExhaustTheStack() throws {
        let deepest = JSONParser.maximumDepth
        let fits = String(repeating: "[", count: deepest) + String(repeating: "]", count: deepest)
        #expect(throws: Never.self) { try JSONParser.parse(fits) }
        for tooDeep in [
            String(repeating: "[", count: deepest + 1) + String(repeating: "]", count: deepest + 1),
            String(repeating: "{\"a\":", count: 100_000) + "1" + String(repeating: "}", count: 100_000),
        ] {
            #expect {
                try JSONParser.parse(tooDeep)
            } throws: { error in
                (error as? JSONParser.Failure)?.message.contains("nested deeper than \(deepest)") == true
            }
        }
    }

    @Test func aMemberGivenTwiceIsRefusedRatherThanOneOfThemChosen() {
        #expect {
            try JSONParser.parse(#"{"id": "A", "id": "B"}"#)
        } throws: { error in
            (error as? JSONParser.Failure)?.description == #"invalid JSON at byte 12: the member "id" is given twice"#
        }
    }

    @Test func aWholeNumberTooLargeIsSaidToBeOutOfRange() {
        #expect {
            try JSONParser.parse("99999999999999999999999")
        } throws: { error in
            (error as? JSONParser.Failure)?.message.contains("out of range") == true
        }
        #expect((try? JSONParser.parse("-9223372036854775808")) == .int(Int64.min))
    }

    @Test func canonicalTextSortsKeysAndWritesIntegersExactly() {
        let value = JSONValue.object(["b": .int(Int64.min), "a": .int(Int64.max), "c": .int(-7), "d": .int(10)])
        #expect(value.canonical == #"{"a":9223372036854775807,"b":-9223372036854775808,"c":-7,"d":10}"#)
    }
}
