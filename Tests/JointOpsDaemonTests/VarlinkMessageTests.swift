import JointOpsCore
import JointOpsProtocol
import Testing

@Suite struct VarlinkMessageTests {
    @Test(arguments: [
        (nil, false), ("io.jointops.Operations.WatcherTooSlow", false), (nil, true), ("org.varlink.service.InvalidParameter", true),
    ])
    func aReplyIsWrittenInCanonicalForm(_ error: String?, _ continues: Bool) throws {
        let parameters: [String: JSONValue] = ["operation": .object(["id": .string("OP-1"), "phase": .string("reported")]), "n": .int(3)]
        let reply = VarlinkReply(parameters: parameters, error: error, continues: continues)
        var whole: [String: JSONValue] = ["parameters": .object(parameters)]
        if let error { whole["error"] = .string(error) }
        if continues { whole["continues"] = .bool(true) }
        #expect(reply.json == JSONValue.object(whole).canonical)
        let read = try VarlinkReply(json: reply.json)
        #expect(read.parameters == parameters && read.error == error && read.continues == continues)
    }
}
