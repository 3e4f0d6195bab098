// Yams exposes no event API, so this pass reads libyaml's events through the copy of libyaml
// Yams is built with (its CYaml module).
import CYaml

/// Aliases (`*name`) checked before the YAML is composed into nodes, because composing is
/// where an alias costs: Yams compares mapping keys by walking them whole, so an alias of an
/// alias of … a list, used as a key, took time exponential in the file's length (a 410-byte
/// file took 11 seconds), and a value that expands to millions of nodes is walked by every
/// reader after. An alias may not be a key, and all aliases together may repeat at most
/// `maximumExpansion` nodes. One pass over libyaml's events, linear in the file's length.
enum YAMLAliases {
    /// How many nodes the aliases of one file may repeat in all: far more than any workflow
    /// needs (an alias of a step list repeats a few dozen).
    static let maximumExpansion = 100_000

    struct Problem: Equatable {
        /// libyaml's position of the alias (1-based, as Yams gives marks).
        var line: Int
        var column: Int
        var message: String
    }

    /// The first misuse of an alias in `source`'s first document, or nil. A syntax error ends
    /// the pass silently: composing the file reports it.
    static func problem(in source: String) -> Problem? {
        // No '*', no alias: most files need no second pass.
        guard source.utf8.contains(UInt8(ascii: "*")) else { return nil }
        var walk = Walk()
        return YAMLEventStream.first(in: source) { event in
            switch walk.step(event) {
            case .next: return .next
            case .done: return .done(nil)
            case .problem(let problem): return .done(problem)
            }
        }
    }

    /// Node counts as the events arrive: each open list or mapping counts its nodes so far,
    /// and an anchor remembers the size of the node it names.
    private struct Walk {
        enum Outcome {
            case next
            case done
            case problem(Problem)
        }

        struct Open {
            var isMapping: Bool
            var anchor: String?
            var size = 1
            /// In a mapping, whether the next node is a key.
            var expectsKey = true
        }

        var open: [Open] = []
        var anchors: [String: Int] = [:]
        var expanded = 0

        mutating func step(_ event: yaml_event_t) -> Outcome {
            switch event.type {
            case YAML_DOCUMENT_END_EVENT, YAML_STREAM_END_EVENT:
                return .done
            case YAML_SCALAR_EVENT:
                _ = startNode()
                finish(size: 1, anchor: name(event.data.scalar.anchor))
            case YAML_SEQUENCE_START_EVENT:
                _ = startNode()
                open.append(Open(isMapping: false, anchor: name(event.data.sequence_start.anchor)))
            case YAML_MAPPING_START_EVENT:
                _ = startNode()
                open.append(Open(isMapping: true, anchor: name(event.data.mapping_start.anchor)))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let node = open.popLast() else { return .done }
                finish(size: node.size, anchor: node.anchor)
            case YAML_ALIAS_EVENT:
                let alias = name(event.data.alias.anchor) ?? ""
                let line = Int(event.start_mark.line) + 1
                let column = Int(event.start_mark.column) + 1
                if startNode() {
                    return .problem(
                        Problem(
                            line: line, column: column,
                            message:
                                "an alias (*\(alias)) cannot be a mapping key; write the key out: aliases are supported only as values"
                        ))
                }
                // An undefined alias is reported when the file is composed.
                guard let size = anchors[alias] else { return .done }
                expanded = Self.sum(expanded, size)
                if expanded > YAMLAliases.maximumExpansion {
                    return .problem(
                        Problem(
                            line: line, column: column,
                            message:
                                "the aliases up to this one (*\(alias)) repeat more than \(YAMLAliases.maximumExpansion) values in all; an alias of a list of aliases multiplies its size: write the values out, or alias fewer times"
                        ))
                }
                finish(size: size, anchor: nil)
            default:
                break
            }
            return .next
        }

        /// A node begins in the innermost open list or mapping; whether it is a key there.
        private mutating func startNode() -> Bool {
            guard let last = open.indices.last, open[last].isMapping else { return false }
            defer { open[last].expectsKey.toggle() }
            return open[last].expectsKey
        }

        /// A node of `size` nodes ended: its anchor names that size, and its parent grows by it.
        private mutating func finish(size: Int, anchor: String?) {
            if let anchor { anchors[anchor] = size }
            if let last = open.indices.last { open[last].size = Self.sum(open[last].size, size) }
        }

        /// Sizes stop growing past the limit, so no sum overflows.
        private static func sum(_ a: Int, _ b: Int) -> Int { min(a + b, YAMLAliases.maximumExpansion + 1) }

        private func name(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            pointer.map { String(cString: $0) }
        }
    }
}

/// Duplicate keys, found again where Yams found one: Yams says only where the first of the
/// two is written, and the second is the one to remove.
enum YAMLDuplicateKeys {
    /// libyaml's position (1-based) of the first key written again in its mapping, as a
    /// scalar with the text `key`, and of its first occurrence.
    static func second(of key: String, in source: String) -> (first: (line: Int, column: Int), second: (line: Int, column: Int))? {
        // For each open list (nil) or mapping: where `key` was first a key, and whether
        // the next node is a key.
        var open: [(isMapping: Bool, expectsKey: Bool, first: (line: Int, column: Int)?)] = []
        return YAMLEventStream.first(in: source) { event in
            let isKey = open.last.map { $0.isMapping && $0.expectsKey } ?? false
            switch event.type {
            case YAML_SCALAR_EVENT, YAML_ALIAS_EVENT, YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                if let last = open.indices.last, open[last].isMapping { open[last].expectsKey.toggle() }
            default:
                break
            }
            switch event.type {
            case YAML_SCALAR_EVENT where isKey:
                let scalar = event.data.scalar
                let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                guard text == key, let last = open.indices.last else { return .next }
                let here = (line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
                if let first = open[last].first { return .done((first, here)) }
                open[last].first = here
            case YAML_SEQUENCE_START_EVENT:
                open.append((false, false, nil))
            case YAML_MAPPING_START_EVENT:
                open.append((true, true, nil))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                _ = open.popLast()
            case YAML_DOCUMENT_END_EVENT, YAML_STREAM_END_EVENT:
                return .done(nil)
            default:
                break
            }
            return .next
        }
    }
}

/// libyaml's events for a text, one at a time, for the passes above.
enum YAMLEventStream {
    enum Step<Result> {
        case next
        case done(Result?)
    }

    /// What `body` answers `.done` with, or nil when the events end first (a syntax error
    /// ends them silently: composing the file reports it).
    static func first<Result>(in source: String, _ body: (yaml_event_t) -> Step<Result>) -> Result? {
        var bytes = Array(source.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return nil }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var event = yaml_event_t()
            while yaml_parser_parse(&parser, &event) == 1 {
                defer { yaml_event_delete(&event) }
                if case .done(let result) = body(event) { return result }
            }
            return nil
        }
    }
}
