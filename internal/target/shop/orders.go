package shop

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"
)

// maxBody bounds a POST /orders body, in bytes.
const maxBody = 16 << 10

var couponPattern = regexp.MustCompile(`^[A-Z]{4}-[0-9]{4}$`)

// bulkDiscount is the discount, in percent, for each allowed quantity
// (index 1..100). ServerError's panic is an index past its end.
var bulkDiscount = func() [101]int {
	var d [101]int
	for q := range d {
		d[q] = min(q/10, 5)
	}
	return d
}()

// GET /orders?limit=
func (s *Shop) listOrders(w http.ResponseWriter, r *http.Request) {
	user, ok := s.authenticate(w, r)
	if !ok || !noBody(w, r) {
		return
	}
	qv, ok := query(w, r, "limit")
	if !ok {
		return
	}
	limit := int64(20)
	if vs, given := qv["limit"]; given {
		if !intSyntax(vs[0]) {
			writeError(w, http.StatusBadRequest, "limit must be an integer from 1 to 100")
			return
		}
		if limit = parseInt(vs[0]); limit < 1 || limit > 100 {
			writeError(w, http.StatusBadRequest, "limit must be an integer from 1 to 100")
			return
		}
	}
	if s.has(Degradation) {
		// A "scan" whose cost grows with the store.
		d := time.Duration(s.orders.len()/s.cfg.DegradeEvery) * time.Millisecond
		sleep(r, min(d, s.cfg.DegradeMax))
	}
	writeJSON(w, http.StatusOK, s.orders.list(user, int(limit)))
}

// POST /orders
func (s *Shop) createOrder(w http.ResponseWriter, r *http.Request) {
	user, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if _, ok := query(w, r); !ok {
		return
	}
	if !jsonContent(r) {
		writeError(w, http.StatusUnsupportedMediaType, "the request body must be application/json (UTF-8, no content coding)")
		return
	}
	if r.ContentLength > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "the request body must be at most 16 KiB")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	switch {
	case err != nil:
		writeError(w, http.StatusBadRequest, "the request body could not be read")
		return
	case len(body) > maxBody:
		writeError(w, http.StatusRequestEntityTooLarge, "the request body must be at most 16 KiB")
		return
	case !utf8.Valid(body):
		writeError(w, http.StatusBadRequest, "the request body must be valid UTF-8")
		return
	}
	in, msg, syntax := s.decodeOrder(body)
	if msg != "" {
		if syntax && s.has(InfoLeak) {
			// The planted leak: the error goes out with the stack attached.
			msg = "cannot decode order: " + msg + "\n" + string(debug.Stack())
		}
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	// The bulk discount does not show in the API; it is looked up for every
	// order, and with ServerError a quantity above 100 reaches it.
	_ = bulkDiscount[in.Quantity]

	in.ID = newUUID()
	in.Owner = user
	in.Status = "pending"
	if in.Coupon != nil {
		in.Status = "paid"
	}
	s.orders.add(in)
	w.Header().Set("Location", "/orders/"+in.ID)
	writeJSON(w, http.StatusCreated, in)
}

// jsonContent reports whether r's body is declared as UTF-8 JSON without a
// content coding: exactly one Content-Type, application/json, no charset
// other than utf-8.
func jsonContent(r *http.Request) bool {
	if ce := r.Header.Values("Content-Encoding"); len(ce) > 1 || (len(ce) == 1 && !strings.EqualFold(strings.TrimSpace(ce[0]), "identity")) {
		return false
	}
	cts := r.Header.Values("Content-Type")
	if len(cts) != 1 {
		return false
	}
	mt, params, err := mime.ParseMediaType(cts[0])
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

// decodeOrder reads an OrderInput. On failure msg says why and syntax
// reports that the body was not well-formed JSON.
func (s *Shop) decodeOrder(body []byte) (o orderJSON, msg string, syntax bool) {
	top, members, err := parseJSON(body)
	if err != nil {
		var je *jsonError
		if !errors.As(err, &je) {
			return o, "the request body could not be read", false
		}
		switch je.kind {
		case jsonErrSyntax:
			return o, "the request body is not well-formed JSON: " + je.Error(), true
		case jsonErrEncoding:
			return o, "the request body holds invalid Unicode: " + je.Error(), false
		case jsonErrDuplicate:
			return o, "the request body repeats a key: " + je.Error(), false
		default:
			return o, "the request body is nested too deeply", false
		}
	}
	if top.kind != jsonObject {
		return o, "the order must be a JSON object", false
	}
	var haveProduct, haveQuantity bool
	for _, m := range members {
		v := m.val
		switch m.key {
		case "product_id":
			if v.kind != jsonNumber || !v.integer {
				return o, "product_id must be an integer", false
			}
			if o.ProductID = parseInt(v.text); o.ProductID < 1 || o.ProductID > numProducts {
				return o, "product_id must be from 1 to 1000", false
			}
			haveProduct = true
		case "quantity":
			if v.kind != jsonNumber || !v.integer {
				return o, "quantity must be an integer", false
			}
			o.Quantity = parseInt(v.text)
			if o.Quantity < 1 || (o.Quantity > 100 && !s.has(ServerError)) {
				return o, "quantity must be from 1 to 100", false
			}
			haveQuantity = true
		case "note":
			if v.kind != jsonString {
				return o, "note must be a string", false
			}
			note := v.text
			if utf8.RuneCountInString(note) > 100 {
				if !s.has(InvalidAccepted) {
					return o, "note must be at most 100 characters", false
				}
				note = string([]rune(note)[:100]) // the planted defect: truncate silently
			}
			o.Note = &note
		case "coupon":
			if v.kind != jsonString {
				return o, "coupon must be a string", false
			}
			if !couponPattern.MatchString(v.text) {
				return o, "coupon must look like ABCD-1234", false
			}
			c := v.text
			o.Coupon = &c
		default:
			return o, "the order has an unknown field", false
		}
	}
	switch {
	case !haveProduct:
		return o, "product_id is required", false
	case !haveQuantity:
		return o, "quantity is required", false
	}
	return o, "", false
}

// GET /orders/{orderId}
func (s *Shop) getOrder(w http.ResponseWriter, r *http.Request, idText string) {
	user, ok := s.authenticate(w, r)
	if !ok || !noBody(w, r) {
		return
	}
	if _, ok := query(w, r); !ok {
		return
	}
	id, ok := parseUUID(idText)
	if !ok {
		if s.has(WrongContentType) {
			http.Error(w, "invalid order id", http.StatusBadRequest)
			return
		}
		writeError(w, http.StatusBadRequest, "orderId must be a UUID")
		return
	}
	o, found := s.orders.get(id)
	if !found || (o.Owner != user && !s.has(CrossUser)) {
		writeError(w, http.StatusNotFound, "no such order")
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// DELETE /orders/{orderId}
func (s *Shop) deleteOrder(w http.ResponseWriter, r *http.Request, idText string) {
	user, ok := s.user(r)
	if !ok && !s.has(AuthNotEnforced) {
		s.authenticate(w, r)
		return
	}
	// With AuthNotEnforced and no valid token, user is "": any order goes.
	if !noBody(w, r) {
		return
	}
	if _, ok := query(w, r); !ok {
		return
	}
	id, ok := parseUUID(idText)
	if !ok {
		writeError(w, http.StatusBadRequest, "orderId must be a UUID")
		return
	}
	if !s.orders.remove(id, user) {
		writeError(w, http.StatusNotFound, "no such order")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// parseUUID accepts the 8-4-4-4-12 hex form in either case and returns it
// in lower case.
func parseUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", false
		}
	}
	return strings.ToLower(s), true
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
