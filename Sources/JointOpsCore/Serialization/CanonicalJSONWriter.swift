/// Writes canonical JSON text (the form `JSONValue.canonical` gives) straight to bytes, for
/// the hot replies (an operation's view, once per command and change) where building a
/// `JSONValue` tree first would cost a dictionary per object. The caller writes each
/// object's keys in sorted order; debug builds check that they do.
public struct CanonicalJSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// Whether the next value or key needs a comma first.
    private var needsComma = false
    #if DEBUG
        /// The last key written in each open object.
        private var keys: [String] = []
    #endif

    public init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    /// What was written, as a value to splice into a reply (no String is made and checked).
    public var encoded: JSONValue { .encoded(bytes) }

    /// Writes an object whose members `body` writes (with `key` before each value).
    public mutating func object(_ body: (inout CanonicalJSONWriter) -> Void) {
        comma()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        #if DEBUG
            keys.append("")
        #endif
        body(&self)
        #if DEBUG
            keys.removeLast()
        #endif
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Writes an array whose items `body` writes.
    public mutating func array(_ body: (inout CanonicalJSONWriter) -> Void) {
        comma()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes a member's key given in the source (plain ASCII, nothing to escape, which is
    /// not checked again on every reply); its value comes next.
    public mutating func key(_ key: StaticString) {
        #if DEBUG
            let text = key.description
            precondition(
                text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") },
                "'\(text)' needs escaping: use key(dynamic:)")
            precondition(keys.last.map { $0 < text } ?? false, "canonical JSON needs sorted keys: '\(text)' after '\(keys.last ?? "")'")
            keys[keys.count - 1] = text
        #endif
        comma()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes a member's key made at run time (escaped as needed); its value comes next.
    public mutating func key(dynamic key: String) {
        #if DEBUG
            precondition(keys.last.map { $0 < key } ?? false, "canonical JSON needs sorted keys: '\(key)' after '\(keys.last ?? "")'")
            keys[keys.count - 1] = key
        #endif
        comma()
        JSONValue.writeString(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ text: String) {
        comma()
        JSONValue.writeString(text, to: &bytes)
        needsComma = true
    }

    public mutating func string(_ text: String?) {
        guard let text else { return value(.null) }
        string(text)
    }

    /// Writes an instant as the interfaces show times (ISO 8601, UTC), or null.
    public mutating func time(_ instant: Instant?) {
        guard let instant else { return value(.null) }
        comma()
        bytes.append(UInt8(ascii: "\""))
        ISO8601.write(instant, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    public mutating func int(_ number: Int) { value(.int(Int64(number))) }

    public mutating func int(_ number: Int64) { value(.int(number)) }

    public mutating func bool(_ flag: Bool) { value(.bool(flag)) }

    /// Writes any value in its canonical form.
    public mutating func value(_ value: JSONValue) {
        comma()
        value.write(to: &bytes)
        needsComma = true
    }

    private mutating func comma() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }
}
