import Foundation
public import PixlCore
import Testing

/// The listing's checks: filters, and keyset pages in both directions and oldest first.
extension JobStoreConformance {
    static func listsNewestFirstWithFilters(_ store: some JobStore) async throws {
        var ids: [UUID] = []
        for index in 0..<6 {
            let project = index.isMultiple(of: 2) ? "even" : "odd"
            ids.append(try await store.enqueue([message(index, project: project)], now: t0 + Double(index))[0].job.id)
        }
        let claim = try #require(try await store.claimNext(in: .primary, now: t0 + 10, lease: .seconds(30)))
        try await store.record(JobResult(.failed(error: "boom")), for: claim, now: t0 + 11)
        func list(_ filter: JobFilter, limit: Int = 10) async throws -> [UUID] {
            try await store.jobs(matching: filter, from: .newest, limit: limit).jobs.map(\.id)
        }

        #expect(try await list(JobFilter()) == ids.reversed())
        #expect(try await list(JobFilter(project: "even")) == [ids[4], ids[2], ids[0]])
        #expect(try await list(JobFilter(state: .queued, project: "even")) == [ids[4], ids[2]])
        #expect(try await list(JobFilter(), limit: 2) == [ids[5], ids[4]])
        #expect(try await list(JobFilter(createdSince: t0 + 2, createdUntil: t0 + 4)) == [ids[3], ids[2]])
        #expect(try await list(JobFilter(state: .failed, project: "even", createdSince: t0)) == [ids[0]])
        #expect(try await store.jobs(matching: JobFilter(state: .failed), from: .newest, limit: 10).jobs.first?.reason == "boom")

        let counts = try await store.counts()
        #expect(counts.byState[.queued] == 5 && counts.byState[.failed] == 1 && counts.byState[.succeeded] == 0)
        #expect(counts.byState.count == JobState.allCases.count)
        #expect(counts.byProject["even"]?[.failed] == 1 && counts.byProject["odd"]?[.queued] == 3)

        // Every message field and the creation time come back as stored.
        let job = try #require(try await store.job(id: ids[3]))
        #expect(job.message == message(3, project: "odd"))
        #expect(same(job.createdAt, t0 + 3))
    }

    /// Pages follow one another without gap or repeat, older and newer, also through jobs created at the same instant
    /// (one batch) and with a filter; a cursor that names no job gives an empty page.
    static func pagesByKeysetBothWays(_ store: some JobStore) async throws {
        var newestFirst: [UUID] = []
        for batch in 0..<4 {
            let jobs = try await store.enqueue((0..<5).map { message(batch * 5 + $0, project: $0 == 0 ? "rare" : "common") }, now: t0 + Double(batch))
            newestFirst = jobs.map(\.job.id).reversed() + newestFirst
        }
        var older: [UUID] = []
        var page = try await store.jobs(matching: JobFilter(), from: .newest, limit: 3)
        #expect(page.newer == nil)
        older += page.jobs.map(\.id)
        while let cursor = page.older {
            page = try await store.jobs(matching: JobFilter(), from: .olderThan(cursor), limit: 3)
            #expect(page.newer != nil)
            older += page.jobs.map(\.id)
        }
        #expect(older == newestFirst)

        // Back from the oldest page: each newer page is again newest first.
        var newer: [UUID] = page.jobs.map(\.id)
        while let cursor = page.newer {
            page = try await store.jobs(matching: JobFilter(), from: .newerThan(cursor), limit: 3)
            newer = page.jobs.map(\.id) + newer
        }
        #expect(newer == newestFirst)

        // Oldest first, as a report reads: from the oldest page, then newer and newer.
        page = try await store.jobs(matching: JobFilter(project: "common"), from: .oldest, limit: 3)
        #expect(page.older == nil)
        var oldestFirst = page.jobs.reversed().map(\.id)
        while let cursor = page.newer {
            page = try await store.jobs(matching: JobFilter(project: "common"), from: .newerThan(cursor), limit: 3)
            oldestFirst += page.jobs.reversed().map(\.id)
        }
        // The first job of each batch of five is the rare project's.
        let common = newestFirst.enumerated().filter { $0.offset % 5 != 4 }.map(\.element)
        #expect(oldestFirst == common.reversed())

        let rare = try await store.jobs(matching: JobFilter(project: "rare"), from: .newest, limit: 2)
        #expect(rare.jobs.map(\.id) == [newestFirst[4], newestFirst[9]])
        let rest = try await store.jobs(matching: JobFilter(project: "rare"), from: .olderThan(try #require(rare.older)), limit: 2)
        #expect(rest.jobs.map(\.id) == [newestFirst[14], newestFirst[19]] && rest.older == nil)
        let nowhere = try await store.jobs(matching: JobFilter(), from: .olderThan(JobCursor(position: 1_000_000)), limit: 3)
        #expect(nowhere.jobs.isEmpty && nowhere.older == nil)
    }
}
