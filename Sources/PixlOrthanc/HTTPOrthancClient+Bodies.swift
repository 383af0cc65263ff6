// The JSON bodies of Orthanc's REST API, named and spelled as Orthanc spells them.

import PixlCore

struct Ignored: Codable {}

struct CreatedBody: Decodable {
    let ID: String
}

struct JobBody: Decodable {
    let ID: String
    let State: String
    let ErrorDescription: String?
    let ErrorDetails: String?

    var job: OrthancJob {
        OrthancJob(
            id: ID, state: OrthancJob.State(rawValue: State) ?? .running,
            errorDescription: ErrorDescription.map(bounded), errorDetails: ErrorDetails.map(bounded)
        )
    }

    /// Error texts are shown in reasons: at most 1,000 characters of them.
    private func bounded(_ text: String) -> String { String(text.prefix(1000)) }
}

struct FindBody: Encodable {
    let Level: String
    let Query: [String: String]
    let Expand: Bool
}

/// A study of `/tools/find` with `Expand`.
struct StudyBody: Decodable {
    let ID: String
    let MainDicomTags: [String: SharedTag]
    let PatientMainDicomTags: [String: SharedTag]?
}

/// A series of `GET /studies/{id}/series?expand`.
struct SeriesBody: Decodable {
    let ID: String
    let MainDicomTags: [String: SharedTag]
    let Instances: [String]
}

/// An instance of `GET /series/{id}/instances`.
struct InstanceBody: Decodable {
    let ID: String
    let MainDicomTags: [String: SharedTag]
}

struct QueryBody: Encodable {
    let Level: String
    let Query: [String: String]
    let Normalize: Bool
}

struct RetrieveBody: Encodable {
    let TargetAet: String
    let Synchronous: Bool
}

struct StoreBody: Encodable {
    let Resources: [String]
    let Synchronous: Bool
}

/// `POST /studies/{id}/modify`, asynchronous.
struct ModifyBody: Encodable {
    let request: ModifyRequest

    init(_ request: ModifyRequest) { self.request = request }

    private enum Key: String, CodingKey { case Replace, PrivateCreator, Keep, Force, Asynchronous }

    private struct TagKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        var replace = container.nestedContainer(keyedBy: TagKey.self, forKey: .Replace)
        for (tag, value) in request.replace {
            try replace.encode(value, forKey: TagKey(stringValue: tag))
        }
        try container.encode(request.privateCreator, forKey: .PrivateCreator)
        try container.encode(request.keep, forKey: .Keep)
        try container.encode(request.force, forKey: .Force)
        try container.encode(true, forKey: .Asynchronous)
    }
}

/// A tag in `?short` form: a string, or a sequence or null, which the pipeline does not need.
enum SharedTag: Decodable {
    case string(String)
    case other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .string(text)
        } else {
            self = .other
        }
    }

    var text: String? {
        if case .string(let value) = self { value } else { nil }
    }
}
