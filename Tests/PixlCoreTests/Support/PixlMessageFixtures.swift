import Foundation

/// The `pixl-messages` fixtures: real PIXL wire bodies with their expected decoding, and malformed bodies in `bad/`.
enum PixlMessageFixtures {
    static let directory: URL = {
        guard let url = Bundle.module.url(forResource: "pixl-messages", withExtension: nil) else {
            fatalError("pixl-messages fixtures are missing from the test bundle")
        }
        return url
    }()

    /// `NNN-name.json` files beside their `.expected.json`, without the extension, sorted.
    static let goodNames: [String] = jsonNames(in: directory).filter { !$0.hasSuffix(".expected") }

    /// Every body in `bad/`, without the extension, sorted.
    static let badNames: [String] = jsonNames(in: directory.appendingPathComponent("bad"))

    static func body(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name + ".json")))
    }

    static func badBody(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent("bad").appendingPathComponent(name + ".json")))
    }

    static func expected(_ name: String) throws -> ExpectedMessage {
        try JSONDecoder().decode(ExpectedMessage.self, from: Data(contentsOf: directory.appendingPathComponent(name + ".expected.json")))
    }

    private static func jsonNames(in directory: URL) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }
}

/// An `.expected.json` file: the fields as Python's `jsonpickle.decode` sees them (keys starting with `_` are ignored).
struct ExpectedMessage: Decodable {
    var mrn: String?
    var accessionNumber: String?
    var studyUID: String?
    var studyDate: String
    var procedureOccurrenceID: Int64
    var projectName: String?
    var extractGeneratedTimestamp: String

    enum CodingKeys: String, CodingKey {
        case mrn
        case accessionNumber = "accession_number"
        case studyUID = "study_uid"
        case studyDate = "study_date"
        case procedureOccurrenceID = "procedure_occurrence_id"
        case projectName = "project_name"
        case extractGeneratedTimestamp = "extract_generated_timestamp"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        mrn = try container.decodeIfPresent(String.self, forKey: .mrn)
        accessionNumber = try container.decodeIfPresent(String.self, forKey: .accessionNumber)
        studyUID = try container.decodeIfPresent(String.self, forKey: .studyUID)
        studyDate = try container.decode(String.self, forKey: .studyDate)
        // 101 has the string "234", as PIXL's own tests send it.
        if let id = try? container.decode(Int64.self, forKey: .procedureOccurrenceID) {
            procedureOccurrenceID = id
        } else {
            let text = try container.decode(String.self, forKey: .procedureOccurrenceID)
            guard let id = Int64(text) else {
                throw DecodingError.dataCorruptedError(forKey: .procedureOccurrenceID, in: container, debugDescription: "not an integer")
            }
            procedureOccurrenceID = id
        }
        projectName = try container.decodeIfPresent(String.self, forKey: .projectName)
        extractGeneratedTimestamp = try container.decode(String.self, forKey: .extractGeneratedTimestamp)
    }
}
