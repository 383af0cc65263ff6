import Foundation
import PixlAPI
import PixlCore

/// Reads a cohort for `pixl-imaging submit`: a CSV in PIXL's columns, or a JSON file holding one message or an
/// array of them, into JSON message bodies to post to `/messages`.
enum CohortFile {
    /// PIXL's CSV columns; `study_uid`, `series_uid` and `participant_id` may be absent.
    static let requiredColumns = ["procedure_id", "mrn", "accession_number", "project_name", "extract_generated_timestamp", "study_date"]
    static let optionalColumns = ["study_uid", "series_uid", "participant_id"]

    /// The messages of a file, each a JSON object (text), in file order.
    ///
    /// CSV rows become plain JSON messages, de-duplicated on (project_name, mrn, accession_number, study_date)
    /// keeping the first, as PIXL's CLI does; values are not checked here (the service does that and names the problem).
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - isCSV: CSV when true, JSON otherwise (decide by extension or by a leading `{` / `[`).
    ///   - priority: set as every message's `priority` (`submit --priority`), when given.
    static func messages(from bytes: [UInt8], isCSV: Bool, priority: Int? = nil) throws(CohortFileError) -> [String] {
        if isCSV { return try csvMessages(bytes).map { prioritized($0, priority).serialized() } }
        let items = try jsonMessages(bytes)
        // Sent as written, unless a priority is to be set.
        guard priority != nil else { return items.map { String(decoding: bytes[$0.bytes], as: UTF8.self) } }
        return items.map { prioritized($0.value, priority).serialized() }
    }

    /// `message` with its `priority` set to `priority`, when given.
    private static func prioritized(_ message: JSONValue, _ priority: Int?) -> JSONValue {
        guard let priority, case .object(var members) = message else { return message }
        members.removeAll { $0.key == "priority" }
        members.append(.init(key: "priority", value: .integer(Int64(priority))))
        return .object(members)
    }

    /// Whether a file looks like JSON: its first non-blank character is `{` or `[`.
    static func looksLikeJSON(_ bytes: [UInt8]) -> Bool {
        let first = bytes.drop { [0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }.first
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }

    static func jsonMessages(_ bytes: [UInt8]) throws(CohortFileError) -> [JSONParser.Batch.Item] {
        // As Python reads it, but for `NaN` (an empty CSV cell in PIXL's wire form): null, which means the same to the
        // service and survives being written again.
        var options = JSONParser.Options.python
        options.nonFiniteNumbers = .nanAsNull
        let batch: JSONParser.Batch
        do {
            batch = try JSONParser.parseBatch(bytes, options: options)
        } catch {
            throw CohortFileError(line: nil, problem: "is not valid JSON: \(error.reason) at byte \(error.offset)")
        }
        switch batch.value {
        case .object, .array: return batch.items
        default:
            throw CohortFileError(line: nil, problem: "must hold a message object or an array of them")
        }
    }

    static func csvMessages(_ bytes: [UInt8]) throws(CohortFileError) -> [JSONValue] {
        let rows = try CSVReader.rows(bytes)
        guard let header = rows.first else { throw CohortFileError(line: nil, problem: "is empty: expected a header row") }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        var index: [String: Int] = [:]
        for (position, name) in columns.enumerated() where index[name] == nil { index[name] = position }
        let missing = requiredColumns.filter { index[$0] == nil }
        guard missing.isEmpty else {
            throw CohortFileError(line: header.line, problem: "lacks the column(s) \(missing.joined(separator: ", ")) (PIXL's columns: \((requiredColumns + optionalColumns).joined(separator: ", ")))")
        }
        var seen: Set<[String]> = []
        var messages: [JSONValue] = []
        for row in rows.dropFirst() {
            if row.fields.allSatisfy(\.isEmpty) { continue }  // blank line
            guard row.fields.count == columns.count else {
                throw CohortFileError(line: row.line, problem: "has \(row.fields.count) fields; the header has \(columns.count)")
            }
            func value(_ column: String) -> String { index[column].map { row.fields[$0] } ?? "" }
            let key = [value("project_name"), value("mrn"), value("accession_number"), value("study_date")]
            guard seen.insert(key).inserted else { continue }
            let procedureText = value("procedure_id").trimmingCharacters(in: .whitespaces)
            guard let procedure = Int64(procedureText) ?? Double(procedureText).flatMap({ $0 == $0.rounded() && abs($0) < 9e15 ? Int64($0) : nil }) else {
                throw CohortFileError(line: row.line, problem: "procedure_id must be an integer")
            }
            var members: [JSONValue.Member] = [
                .init(key: "mrn", value: .string(value("mrn"))),
                .init(key: "accession_number", value: .string(value("accession_number"))),
                .init(key: "study_uid", value: .string(value("study_uid"))),
            ]
            if index["series_uid"] != nil { members.append(.init(key: "series_uid", value: .string(value("series_uid")))) }
            members += [
                .init(key: "study_date", value: .string(value("study_date"))),
                .init(key: "procedure_occurrence_id", value: .integer(procedure)),
                .init(key: "project_name", value: .string(value("project_name"))),
                .init(key: "extract_generated_timestamp", value: .string(value("extract_generated_timestamp"))),
            ]
            messages.append(JSONValue.object(members))
        }
        return messages
    }
}

/// A cohort file that cannot be read; never quotes cell values (they hold patient identifiers).
struct CohortFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line where the problem is, when it is in one row.
    var line: Int?
    var problem: String

    init(line: Int?, problem: String) {
        self.line = line
        self.problem = problem
    }

    var description: String {
        if let line { "line \(line) \(problem)" } else { "the file \(problem)" }
    }
}

/// Our own reader, because neither CSV library available here reads a malformed cohort safely (measured with
/// yaslab/CSV.swift 2.5.2 and swiftcsv/SwiftCSV 0.10.0): both accept an unterminated quote and swallow the rest of the
/// file into one field, CSV.swift also keeps the byte order mark in the first column's name and accepts text after a
/// closing quote, and neither tells the line of a problem.
///
/// RFC 4180 CSV: fields separated by commas, optionally quoted with `"` (a doubled `""` inside quotes is one
/// quote; quoted fields may hold commas and line breaks); records end with LF or CRLF; a UTF-8 BOM is skipped.
enum CSVReader {
    struct Row: Sendable, Hashable {
        /// 1-based line on which the record starts.
        var line: Int
        var fields: [String]
    }

    static func rows(_ input: [UInt8]) throws(CohortFileError) -> [Row] {
        var bytes = input[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw CohortFileError(line: nil, problem: "is not UTF-8 text")
        }
        var rows: [Row] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var rowLine = 1
        var inQuotes = false
        var quotedField = false
        var afterQuote = false
        var index = bytes.startIndex
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            quotedField = false
            afterQuote = false
        }
        func endRow() {
            endField()
            rows.append(Row(line: rowLine, fields: fields))
            fields.removeAll()
        }
        while index < bytes.endIndex {
            let byte = bytes[index]
            index += 1
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    if index < bytes.endIndex, bytes[index] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        inQuotes = false
                        afterQuote = true
                    }
                } else {
                    if byte == 0x0A { line += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: ","):
                endField()
            case 0x0D where index < bytes.endIndex && bytes[index] == 0x0A:
                break  // the LF ends the record
            case 0x0A:
                endRow()
                line += 1
                rowLine = line
            case UInt8(ascii: "\""):
                guard field.isEmpty, !quotedField else {
                    throw CohortFileError(line: line, problem: "has a quote inside an unquoted field")
                }
                inQuotes = true
                quotedField = true
            default:
                if afterQuote {
                    // Spaces after a closing quote are tolerated; anything else is malformed.
                    guard byte == 0x20 || byte == 0x09 else {
                        throw CohortFileError(line: line, problem: "has text after a closing quote")
                    }
                    continue
                }
                field.append(byte)
            }
        }
        if inQuotes { throw CohortFileError(line: rowLine, problem: "has an unterminated quoted field") }
        if !field.isEmpty || !fields.isEmpty || quotedField { endRow() }
        return rows
    }
}
