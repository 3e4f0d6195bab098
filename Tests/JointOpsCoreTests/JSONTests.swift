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

    /// The failure `text` is refused with, or nil when it is accepted.
    private func refusal(_ text: String) -> JSONParser.Failure? {
        do {
            _ = try JSONParser.parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func loneSurrogateEscapesAreRefusedAndPairsAreOneCharacter() throws {
        // Both used to become U+FFFD, so two request ids differing only there were one.
        for (text, offset) in [
            (#""r-\ud800""#, 3), (#""r-\udfff""#, 3), (#""\ud83dx""#, 1), (#""\ud83d\u0041""#, 1), (#""\ud83d\ud83d""#, 1),
            (#""\ude00\ud83d""#, 1), (#""a\ud83d"#, 2), (#"{"\udc00": 1}"#, 2),
        ] {
            let failure = try #require(refusal(text), "\(text) is accepted")
            #expect(failure.offset == offset, "\(text): \(failure)")
            #expect(failure.message.contains("lone surrogate is not a character"), "\(text): \(failure)")
            #expect(failure.message.contains("send the character in UTF-8 or as a surrogate pair"), "\(text): \(failure)")
        }
        #expect(refusal(#""r-\ud800""#)?.message.contains(#"\ud800"#) == true, "names the escape")
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try JSONParser.parse(#""\uD83D\uDE00!""#) == .string("😀!"))
        #expect(try JSONParser.parse(#""\ud7ff\ue000\uffff""#) == .string("\u{D7FF}\u{E000}\u{FFFF}"), "next to the surrogates")
    }

    @Test func escapesOutsideTheGrammarAreRefused() throws {
        for (text, offset) in [
            (#""\x41""#, 1), (#""ok \a""#, 4), (#""\'""#, 1), (#""\U00e9""#, 1), (#""\0""#, 1), ("\"\\\u{e9}\"", 1),
            ("\"\\\n\"", 1), (#""\u+041""#, 3), (#""\u-041""#, 3), (#""\u 041""#, 3), (#""\u00g1""#, 3),
        ] {
            let failure = try #require(refusal(text), "\(text.debugDescription) is accepted")
            #expect(failure.offset == offset, "\(text.debugDescription): \(failure)")
        }
        #expect(refusal(#""\x41""#)?.message.contains(#"\x is not a JSON escape"#) == true, "\(String(describing: refusal(#""\x41""#)))")
        #expect(try JSONParser.parse(#""\"\\\/\b\f\n\r\t\u0041""#) == .string("\"\\/\u{8}\u{c}\n\r\tA"), "every escape there is")
    }

    @Test func rawControlCharactersInStringsAreRefused() throws {
        for byte in 0..<0x20 {
            let control = String(UnicodeScalar(UInt8(byte)))
            for text in ["\"\(control)\"", "\"plain \(control)\"", "\"esc\\n \(control)\"", "{\"k\(control)\": 1}"] {
                let failure = try #require(refusal(text), "\(text.debugDescription) is accepted")
                #expect(
                    failure.offset == text.utf8.firstIndex(of: UInt8(byte)).map { text.utf8.distance(from: text.utf8.startIndex, to: $0) })
                #expect(failure.message.contains("escape control characters as \\u00XX"), "\(text.debugDescription): \(failure)")
            }
        }
        #expect(refusal("\"tab\there\"")?.message.contains(#"\u0009"#) == true, "says how to write this one")
        // Outside strings, tab, newline and carriage return are whitespace.
        #expect(try JSONParser.parse("\t[\r\n1\n]\n") == .array([.int(1)]))
    }

    @Test func numbersOutsideTheGrammarAreRefused() throws {
        for (text, offset) in [
            ("01", 0), ("-01", 0), ("00", 0), ("-00.5", 0), ("[1, 007]", 4), ("1.", 0), ("-1.e5", 0), (".5", 0), ("-.5", 0), ("-", 0),
            ("[-]", 1), ("1e", 0), ("1e+", 0), ("1E-", 0), ("1.5e", 0), ("+1", 0), ("- 1", 0), ("1.5.5", 3), ("1ee5", 0), ("0x10", 1),
        ] {
            let failure = try #require(refusal(text), "\(text) is accepted")
            #expect(failure.offset == offset, "\(text): \(failure)")
            #expect(!failure.message.contains("out of range"), "\(text): \(failure)")
        }
        #expect(refusal("01")?.message.contains("leading zero") == true)
        #expect(refusal("1.")?.message.contains("digit after the '.'") == true)
        #expect(refusal("1e")?.message.contains("digit after the exponent") == true)
        let accepted: [(String, JSONValue)] = [
            ("0", .int(0)), ("-0", .int(0)), ("10", .int(10)), ("0.5", .double(0.5)), ("-0.5", .double(-0.5)), ("1e3", .double(1000)),
            ("1E+3", .double(1000)), ("2.5e-3", .double(0.0025)), ("0e0", .double(0)), ("1e-400", .double(0)),
        ]
        for (text, value) in accepted { #expect(try JSONParser.parse(text) == value, "\(text)") }
    }

    @Test func aNumberTooLargeToRepresentIsSaidToBeOutOfRangeAndNeverEchoedWhole() throws {
        for text in ["1e999999999999", "-1e400", "1.5E+309"] {
            let failure = try #require(refusal(text), "\(text) is accepted")
            #expect(failure.offset == 0)
            #expect(failure.message.contains("out of range"), "\(text): \(failure)")
            #expect(!failure.message.contains("whole numbers"), "\(text) is not said to be a whole number: \(failure)")
        }
        let huge = String(repeating: "9", count: 100_000)
        for text in [huge, "-" + huge, huge + ".5", "[1, \(huge)]"] {
            let failure = try #require(refusal(text), "a number of 100,000 digits is accepted")
            // Checked outside #expect, which would print the whole message.
            let outOfRange = failure.message.contains("out of range")
            let cut = failure.message.contains(String(repeating: "9", count: 30) + "…")
            let length = failure.description.count
            #expect(outOfRange, "\(failure.message.prefix(200))")
            #expect(length < 300, "echoed whole: \(length) characters")
            #expect(cut, "\(failure.message.prefix(200))")
        }
        // Nothing else echoes a long token whole either.
        let key = String(repeating: "k", count: 100_000)
        let twice = try #require(refusal("{\"\(key)\": 1, \"\(key)\": 2}"))
        #expect(twice.description.count < 300, "\(twice.description.prefix(200))")
        #expect(refusal("0" + huge)?.description.count ?? 0 < 300)
    }

    @Test func everythingTheCanonicalWriterWritesIsReadBackUnchanged() throws {
        let controls = String((0..<0x20).map { Character(UnicodeScalar(UInt8($0))) })
        let texts = [
            controls, "\u{0}", "a\u{0}b\u{1F}c\u{7F}", "\"", "\\", #"\"\\"\"#, #"\u00e9 \ud800"#, "/", "😀🚓𝄞", "\u{10FFFF}\u{E000}\u{FFFF}",
            "情指行一体化", "é" + controls + "😀\"\\", "", "\u{D7FF}", "a\r\nb",
        ]
        for text in texts {
            for value in [JSONValue.string(text), .object([text: .string(text)]), .array([.string(text), .int(1)])] {
                #expect(try JSONParser.parse(value.canonical) == value, "\(text.debugDescription) as \(value.canonical.debugDescription)")
            }
            // The hot replies write through CanonicalJSONWriter (a key follows a smaller one: not "").
            guard !text.isEmpty else { continue }
            var writer = CanonicalJSONWriter()
            writer.object { json in
                json.key(dynamic: text)
                json.string(text)
            }
            #expect(try JSONParser.parse(String(decoding: writer.bytes, as: UTF8.self)) == .object([text: .string(text)]))
        }
        let numbers: [JSONValue] = [
            .int(0), .int(-1), .int(Int64.max), .int(Int64.min), .double(0.1), .double(-2.5), .double(1e-5), .double(1e300),
            .double(-1.7976931348623157e308), .double(.leastNonzeroMagnitude), .double(123456789.125), .double(1e15 + 0.5),
        ]
        for number in numbers { #expect(try JSONParser.parse(number.canonical) == number, "\(number.canonical)") }
    }

    @Test func canonicalTextSortsKeysAndWritesIntegersExactly() {
        let value = JSONValue.object(["b": .int(Int64.min), "a": .int(Int64.max), "c": .int(-7), "d": .int(10)])
        #expect(value.canonical == #"{"a":9223372036854775807,"b":-9223372036854775808,"c":-7,"d":10}"#)
    }
}
