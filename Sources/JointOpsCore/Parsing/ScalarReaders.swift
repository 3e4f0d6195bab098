import Yams

/// Typed readers for scalars; each reports a clear error and returns nil on a mismatch.
package struct ScalarReaders {
    package let sink: DiagnosticSink
    package init(sink: DiagnosticSink) { self.sink = sink }

    package func mapping(_ value: YAMLValue, _ what: String) -> YAMLMapping? {
        guard case .mapping = value.node else {
            if let scalar = value.scalar, scalar.style == .plain, let offset = scalar.string.fullWidthColonOffset {
                sink.error(
                    value.location.advanced(by: offset),
                    "\(what) must be a mapping, found \(value.kindDescription); \(String.fullWidthColonHint)")
                return nil
            }
            sink.error(value.location, "\(what) must be a mapping, found \(value.kindDescription)")
            return nil
        }
        return YAMLMapping(value, file: value.location.file)
    }

    package func list(_ value: YAMLValue, _ what: String) -> [YAMLValue]? {
        guard case .sequence(let sequence) = value.node else {
            sink.error(value.location, "\(what) must be a list, found \(value.kindDescription)")
            return nil
        }
        return sequence.map(value.child)
    }

    package func string(_ value: YAMLValue, _ what: String) -> String? {
        guard let scalar = value.scalar, !(scalar.style == .plain && scalar.string.isEmpty) else {
            sink.error(value.location, "\(what) must be a string, found \(value.kindDescription)")
            return nil
        }
        // YAML's null (`~`, `null`) is no value, not the text "~" (a call sign `~` was taken).
        if scalar.style == .plain, ["~", "null", "Null", "NULL"].contains(scalar.string) {
            sink.error(
                value.location, "\(what) must be a string, found null (\(scalar.string)); give a value, or quote it if it is meant as text")
            return nil
        }
        return scalar.string
    }

    /// The longest title (a region's name, a workflow's or phase's title).
    package static let longestTitle = 200

    /// The longest name (of a workflow, phase, branch, step, event, attribute …), as
    /// operation and unit ids: names appear in every reply, log line and table column.
    package static let longestName = 64

    /// A name: `[a-z][a-z0-9_]*` (plus `-` when `allowDash`), at most `longestName` long.
    package func identifier(_ value: YAMLValue, _ what: String, allowDash: Bool = false) -> String? {
        guard let text = string(value, what) else { return nil }
        guard text.count <= Self.longestName || !sink.appliesLaterLimits else {
            sink.error(
                value.textLocation,
                "'\(text.prefix(24))…' (\(text.count) characters) is too long for a \(what): at most \(Self.longestName); the title is the place for a description"
            )
            return nil
        }
        guard Self.isIdentifier(text, allowDash: allowDash) else {
            if let offset = text.fullWidthColonOffset {
                sink.error(
                    value.textLocation.advanced(by: offset), "\(text.quotedForMessage) is not a valid \(what); \(String.fullWidthColonHint)"
                )
                return nil
            }
            if let (offset, wide, ascii) = text.fullWidthPunctuation {
                sink.error(
                    value.textLocation.advanced(by: offset),
                    "\(text.quotedForMessage) is not a valid \(what); did you type a full-width '\(wide)'? use '\(ascii)'")
                return nil
            }
            let extra = allowDash ? ", digits, '_' and '-'" : ", digits and '_'"
            sink.error(
                value.textLocation, "\(text.quotedForMessage) is not a valid \(what): use lowercase letters\(extra), starting with a letter"
            )
            return nil
        }
        return text
    }

    package static func isIdentifier(_ text: String, allowDash: Bool = false) -> Bool {
        guard let first = text.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || (allowDash && $0 == "-")
        }
    }

    /// The most phases, branches, or steps of one branch a workflow may have: far more than
    /// anyone can follow, and the checks of reachability grow with the square of them (a
    /// 10,000-phase file took over 30 s and 800 MB to check).
    package static let mostEntries = 200

    /// Whether `mapping` (phases, branches, a branch's steps) has at most `mostEntries`;
    /// an error at it if not (a limit added later, see `integer`).
    package func isWithinLimit(_ mapping: YAMLMapping, _ value: YAMLValue, _ what: String) -> Bool {
        guard mapping.entries.count > Self.mostEntries, sink.appliesLaterLimits else { return true }
        sink.error(
            value.location,
            "\(mapping.entries.count) \(what): at most \(Self.mostEntries); split the workflow, or group what belongs together")
        return false
    }

    /// `maximum` is a limit added after versions may have been stored: not applied to them
    /// (`DiagnosticSink.appliesLaterLimits`).
    package func integer(_ value: YAMLValue, _ what: String, minimum: Int, maximum: Int = .max) -> Int? {
        guard let scalar = value.scalar, scalar.style == .plain, let number = Int(scalar.string) else {
            if let quoted = value.quotedPlainValue, Int(quoted) != nil {
                sink.error(
                    value.location,
                    "\(what) must be an integer ≥ \(minimum), found the text \(value.asWritten) in quotes; remove the quotes")
                return nil
            }
            sink.error(value.location, "\(what) must be an integer ≥ \(minimum), found \(value.kindDescription)")
            return nil
        }
        guard number >= minimum else {
            sink.error(value.location, "\(what) must be an integer ≥ \(minimum), found \(number)")
            return nil
        }
        guard number <= maximum || !sink.appliesLaterLimits else {
            sink.error(value.location, "\(what) must be at most \(maximum), found \(number)")
            return nil
        }
        return number
    }

    /// The most units one branch, dispatch or reinforcement may ask for: more than any
    /// jurisdiction has of a kind, and small enough that counting them cannot overflow.
    package static let mostUnits = 1000

    package func bool(_ value: YAMLValue, _ what: String) -> Bool? {
        if let scalar = value.scalar, scalar.style == .plain {
            if scalar.string == "true" { return true }
            if scalar.string == "false" { return false }
        }
        if let quoted = value.quotedPlainValue, quoted == "true" || quoted == "false" {
            sink.error(value.location, "\(what) must be true or false, found the text \(value.asWritten) in quotes; remove the quotes")
            return nil
        }
        sink.error(value.location, "\(what) must be true or false, found \(value.kindDescription)")
        return nil
    }

    package func duration(_ value: YAMLValue, _ what: String, allowZero: Bool = false) -> WorkflowDuration? {
        guard let text = string(value, what) else { return nil }
        let duration: WorkflowDuration
        switch WorkflowDuration.parse(text) {
        case .success(let parsed):
            duration = parsed
        case .failure(.tooLarge):
            sink.error(
                value.textLocation,
                "duration \(text.quotedForMessage) for \(what) is too large: a number in a duration may be at most \(WorkflowDuration.largestNumber) (1000000w is over 19000 years)"
            )
            return nil
        case .failure(.repeatedUnit(let unit)):
            sink.error(
                value.textLocation,
                "duration \(text.quotedForMessage) for \(what) gives '\(unit)' more than once: write each unit once, largest first, e.g. 1h30m"
            )
            return nil
        case .failure(.malformed):
            sink.error(
                value.textLocation,
                "invalid duration \(text.quotedForMessage) for \(what): write a number and a unit (s, m, h, d, w), e.g. 90s, 15m, 1h30m, 7d, or working days alone, e.g. 5wd"
            )
            return nil
        }
        if sink.appliesLaterLimits, duration.exceedsMaximum {
            sink.error(
                value.textLocation,
                "duration \(text.quotedForMessage) is longer than the maximum of \(duration.maximumDescription) for \(what)")
            return nil
        }
        if !allowZero, duration.approximateMilliseconds == 0 {
            sink.error(value.textLocation, "\(what) must be longer than zero")
            return nil
        }
        return duration
    }

    /// One of `allowed`, with "did you mean" when it is not.
    package func choice(_ value: YAMLValue, _ what: String, _ allowed: [String]) -> String? {
        guard let text = string(value, what) else { return nil }
        guard allowed.contains(text) else {
            let suggestion = Suggestions.closest(to: text, in: allowed).map { "; did you mean '\($0)'?" } ?? ""
            sink.error(
                value.textLocation, "\(what) must be one of \(allowed.joined(separator: ", ")); found \(text.quotedForMessage)\(suggestion)"
            )
            return nil
        }
        return text
    }

    /// `title: text` or `title: {zh: …, en: …}`.
    package func title(_ value: YAMLValue, _ what: String) -> Title? {
        if value.scalar != nil {
            return titleText(value, what).map { Title(zh: $0.containsCJK ? $0 : nil, en: $0.containsCJK ? nil : $0) }
        }
        guard let mapping = mapping(value, what) else { return nil }
        mapping.check(allowed: ["zh", "en"], in: what, sink)
        let zh = mapping["zh"].flatMap { titleText($0, "\(what) zh") }
        let en = mapping["en"].flatMap { titleText($0, "\(what) en") }
        if zh == nil, en == nil {
            sink.error(value.location, "\(what) needs 'zh', 'en' or both")
            return nil
        }
        return Title(zh: zh, en: en)
    }

    /// A title's text: not blank, one line of printable characters (it is shown in tables,
    /// on the wall board and in the journal), at most `longestTitle`.
    private func titleText(_ value: YAMLValue, _ what: String) -> String? {
        guard let text = string(value, what) else { return nil }
        if text.allSatisfy(\.isWhitespace) {
            sink.error(value.location, "\(what) is empty; write the title, or leave the key out")
            return nil
        }
        if text.containsControlCharacter {
            sink.error(value.location, "\(what) holds a line break or another control character; write it on one line of printable text")
            return nil
        }
        if text.count > Self.longestTitle, sink.appliesLaterLimits {
            sink.error(
                value.location, "\(what) is \(text.count) characters long; at most \(Self.longestTitle) (a description has room for more)")
            return nil
        }
        return text
    }

    /// A list of names, or a single name standing for a list of one.
    package func identifierList(_ value: YAMLValue, _ what: String) -> [(String, YAMLValue)] {
        let items = value.scalar != nil ? [value] : (list(value, what) ?? [])
        return items.compactMap { item in identifier(item, what).map { ($0, item) } }
    }
}

extension String {
    var containsCJK: Bool { unicodeScalars.contains { $0.value >= 0x2E80 } }
}

extension YAMLValue {
    /// The text of a scalar written in quotes, or nil.
    var quotedPlainValue: String? {
        guard let scalar, scalar.style == .singleQuoted || scalar.style == .doubleQuoted else { return nil }
        return scalar.string
    }

    /// A short quoted scalar as written, in its own quotes: "1" or '1'.
    var asWritten: String {
        guard let scalar else { return kindDescription }
        let quote = scalar.style == .doubleQuoted ? "\"" : "'"
        return quote + String(scalar.string.quotedForMessage.dropFirst().dropLast()) + quote
    }
}

extension String {
    /// The first punctuation mark a Chinese input method types for an ASCII one that YAML or
    /// a name needs (`[resolved， referred]` is one name), how far into the text it is (in
    /// Unicode scalars), and the ASCII mark meant.
    var fullWidthPunctuation: (offset: Int, wide: Character, ascii: Character)? {
        let marks: [Unicode.Scalar: Character] = [
            "，": ",", "、": ",", "［": "[", "］": "]", "｛": "{", "｝": "}", "＃": "#", "－": "-", "＿": "_", "＂": "\"", "＇": "'",
        ]
        for (offset, scalar) in unicodeScalars.enumerated() {
            if let ascii = marks[scalar] { return (offset, Character(scalar), ascii) }
        }
        return nil
    }

    /// The longest input a message quotes whole, in Characters.
    static let longestQuote = 80

    /// `'text'` for a message: its first `longestQuote` Characters and "…" if longer, with
    /// invisible characters made visible (`visible`).
    package var quotedForMessage: String {
        let shown = count > Self.longestQuote ? prefix(Self.longestQuote) + "…" : self
        return "'\(String(shown).visible)'"
    }

    /// The text with control characters, line ends and invisible formatting characters
    /// (bidirectional overrides, zero-width spaces, byte order marks) written out: `\n`,
    /// `\t`, `\r`, or `<U+202E>`.
    package var visible: String {
        guard unicodeScalars.contains(where: Self.isInvisible) else { return self }
        var result = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            case _ where Self.isInvisible(scalar): result += "<\(scalar.codePoint)>"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x2069, 0xFEFF: true
        default: false
        }
    }
}
