package shop

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed openapi.yaml
var spec []byte

// Spec returns the shop's OpenAPI 3.0.3 document (YAML), also served at
// GET /openapi.yaml. The caller may modify the returned copy.
func Spec() []byte { return slices.Clone(spec) }

// Defaults for Config's zero values.
const (
	DefaultMaxOrders    = 100_000
	DefaultOutlierDelay = 800 * time.Millisecond
	DefaultDegradeEvery = 50
	DefaultDegradeMax   = time.Second
)

// DefaultTokens returns the default users and their bearer tokens:
// alice → "alice-token", bob → "bob-token".
func DefaultTokens() map[string]string {
	return map[string]string{"alice": "alice-token", "bob": "bob-token"}
}

// Config shapes a Shop.
type Config struct {
	// Defects are the planted defects; the zero value is the defect-free shop.
	Defects Defects
	// Tokens maps each user name to its bearer token. nil means
	// DefaultTokens. Tokens must be distinct and non-empty (see Validate).
	Tokens map[string]string
	// MaxOrders caps the order store (all users); placing an order beyond it
	// evicts the oldest. 0 means DefaultMaxOrders.
	MaxOrders int
	// OutlierDelay is LatencyOutlier's delay. 0 means DefaultOutlierDelay.
	OutlierDelay time.Duration
	// DegradeEvery is Degradation's step: GET /orders is delayed 1 ms per
	// DegradeEvery stored orders. 0 means DefaultDegradeEvery.
	DegradeEvery int
	// DegradeMax caps Degradation's delay. 0 means DefaultDegradeMax.
	DegradeMax time.Duration
}

// Validate reports a config New cannot honour faithfully.
func (c Config) Validate() error {
	if c.Defects&^AllDefects != 0 {
		return fmt.Errorf("unknown defect bits %#x", uint32(c.Defects&^AllDefects))
	}
	seen := map[string]string{}
	for user, tok := range c.Tokens {
		switch {
		case user == "":
			return errors.New("tokens: empty user name")
		case tok == "" || strings.ContainsAny(tok, " \t\r\n"):
			return fmt.Errorf("tokens: user %q: a token must be non-empty, without white space", user)
		case seen[tok] != "":
			return fmt.Errorf("tokens: users %q and %q share a token", min(user, seen[tok]), max(user, seen[tok]))
		}
		seen[tok] = user
	}
	if c.MaxOrders < 0 || c.OutlierDelay < 0 || c.DegradeEvery < 0 || c.DegradeMax < 0 {
		return errors.New("max orders, outlier delay, degrade every and degrade max must not be negative")
	}
	return nil
}

// Shop is the shop API, an http.Handler.
type Shop struct {
	cfg    Config
	users  map[string]string // token → user
	orders *store
}

// New returns a Shop. Zero fields of cfg take their defaults. A config that
// fails Validate still gives a working shop: a token shared by two users
// belongs to the first in name order, and empty tokens never authenticate.
func New(cfg Config) *Shop {
	if cfg.Tokens == nil {
		cfg.Tokens = DefaultTokens()
	}
	if cfg.MaxOrders <= 0 {
		cfg.MaxOrders = DefaultMaxOrders
	}
	if cfg.OutlierDelay <= 0 {
		cfg.OutlierDelay = DefaultOutlierDelay
	}
	if cfg.DegradeEvery <= 0 {
		cfg.DegradeEvery = DefaultDegradeEvery
	}
	if cfg.DegradeMax <= 0 {
		cfg.DegradeMax = DefaultDegradeMax
	}
	s := &Shop{cfg: cfg, users: map[string]string{}, orders: newStore(cfg.MaxOrders)}
	names := make([]string, 0, len(cfg.Tokens))
	for u := range cfg.Tokens {
		names = append(names, u)
	}
	slices.Sort(names)
	for _, u := range names {
		if tok := cfg.Tokens[u]; tok != "" && s.users[tok] == "" {
			s.users[tok] = u
		}
	}
	return s
}

// Defects returns the shop's planted defects.
func (s *Shop) Defects() Defects { return s.cfg.Defects }

// Orders returns the number of stored orders (all users).
func (s *Shop) Orders() int { return s.orders.len() }

func (s *Shop) has(d Defects) bool { return s.cfg.Defects.Has(d) }

// ServeHTTP implements http.Handler.
func (s *Shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			// The client sees a bare 500; nothing about the panic leaks.
			writeError(w, http.StatusInternalServerError, "internal server error")
		}
	}()
	w.Header().Set("X-Content-Type-Options", "nosniff")
	segs, ok := splitPath(r.URL.EscapedPath())
	if !ok {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	switch {
	case len(segs) == 1 && segs[0] == "openapi.yaml":
		if s.method(w, r, http.MethodGet) {
			w.Header().Set("Content-Type", "application/yaml")
			w.Header().Set("Content-Length", strconv.Itoa(len(spec)))
			_, _ = w.Write(spec)
		}
	case len(segs) == 1 && segs[0] == "products":
		if s.method(w, r, http.MethodGet) {
			s.listProducts(w, r)
		}
	case len(segs) == 2 && segs[0] == "products":
		if s.method(w, r, http.MethodGet) {
			s.getProduct(w, r, segs[1])
		}
	case len(segs) == 1 && segs[0] == "orders":
		if s.method(w, r, http.MethodGet, http.MethodPost) {
			if r.Method == http.MethodPost {
				s.createOrder(w, r)
			} else {
				s.listOrders(w, r)
			}
		}
	case len(segs) == 2 && segs[0] == "orders":
		if s.method(w, r, http.MethodGet, http.MethodDelete) {
			if r.Method == http.MethodDelete {
				s.deleteOrder(w, r, segs[1])
			} else {
				s.getOrder(w, r, segs[1])
			}
		}
	default:
		writeError(w, http.StatusNotFound, "not found")
	}
}

// splitPath splits an escaped path into its segments, each unescaped. It
// fails for a path not starting with '/', an empty segment other than the
// second (a doubled slash) and a bad escape. An empty second segment
// (/products/) is kept: it is an empty path parameter, a 400.
func splitPath(escaped string) ([]string, bool) {
	rest, ok := strings.CutPrefix(escaped, "/")
	if !ok || rest == "" {
		return nil, false
	}
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
		if err != nil || (u == "" && i != 1) {
			return nil, false
		}
		segs[i] = u
	}
	return segs, true
}

// method answers 405 unless r's method is one of allowed.
func (s *Shop) method(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	if slices.Contains(allowed, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	return false
}

// user returns the user r's bearer token names. Exactly one Authorization
// header, scheme "Bearer" (any case), one or more spaces, a known token.
func (s *Shop) user(r *http.Request) (string, bool) {
	vals := r.Header.Values("Authorization")
	if len(vals) != 1 {
		return "", false
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	u, ok := s.users[strings.TrimLeft(tok, " ")]
	return u, ok
}

// authenticate answers 401 unless r carries a valid token.
func (s *Shop) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	u, ok := s.user(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="shop"`)
		writeError(w, http.StatusUnauthorized, "a valid bearer token is required")
	}
	return u, ok
}

// noBody answers 400 when r carries a body (the operation takes none).
func noBody(w http.ResponseWriter, r *http.Request) bool {
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		writeError(w, http.StatusBadRequest, "this operation takes no request body")
		return false
	}
	return true
}

// query parses r's query strictly: a bad escape, a parameter not in allowed
// or a parameter given twice answers 400.
func query(w http.ResponseWriter, r *http.Request, allowed ...string) (url.Values, bool) {
	if r.URL.RawQuery == "" {
		return url.Values{}, true
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, "malformed query string")
		return nil, false
	}
	for k, v := range q {
		if !slices.Contains(allowed, k) {
			writeError(w, http.StatusBadRequest, "unknown query parameter")
			return nil, false
		}
		if len(v) > 1 {
			writeError(w, http.StatusBadRequest, "query parameter given more than once")
			return nil, false
		}
	}
	return q, true
}

// intSyntax reports whether s is an optionally negative run of decimal
// digits: the only integer spelling accepted in a path or query.
func intSyntax(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseInt reads an integer literal (intSyntax, or a JSON integer literal),
// saturating at the int64 limits so out-of-range values stay out of range.
func parseInt(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if strings.HasPrefix(s, "-") {
			return -1 << 63
		}
		return 1<<63 - 1
	}
	return n
}

// sleep waits d or until r's context ends.
func sleep(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal server error"}`)
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}
