import Mustache

/// The console's Mustache templates, compiled in: a page, the login form, the panel the page refreshes, a job.
/// `{{…}}` escapes HTML; the one `{{{…}}}` of each page is HTML the console rendered itself (a template, or an SVG of
/// numbers).
enum ConsoleTemplates {
    /// The templates, parsed once. They are constants: a parse error is a bug that every console test would show.
    static let compiled: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, template) in [("page", page), ("login", login), ("panel", panel), ("job", job)] {
            do {
                try library.register(template, named: name)
            } catch {
                preconditionFailure("console template \(name) does not parse: \(error)")
            }
        }
        return library
    }()

    static let page = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · pixl-imaging</title>
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2733;background:#f4f6f8}
        header{background:#1d2733;color:#fff;padding:10px 16px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
        header a{color:#fff}header form{margin-left:auto}main{padding:12px 16px;max-width:1200px}
        section{background:#fff;border-radius:6px;padding:8px 12px;margin:0 0 12px;overflow-x:auto}
        h1{font-size:18px;margin:0}h2{font-size:16px;margin:4px 0 8px}table{border-collapse:collapse;width:100%}
        th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e3e7eb;vertical-align:middle}
        .bar{display:flex;height:14px;min-width:160px;background:#e3e7eb;border-radius:3px;overflow:hidden}
        .succeeded{background:#2e8b57}.discarded{background:#8a96a3}.failed{background:#c0392b}.deferred{background:#d4a017}
        .waiting{background:#3b7dd8}.counts span{display:inline-block;color:#fff;border-radius:3px;padding:0 5px;margin:1px;font-size:12px}
        .open{color:#2e8b57}.closed{color:#c0392b}form{display:inline}button{cursor:pointer}.muted{color:#6b7785}
        .error{color:#c0392b}
        </style></head><body>
        <header><h1>pixl-imaging</h1><span class="muted">{{subtitle}}</span>
        {{#loggedIn}}<form method="post" action="/ui/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button>Log out</button></form>{{/loggedIn}}
        </header><main>{{{body}}}</main>
        <script>
        document.addEventListener('submit', function (event) {
          var question = event.target.getAttribute('data-confirm');
          if (question && !window.confirm(question)) { event.preventDefault(); }
        });
        {{#refresh}}
        setInterval(function () {
          fetch('/ui/panel', {credentials: 'same-origin'}).then(function (response) {
            if (response.ok) { return response.text(); }
            throw new Error(response.status);
          }).then(function (html) { document.getElementById('panel').innerHTML = html; }).catch(function () {});
        }, 5000);
        {{/refresh}}
        </script></body></html>
        """

    static let login = """
        <section><h2>Log in</h2>
        <p>The console needs the service's API token (<code>PIXL_IMAGING_API_TOKEN</code>).</p>
        {{#error}}<p class="error">{{error}}</p>{{/error}}
        <form method="post" action="/ui/login">
        <label>Token <input type="password" name="token" id="token" autocomplete="current-password" required></label>
        <button id="login">Log in</button></form></section>
        """

    static let panel = """
        <section id="projects"><h2>Projects</h2><table>
        <tr><th>Project</th><th>Progress</th><th>Jobs</th><th>Finished, last hour</th><th>Time to finish</th><th>Actions</th></tr>
        {{#projects}}<tr class="project" data-project="{{name}}">
        <td>{{name}}</td>
        <td><div class="bar" title="{{total}} requested">{{#segments}}<span class="{{kind}}" style="width:{{percent}}%"></span>{{/segments}}</div></td>
        <td class="counts">{{#segments}}<span class="{{kind}}" data-state="{{kind}}">{{kind}} {{count}}</span>{{/segments}} <span class="muted">of {{total}}</span></td>
        <td>{{{sparkline}}} <span class="muted">{{lastHour}}</span></td><td>{{eta}}</td>
        <td><a href="/ui/projects/{{path}}/report">Report (CSV)</a>
        <form method="post" action="/ui/projects/{{path}}/retry-failed" data-confirm="Retry the failed jobs of {{name}}?">
        <input type="hidden" name="csrf" value="{{csrf}}"><button {{^hasFailed}}disabled{{/hasFailed}}>Retry failed</button></form>
        <form method="post" action="/ui/projects/{{path}}/cancel-waiting" data-confirm="Cancel every waiting job of {{name}}?">
        <input type="hidden" name="csrf" value="{{csrf}}"><button {{^hasWaiting}}disabled{{/hasWaiting}}>Cancel waiting</button></form></td>
        </tr>{{/projects}}
        {{^projects}}<tr><td colspan="6" class="muted">No jobs yet.</td></tr>{{/projects}}
        </table></section>
        <section id="lanes"><h2>Lanes</h2><table>
        <tr><th>Lane</th><th>Archive</th><th>Rate</th><th>In flight</th><th>Waiting</th><th>Window</th><th>Breaker</th><th></th></tr>
        {{#lanes}}<tr class="lane" data-lane="{{lane}}" data-paused="{{paused}}">
        <td>{{lane}}</td><td>{{modality}}</td><td>{{rate}}/s{{#adaptive}} (adaptive, set {{configuredRate}}/s){{/adaptive}}{{#paused}} <strong>paused</strong>{{/paused}}</td>
        <td>{{inFlight}} of {{maxInFlight}}</td><td>{{queued}} queued, {{deferred}} deferred</td>
        <td class="{{window}}">{{window}}{{#nextChange}} until {{nextChange}}{{/nextChange}}</td><td>{{breaker}}</td>
        <td><form method="post" action="/ui/lanes/{{lane}}/{{action}}" data-confirm="{{action}} the {{lane}} lane?">
        <input type="hidden" name="csrf" value="{{csrf}}"><button class="lane-action">{{action}}</button></form></td>
        </tr>{{/lanes}}</table></section>
        <section id="failures"><h2>Recent failures and discards</h2><table>
        <tr><th>Outcome</th><th>Reason</th><th>Jobs</th><th>Example</th></tr>
        {{#failures}}<tr><td>{{state}}</td><td>{{reason}}</td><td>{{count}}</td><td><a class="job-link" href="/ui/jobs/{{example}}">{{example}}</a></td></tr>{{/failures}}
        {{^failures}}<tr><td colspan="4" class="muted">None among the newest {{scanned}}.</td></tr>{{/failures}}
        </table><p class="muted">Updated {{updated}}; refreshes every 5 s.</p></section>
        """

    static let job = """
        <section id="job"><h2>Job {{id}}</h2><p><a href="/ui">← back</a></p><table>
        <tr><th>Project</th><td>{{project}}</td></tr><tr><th>State</th><td class="{{state}}">{{state}}</td></tr>
        <tr><th>Reason</th><td>{{reason}}</td></tr><tr><th>Lane / archive</th><td>{{lane}} / {{archive}}</td></tr>
        <tr><th>Attempts</th><td>{{attempts}}</td></tr><tr><th>Priority</th><td>{{priority}}</td></tr>
        <tr><th>MRN</th><td class="identifier">{{mrn}}</td></tr><tr><th>Accession number</th><td class="identifier">{{accession}}</td></tr>
        <tr><th>Study UID</th><td>{{studyUID}}</td></tr><tr><th>Series</th><td>{{series}}</td></tr></table></section>
        <section><h2>Timeline</h2><table>{{#timeline}}<tr><th>{{event}}</th><td>{{time}}</td></tr>{{/timeline}}</table></section>
        <section><h2>Studies</h2><table><tr><th>Study UID</th><th>Orthanc id</th><th>Archive</th><th>Instances</th></tr>
        {{#studies}}<tr><td>{{uid}}</td><td>{{orthancID}}</td><td>{{archive}}</td><td>{{present}} of {{expected}}</td></tr>
        {{#series}}<tr class="muted"><td>&nbsp;&nbsp;series {{uid}}</td><td>{{modality}}</td><td></td><td>{{present}} of {{expected}}</td></tr>{{/series}}
        {{/studies}}{{^studies}}<tr><td colspan="4" class="muted">No study yet.</td></tr>{{/studies}}</table></section>
        """
}
