import JointOpsCore
import Testing

@testable import JointOpsStore

/// The byte-level readers recovery uses agree with the JSON parser they stand in for.
@Suite struct ProjectionCodecTests {
    static func fast(_ text: String, count: Int) -> [Instant?]? {
        Array(text.utf8).withUnsafeBufferPointer { ProjectionCodec.instants($0, count: count) }
    }

    @Test(arguments: [
        ("[1795910400000,null,3]", 3), ("[null]", 1), ("[]", 0), ("[-5,0]", 2), ("[1,2]", 3), ("[1,]", 2), ("[,1]", 2), ("[nul]", 1),
        ("[1 ,2]", 2), ("1,2", 2), ("[99999999999999999999]", 1), ("[1.5]", 1), ("[-]", 1),
    ])
    func phaseTimesReadTheSameAsTheirJSON(_ text: String, _ count: Int) {
        let fast = Self.fast(text, count: count)
        // The fast reader may decline (nil) and leave the text to the JSON parser, but when it
        // answers, it answers what the parser does.
        if let fast { #expect(fast == ProjectionCodec.instants(text, count: count), "\(text)") }
        let round = ProjectionCodec.instantsJSON([Instant(milliseconds: 1_795_910_400_000), nil, Instant(milliseconds: -3)])
        #expect(Self.fast(round, count: 3) == [Instant(milliseconds: 1_795_910_400_000), nil, Instant(milliseconds: -3)])
    }

    @Test func theJSONParserReadsPlainAndEscapedStrings() throws {
        let value = try JSONParser.parse(#"{"a":"plain","b":"tab\there \"quoted\" \u00e9","c":"现场","d":""}"#)
        #expect(value["a"]?.stringValue == "plain")
        #expect(value["b"]?.stringValue == "tab\there \"quoted\" é")
        #expect(value["c"]?.stringValue == "现场")
        #expect(value["d"]?.stringValue == "")
        #expect((try? JSONParser.parse(#""unterminated"#)) == nil)
    }
}
