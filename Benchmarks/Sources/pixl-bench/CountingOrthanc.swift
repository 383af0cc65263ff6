import PixlCore
import Synchronization

/// An ``OrthancClient`` that forwards every call and counts the C-FINDs (by level) and C-MOVEs it asks
/// orthanc-raw for, so a benchmark can say what the completeness check costs in DICOM traffic.
final class CountingOrthanc<Client: OrthancClient>: OrthancClient {
    struct Counts: Sendable, Encodable {
        var findsByLevel: [String: Int] = [:]
        var moves = 0

        enum CodingKeys: String, CodingKey {
            case findsByLevel = "c_finds"
            case moves = "c_moves"
        }
    }

    let client: Client
    private let counts = Mutex(Counts())

    init(_ client: Client) { self.client = client }

    /// The counts so far, and a fresh start.
    func take() -> Counts { counts.withLock { counts in defer { counts = Counts() }; return counts } }

    func jobs() async throws -> [OrthancJob] { try await client.jobs() }
    func job(id: String) async throws -> OrthancJob? { try await client.job(id: id) }
    func findStudies(matching query: [String: String]) async throws -> [OrthancStudy] { try await client.findStudies(matching: query) }
    func projectName(ofStudy id: String) async throws -> String? { try await client.projectName(ofStudy: id) }
    func projectName(ofSeries id: String) async throws -> String? { try await client.projectName(ofSeries: id) }

    func query(_ level: QueryLevel, modality: String, keys: [String: String]) async throws -> QueryResult {
        counts.withLock { $0.findsByLevel[level.rawValue, default: 0] += 1 }
        return try await client.query(level, modality: modality, keys: keys)
    }

    func retrieve(queryID: String, targetAET: String) async throws -> String {
        counts.withLock { $0.moves += 1 }
        return try await client.retrieve(queryID: queryID, targetAET: targetAET)
    }

    func retrieve(queryID: String, answer index: Int, targetAET: String) async throws -> String {
        counts.withLock { $0.moves += 1 }
        return try await client.retrieve(queryID: queryID, answer: index, targetAET: targetAET)
    }

    func localSeries(ofStudy id: String) async throws -> [LocalSeries] { try await client.localSeries(ofStudy: id) }
    func localInstanceUIDs(ofSeries id: String) async throws -> [String] { try await client.localInstanceUIDs(ofSeries: id) }
    func modifyStudy(id: String, body: ModifyRequest) async throws -> String { try await client.modifyStudy(id: id, body: body) }
    func modifySeries(id: String, body: ModifyRequest) async throws -> String { try await client.modifySeries(id: id, body: body) }
    func deleteStudy(id: String) async throws { try await client.deleteStudy(id: id) }
    func store(studyIDs: [String], modality: String) async throws -> String { try await client.store(studyIDs: studyIDs, modality: modality) }
}
