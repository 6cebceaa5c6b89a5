package coordinator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/barrage-dev/barrage/internal/htmlreport"
	"github.com/barrage-dev/barrage/internal/report"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// The web view is read-only: the runs list, a live run page, the agents.
// A run page holds one server-sent-events stream; every viewer of a run
// shares one rendering per change of the run (at most one a second), so
// viewers cost the coordinator little beyond the bytes sent.

// liveEvery is the shortest time between two renderings of a live run.
const liveEvery = time.Second

var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

type webView struct {
	s     *server
	mu    sync.Mutex
	cache map[string]*rendered     // by run id
	busy  map[string]chan struct{} // renderings under way, by run id
}

// rendered is a run's body as of one change of the run.
type rendered struct {
	version chan struct{} // the run's changed channel when rendered
	at      time.Time
	body    []byte
	ended   bool
}

// maxCached bounds the renderings kept.
const maxCached = 64

func (s *server) webRoutes(mux *http.ServeMux) {
	v := &webView{s: s, cache: map[string]*rendered{}, busy: map[string]chan struct{}{}}
	mux.HandleFunc("GET /{$}", v.runsPage)
	mux.HandleFunc("GET /runs", v.runsPage)
	mux.HandleFunc("GET /runs/{id}", v.runPage)
	mux.HandleFunc("GET /runs/{id}/events", v.runEvents)
	mux.HandleFunc("GET /runs/{id}/report.html", v.runReport)
	mux.HandleFunc("GET /runs/{id}/report.json", v.runJSON)
	mux.HandleFunc("GET /agents", v.agentsPage)
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{{.Title}}</title>
<style>{{.Style}}
nav.top{display:flex;gap:1.2em;align-items:baseline;padding:.6em 1em;border-bottom:1px solid #ddd;font-family:system-ui,sans-serif}
nav.top b{font-size:1.1em}
#live-note{margin:0;padding:.4em 1em;background:#fff4d6;border-bottom:1px solid #e8d48a;font-family:system-ui,sans-serif}
#live-status{font-family:ui-monospace,monospace;padding:.4em 1em;background:#f6f6f6;border-bottom:1px solid #e4e4e4}
table.list{border-collapse:collapse;margin:1em;font-family:system-ui,sans-serif;font-size:.9em}
table.list td,table.list th{padding:.25em .7em;border-bottom:1px solid #eee;text-align:left}
table.list td.n{text-align:right;font-variant-numeric:tabular-nums}
</style></head>
<body>
<nav class="top"><b>Barrage</b><a href="/">Runs</a><a href="/agents">Agents</a>{{if .RunID}}<span>run {{.RunID}}</span> <a href="/runs/{{.RunID}}/report.html">HTML report</a> <a href="/runs/{{.RunID}}/report.json">JSON</a>{{end}}</nav>
<p id="live-note" hidden></p>
<div id="live" data-src="{{.Src}}" data-mode="{{.Mode}}">{{.Body}}</div>
<script>
(function(){
  var el=document.getElementById('live'), note=document.getElementById('live-note'), src=el.dataset.src, mode=el.dataset.mode;
  if(!src) return;
  function swap(html){
    // Keep what the reader opened (findings' requests and responses).
    var open=[].map.call(el.querySelectorAll('details'),function(d){return d.open;});
    el.innerHTML=html;
    var ds=el.querySelectorAll('details');
    for(var i=0;i<ds.length&&i<open.length;i++){if(open[i])ds[i].open=true;}
  }
  function say(t){note.textContent=t;note.hidden=!t;}
  if(mode==='sse'){
    var es=new EventSource(src);
    es.addEventListener('update',function(e){say('');swap(e.data);});
    es.addEventListener('end',function(){es.close();});
    es.addEventListener('failure',function(e){es.close();say('The live view stopped: '+e.data+'. Reload to try again.');});
    es.onerror=function(){say(es.readyState===EventSource.CLOSED?'Disconnected from the coordinator. Reload to try again.':'Reconnecting to the coordinator…');};
    return;
  }
  setInterval(function(){
    fetch(src,{cache:'no-store'}).then(function(r){if(!r.ok)throw new Error('HTTP '+r.status);return r.text();})
      .then(function(t){say('');swap(t);}).catch(function(err){say('Cannot reach the coordinator ('+err.message+'); retrying.');});
  },2000);
})();
</script>
</body></html>
`))

type page struct {
	Title, RunID, Src, Mode string
	Style                   template.CSS
	Body                    template.HTML
}

func (v *webView) write(w http.ResponseWriter, p page) {
	p.Style = template.CSS(htmlreport.Style())
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, p); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// httpError maps a gRPC status to an HTTP error.
func httpError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch status.Code(err) {
	case codes.NotFound:
		code = http.StatusNotFound
	case codes.Unavailable, codes.FailedPrecondition:
		code = http.StatusServiceUnavailable
	case codes.InvalidArgument:
		code = http.StatusBadRequest
	}
	http.Error(w, status.Convert(err).Message(), code)
}

var runsTmpl = template.Must(template.New("runs").Funcs(template.FuncMap{"state": report.StateName, "time": fmtTime}).Parse(`<main class="runs">
<table class="list"><thead><tr><th>run</th><th>scenario</th><th>state</th><th>created</th><th>requests</th><th>errors</th><th>findings</th><th>agents</th></tr></thead><tbody>
{{range .}}<tr data-run="{{.GetRunId}}"><td><a href="/runs/{{.GetRunId}}">{{.GetRunId}}</a></td><td>{{.GetName}}</td><td>{{state .GetState}}{{with .GetMessage}} · {{.}}{{end}}</td><td>{{time .GetCreatedAt}}</td><td class="n">{{.GetRequests}}</td><td class="n">{{.GetErrors}}</td><td class="n">{{.GetFindings}}</td><td class="n">{{.GetShards}}</td></tr>
{{else}}<tr><td colspan="8">No runs yet. Submit one: <code>barrage submit FILE</code>.</td></tr>{{end}}
</tbody></table></main>`))

func fmtTime(t interface{ AsTime() time.Time }) string {
	if t == nil || t.AsTime().Unix() <= 0 {
		return ""
	}
	return t.AsTime().UTC().Format("2006-01-02 15:04:05Z")
}

func (v *webView) runsPage(w http.ResponseWriter, r *http.Request) {
	resp, err := v.s.ListRuns(r.Context(), &pb.ListRunsRequest{})
	if err != nil {
		httpError(w, err)
		return
	}
	runs := resp.GetRuns()
	if len(runs) > 200 {
		runs = runs[:200]
	}
	v.listPage(w, r, runsTmpl, runs, "Barrage · runs", "/runs?fragment=1")
}

// listPage renders a polled list: the whole page, or with ?fragment=1 the
// list alone (what the page's script fetches every two seconds).
func (v *webView) listPage(w http.ResponseWriter, r *http.Request, t *template.Template, data any, title, src string) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if r.URL.Query().Get("fragment") != "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b.Bytes())
		return
	}
	v.write(w, page{Title: title, Src: src, Mode: "poll", Body: template.HTML(b.String())})
}

var agentsTmpl = template.Must(template.New("agents").Funcs(template.FuncMap{"time": fmtTime, "cpu": fmtCPU, "ago": fmtAgo}).Parse(`<main class="agents">
<table class="list"><thead><tr><th>agent</th><th>address</th><th>host</th><th>pod</th><th>node</th><th>CPUs</th><th>CPU use</th><th>last heard</th><th>version</th><th>connected</th><th>clock offset</th><th>running</th><th>coordinator</th></tr></thead><tbody>
{{range .}}<tr data-agent="{{.GetName}}"><td>{{.GetName}}</td><td>{{.GetAddress}}</td><td>{{.GetHostname}}</td><td>{{.GetPod}}</td><td>{{.GetNode}}</td><td class="n">{{.GetCpus}}</td><td class="n">{{cpu .GetCpuPercent}}</td><td class="n">{{ago .GetLastSeen}}</td><td>{{.GetVersion}}</td><td>{{time .GetConnectedAt}}</td><td class="n">{{.GetClockOffset.AsDuration}}</td><td>{{.Running}}</td><td>{{.GetCoordinatorId}}</td></tr>
{{else}}<tr><td colspan="13">No agents connected. Start one: <code>barrage agent --coordinator ADDR</code>.</td></tr>{{end}}
</tbody></table></main>`))

func fmtCPU(p float64) string {
	if p < 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", p)
}

func fmtAgo(t interface{ AsTime() time.Time }) string {
	if t == nil || t.AsTime().Unix() <= 0 {
		return "—"
	}
	return time.Since(t.AsTime()).Round(100*time.Millisecond).String() + " ago"
}

// agentRow is one agent on the agents page, with what it runs.
type agentRow struct {
	*pb.AgentInfo
	Running string
}

// running says which shards an agent runs and its share of each run's
// load ("RUN/1 of 3").
func (v *webView) running(refs []*pb.ShardRef) string {
	var parts []string
	for _, ref := range refs {
		n := int32(0)
		v.s.mu.Lock()
		if r := v.s.runs[ref.GetRunId()]; r != nil {
			n = r.spec.GetShardCount() // set once, when the run is made
		}
		v.s.mu.Unlock()
		part := fmt.Sprintf("%s/%d", ref.GetRunId(), ref.GetShard())
		if n > 0 {
			part += fmt.Sprintf(" (1 of %d shards)", n)
		}
		if ref.GetEpoch() > 1 {
			part += fmt.Sprintf(", taken over (epoch %d)", ref.GetEpoch())
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return "idle"
	}
	return strings.Join(parts, "; ")
}

func (v *webView) agentsPage(w http.ResponseWriter, r *http.Request) {
	resp, err := v.s.ListAgents(r.Context(), &pb.ListAgentsRequest{})
	if err != nil {
		httpError(w, err)
		return
	}
	rows := make([]agentRow, 0, len(resp.GetAgents()))
	for _, a := range resp.GetAgents() {
		rows = append(rows, agentRow{AgentInfo: a, Running: v.running(a.GetShards())})
	}
	v.listPage(w, r, agentsTmpl, rows, "Barrage · agents", "/agents?fragment=1")
}

// lookup finds a run by the request's {id}.
func (v *webView) lookup(w http.ResponseWriter, r *http.Request) (*run, bool) {
	id := r.PathValue("id")
	if !runIDPattern.MatchString(id) {
		http.Error(w, fmt.Sprintf("%q is not a run id", id), http.StatusBadRequest)
		return nil, false
	}
	if _, err := v.s.currentLeader(); err != nil {
		httpError(w, err)
		return nil, false
	}
	run, err := v.s.getRun(r.Context(), id)
	if err != nil {
		httpError(w, notFound(id, err))
		return nil, false
	}
	return run, true
}

// render returns the run's live body, rendering it again only when the run
// changed since the cached one and liveEvery has passed. One rendering per
// run at a time: viewers woken by the same change wait for it and share it.
func (v *webView) render(ctx context.Context, run *run) (*rendered, error) {
	run.mu.Lock()
	id := run.spec.GetRunId()
	run.mu.Unlock()
	for {
		run.mu.Lock()
		ver, ended := run.changed, run.ended
		run.mu.Unlock()
		v.mu.Lock()
		c := v.cache[id]
		if c != nil && (c.version == ver || (!ended && time.Since(c.at) < liveEvery)) {
			v.mu.Unlock()
			return c, nil
		}
		if wait := v.busy[id]; wait != nil {
			v.mu.Unlock()
			select {
			case <-wait:
				continue // look at what it rendered
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		v.busy[id] = done
		v.mu.Unlock()
		c, err := v.renderNow(ctx, id, ver, ended)
		v.mu.Lock()
		delete(v.busy, id)
		if err == nil {
			if len(v.cache) >= maxCached {
				for k := range v.cache {
					delete(v.cache, k)
					break
				}
			}
			v.cache[id] = c
		}
		v.mu.Unlock()
		close(done)
		return c, err
	}
}

func (v *webView) renderNow(ctx context.Context, id string, ver chan struct{}, ended bool) (*rendered, error) {
	res, err := v.s.GetRunResult(ctx, &pb.GetRunResultRequest{RunId: id})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	writeStatus(&b, res.GetStatus())
	if err := htmlreport.WriteBody(&b, res, htmlreport.Options{Live: !ended}); err != nil {
		return nil, err
	}
	return &rendered{version: ver, at: time.Now(), body: b.Bytes(), ended: ended}, nil
}

var statusTmpl = template.Must(template.New("status").Parse(`<section id="live-status" data-state="{{.State}}" data-requests="{{.Requests}}" data-findings="{{.Findings}}">{{.State}} · {{.Elapsed}} · {{.Requests}} requests · {{printf "%.0f" .Rate}}/s{{if .Asked}} (asked {{printf "%.0f" .Asked}}/s){{end}} · p50 {{.P50}} · p99 {{.P99}} · errors {{.Errors}} · dropped {{.Dropped}} · findings {{.Findings}} · agents {{.Alive}}/{{.Shards}}{{with .Message}} · {{.}}{{end}}</section>
`))

// writeStatus writes the run's one-line live status.
func writeStatus(b *bytes.Buffer, st *pb.RunStatus) {
	elapsed := time.Duration(0)
	if s := st.GetStartAt(); s != nil {
		end := time.Now()
		if e := st.GetEndedAt(); e != nil {
			end = e.AsTime()
		}
		elapsed = max(0, min(end.Sub(s.AsTime()), st.GetPlanned().AsDuration()))
	}
	_ = statusTmpl.Execute(b, map[string]any{
		"State": report.StateName(st.GetState()), "Elapsed": fmt.Sprintf("%.0fs/%.0fs", elapsed.Seconds(), st.GetPlanned().AsDuration().Seconds()),
		"Requests": st.GetRequests(), "Rate": st.GetRateRps(), "Asked": st.GetAskedRps(),
		"P50": st.GetP50().AsDuration().Round(time.Microsecond), "P99": st.GetP99().AsDuration().Round(time.Microsecond),
		"Errors": st.GetErrors(), "Dropped": st.GetDropped(), "Findings": st.GetFindings(),
		"Alive": st.GetShardsAlive(), "Shards": st.GetShards(), "Message": st.GetMessage(),
	})
}

func (v *webView) runPage(w http.ResponseWriter, r *http.Request) {
	run, ok := v.lookup(w, r)
	if !ok {
		return
	}
	c, err := v.render(r.Context(), run)
	if err != nil {
		httpError(w, err)
		return
	}
	id := r.PathValue("id")
	p := page{Title: "Barrage · run " + id, RunID: id, Body: template.HTML(c.body)}
	if !c.ended {
		p.Src, p.Mode = "/runs/"+id+"/events", "sse"
	}
	v.write(w, p)
}

// runEvents streams the run's body as server-sent events: an "update" on
// every change (at most one a second), then "end" once the run has ended.
func (v *webView) runEvents(w http.ResponseWriter, r *http.Request) {
	run, ok := v.lookup(w, r)
	if !ok {
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	ctx := r.Context()
	// send writes and flushes under a deadline: a viewer that stops
	// reading cannot hold this handler (and a rendered page) forever.
	send := func(write func()) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(sendTimeout))
		write()
		return rc.Flush() == nil
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		c, err := v.render(ctx, run)
		if err != nil {
			send(func() { writeEvent(w, "failure", []byte(err.Error())) })
			return
		}
		if c.ended {
			send(func() { writeEvent(w, "update", c.body); writeEvent(w, "end", nil) })
			return
		}
		if !send(func() { writeEvent(w, "update", c.body) }) {
			return
		}
		run.mu.Lock()
		ch := run.changed
		run.mu.Unlock()
		if ch == c.version {
			// Wait for the next change (or a keep-alive tick).
		wait:
			for {
				select {
				case <-ctx.Done():
					return
				case <-v.s.ctx.Done():
					return
				case <-ch:
					break wait
				case <-ping.C:
					if !send(func() { fmt.Fprint(w, ": ping\n\n") }) {
						return
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(c.at.Add(liveEvery))):
		}
	}
}

// sendTimeout bounds one write to a live page's event stream.
const sendTimeout = 10 * time.Second

// writeEvent writes one server-sent event; data may span lines. The event
// stream ends a line at CR, LF or CRLF, so every CR becomes a line break
// here: a CR inside run data (a target's response, an agent's finding)
// must not end a data line and start a field of its own.
func writeEvent(w io.Writer, name string, data []byte) {
	fmt.Fprintf(w, "event: %s\n", name)
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
	for _, l := range bytes.Split(data, []byte("\n")) {
		w.Write([]byte("data: "))
		w.Write(l)
		w.Write([]byte("\n"))
	}
	w.Write([]byte("\n"))
}

func (v *webView) result(w http.ResponseWriter, r *http.Request) (*pb.RunResult, bool) {
	if _, ok := v.lookup(w, r); !ok {
		return nil, false
	}
	res, err := v.s.GetRunResult(r.Context(), &pb.GetRunResultRequest{RunId: r.PathValue("id")})
	if err != nil {
		httpError(w, err)
		return nil, false
	}
	return res, true
}

func (v *webView) runReport(w http.ResponseWriter, r *http.Request) {
	res, ok := v.result(w, r)
	if !ok {
		return
	}
	var b bytes.Buffer
	if err := htmlreport.Write(&b, res, htmlreport.Options{}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

func (v *webView) runJSON(w http.ResponseWriter, r *http.Request) {
	res, ok := v.result(w, r)
	if !ok {
		return
	}
	rep, err := report.Build(res)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(rep)
}
