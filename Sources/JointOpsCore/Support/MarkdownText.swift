/// Text in a Markdown document (the after-action report), as written, never as markup.
public enum MarkdownText {
    /// The characters that start or end inline markup, or a table cell: each is written
    /// with a backslash, so that code, emphasis, a link, HTML or an entity in stored text
    /// stays text. (`_` inside a word, as in `duty_commander`, is no markup and is kept.)
    public static let markup: Set<Character> = ["`", "*", "_", "[", "]", "<", ">", "|", "~", "&"]

    /// `text` (escaped for the terminal already, so on one line) with its markup characters
    /// escaped, and a backslash before ASCII punctuation doubled: `\n` stays as it is.
    public static func escaped(_ text: String) -> String {
        var result = ""
        var previous: Character?
        var rest = text[...]
        while let character = rest.popFirst() {
            let inWord = character == "_" && previous.map(isWordCharacter) == true && rest.first.map(isWordCharacter) == true
            let escapes = character == "\\" && rest.first.map(isPunctuation) == true
            if (markup.contains(character) && !inWord) || escapes { result.append("\\") }
            result.append(character)
            previous = character
        }
        return result
    }

    /// Whether CommonMark lets a backslash escape `character`.
    static func isPunctuation(_ character: Character) -> Bool {
        character.isASCII && (character.isPunctuation || character.isSymbol)
    }

    static func isWordCharacter(_ character: Character) -> Bool { character.isLetter || character.isNumber }
}
