import PixlCore

/// An archive the pipeline queries, under the modality name orthanc-raw knows it by.
struct ArchiveSource: Sendable, Hashable {
    var archive: Archive
    var modality: String

    /// "primary archive" or "secondary archive", for reasons and logs.
    var name: String { "\(archive.rawValue) archive" }
}

/// One study a message means, and what the pipeline has learnt of it so far.
struct StudyTarget: Sendable {
    enum Location: Sendable {
        /// Found in orthanc-raw only: which archive lists it is not known yet.
        case unknown
        case archive(ArchiveSource)
        /// No reachable archive lists it.
        case nowhere
    }

    /// The study's StudyInstanceUID, checked to be a valid UID.
    var uid: String
    /// orthanc-raw's id for the study, once any of it is there.
    var rawID: String?
    var location: Location
    /// The study-level answer that found it in this attempt, for its first C-MOVE.
    var answer: FoundAnswer?
    /// Whether its archive has said it may be pulled (SPEC §3 step 5; only the secondary is asked).
    var availabilityChecked: Bool

    init(uid: String, rawID: String?, location: Location, answer: FoundAnswer? = nil, availabilityChecked: Bool = false) {
        self.uid = uid
        self.rawID = rawID
        self.location = location
        self.answer = answer
        self.availabilityChecked = availabilityChecked
    }

    /// A study found in orthanc-raw before any query to an archive.
    init(local study: OrthancStudy) {
        self.init(uid: study.studyInstanceUID, rawID: study.id, location: .unknown)
    }
}

/// One answer of a query held by orthanc-raw, which `POST /queries/{id}/answers/{index}/retrieve` moves.
struct FoundAnswer: Sendable, Hashable {
    var queryID: String
    var index: Int
}

/// Studies an archive answered for a message, each answer checked against what was asked.
struct FoundStudies: Sendable {
    var source: ArchiveSource
    var queryID: String
    /// One answer per study, in the archive's order.
    var answers: [QueryAnswer]
}

/// What steps 4 and 5 came to: studies to pull, or the outcome of finding none.
enum ArchiveSearch: Sendable {
    case found(FoundStudies)
    case none(PipelineOutcome)
}
