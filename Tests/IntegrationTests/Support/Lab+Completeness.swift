import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PixlCore
import Testing

/// What orthanc-raw itself says about transfers and queries, to check completeness from Orthanc's side:
/// instances received (`/changes`), C-FINDs sent (`/queries`), C-MOVE jobs run (`/jobs`), and instances
/// per series (`/studies/{id}/series`).
extension Lab {
    /// A C-FIND orthanc-raw sent: its level (`Study`, `Series`, `Instance`) and modality.
    struct SentQuery: Hashable {
        var level: String
        var modality: String
    }

    /// A C-MOVE job orthanc-raw ran: the level of the resources it named and how many it named.
    struct MoveJob: Hashable {
        var level: String
        var resources: Int
        var state: String
    }

    /// What orthanc-raw has sent, received and held so far, to compare with later.
    struct Marks {
        var change: Int
        var queries: Set<String>
        var jobs: Set<String>
        var instances: Set<String>
    }

    func marks() async throws -> Marks {
        let last = try await raw("/changes?last") as! [String: Any]
        return Marks(
            change: last["Last"] as! Int, queries: Set(try await raw("/queries") as! [String]), jobs: Set(try await raw("/jobs") as! [String]),
            instances: Set(try await raw("/instances") as! [String])
        )
    }

    /// Instances that arrived in orthanc-raw since `marks`: those of its `NewInstance` changes that raw
    /// did not hold then. (Counting the changes alone does not work once a study is tagged: measured on
    /// 1.10.1, `/modify` rewrites every instance, and the rewrite, like any overwrite, replaces the
    /// instance and drops its earlier changes, so each instance keeps exactly one `NewInstance`.)
    func arrivedInstances(since marks: Marks) async throws -> Int {
        var since = marks.change
        var arrived = Set<String>()
        while true {
            let page = try await raw("/changes?since=\(since)&limit=1000") as! [String: Any]
            let changes = page["Changes"] as! [[String: Any]]
            let new = changes.filter { $0["ChangeType"] as? String == "NewInstance" }.compactMap { $0["ID"] as? String }
            arrived.formUnion(new.filter { !marks.instances.contains($0) })
            since = page["Last"] as! Int
            if page["Done"] as? Bool == true || changes.isEmpty { return arrived.count }
        }
    }

    /// The C-FINDs orthanc-raw sent since `marks` (the queries it holds that it did not hold then).
    func sentQueries(since marks: Marks) async throws -> [SentQuery] {
        var sent: [SentQuery] = []
        for id in Set(try await raw("/queries") as! [String]).subtracting(marks.queries) {
            sent.append(SentQuery(level: try await rawText("/queries/\(id)/level"), modality: try await rawText("/queries/\(id)/modality")))
        }
        return sent
    }

    /// The C-MOVE jobs orthanc-raw ran since `marks`.
    func moveJobs(since marks: Marks) async throws -> [MoveJob] {
        let jobs = try await raw("/jobs?expand") as! [[String: Any]]
        return jobs.filter { $0["Type"] as? String == "DicomMoveScu" && !marks.jobs.contains($0["ID"] as! String) }.map { job in
            let query = (job["Content"] as? [String: Any])?["Query"] as? [[String: Any]] ?? []
            return MoveJob(level: query.first?["0008,0052"] as? String ?? "", resources: query.count, state: job["State"] as? String ?? "")
        }
    }

    /// The tagging jobs orthanc-raw ran since `marks`: what each modified (`Study`, `Series`) and how many
    /// instances it rewrote.
    func modifyJobs(since marks: Marks) async throws -> [String] {
        let jobs = try await raw("/jobs?expand") as! [[String: Any]]
        return jobs.filter { $0["Type"] as? String == "ResourceModification" && !marks.jobs.contains($0["ID"] as! String) }.map { job in
            let content = job["Content"] as? [String: Any] ?? [:]
            return "\(content["Type"] as? String ?? "?") of \(content["InstancesCount"] as? Int ?? -1)"
        }
    }

    /// Instances per SeriesInstanceUID in orthanc-raw's copy of a study (one call).
    func rawSeriesCounts(study id: String) async throws -> [String: Int] {
        let series = try await raw("/studies/\(id)/series?expand") as! [[String: Any]]
        var counts: [String: Int] = [:]
        for entry in series {
            let uid = (entry["MainDicomTags"] as! [String: Any])["SeriesInstanceUID"] as! String
            counts[uid] = (entry["Instances"] as! [Any]).count
        }
        return counts
    }

    /// What the archive holds of a lab study, per series (the generated shape: every series the same size).
    func archiveSeriesCounts(_ key: String) throws -> [String: Int] {
        let study = try #require(studies[key])
        let perSeries = study.instance_count / study.series_uids.count
        return Dictionary(uniqueKeysWithValues: study.series_uids.map { ($0, perSeries) })
    }

    /// `scripts/lab partial`: in raw's copy of `key`, keep `keep` instances of series number `series`.
    func partial(_ key: String, series: Int, keep: Int) throws {
        try script("partial", key, String(series), String(keep))
    }

    /// `GET` on orthanc-raw, as text (for the answers that are not JSON, such as `/queries/{id}/level`).
    func rawText(_ path: String) async throws -> String {
        String(buffer: try await rawBody(path))
    }
}
