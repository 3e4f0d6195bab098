public import JointOpsCore

/// A Varlink call: `{"method": "io.jointops.Operations.Show", "parameters": {…}, "more": true}`.
public struct VarlinkCall: Sendable {
    public var method: String
    public var parameters: [String: JSONValue]
    /// The caller wants a stream of replies.
    public var more: Bool
    /// The caller wants no reply.
    public var oneway: Bool

    public init(method: String, parameters: [String: JSONValue] = [:], more: Bool = false, oneway: Bool = false) {
        self.method = method
        self.parameters = parameters
        self.more = more
        self.oneway = oneway
    }

    /// The interface part of the method name (`io.jointops.Operations`).
    public var interface: String {
        guard let dot = lastDot else { return "" }
        return String(method[..<dot])
    }

    /// The bare method name (`Show`).
    public var name: String {
        guard let dot = lastDot else { return method }
        return String(method[method.utf8.index(after: dot)...])
    }

    /// Found among the UTF-8 bytes: `String.lastIndex(of:)` walks back by grapheme
    /// clusters, which showed in profiles (the name is asked for several times a call).
    private var lastDot: String.Index? { method.utf8.lastIndex(of: UInt8(ascii: ".")) }

    /// Reads a call from one message's JSON text.
    public init(json text: String) throws(VarlinkError) {
        let members = try jsonObject(text, named: "(message)", otherwise: "a call must be a JSON object with a 'method'")
        guard let method = members["method"]?.stringValue, !method.isEmpty else {
            throw VarlinkError.invalidParameter("method", because: "a call needs a 'method' such as io.jointops.Operations.List")
        }
        var parameters: [String: JSONValue] = [:]
        switch members["parameters"] {
        case nil, .null?: break
        case .object(let given)?: parameters = given
        default: throw VarlinkError.invalidParameter("parameters", because: "'parameters' must be a JSON object")
        }
        func flag(_ key: String) throws(VarlinkError) -> Bool {
            switch members[key] {
            case nil, .null?: return false
            case .bool(let value)?: return value
            default: throw VarlinkError.invalidParameter(key, because: "'\(key)' must be true or false")
            }
        }
        // Varlink's protocol upgrade hands the connection to another protocol after the
        // reply; no method here has one, and answering as if it were not asked would mislead.
        if try flag("upgrade") {
            throw VarlinkError.invalidParameter("upgrade", because: "no method of jointopsd upgrades its connection; leave 'upgrade' out")
        }
        self.init(method: method, parameters: parameters, more: try flag("more"), oneway: try flag("oneway"))
    }

    /// Whether a message asks for no reply (`"oneway": true`), judged even when it is not a
    /// call that can run: a call that asked for none gets none, not even its error
    /// (varlink.org: the server must adhere to `oneway`), or the caller would take that error
    /// for the reply to its next call.
    public static func asksForNoReply(json text: String) -> Bool {
        guard case .object(let members)? = try? JSONParser.parse(text) else { return false }
        return members["oneway"] == .bool(true)
    }

    public var json: String {
        var members: [String: JSONValue] = ["method": .string(method), "parameters": .object(parameters)]
        if more { members["more"] = .bool(true) }
        if oneway { members["oneway"] = .bool(true) }
        return JSONValue.object(members).canonical
    }
}

/// A Varlink reply: parameters, or an error with its parameters; `continues` while a
/// stream (`more`) goes on.
public struct VarlinkReply: Sendable {
    public var parameters: [String: JSONValue]
    public var error: String?
    public var continues: Bool

    public init(parameters: [String: JSONValue] = [:], error: String? = nil, continues: Bool = false) {
        self.parameters = parameters
        self.error = error
        self.continues = continues
    }

    public init(_ error: VarlinkError) {
        self.init(parameters: error.parameters, error: error.name)
    }

    /// The canonical text (keys in order: continues, error, parameters), written without
    /// building the enclosing object.
    public var json: String { String(decoding: jsonBytes, as: UTF8.self) }

    /// The same text as UTF-8, for a sender that writes bytes: no String is built and
    /// checked on the way.
    public var jsonBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        out.append(UInt8(ascii: "{"))
        if continues { out.append(contentsOf: #""continues":true,"#.utf8) }
        if let error {
            out.append(contentsOf: #""error":"#.utf8)
            JSONValue.writeString(error, to: &out)
            out.append(UInt8(ascii: ","))
        }
        out.append(contentsOf: #""parameters":"#.utf8)
        JSONValue.object(parameters).write(to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    public init(json text: String) throws(VarlinkError) {
        let members = try jsonObject(text, named: "(reply)", otherwise: "not a JSON object")
        var parameters: [String: JSONValue] = [:]
        if case .object(let given)? = members["parameters"] { parameters = given }
        self.init(parameters: parameters, error: members["error"]?.stringValue, continues: members["continues"] == .bool(true))
    }
}

/// The members of one message's JSON text, which must be an object: a text that is not JSON,
/// or not an object, is `InvalidParameter` naming `name` (`(message)`, `(reply)`).
private func jsonObject(_ text: String, named name: String, otherwise: String) throws(VarlinkError) -> [String: JSONValue] {
    let value: JSONValue
    do {
        value = try JSONParser.parse(text)
    } catch {
        throw VarlinkError.invalidParameter(name, because: "\(error)")
    }
    guard case .object(let members) = value else { throw VarlinkError.invalidParameter(name, because: otherwise) }
    return members
}
