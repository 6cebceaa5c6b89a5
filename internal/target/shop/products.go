package shop

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// product is the Product schema.
type product struct {
	ID    int64    `json:"id"`
	Name  string   `json:"name"`
	Price float64  `json:"price"`
	Tags  []string `json:"tags"`
}

const numProducts = 1000

// catalogue holds products 1..1000 (index id-1) and their lower-case names;
// built once, never modified.
var catalogue, lowerNames = buildCatalogue()

func buildCatalogue() ([]product, []string) {
	colours := []string{"Red", "Blue", "Green", "Black", "White", "Amber", "Violet", "Silver"}
	things := []string{"Widget", "Gadget", "Anvil", "Kettle", "Lamp", "Chair", "Teapot", "Rope", "Clock", "Spoon", "Drum"}
	ps := make([]product, numProducts)
	names := make([]string, numProducts)
	for i := range ps {
		id := i + 1
		c, t := colours[id%len(colours)], things[id%len(things)]
		ps[i] = product{
			ID:    int64(id),
			Name:  c + " " + t + " " + strconv.Itoa(id),
			Price: float64(id%97) + 0.99,
			Tags:  []string{strings.ToLower(c), strings.ToLower(t)},
		}
		names[i] = strings.ToLower(ps[i].Name)
	}
	return ps, names
}

// GET /products?limit=&q=
func (s *Shop) listProducts(w http.ResponseWriter, r *http.Request) {
	if !noBody(w, r) {
		return
	}
	qv, ok := query(w, r, "limit", "q")
	if !ok {
		return
	}
	limit := int64(10)
	if vs, given := qv["limit"]; given {
		v := vs[0]
		switch {
		case !intSyntax(v) && s.has(UndocumentedStatus):
			writeError(w, http.StatusUnprocessableEntity, "limit must be an integer")
			return
		case !intSyntax(v):
			writeError(w, http.StatusBadRequest, "limit must be an integer from 1 to 100")
			return
		}
		limit = parseInt(v)
		switch {
		case limit < 1 && s.has(ConnectionReset):
			resetConnection(w)
			return
		case limit < 1 || limit > 100:
			writeError(w, http.StatusBadRequest, "limit must be an integer from 1 to 100")
			return
		}
	}
	q := qv.Get("q")
	if !utf8.ValidString(q) {
		writeError(w, http.StatusBadRequest, "q must be valid UTF-8")
		return
	}
	qlen := utf8.RuneCountInString(q)
	echo := s.has(InjectionEcho) && strings.ContainsAny(q, "<>") && acceptsHTML(r)
	if qlen > 50 {
		if echo {
			searchPage(w, http.StatusBadRequest, "Search failed: query too long: ", q, nil)
			return
		}
		writeError(w, http.StatusBadRequest, "q must be at most 50 characters")
		return
	}
	if qlen > 40 && s.has(LatencyOutlier) {
		// A "slow path" for long searches.
		sleep(r, s.cfg.OutlierDelay)
	}
	lq := strings.ToLower(q)
	out := make([]product, 0, limit)
	for i := range catalogue {
		if int64(len(out)) == limit {
			break
		}
		if lq == "" || strings.Contains(lowerNames[i], lq) {
			out = append(out, catalogue[i])
		}
	}
	if echo {
		searchPage(w, http.StatusOK, "Results for ", q, out)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// acceptsHTML reports whether r has no Accept header or one naming
// text/html, text/* or */*.
func acceptsHTML(r *http.Request) bool {
	vals := r.Header.Values("Accept")
	if len(vals) == 0 {
		return true
	}
	for _, v := range vals {
		for _, rng := range strings.Split(v, ",") {
			mt, _, _ := strings.Cut(rng, ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "text/html", "text/*", "*/*":
				return true
			}
		}
	}
	return false
}

// searchPage is InjectionEcho's page, the results or an error: the query is
// pasted into the HTML without escaping.
func searchPage(w http.ResponseWriter, status int, title, q string, ps []product) {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html><head><title>Search</title></head><body>\n<h1>" + title)
	b.WriteString(q) // the planted defect: not html.EscapeString(q)
	b.WriteString("</h1>\n<ul>\n")
	for _, p := range ps {
		b.WriteString("<li>" + p.Name + "</li>\n")
	}
	b.WriteString("</ul>\n</body></html>\n")
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// resetConnection is ConnectionReset: take the connection over and close it
// with an RST (SO_LINGER 0), no response. Where the connection cannot be
// taken over (HTTP/2, a recorder), the handler aborts instead.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// GET /products/{productId}
func (s *Shop) getProduct(w http.ResponseWriter, r *http.Request, idText string) {
	if !noBody(w, r) {
		return
	}
	if _, ok := query(w, r); !ok {
		return
	}
	if !intSyntax(idText) {
		writeError(w, http.StatusBadRequest, "productId must be an integer from 1 to 1000")
		return
	}
	id := parseInt(idText)
	if id < 1 || id > numProducts {
		if s.has(SpecViolation) {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "product not found", "code": 404})
			return
		}
		writeError(w, http.StatusBadRequest, "productId must be an integer from 1 to 1000")
		return
	}
	writeJSON(w, http.StatusOK, catalogue[id-1])
}
