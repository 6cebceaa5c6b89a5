package target

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Config shapes the target's behaviour.
type Config struct {
	// Delay is added to every request; 0 means none.
	Delay time.Duration
	// Stall and StallEvery: a request arriving within the first Stall of
	// each StallEvery period (counted from the target's start) is held until
	// that stall ends. Both zero means never.
	Stall, StallEvery time.Duration
	// Handler, when set, serves every request in place of the product
	// catalogue (for example the shop API of package shop); the Target
	// still answers /health and /_stats itself, counts requests and applies
	// Delay and Stall. nil means the catalogue.
	Handler http.Handler
}

// Target is the bundled test target.
type Target struct {
	cfg      Config
	start    time.Time
	requests atomic.Int64
	mux      *http.ServeMux
}

// New returns a Target.
func New(cfg Config) *Target {
	t := &Target{cfg: cfg, start: time.Now(), mux: http.NewServeMux()}
	t.mux.HandleFunc("GET /health", t.health)
	t.mux.HandleFunc("GET /small", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}` + "\n"))
	})
	t.mux.HandleFunc("GET /products", t.listProducts)
	t.mux.HandleFunc("GET /products/{id}", t.getProduct)
	t.mux.HandleFunc("POST /orders", t.createOrder)
	return t
}

func (t *Target) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok"))
}

// Requests is the number of requests served (except /_stats).
func (t *Target) Requests() int64 { return t.requests.Load() }

// ServeHTTP implements http.Handler.
func (t *Target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_stats" {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"requests\": %d}\n", t.requests.Load())
		return
	}
	t.requests.Add(1)
	t.wait(r)
	if t.cfg.Handler == nil {
		t.mux.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == "/health" && r.Method == http.MethodGet {
		t.health(w, r)
		return
	}
	// w goes on unwrapped, so the handler can hijack the connection.
	t.cfg.Handler.ServeHTTP(w, r)
}

func (t *Target) wait(r *http.Request) {
	var d time.Duration
	if t.cfg.StallEvery > 0 && t.cfg.Stall > 0 {
		since := time.Since(t.start)
		phase := since % t.cfg.StallEvery
		if phase < t.cfg.Stall {
			d = t.cfg.Stall - phase
		}
	}
	d += t.cfg.Delay
	if d <= 0 {
		return
	}
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
}

type product struct {
	ID    int     `json:"id"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
}

func productByID(id int) product {
	return product{ID: id, Name: "product-" + strconv.Itoa(id), Price: float64(id%97) + 0.99}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func problem(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (t *Target) listProducts(w http.ResponseWriter, r *http.Request) {
	limit := 10
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			problem(w, http.StatusBadRequest, "limit must be an integer from 1 to 100")
			return
		}
		limit = n
	}
	out := make([]product, limit)
	for i := range out {
		out[i] = productByID(i + 1)
	}
	writeJSON(w, http.StatusOK, out)
}

func (t *Target) getProduct(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		problem(w, http.StatusBadRequest, "id must be an integer")
		return
	}
	if id < 1 || id > 1000 {
		problem(w, http.StatusNotFound, "no such product")
		return
	}
	writeJSON(w, http.StatusOK, productByID(id))
}

var orders atomic.Int64

func (t *Target) createOrder(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		problem(w, http.StatusUnsupportedMediaType, "content type must be application/json")
		return
	}
	var in struct {
		ProductID int `json:"product_id"`
		Quantity  int `json:"quantity"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		problem(w, http.StatusBadRequest, "bad order: "+err.Error())
		return
	}
	if in.ProductID < 1 || in.ProductID > 1000 || in.Quantity < 1 || in.Quantity > 100 {
		problem(w, http.StatusBadRequest, "product_id must be 1..1000 and quantity 1..100")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": orders.Add(1), "product_id": in.ProductID, "quantity": in.Quantity,
		"total": float64(in.Quantity) * productByID(in.ProductID).Price,
	})
}
