/// A field of a CSV file (RFC 4180) that a spreadsheet opens as text.
public enum CSVField {
    /// The characters a spreadsheet takes as the start of a formula (OWASP, CSV injection).
    public static let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    /// `text` as a field: a formula's first character neutralised with a `'` before it, then
    /// in double quotes (their own doubled) if it holds a comma, a double quote, CR or LF.
    public static func text(_ text: String) -> String {
        let safe = text.first.map(formulaStarts.contains) == true ? "'" + text : text
        guard safe.unicodeScalars.contains(where: { ",\"\r\n".unicodeScalars.contains($0) }) else { return safe }
        return "\"" + safe.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
