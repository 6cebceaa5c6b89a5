package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// progress draws a run's live status: redrawn in place on a terminal, one
// line at most every few seconds otherwise (CI logs).
type progress struct {
	w       io.Writer
	tty     bool
	last    time.Time
	drawn   bool
	every   time.Duration
	lastMsg string
}

func newProgress(w io.Writer) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	every := 2 * time.Second
	if tty {
		every = 0
	}
	return &progress{w: w, tty: tty, every: every}
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func (p *progress) line(st *pb.RunStatus) string {
	elapsed := time.Duration(0)
	if s := st.GetStartAt(); s != nil {
		elapsed = time.Since(s.AsTime())
	}
	planned := st.GetPlanned().AsDuration()
	if elapsed > planned {
		elapsed = planned
	}
	var phase string
	switch {
	case st.GetState() == pb.RunState_RUN_STATE_RUNNING && elapsed < 0:
		phase = fmt.Sprintf("starting in %.1fs", (-elapsed).Seconds())
		elapsed = 0
	default:
		phase = strings.ToLower(strings.TrimPrefix(st.GetState().String(), "RUN_STATE_"))
	}
	bar := ""
	if planned > 0 {
		const width = 20
		n := int(float64(width) * elapsed.Seconds() / planned.Seconds())
		n = max(0, min(width, n))
		bar = "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "] "
	}
	asked := ""
	if st.GetAskedRps() > 0 {
		asked = fmt.Sprintf(" (asked %.0f/s)", st.GetAskedRps())
	}
	left := ""
	if planned > 0 && st.GetState() == pb.RunState_RUN_STATE_RUNNING && elapsed > 0 {
		left = fmt.Sprintf(" · %.0fs left", (planned - elapsed).Seconds())
	}
	findings := ""
	if st.GetFindings() > 0 {
		findings = fmt.Sprintf(" · findings %d", st.GetFindings())
	}
	return fmt.Sprintf("%s%s %5.1fs/%.0fs%s · %d req · %.0f/s%s · p50 %s p99 %s · errors %d · dropped %d%s · agents %d/%d",
		bar, phase, elapsed.Seconds(), planned.Seconds(), left, st.GetRequests(), st.GetRateRps(), asked,
		fmtDur(st.GetP50().AsDuration()), fmtDur(st.GetP99().AsDuration()), st.GetErrors(), st.GetDropped(), findings,
		st.GetShardsAlive(), st.GetShards())
}

func (p *progress) update(st *pb.RunStatus) {
	if p == nil || p.w == nil {
		return
	}
	final := st.GetState() != pb.RunState_RUN_STATE_RUNNING && st.GetState() != pb.RunState_RUN_STATE_PENDING
	if !final && time.Since(p.last) < p.every {
		return
	}
	p.last = time.Now()
	l := p.line(st)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", l)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, l)
}

func (p *progress) note(msg string) {
	if p == nil || p.w == nil || msg == p.lastMsg {
		return
	}
	p.lastMsg = msg
	p.done()
	fmt.Fprintln(p.w, msg)
}

func (p *progress) done() {
	if p == nil || p.w == nil {
		return
	}
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
